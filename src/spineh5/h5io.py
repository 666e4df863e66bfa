"""Appending and reading rows of datasets through h5py's low-level API.

``dataset[start:] = rows`` makes h5py rebuild the HDF5 memory type from the
numpy dtype at every write, which costs milliseconds for the wide compounds
of object products. :func:`append_rows` resizes once, selects the new rows
and writes with a memory type built once per dtype; :func:`read_ranges`
reads many row ranges with one read; :func:`same_layout_type` finds when a
compound can be read with its stored type (a plain copy); :func:`dataset_dtype`
gives a dataset's numpy dtype, built once per stored type. Compound rows
with variable-length members are written natively, from one pool per column
(:mod:`spineh5.h5io_native`), where the platform allows it.
:func:`allocate_chunk_indexes` gives a new file's empty chunked datasets their
chunk indexes with the structure (see docs/crash-safety.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import h5py
import numpy as np
from h5py import h5s, h5t

from .h5io_native import NativeRows, empty_rows, native_rows

_MEMORY_TYPES: dict[int, tuple[np.dtype, h5py.h5t.TypeID]] = {}
_MAX_CACHED = 512


def _memory_type(dtype: np.dtype) -> h5py.h5t.TypeID:
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
    rows : numpy.ndarray or NativeRows
        Rows whose trailing shape matches the dataset's, or native rows
        (:func:`spineh5.h5io_native.pooled_rows`) of a compound dataset.
    mem_type : h5py.h5t.TypeID, optional
        HDF5 type of ``rows``; by default built (once) from ``rows.dtype``.
    """
    dataset_id = dataset.id
    shape = dataset_id.shape  # not ``dataset.shape``: that costs ~10x more on a writable file
    start = shape[0]
    if not len(rows):
        return start
    native = rows if isinstance(rows, NativeRows) else None
    if native is not None:
        rows, mem_type = native.buffer, native.mem_type
    elif mem_type is None and rows.dtype.hasobject:
        native = native_rows(rows)  # holds the pools its pointers point into until the write returns
        if native is not None:
            rows, mem_type = native.buffer, native.mem_type
    rows = np.ascontiguousarray(rows)
    if mem_type is None:
        mem_type = _memory_type(rows.dtype)
    try:
        dataset_id.set_extent((start + len(rows),) + shape[1:])
    except Exception:
        # Not resizable (not chunked, or beyond maxshape): let h5py raise its usual error.
        dataset.resize(start + len(rows), axis=0)
    file_space = dataset_id.get_space()
    file_space.select_hyperslab((start,) + (0,) * (rows.ndim - 1), rows.shape)
    dataset_id.write(h5py.h5s.create_simple(rows.shape), file_space, rows, mem_type)
    del native
    return start


