"""HDF5Reader.columns: variable-length columns as values plus offsets, equal to table() and per-entry reads."""

from __future__ import annotations

import numpy as np
import pytest

from spineh5 import HDF5Reader, HDF5Writer
from spineh5.synthetic import make_batches
from spineh5.views import TableColumns, VarColumn

ENTRIES = [0, 5, 6, 1, 2, 11, 11]  # two files of 6 entries: runs of each file, out of order, a repeat


@pytest.fixture(scope="module", params=[1, 2])
def mix_file(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("pooled") / f"mix_v{request.param}.h5"
    with HDF5Writer(str(path), format_version=request.param) as writer:
        for batch in make_batches(6, batch_size=3, scale=0.05, seed=5):
            writer(batch)
    return str(path)


def _same(left, right) -> bool:
    if left.dtype.kind == "O":
        return len(left) == len(right) and all(
            np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(left, right)
        )
    return np.array_equal(left, right, equal_nan=left.dtype.kind == "f")


def test_columns_equal_table_rows(mix_file):
    with HDF5Reader([mix_file, mix_file]) as reader:
        keys = [key for key in reader.keys if reader.spec(key).kind.holds_objects]
        assert "reco_particles" in keys
        for key in keys:
            pooled = reader.columns(key, ENTRIES)
            rows, offsets = reader._table_rows(key, ENTRIES)  # one array per row and variable-length column
            table, table_offsets = reader.table(key, ENTRIES)
            assert isinstance(table, TableColumns) and np.array_equal(table_offsets, offsets)
            assert table.dtype == rows.dtype and len(table) == len(rows)
            assert isinstance(pooled, TableColumns) and pooled.names == rows.dtype.names
            assert np.array_equal(pooled.offsets, offsets)
            back = pooled.to_rows()
            for name in rows.dtype.names:
                assert _same(rows[name], back[name]), (key, name)
                assert _same(rows[name], table.to_rows()[name]), (key, name)
                column = pooled[name]
                if isinstance(column, VarColumn):
                    assert len(column) == len(rows) and column.offsets[0] == 0
                    assert column.offsets[-1] == len(column.values)


def test_var_columns_equal_per_entry_objects(mix_file):
    with HDF5Reader(mix_file) as reader:
        pooled = reader.columns("reco_particles")
        index, units = pooled["index"], pooled["units"]
        assert index.values.dtype == np.int32 and units.is_string
        row = 0
        for entry in range(len(reader)):
            for particle in reader[entry]["reco_particles"]:
                assert index[row].tolist() == particle.index.tolist()
                assert units[row] == particle.units
                row += 1
        assert row == len(pooled) == pooled.offsets[-1]


def test_fixed_only_and_refusals(mix_file):
    with HDF5Reader(mix_file) as reader:
        fixed = reader.columns("reco_particles", fixed_only=True)
        assert not fixed.variable and "index" not in fixed.names and "id" in fixed.names
        assert fixed.names == reader.table("reco_particles", fixed_only=True)[0].dtype.names
        some = reader.columns("reco_particles", [2], columns=["id", "index"])
        assert some.names == ("id", "index") and list(some.variable) == ["index"]
        empty = reader.columns("reco_particles", [])
        assert len(empty) == 0 and empty.offsets.tolist() == [0] and len(empty["index"]) == 0
        with pytest.raises(ValueError, match="not an object product"):
            reader.columns("points")
        with pytest.raises(KeyError, match="no column"):
            some["nope"]


def test_var_column_from_bounds_and_awkward():
    pool = np.arange(10, dtype=np.int32)
    contiguous = VarColumn.from_bounds(pool, [2, 4, 4], [4, 4, 7])
    assert contiguous.offsets.tolist() == [0, 2, 2, 5] and contiguous.values.base is not None
    gathered = VarColumn.from_bounds(pool, [6, 0], [8, 3])
    assert [row.tolist() for row in gathered] == [[6, 7], [0, 1, 2]]
    joined = VarColumn.concatenate([contiguous, gathered])
    assert [row.tolist() for row in joined] == [[2, 3], [], [4, 5, 6], [6, 7], [0, 1, 2]]
    text = VarColumn.from_cells(["cm", "", "πx"])
    assert (
        text.is_string and list(text) == ["cm", "", "πx"] and text.to_arrays().tolist() == [b"cm", b"", "πx".encode()]
    )
    ak = pytest.importorskip("awkward")
    assert ak.to_list(joined.to_awkward()) == [[2, 3], [], [4, 5, 6], [6, 7], [0, 1, 2]]
    assert ak.to_list(text.to_awkward()) == ["cm", "", "πx"]
