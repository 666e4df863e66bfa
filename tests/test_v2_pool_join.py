"""A V2 pool from rows held as arrays: bytes joined in one call, the same values as numpy's concatenation."""

from __future__ import annotations

import numpy as np

from spineh5.layouts.v2_columns import _joined


def _cells(*arrays: np.ndarray) -> np.ndarray:
    out = np.empty(len(arrays), dtype=object)
    for position, array in enumerate(arrays):
        out[position] = array
    return out


def test_contiguous_cells_of_the_pool_dtype_are_joined_as_concatenated() -> None:
    cells = _cells(np.arange(3, dtype=np.int32), np.empty(0, np.int32), np.arange(5, 9, dtype=np.int32))
    joined = _joined(cells, np.dtype(np.int32))
    assert joined.dtype == np.int32 and joined.flags.writeable
    assert joined.tolist() == [0, 1, 2, 5, 6, 7, 8]


def test_strided_or_other_dtype_cells_fall_back_to_concatenation_and_cast() -> None:
    base = np.dtype(np.float32)
    strided = np.arange(10, dtype=np.float32)[::3]
    assert _joined(_cells(strided, np.ones(2, np.float32)), base).tolist() == [0, 3, 6, 9, 1, 1]
    widened = _joined(_cells(np.arange(2, dtype=np.float64), np.ones(1, np.float32)), base)
    assert widened.dtype == base and widened.tolist() == [0, 1, 1]
    assert _joined(_cells(), base).dtype == base and len(_joined(_cells(), base)) == 0