def read_ranges(
    dataset: h5py.Dataset, starts: np.ndarray, stops: np.ndarray, columns: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Read the rows ``[starts[i], stops[i])`` of a dataset for every ``i`` with one read.

    Rows are read as one slice when the wanted rows are dense in their span,
    else as one union-of-blocks selection; they are then put in the order of
    the ranges (a range may repeat).

    Returns
    -------
    rows : numpy.ndarray
        The rows of every range, concatenated.
    offsets : numpy.ndarray
        int64 of ``len(starts) + 1``, where each range's rows start.
    """
    lengths = np.maximum(stops - starts, 0)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    total = int(offsets[-1])
    dtype = _columns_dtype(dataset_dtype(dataset), columns)
    if total == 0:
        return np.empty((0, *dataset.id.shape[1:]), dtype=dtype), offsets
    wanted = np.repeat(starts - offsets[:-1], lengths) + np.arange(total, dtype=np.int64)
    low, high = int(wanted.min()), int(wanted.max()) + 1
    if high - low <= 2 * total + 1024:
        block = read_block(dataset, low, high, dtype)
        if high - low == total and np.array_equal(wanted, np.arange(low, high)):
            return block, offsets
        return block[wanted - low], offsets
    unique = np.unique(wanted)
    block = _read_rows_at(dataset, unique, dtype)
    return block[np.searchsorted(unique, wanted)], offsets


#: Compound dtypes of column subsets, by (stored dtype's identity, columns); the stored dtype is kept with each.
_SUBSETS: dict[tuple[int, tuple[str, ...]], tuple[np.dtype, np.dtype]] = {}


def _columns_dtype(stored: np.dtype, columns: Sequence[str] | None) -> np.dtype:
    """Return the dtype of ``columns`` of a compound dtype (``stored`` itself for all), one object per subset.

    One object per subset lets :func:`_memory_type` build its HDF5 memory type once.
    """
    if columns is None:
        return stored
    key = (id(stored), tuple(columns))
    entry = _SUBSETS.get(key)
    if entry is None or entry[0] is not stored:
        if len(_SUBSETS) >= _MAX_CACHED:
            _SUBSETS.clear()
        entry = _SUBSETS[key] = (stored, np.dtype([(name, stored.fields[name][0]) for name in columns]))
    return entry[1]


def read_block(dataset: h5py.Dataset, low: int, high: int, dtype: np.dtype) -> np.ndarray:
    """Read rows ``[low, high)`` of a dataset (the columns of ``dtype``) with one low-level read.

    What ``dataset.fields(names)[low:high]`` reads, without h5py deriving the
    dataset's dtype and the memory type of the columns at every call.
    """
    dataset_id = dataset.id
    tail = tuple(dataset_id.shape[1:])
    out = np.empty((high - low, *tail), dtype=dtype)
    if high > low:
        file_space = dataset_id.get_space()
        file_space.select_hyperslab((low,) + (0,) * len(tail), out.shape)
        dataset_id.read(h5s.create_simple(out.shape), file_space, out, _memory_type(dtype))
    return out


def _read_rows_at(dataset: h5py.Dataset, rows: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Read sorted, unique rows of a dataset with one union-of-hyperslabs selection."""
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    run_starts = rows[np.concatenate(([0], breaks))]
    run_counts = np.diff(np.concatenate(([0], breaks, [len(rows)])))
    tail = tuple(dataset.shape[1:])
    file_space = dataset.id.get_space()
    file_space.select_none()
    for start, count in zip(run_starts.tolist(), run_counts.tolist()):
        file_space.select_hyperslab((start,) + (0,) * len(tail), (count, *tail), op=h5s.SELECT_OR)
    out = np.empty((len(rows), *tail), dtype=dtype)
    memory_space = h5s.create_simple(out.shape)
    dataset.id.read(memory_space, file_space, out, _memory_type(dtype))
    return out


#: Results of :func:`_same_layout_check`, by serialized HDF5 type (the check walks every member).
_SAME_LAYOUT: dict[bytes, bool] = {}
#: Numpy dtypes of stored types, by serialized HDF5 type and h5py's enum naming settings.
_DTYPES: dict[tuple[bytes, Any, Any], np.dtype] = {}


def dataset_dtype(dataset: h5py.Dataset | h5py.h5d.DatasetID) -> np.dtype:
    """Return ``dataset.dtype`` (of a dataset or its low-level id), built once per stored type (files share it).

    h5py builds the numpy dtype of a dataset anew for every dataset object it
    opens, which costs most of a millisecond for a wide compound (enums,
    arrays); the stored type, serialized, is the exact key of what it builds
    (with h5py's ``bool_names`` and ``complex_names`` settings, which decide
    how enums and compounds map).
    """
    dataset_id = dataset.id if isinstance(dataset, h5py.Dataset) else dataset
    type_id = dataset_id.get_type()
    config = h5py.get_config()
    try:
        key = (type_id.encode(), config.bool_names, config.complex_names)
    except (RuntimeError, ValueError, TypeError):  # a type HDF5 cannot serialize: no cache
        return dataset_id.dtype
    dtype = _DTYPES.get(key)
    if dtype is None:
        if len(_DTYPES) >= _MAX_CACHED:
            _DTYPES.clear()
        dtype = _DTYPES[key] = dataset_id.dtype
    return dtype


def same_layout_type(dataset: h5py.Dataset) -> Any:
    """Return the stored HDF5 type of a compound dataset if numpy's dtype lays out the same bytes, else None.

    The answer depends only on the stored type (numpy's dtype is derived from
    it), so it is computed once per type: files of one type share it.
    """
    type_id = dataset.id.get_type()
    if type_id.get_class() != h5py.h5t.COMPOUND:
        return None
    key = type_id.encode()
    same = _SAME_LAYOUT.get(key)
    if same is None:
        if len(_SAME_LAYOUT) >= 512:
            _SAME_LAYOUT.clear()
        same = _SAME_LAYOUT[key] = _same_layout_check(dataset.dtype, type_id)
    return type_id if same else None


def _same_layout_check(dtype: np.dtype, type_id: Any) -> bool:
    """Return whether a compound HDF5 type and its numpy dtype lay out the same plain bytes."""
    if dtype.names is None or dtype.hasobject:
        return False
    if type_id.get_size() != dtype.itemsize or type_id.get_nmembers() != len(dtype.names):
        return False
    plain = (h5py.h5t.INTEGER, h5py.h5t.FLOAT, h5py.h5t.ENUM, h5py.h5t.ARRAY)
    for index in range(type_id.get_nmembers()):
        name = type_id.get_member_name(index).decode("utf-8")
        member = type_id.get_member_type(index)
        field = dtype.fields.get(name)
        if field is None or field[1] != type_id.get_member_offset(index) or field[0].itemsize != member.get_size():
            return False
        if member.get_class() not in plain:
            return False
        if member.get_class() == h5py.h5t.ARRAY and member.get_super().get_class() not in plain:
            return False
    return True


def allocate_chunk_indexes(h5file: h5py.File) -> None:
    """Give every empty chunked dataset of a new file its chunk index, before the first rows are written.

    HDF5 allocates a chunked dataset's index (a B-tree root node) with its first
    chunk. Left to the first batch, that allocation is part of the first flush
    with rows, and a writer killed inside that flush can leave a dataset whose
    header points to an index never written, which no tool can read or shrink
    (see docs/crash-safety.md). Writing one fill-value row and shrinking back to
    no rows here allocates the index with the structure (the chunk itself is
    freed again); the datasets stay empty.
    """
    file_id = h5file.id
    names: list[bytes] = []
    # h5o.visit is what ``visititems`` walks: the same datasets in the same order (allocation order is layout)
    h5py.h5o.visit(
        file_id, lambda name, info: names.append(name) if info.type == h5py.h5o.TYPE_DATASET else None, info=True
    )
    for name in names:
        dataset_id = h5py.h5d.open(file_id, name)
        create_plist = dataset_id.get_create_plist()
        if create_plist.get_layout() != h5py.h5d.CHUNKED:
            continue
        space = dataset_id.get_space()
        shape = space.get_simple_extent_dims()
        if shape[0] != 0 or space.get_simple_extent_dims(maxdims=True)[0] != h5s.UNLIMITED:
            continue
        file_type = dataset_id.get_type()
        zero_fill = create_plist.fill_value_defined() == h5py.h5d.FILL_VALUE_DEFAULT
        if not any(map(file_type.detect_class, _OBJECT_CLASSES)):
            _allocate_raw(dataset_id, file_type, shape, zero_fill)
        elif not (zero_fill and _allocate_native(dataset_id, shape)):
            _allocate_high_level(h5file[name])


#: HDF5 type classes that h5py reads as Python objects (no raw copy of their bytes is meaningful in memory).
_OBJECT_CLASSES = (h5t.VLEN, h5t.STRING, h5t.REFERENCE)


def _allocate_raw(dataset_id: h5py.h5d.DatasetID, file_type: Any, shape: tuple, zero_fill: bool) -> None:
    """Grow a dataset of plain bytes to one row, write its fill row unconverted, shrink it to none.

    The fill row is zeros under HDF5's default fill value (``zero_fill``), else read from the dataset.
    """
    row_shape = (1, *shape[1:])
    dataset_id.set_extent(row_shape)
    row = np.zeros(row_shape, dtype=np.dtype((np.void, file_type.get_size())))
    memory_space = h5s.create_simple(row_shape)
    file_space = dataset_id.get_space()
    if not zero_fill:
        dataset_id.read(memory_space, file_space, row, file_type)
    dataset_id.write(memory_space, file_space, row, file_type)
    dataset_id.set_extent(shape)


def _allocate_native(dataset_id: h5py.h5d.DatasetID, shape: tuple) -> bool:
    """Grow a 1-D compound dataset with vlen members to one row, write an empty row natively, shrink it.

    The row (:func:`spineh5.h5io_native.empty_rows`) has the bytes h5py writes back from
    a default fill row, without h5py's conversions. Returns False (nothing done) where
    the native path does not apply.
    """
    if len(shape) != 1:
        return False
    row = empty_rows(dataset_dtype(dataset_id), 1)
    if row is None:
        return False
    dataset_id.set_extent((1,))
    dataset_id.write(h5s.create_simple((1,)), dataset_id.get_space(), row.buffer, row.mem_type)
    dataset_id.set_extent(shape)
    return True


def _allocate_high_level(dataset: h5py.Dataset) -> None:
    """Grow a dataset with object members (vlen, strings) to one row, write its fill row back, shrink it."""
    dataset.resize(1, axis=0)
    dataset[0:1] = dataset[0:1]
    dataset.resize(0, axis=0)
