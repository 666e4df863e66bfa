"""table() of object products: variable-length columns as values plus offsets, equal to the per-entry objects.

Random productions (hypothesis: empty entries, empty lists, repeated and out-of-order selections) are written
in both layouts; the table's ``VarColumn`` values, offsets and rows, its fixed columns and its row selections
must equal what the per-entry reader rebuilds, and the lazy pool slices must equal their gathered values.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spineh5 import HDF5Reader, HDF5Writer
from spineh5.generated import RecoParticle
from spineh5.views import TableColumns, VarColumn

VLEN = ("index", "match_ids", "match_overlaps")

_ids = st.lists(st.integers(0, 1000), max_size=6)
_particle = st.fixed_dictionaries(
    {
        "index": _ids,
        "match_ids": _ids,
        "match_overlaps": st.lists(st.floats(0, 1, width=32), max_size=4),
        "units": st.sampled_from(["cm", "px"]),
    }
)
_entries = st.lists(st.lists(_particle, max_size=4), min_size=1, max_size=6)


def _objects(entries: list[list[dict]]) -> list[list[RecoParticle]]:
    out, number = [], 0
    for entry in entries:
        particles = []
        for fields in entry:
            particles.append(
                RecoParticle(
                    id=number,
                    units=fields["units"],
                    index=np.array(fields["index"], dtype=np.int32),
                    match_ids=np.array(fields["match_ids"], dtype=np.int32),
                    match_overlaps=np.array(fields["match_overlaps"], dtype=np.float32),
                )
            )
            number += 1
        out.append(particles)
    return out


def _write(path: Path, entries: list[list[RecoParticle]], format_version: int) -> None:
    types = {"reco_particles": "RecoParticle"}
    with HDF5Writer(str(path), format_version=format_version, types=types) as writer:
        writer({"index": list(range(len(entries))), "reco_particles": entries})


def _check_table(reader: HDF5Reader, positions: list[int]) -> None:
    rows, offsets = reader.table("reco_particles", positions)
    assert isinstance(rows, TableColumns) and len(offsets) == len(positions) + 1
    expected = [particle for position in positions for particle in reader[position]["reco_particles"]]
    assert len(rows) == offsets[-1] == len(expected)
    assert np.array_equal(np.diff(offsets), [len(reader[p]["reco_particles"]) for p in positions])
    for name in VLEN:
        column = rows[name]
        assert isinstance(column, VarColumn) and not column.is_string
        cells = [getattr(particle, name) for particle in expected]
        assert column.offsets.dtype == np.int64 and column.offsets.tolist() == [0, *np.cumsum([len(c) for c in cells])]
        wanted = np.concatenate(cells) if cells else np.empty(0, column.value_dtype)
        assert column.values.dtype == getattr(RecoParticle(), name).dtype
        assert np.array_equal(column.values, wanted)
        for row, cell in zip(column, cells):
            assert row.dtype == cell.dtype and np.array_equal(row, cell)
    assert rows["units"].tolist() == [particle.units for particle in expected]
    assert rows["id"].tolist() == [particle.id for particle in expected]
    assert RecoParticle.from_records(rows) == expected
    assert RecoParticle.from_records(rows.to_rows()) == expected


@pytest.mark.parametrize("format_version", [1, 2])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=_entries, data=st.data())
def test_table_values_and_offsets_equal_per_entry_objects(format_version, entries, data):
    objects = _objects(entries)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "random.h5"
        _write(path, objects, format_version)
        with HDF5Reader(str(path)) as reader:
            assert [reader[i]["reco_particles"] for i in range(len(reader))] == objects
            _check_table(reader, list(range(len(objects))))
            picked = data.draw(st.lists(st.integers(0, len(objects) - 1), max_size=8))
            _check_table(reader, picked)
            rows, _ = reader.table("reco_particles")
            mask = data.draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows)))
            chosen = np.flatnonzero(mask)
            every = [particle for entry in objects for particle in entry]
            assert RecoParticle.from_records(rows[np.array(mask, dtype=bool)]) == [every[i] for i in chosen]
            assert RecoParticle.from_records(rows[chosen[::-1]]) == [every[i] for i in chosen[::-1]]
            assert [row.tolist() for row in rows["index"][chosen]] == [every[i].index.tolist() for i in chosen]
            if len(rows):
                assert rows[len(rows) - 1]["id"] == every[-1].id
                assert rows[-1]["index"].tolist() == every[-1].index.tolist()


def test_v1_and_v2_tables_have_the_same_dtype_and_rows(tmp_path):
    objects = _objects([[{"index": [1, 2], "match_ids": [], "match_overlaps": [0.5], "units": "cm"}], [], []])
    tables = []
    for version in (1, 2):
        _write(tmp_path / f"v{version}.h5", objects, version)
        with HDF5Reader(str(tmp_path / f"v{version}.h5")) as reader:
            tables.append(reader.table("reco_particles"))
            raw = reader.raw(0, "reco_particles")
            assert set(raw.dtype.names) == set(tables[-1][0].dtype.names)
            assert RecoParticle.from_records(raw) == objects[0]
    (rows1, offsets1), (rows2, offsets2) = tables
    assert offsets1.tolist() == offsets2.tolist() == [0, 1, 1, 1]
    assert sorted(rows1.dtype.names) == sorted(rows2.dtype.names)
    for name in rows1.dtype.names:
        if isinstance(rows1[name], VarColumn):
            assert rows1[name].offsets.tolist() == rows2[name].offsets.tolist(), name
            assert np.array_equal(rows1[name].values, rows2[name].values), name
        else:
            assert np.array_equal(rows1[name], rows2[name], equal_nan=rows1[name].dtype.kind == "f"), name


def test_lazy_pool_slices_equal_their_gathered_values():
    pool = np.arange(20, dtype=np.float32)
    starts, stops = np.array([10, 0, 4, 4]), np.array([12, 3, 4, 7])  # out of order, one empty row
    column = VarColumn.from_bounds(pool, starts, stops)
    assert len(column) == 4 and column.lengths.tolist() == [2, 3, 0, 3]
    assert [row.tolist() for row in column] == [[10, 11], [0, 1, 2], [], [4, 5, 6]]
    picked = column[[3, 0, 0]]
    assert [row.tolist() for row in picked] == [[4, 5, 6], [10, 11], [10, 11]]
    assert column.values.tolist() == [10, 11, 0, 1, 2, 4, 5, 6] and column.offsets.tolist() == [0, 2, 5, 5, 8]
    assert [row.tolist() for row in column[1:3]] == [[0, 1, 2], []]
    assert [row.tolist() for row in column[np.array([False, True, False, True])]] == [[0, 1, 2], [4, 5, 6]]
    assert [row.tolist() for row in np.asarray(column)] == [row.tolist() for row in column]
    with pytest.raises(IndexError):
        column[4]
    with pytest.raises(IndexError):
        column[np.array([True, False])]
    text = VarColumn.from_bounds(np.frombuffer(b"pxcm", np.uint8), [2, 0], [4, 2], is_string=True)
    assert list(text) == ["cm", "px"] and text[1] == "px" and text.to_arrays().tolist() == [b"cm", b"px"]


def test_object_columns_are_concatenated_on_first_use_only():
    cells = np.empty(3, dtype=object)
    cells[:] = [np.array([1, 2], np.int32), np.array([], np.int32), np.array([3], np.int32)]
    column = VarColumn.from_object_column(cells, np.int32)
    assert len(column) == 3 and column.value_dtype == np.int32 and column[0] is cells[0]
    assert [row.tolist() for row in column[[2, 0]]] == [[3], [1, 2]]
    assert column.values.tolist() == [1, 2, 3] and column.offsets.tolist() == [0, 2, 2, 3]
    assert [row.tolist() for row in column] == [[1, 2], [], [3]]
    text = np.empty(2, dtype=object)
    text[:] = [b"cm", "\u03c0x"]
    strings = VarColumn.from_object_column(text, np.uint8, is_string=True)
    assert list(strings) == ["cm", "\u03c0x"] and strings[1] == "\u03c0x"
    assert strings.to_arrays().tolist() == [b"cm", "\u03c0x".encode()]
    assert strings.offsets.tolist() == [0, 2, 5] and bytes(strings.values) == "cm\u03c0x".encode()
