"""One V2 pool of an object product, built straight from a collection's columns (no compound rows).

A pool interleaves its fields object by object, field by field
(``docs/format/spine-v2-format.md`` section 2.4). From a collection built from
objects, whose variable-length fields are still the objects' own arrays, that is
one concatenation of those arrays in pool order; from values and offsets, one
gather of the fields' values (a single field needs none). Either way it comes
with the ``(rows, fields)`` lengths for the ``_var_offsets_<i>`` helper column.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from ..format.v2 import OFFSET_DTYPE, Pool
from ..types.collection import SchemaCollection

__all__ = ["column_pool_values"]


def column_pool_values(
    columns: SchemaCollection, pool: Pool, encode_strings: Callable[[Any], tuple[np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray]:
    """Return one pool's values for the rows of ``columns`` and each (row, field) length, in pool order.

    Parameters
    ----------
    columns : SchemaCollection
        The rows.
    pool : Pool
        The pool (its fields are str columns for a string pool, variable-length columns otherwise).
    encode_strings : callable
        Turns a list of str into their concatenated UTF-8 bytes and byte lengths (the V2 writer's).
    """
    fields = pool.fields
    if pool.is_string:
        if len(fields) == 1:
            return encode_strings(columns.column(fields[0]).tolist())
        grid = np.empty((len(columns), len(fields)), dtype=object)
        for position, field in enumerate(fields):
            grid[:, position] = columns.column(field)
        return encode_strings(grid.ravel().tolist())
    if all(map(columns.has_cells, fields)):
        return _pool_from_cells(columns, pool)
    held = [columns.column(field) for field in fields]
    if len(held) == 1:
        values, offsets = held[0]
        return values.astype(pool.base, copy=False), np.diff(offsets).astype(OFFSET_DTYPE, copy=False)
    lengths = np.stack([column.lengths for column in held], axis=1).astype(OFFSET_DTYPE, copy=False)
    parts = [np.ascontiguousarray(column.values, dtype=pool.base) for column in held]
    return _interleave(parts, [column.offsets for column in held], lengths), lengths.ravel()


#: Mean values per row from which a field's runs are copied one by one as byte slices; the runs of
#: consecutive fields below it are first gathered together by one index array (a copy of a short run
#: costs about as much as gathering ~100 values by index).
_LONG_FIELD = 64


def _interleave(parts: list[np.ndarray], offsets: list[np.ndarray], lengths: np.ndarray) -> np.ndarray:
    """Return the fields' rows interleaved row by row, field by field (pool order), in one final copy.

    ``parts[j]`` holds field ``j``'s values, its row ``i`` at ``offsets[j][i]:offsets[j][i + 1]``
    (``lengths[i, j]`` values). Consecutive fields with short rows are gathered into one array first,
    so each row then takes one slice per long field and one per group of short fields.
    """
    rows, n_fields = lengths.shape
    long = lengths.mean(axis=0) >= _LONG_FIELD if rows else np.zeros(n_fields, bool)
    segments: list[tuple[np.ndarray, np.ndarray]] = []
    field = 0
    while field < n_fields:
        if long[field]:
            segments.append((parts[field], np.asarray(offsets[field], dtype=OFFSET_DTYPE)))
            field += 1
            continue
        group = field
        while field < n_fields and not long[field]:
            field += 1
        segments.append(_gathered_group(parts[group:field], offsets[group:field], lengths[:, group:field]))
    if len(segments) == 1:
        values, bounds = segments[0]
        return values[bounds[0] : bounds[-1]]
    base = parts[0].dtype
    width = base.itemsize
    slices = []
    for values, bounds in segments:
        data = memoryview(values.view(np.uint8))
        byte_bounds = (bounds * width).tolist()
        slices.append([data[a:b] for a, b in zip(byte_bounds[:-1], byte_bounds[1:])])
    return np.frombuffer(bytearray().join(itertools.chain.from_iterable(zip(*slices))), dtype=base)


def _gathered_group(
    parts: list[np.ndarray], offsets: list[np.ndarray], lengths: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return consecutive fields' rows interleaved (pool order) and each row's bounds in the result."""
    if len(parts) == 1:
        return parts[0], np.asarray(offsets[0], dtype=OFFSET_DTYPE)
    bounds = np.zeros(len(lengths) + 1, dtype=OFFSET_DTYPE)
    np.cumsum(lengths.sum(axis=1, dtype=OFFSET_DTYPE), out=bounds[1:])
    flat_lengths = lengths.ravel()
    pooled = np.concatenate(parts)
    bases = np.cumsum([0] + [len(part) for part in parts[:-1]], dtype=OFFSET_DTYPE)
    # where each (row, field) run starts in ``pooled``, in pool order; empty runs add nothing
    sources = (np.stack([np.asarray(o)[:-1] for o in offsets], axis=1) + bases).ravel()
    keep = flat_lengths > 0
    return _gather_runs(pooled, sources[keep], flat_lengths[keep]), bounds


#: Mean run length above which runs are copied as byte slices (one small copy each) rather than by one index
#: array (measured on 2,000-5,000 runs of int32: the index array wins below about 150 values per run).
_SLICE_RUN_LENGTH = 160


def _gather_runs(values: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Return the runs ``values[start:start + size]`` joined in order."""
    total = int(sizes.sum())
    if not len(sizes):
        return values[:0]
    if total >= _SLICE_RUN_LENGTH * len(sizes):
        if values.flags.c_contiguous and values.ndim == 1:
            # slices of a byte view joined in one call (half the cost of numpy slices and concatenate)
            data, width = memoryview(values.view(np.uint8)), values.itemsize
            firsts, lasts = (starts * width).tolist(), ((starts + sizes) * width).tolist()
            return np.frombuffer(bytearray().join([data[a:b] for a, b in zip(firsts, lasts)]), dtype=values.dtype)
        ends = starts + sizes
        return np.concatenate([values[start:end] for start, end in zip(starts.tolist(), ends.tolist())])
    # one index array: 1 within a run, the jump to the next run's start at its first position
    index = np.ones(total, dtype=OFFSET_DTYPE)
    firsts = np.zeros(len(sizes), dtype=OFFSET_DTYPE)
    np.cumsum(sizes[:-1], out=firsts[1:])
    index[0] = starts[0]
    index[firsts[1:]] = starts[1:] - (starts[:-1] + sizes[:-1]) + 1
    np.cumsum(index, out=index)
    return values[index]


def _pool_from_cells(columns: SchemaCollection, pool: Pool) -> tuple[np.ndarray, np.ndarray]:
    """Return a pool's values and lengths from fields held as one array per row: one concatenation."""
    fields = pool.fields
    if len(fields) == 1:
        items = columns.cells(fields[0])
    else:
        grid = np.empty((len(columns), len(fields)), dtype=object)
        for position, field in enumerate(fields):
            grid[:, position] = columns.cells(field)
        items = grid.ravel()
    lengths = np.fromiter(map(len, items), OFFSET_DTYPE, len(items))
    return _joined(items, pool.base), lengths


_DTYPE = operator.attrgetter("dtype")


def _joined(items: Any, base: np.dtype) -> np.ndarray:
    """Return 1-D arrays joined into one of dtype ``base``.

    Arrays already of that dtype have their bytes joined in one call (``numpy.concatenate`` costs
    about three times more on a pool's thousands of small arrays); others are concatenated and cast.
    """
    if not len(items):
        return np.empty(0, base)
    if all(dtype == base for dtype in set(map(_DTYPE, items))):
        try:
            return np.frombuffer(bytearray().join(items), dtype=base)
        except (TypeError, BufferError):  # an array that is not contiguous
            pass
    return np.concatenate(list(items)).astype(base, copy=False)
