"""Chunks a killed writer left half-written: their checksum fails, their earlier rows are intact.

A writer killed while HDF5 rewrites a chunk in place (the chunk that holds
the last rows of the previous flush and the first rows of this one) leaves
that chunk *torn*: the kernel stops a write of several pages between pages
when a SIGKILL arrives, so some pages hold the new chunk and others the old
one. The rows both versions share (every row flushed before) are the same
bytes in both, so they are intact, but the chunk's Fletcher-32 checksum,
computed over the new version, no longer matches and HDF5 refuses the whole
chunk, rows flushed long ago included.

:func:`repair_torn_chunks` finds, in each checksummed dataset, the last
:data:`TAIL_CHUNKS` chunks of its extent that fail their checksum, reads them
with HDF5's error detection turned off (``H5Pset_edc_check``, which h5py does
not wrap, called through ctypes on the library h5py loaded) and writes them
back, so that HDF5 computes a checksum that matches. Whether the rows past
the last whole entry are sound is then for the recovery plan to decide, as
for any file: they are trimmed. A chunk that fails its checksum earlier in a
dataset is damage, not a torn write, and is left for the plan to refuse.

Where the library cannot be reached (another h5py build), nothing is
repaired and the plan treats torn chunks as damage, as it would anyway.
"""

from __future__ import annotations

import ctypes
import functools
import glob
import os
from collections.abc import Iterator

import h5py
import numpy as np

from ..h5_errors import H5_ERRORS

__all__ = ["TAIL_CHUNKS", "datasets_of", "edc_disabled_transfer", "repair_torn_chunks"]

#: Chunks at the end of a dataset's extent a killed flush may have been rewriting (the one it
#: completed and the next it began).
TAIL_CHUNKS = 2
#: ``H5Z_DISABLE_EDC``: read without verifying error-detection filters.
_DISABLE_EDC = 0


@functools.lru_cache(maxsize=1)
def _set_edc_check() -> ctypes._CFuncPtr | None:
    """Return HDF5's ``H5Pset_edc_check`` from the library h5py loaded, or None."""
    folder = os.path.dirname(h5py.__file__)
    candidates = sorted(glob.glob(os.path.join(folder, os.pardir, "h5py.libs", "libhdf5-*.so*")))
    candidates += sorted(glob.glob(os.path.join(folder, ".dylibs", "libhdf5.*.dylib")))
    candidates += ["libhdf5.so"]  # a system HDF5 that h5py links dynamically
    for candidate in candidates:
        try:
            function = ctypes.CDLL(candidate).H5Pset_edc_check
        except (OSError, AttributeError):
            continue
        function.argtypes = [ctypes.c_int64, ctypes.c_int]
        function.restype = ctypes.c_int
        return function
    return None


def edc_disabled_transfer() -> h5py.h5p.PropDXID | None:
    """Return a data-transfer property list that reads without checksum verification, or None."""
    function = _set_edc_check()
    if function is None:
        return None
    transfer = h5py.h5p.create(h5py.h5p.DATASET_XFER)
    if function(transfer.id, _DISABLE_EDC) < 0:
        return None
    return transfer


def _checksummed(dataset: h5py.Dataset) -> bool:
    return bool(dataset.chunks) and dataset.fletcher32 and dataset.shape[0] > 0 and len(dataset.shape) >= 1


def _chunk_rows(dataset: h5py.Dataset, chunk: int) -> tuple[int, int]:
    rows = dataset.chunks[0]
    return chunk * rows, min((chunk + 1) * rows, dataset.shape[0])


def _fails(dataset: h5py.Dataset, start: int, stop: int) -> bool:
    try:
        dataset[start:stop]
    except H5_ERRORS:
        return True
    return False


def _rewrite(dataset: h5py.Dataset, start: int, stop: int, transfer: h5py.h5p.PropDXID) -> bool:
    """Read rows ``[start, stop)`` without verification and write them back (a fresh checksum); True if it did."""
    selection = dataset.id.get_space()
    selection.select_hyperslab((start, *([0] * (len(dataset.shape) - 1))), (stop - start, *dataset.shape[1:]))
    memory = h5py.h5s.create_simple((stop - start, *dataset.shape[1:]))
    rows = np.empty((stop - start, *dataset.shape[1:]), dtype=dataset.id.dtype)
    try:
        dataset.id.read(memory, selection, rows, dxpl=transfer)
        dataset.id.write(memory, selection, rows, dxpl=transfer)
    except H5_ERRORS:
        return False
    return not _fails(dataset, start, stop)


def datasets_of(group: h5py.Group) -> Iterator[h5py.Dataset]:
    """Yield every dataset under ``group`` that can be opened (depth first, by name).

    Unlike ``visititems``, which asks HDF5 for each object's storage sizes and so
    walks every chunk index, one dataset whose index a kill left unwritten does
    not stop the walk.
    """
    try:
        names = sorted(group.keys())
    except H5_ERRORS:
        return
    for name in names:
        try:
            item = group[name]
        except H5_ERRORS:
            continue
        if isinstance(item, h5py.Group):
            yield from datasets_of(item)
        elif isinstance(item, h5py.Dataset):
            yield item


def repair_torn_chunks(h5file: h5py.File) -> list[str]:
    """Rewrite the torn tail chunks of every checksummed dataset of a file open for writing.

    Returns
    -------
    list of str
        ``"<dataset> rows a-b"`` for every chunk rewritten (empty when none was torn,
        or when HDF5's checksum switch cannot be reached).
    """
    datasets = list(datasets_of(h5file))
    torn = [d for d in datasets if _checksummed(d) and _fails(d, max(0, d.shape[0] - TAIL_CHUNKS * d.chunks[0]), None)]
    if not torn:
        return []
    transfer = edc_disabled_transfer()
    if transfer is None:
        return []
    repaired = []
    for dataset in torn:
        last = (dataset.shape[0] - 1) // dataset.chunks[0]
        for chunk in range(max(0, last - TAIL_CHUNKS + 1), last + 1):
            start, stop = _chunk_rows(dataset, chunk)
            if _fails(dataset, start, stop) and _rewrite(dataset, start, stop, transfer):
                repaired.append(f"{dataset.name} rows {start}-{stop}")
    return repaired
