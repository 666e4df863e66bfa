"""Appending rows to resizable datasets through h5py's low-level API.

``dataset[start:] = rows`` makes h5py rebuild the HDF5 memory type from the
numpy dtype at every write, which costs milliseconds for the wide compounds
of object products. :func:`append_rows` resizes once, selects the new rows
and writes with a memory type built once per dtype.
"""

from __future__ import annotations

import h5py
import numpy as np

_MEMORY_TYPES: dict[int, tuple[np.dtype, h5py.h5t.TypeID]] = {}
_MAX_CACHED = 512


def memory_type(dtype: np.dtype) -> h5py.h5t.TypeID:
    """Return the HDF5 memory type of a numpy dtype, built once per dtype object.

    The cache is keyed by identity, not equality: h5py's vlen dtypes of
    different element types compare equal in numpy.
    """
    entry = _MEMORY_TYPES.get(id(dtype))
    if entry is None or entry[0] is not dtype:
        if len(_MEMORY_TYPES) >= _MAX_CACHED:
            _MEMORY_TYPES.clear()
        # Not ``logical``: Python objects (strings, vlen arrays, references) must stay
        # h5py's opaque object type, which its registered conversions translate.
        entry = (dtype, h5py.h5t.py_create(dtype))
        _MEMORY_TYPES[id(dtype)] = entry
    return entry[1]


def dataset_cache(h5file: h5py.File) -> dict[str, h5py.Dataset]:
    """Return the dataset-handle cache of an open file, shared by every layout made on it (one per batch).

    It lives on the ``h5py.File`` object, so it goes with it; a closed handle in
    it must be reopened by the caller (check ``dataset.id.valid``).
    """
    return vars(h5file).setdefault("_spineh5_datasets", {})


def append_rows(dataset: h5py.Dataset, rows: np.ndarray, mem_type: h5py.h5t.TypeID | None = None) -> int:
    """Append ``rows`` along axis 0 with one resize and one write; return the first new row.

    Parameters
    ----------
    dataset : h5py.Dataset
        A dataset resizable along axis 0.
    rows : numpy.ndarray
        Rows whose trailing shape matches the dataset's.
    mem_type : h5py.h5t.TypeID, optional
        HDF5 type of ``rows``; by default built (once) from ``rows.dtype``.
    """
    dataset_id = dataset.id
    shape = dataset_id.shape  # not ``dataset.shape``: that costs ~10x more on a writable file
    start = shape[0]
    if not len(rows):
        return start
    rows = np.ascontiguousarray(rows)
    if mem_type is None:
        mem_type = memory_type(rows.dtype)
    try:
        dataset_id.set_extent((start + len(rows),) + shape[1:])
    except Exception:
        # Not resizable (not chunked, or beyond maxshape): let h5py raise its usual error.
        dataset.resize(start + len(rows), axis=0)
    file_space = dataset_id.get_space()
    file_space.select_hyperslab((start,) + (0,) * (rows.ndim - 1), rows.shape)
    dataset_id.write(h5py.h5s.create_simple(rows.shape), file_space, rows, mem_type)
    return start
