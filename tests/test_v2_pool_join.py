"""V2 pools from rows held as arrays (bytes joined in one call, as numpy concatenates) and their row boundaries."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spineh5.layouts.v2_columns import _LONG_FIELD, _gather_runs, _interleave, _joined
from spineh5.layouts.v2_write import _var_offsets


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


def test_var_offsets_are_each_rows_absolute_field_boundaries() -> None:
    rng = np.random.default_rng(3)
    for rows, fields in ((0, 1), (1, 1), (4, 2), (7, 11)):
        lengths = rng.integers(0, 5, rows * fields).astype(np.int64)
        bounds = np.concatenate([[0], np.cumsum(lengths)]) + 100
        expected = [bounds[row * fields : row * fields + fields + 1].tolist() for row in range(rows)]
        got = _var_offsets(lengths, rows, fields, 100)
        assert got.shape == (rows, fields + 1) and got.tolist() == expected


@pytest.mark.parametrize("mean_run", [3, 40, 400])  # the index-array path, and the byte-slice path above 160
@pytest.mark.parametrize("dtype", [np.int32, np.float64, np.bool_, np.float16])
def test_gathered_runs_equal_their_slices_joined(mean_run: int, dtype) -> None:
    rng = np.random.default_rng(mean_run)
    sizes = rng.integers(1, 2 * mean_run, 300)
    starts = rng.integers(0, 1000, 300)
    values = (
        rng.integers(0, 2, 1000 + 2 * mean_run) if dtype is np.bool_ else rng.normal(size=1000 + 2 * mean_run)
    ).astype(dtype)
    expected = np.concatenate([values[a : a + n] for a, n in zip(starts, sizes)])
    gathered = _gather_runs(values, starts, sizes)
    assert gathered.dtype == values.dtype and np.array_equal(gathered, expected)
    strided = _gather_runs(np.repeat(values, 2)[::2], starts, sizes)  # not contiguous: numpy's slices
    assert np.array_equal(strided, expected)


@st.composite
def _fields(draw):
    """Fields of one pool: per field its row lengths (short, long around the threshold, or empty) and a lead-in."""
    rows = draw(st.integers(0, 12))
    n_fields = draw(st.integers(1, 6))
    fields = []
    for _ in range(n_fields):
        top = draw(st.sampled_from([0, 3, _LONG_FIELD, 3 * _LONG_FIELD]))
        lengths = draw(st.lists(st.integers(0, top), min_size=rows, max_size=rows))
        fields.append((draw(st.integers(0, 5)), lengths))  # values before row 0: offsets of a view
    return rows, fields


@settings(max_examples=150, deadline=None)
@given(_fields(), st.sampled_from([np.int32, np.float64, np.uint8]))
def test_interleaved_pool_is_each_row_field_by_field(fields, dtype) -> None:
    rows, spec = fields
    rng = np.random.default_rng(len(spec) * 100 + rows)
    parts, offsets, columns = [], [], []
    for lead, lengths in spec:
        bounds = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]) + lead
        values = rng.integers(0, 250, int(bounds[-1]) + 2).astype(dtype)
        parts.append(values)
        offsets.append(bounds)
        columns.append(lengths)
    lengths = np.array(columns, dtype=np.int64).T.reshape(rows, len(spec))
    expected = [parts[j][offsets[j][i] : offsets[j][i + 1]] for i in range(rows) for j in range(len(spec))]
    got = _interleave(parts, offsets, lengths)
    want = np.concatenate(expected) if expected else np.empty(0, dtype)
    assert got.dtype == np.dtype(dtype) and np.array_equal(got, want)
