"""One V2 pool of an object product, built straight from a collection's columns (no compound rows).

A pool interleaves its fields object by object, field by field
(``docs/format/spine-v2-format.md`` section 2.4). From a collection that is, per
pool, one gather of the fields' concatenated values (a single field needs none),
and the ``(rows, fields)`` lengths for the ``_var_offsets_<i>`` helper column.
"""

from __future__ import annotations

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
    held = [columns.column(field) for field in fields]
    if len(held) == 1:
        values, offsets = held[0]
        return values.astype(pool.base, copy=False), np.diff(offsets).astype(OFFSET_DTYPE, copy=False)
    lengths = np.stack([column.lengths for column in held], axis=1).astype(OFFSET_DTYPE, copy=False)
    flat_lengths = lengths.ravel()
    pooled = np.concatenate([column.values for column in held])
    bases = np.cumsum([0] + [len(column.values) for column in held[:-1]], dtype=OFFSET_DTYPE)
    # where each (row, field) run starts in ``pooled``, and where it goes in the pool
    sources = np.stack([column.offsets[:-1] for column in held], axis=1) + bases
    targets = np.zeros(len(flat_lengths), dtype=OFFSET_DTYPE)
    np.cumsum(flat_lengths[:-1], out=targets[1:])
    gather = np.repeat(sources.ravel() - targets, flat_lengths) + np.arange(int(flat_lengths.sum()), dtype=OFFSET_DTYPE)
    return pooled[gather].astype(pool.base, copy=False), flat_lengths
