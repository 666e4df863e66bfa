"""What the variable-length data of a dataset costs on disk: its bytes in HDF5's global heap.

A dataset of variable-length strings or arrays (V1 object rows: ``units``,
``index``, ``match_ids``...) stores a 16-byte reference per value in its own
storage (:meth:`h5py.h5d.DatasetID.get_storage_size`) and the values in the
file's global heap, which HDF5 does not attribute to datasets (h5py has no
``H5Dvlen_get_buf_size``). :func:`heap_bytes` counts them by reading the
variable-length columns: each non-empty value is one heap object of a 16-byte
header and its bytes padded to 8 (empty values take no heap object), within a
few percent of the file's growth (heap collections add some slack).

Time stays bounded on large files: up to :data:`EXACT_ROWS` rows are read in
full, in blocks of :data:`BLOCK_ROWS`; beyond, :data:`SAMPLE_BLOCKS` blocks
spread over the dataset are read and the total is extrapolated (the result
says it is an estimate).
"""

from __future__ import annotations

import attrs
import h5py
import numpy as np

__all__ = ["BLOCK_ROWS", "EXACT_ROWS", "SAMPLE_BLOCKS", "HeapBytes", "heap_bytes", "vlen_fields"]

#: Rows read at a time.
BLOCK_ROWS = 4096
#: Datasets of up to this many rows are read in full; larger ones are sampled.
EXACT_ROWS = 16 * BLOCK_ROWS
#: Blocks read from a sampled dataset.
SAMPLE_BLOCKS = 16
#: Header of one global heap object (index, reference count, reserved, size).
_OBJECT_HEADER = 16


@attrs.frozen
class HeapBytes:
    """The global-heap bytes of one or more datasets.

    Attributes
    ----------
    nbytes : int
        Bytes of the variable-length values in the global heap.
    estimated : bool
        Whether part of it was extrapolated from a sample of rows.
    """

    nbytes: int = 0
    estimated: bool = False

    def __add__(self, other: HeapBytes) -> HeapBytes:
        """Return the bytes of both (estimated when either is)."""
        return HeapBytes(self.nbytes + other.nbytes, self.estimated or other.estimated)


def _is_vlen(dtype: np.dtype) -> bool:
    string = h5py.check_string_dtype(dtype)
    return h5py.check_vlen_dtype(dtype) is not None or (string is not None and string.length is None)


def vlen_fields(dataset: h5py.Dataset) -> list[str | None]:
    """Return the variable-length fields of a dataset (``[None]`` for a dataset of vlen values, ``[]`` for none)."""
    if dataset.dtype.names:
        return [name for name in dataset.dtype.names if _is_vlen(dataset.dtype[name])]
    return [None] if _is_vlen(dataset.dtype) else []


def _value_bytes(values: np.ndarray) -> np.ndarray:
    """Return the byte length of each variable-length value (arrays, bytes or str)."""
    return np.fromiter(
        (value.nbytes if isinstance(value, np.ndarray) else len(value) for value in values.reshape(-1)),
        dtype=np.int64,
        count=values.size,
    )


def _block_bytes(dataset: h5py.Dataset, fields: list[str | None], start: int, stop: int) -> int:
    named = [field for field in fields if field is not None]
    block = dataset.fields(named)[start:stop] if named else dataset[start:stop]
    total = 0
    for field in fields:
        values = block if field is None else block[field]
        sizes = _value_bytes(np.asarray(values, dtype=object))
        padded = (sizes + 7) // 8 * 8 + _OBJECT_HEADER
        total += int(padded[sizes > 0].sum())
    return total


def _starts(rows: int) -> tuple[list[int], bool]:
    """Return the first rows of the blocks read, and whether they are a sample."""
    if rows <= EXACT_ROWS:
        return list(range(0, rows, BLOCK_ROWS)), False
    last = rows - BLOCK_ROWS
    return sorted({int(start) for start in np.linspace(0, last, SAMPLE_BLOCKS)}), True


def heap_bytes(dataset: h5py.Dataset) -> HeapBytes:
    """Return the global-heap bytes of a dataset's variable-length values (zero for a dataset without)."""
    fields = vlen_fields(dataset)
    rows = int(dataset.shape[0]) if dataset.ndim else 0
    if not fields or rows == 0:
        return HeapBytes()
    starts, sampled = _starts(rows)
    total = sum(_block_bytes(dataset, fields, start, min(start + BLOCK_ROWS, rows)) for start in starts)
    if not sampled:
        return HeapBytes(total)
    read = sum(min(start + BLOCK_ROWS, rows) - start for start in starts)
    return HeapBytes(round(total * rows / read), estimated=True)
