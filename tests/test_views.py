"""The analysis views (spineh5.views): awkward, numpy and pandas arrays, chunked iteration and slicing.

Every view is checked field by field against the per-entry reader, on spineh5
files of both layouts (one and several files) and on SPINE's own fixtures.
"""

from __future__ import annotations

import math
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import pandas as pd
import pytest
from conftest import DATA, every_case_batch, write_every_case
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spineh5.products import Kind
from spineh5.reader import HDF5Reader
from spineh5.views import Chunk, ListColumns, parse_step_size
from spineh5.views.pandas_view import scalar_names

SPINE_FIXTURES = ["spine_f31056c8.h5", "spine_head_v1.h5", "spine_head_v2.h5"]
OBJECT_KINDS = (Kind.OBJECT, Kind.OBJECTS)


# -- expected values from the per-entry reader ----------------------------------------------------------


def _plain(value: Any) -> Any:
    """Return a per-entry value as nested Python lists, dicts and scalars (what ak.to_list gives)."""
    if hasattr(value, "COLUMNS"):
        return {column.name: _plain(getattr(value, column.name)) for column in value.COLUMNS}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _same(got: Any, want: Any, where: str) -> None:
    """Assert two plain values are equal (NaN equals NaN; tuples equal lists)."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) <= set(want), f"{where}: fields {sorted(set(got) - set(want))}"
        for name, value in want.items():
            if name in got:
                _same(got[name], value, f"{where}.{name}")
        return
    if isinstance(want, list):
        assert isinstance(got, (list, tuple)) and len(got) == len(want), f"{where}: {got!r} != {want!r}"
        for position, (a, b) in enumerate(zip(got, want)):
            _same(a, b, f"{where}[{position}]")
        return
    if isinstance(want, float) and math.isnan(want):
        assert isinstance(got, float) and math.isnan(got), f"{where}: {got!r} is not NaN"
        return
    assert got == want and type(got) is not list, f"{where}: {got!r} != {want!r}"


def _expected(reader: HDF5Reader, position: int, key: str) -> Any:
    # get() sets "index", "file_index" and "file_entry_index" itself; raw() returns the stored product.
    if reader.spec(key).kind in OBJECT_KINDS:
        value = reader.get(position)[key]
        if isinstance(value, list):
            return [_plain(item) for item in value]
        return _plain(value)
    return _plain(reader.raw(position, key))


def assert_matches(reader: HDF5Reader, array: ak.Array, positions: range) -> None:
    assert len(array) == len(positions)
    for row, position in enumerate(positions):
        got = ak.to_list(array[row])
        for key in array.fields:
            _same(got[key], _expected(reader, position, key), f"entry {position} {key}")


def _open(paths: list[Path]) -> HDF5Reader:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return HDF5Reader([str(path) for path in paths])


@pytest.fixture(scope="module", params=[1, 2], ids=["v1", "v2"])
def production(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> HDF5Reader:
    """Two files of 4 and 3 entries (every storage case), in one layout."""
    folder = tmp_path_factory.mktemp(f"views_v{request.param}")
    first = write_every_case(folder / "a.h5", [every_case_batch(0, 4)], format_version=request.param)
    second = write_every_case(folder / "b.h5", [every_case_batch(4, 3)], format_version=request.param)
    return _open([first, second])


# -- awkward ----------------------------------------------------------------------------------------------


def test_awkward_matches_per_entry_reader(production: HDF5Reader) -> None:
    array = production.arrays()
    assert set(array.fields) == set(production.keys)
    assert_matches(production, array, range(len(production)))


def test_awkward_layouts(production: HDF5Reader) -> None:
    array = production.arrays()
    assert isinstance(array.layout.content("reco_particles"), ak.contents.ListOffsetArray)
    records = array.layout.content("reco_particles").content
    assert isinstance(records, ak.contents.RecordArray)
    assert records.parameter("__record__") == "RecoParticle"
    assert isinstance(records.content("start_point"), ak.contents.RegularArray)
    # V1 concatenates a vlen column into ListOffsetArray; V2 hands over its pool zero-copy as ListArray
    # (``index`` shares its pool with ``orig_index``: offsets would need a copy of the pool per field).
    list_type = ak.contents.ListArray if production.format_version == 2 else ak.contents.ListOffsetArray
    assert isinstance(records.content("index"), list_type)
    assert isinstance(array.layout.content("points").content, ak.contents.RegularArray)
    assert array.layout.content("points").content.size == 3
    assert ak.to_list(array.name) == ["a", "bé", "", "a", "bé", "", "a"]
    assert ak.num(array.reco_particles).tolist() == [2, 0, 1, 2, 0, 1, 2]
    assert ak.to_list(array.clusts[0]) == [[0, 1, 2], [0, 1]]
    assert ak.to_list(array.clusts[1]) == []


@pytest.mark.parametrize(("start", "stop"), [(2, 6), (None, 3), (-3, None), (5, 2), (3, 100)])
def test_awkward_entry_range_across_files(production: HDF5Reader, start: Any, stop: Any) -> None:
    array = production.arrays(["reco_particles", "clusts", "jag", "tag"], entry_start=start, entry_stop=stop)
    assert_matches(production, array, range(len(production))[slice(start, stop)])


def test_columns_select_object_fields(production: HDF5Reader) -> None:
    array = production.arrays(["reco_particles", "seg"], columns={"reco_particles": ["id", "index", "units"]})
    assert array.reco_particles.fields == ["id", "index", "units"]
    assert_matches(production, array, range(len(production)))
    assert production.arrays("crthits", columns=["tagger"]).crthits.fields == ["tagger"]
    with pytest.raises(KeyError):
        production.arrays("crthits", columns=["no_such_column"])


def test_enum_codes_and_names(production: HDF5Reader) -> None:
    shapes = production.arrays("reco_particles").reco_particles.shape
    assert ak.flatten(shapes).layout.dtype == np.int64
    members = shapes.layout.content.parameter("spineh5_enum_members")
    assert members["TRACK"] == 1 and members["UNKNOWN"] == -1
    assert production.enum_names("reco_particles", "shape")[1] == "TRACK"
    assert production.enum_names("reco_particles", "id") == {}
    with pytest.raises(KeyError):
        production.enum_names("reco_particles", "nope")


@pytest.mark.parametrize("name", SPINE_FIXTURES)
def test_awkward_matches_on_spine_fixtures(name: str) -> None:
    reader = _open([DATA / name])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_matches(reader, reader.arrays(), range(len(reader)))


def test_awkward_over_fixture_files_of_both_layouts() -> None:
    reader = _open([DATA / "spine_head_v1.h5", DATA / "spine_head_v2.h5"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        keys = ["reco_particles", "truth_interactions", "clusts", "meta", "points", "index"]
        assert_matches(reader, reader.arrays(keys, entry_start=3, entry_stop=9), range(3, 9))


# -- numpy ------------------------------------------------------------------------------------------------


def test_numpy_view_every_kind(production: HDF5Reader) -> None:
    columns = production.arrays(library="np")
    assert set(columns) == set(production.keys)
    rows, offsets = columns["reco_particles"]
    assert offsets.tolist() == [0, 2, 2, 3, 5, 5, 6, 8]
    reference, _ = production.table("reco_particles")
    assert np.array_equal(rows["id"], reference["id"])
    clusts = columns["clusts"]
    assert isinstance(clusts, ListColumns) and clusts.kind is Kind.FLAT
    jag = columns["jag"]
    assert jag.kind is Kind.JAGGED and len(jag.values) == 2
    for position in range(len(production)):
        arrays = production.raw(position, "clusts")
        low, high = clusts.entry_offsets[position : position + 2]
        assert high - low == len(arrays)
        for k, array in zip(range(low, high), arrays):
            bounds = clusts.array_offsets[0][k : k + 2]
            assert np.array_equal(clusts.values[0][bounds[0] : bounds[1]], array)
        for slot, array in enumerate(production.raw(position, "jag")):
            bounds = jag.array_offsets[slot][position : position + 2]
            assert np.array_equal(jag.values[slot][bounds[0] : bounds[1]], array)


# -- pandas -----------------------------------------------------------------------------------------------


def test_pandas_scalar_dict_names_match_spine() -> None:
    from spine.data.out import RecoParticle, TruthInteraction

    reader = _open([DATA / "spine_head_v2.h5"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frames = reader.arrays(["reco_particles", "truth_interactions"], library="pd")
    # momentum is not a vector to SPINE: momentum_0/_1/_2, while start_point is a position: start_point_x/_y/_z
    assert frames["reco_particles"].columns.tolist() == list(RecoParticle().scalar_dict())
    assert frames["truth_interactions"].columns.tolist() == list(TruthInteraction().scalar_dict())


def test_pandas_values_match_objects(production: HDF5Reader) -> None:
    frame = production.arrays("reco_particles", library="pd", entry_start=1)
    assert isinstance(frame, pd.DataFrame)
    assert frame.index.names == ["entry", "subentry"]
    assert frame.index.tolist() == [(2, 0), (3, 0), (3, 1), (5, 0), (6, 0), (6, 1)]
    assert "index" not in frame.columns  # variable-length columns are left out
    for (entry, subentry), row in frame.iterrows():
        particle = production[entry]["reco_particles"][subentry]
        assert row["id"] == particle.id and row["units"] == particle.units
        assert row["shape"] == int(particle.shape)
        start = row[["start_point_x", "start_point_y", "start_point_z"]].to_numpy(dtype=np.float32)
        np.testing.assert_array_equal(start, particle.start_point)
        scores = row[[f"pid_scores_{i}" for i in range(6)]].to_numpy(dtype=np.float32)
        np.testing.assert_array_equal(scores, particle.pid_scores)
    meta = production.arrays(["meta"], library="pd")["meta"]
    assert meta.index.tolist() == [(i, 0) for i in range(len(production))]
    with pytest.raises(ValueError, match="not an object product"):
        production.arrays("seg", library="pd")


def test_scalar_names_rule() -> None:
    assert scalar_names("start_point", 3, "position") == ["start_point_x", "start_point_y", "start_point_z"]
    assert scalar_names("lower", 2, "vector") == ["lower_x", "lower_y"]
    assert scalar_names("momentum", 3) == ["momentum_0", "momentum_1", "momentum_2"]
    assert scalar_names("primary_scores", 2) == ["primary_scores_0", "primary_scores_1"]


def test_roles_match_spine_positions_and_vectors() -> None:
    """Every schema class declares as position/vector exactly SPINE's stored positions and vectors."""
    import spine.data as spine_data

    from spineh5.types.registry import REGISTRY

    checked = 0
    for name, cls in REGISTRY.items():
        peer = getattr(spine_data, name, None)
        if peer is None or not hasattr(peer, "_pos_attrs"):
            continue
        instance = peer()
        declared = {c.name for c in cls.COLUMNS if c.role is not None}
        spine_roles = set(instance._pos_attrs + instance._vec_attrs) & {
            c.name for c in cls.COLUMNS if c.storage == "fixed"
        }
        assert declared == spine_roles, name
        checked += 1
    assert checked >= 10


# -- iteration and slicing --------------------------------------------------------------------------------


def test_iterate_chunks_across_files(production: HDF5Reader) -> None:
    chunks = list(production.iterate(["reco_particles", "clusts"], step_size=3))
    assert [(chunk.entry_start, chunk.entry_stop) for chunk in chunks] == [(0, 3), (3, 6), (6, 7)]
    assert all(isinstance(chunk, Chunk) and len(chunk.data) == len(chunk) for chunk in chunks)
    whole = production.arrays(["reco_particles", "clusts"])
    _same(ak.to_list(ak.concatenate([chunk.data for chunk in chunks])), ak.to_list(whole), "chunks")
    ranged = list(production.iterate("seg", step_size=2, entry_start=1, entry_stop=6, library="np"))
    assert [(chunk.entry_start, chunk.entry_stop) for chunk in ranged] == [(1, 3), (3, 5), (5, 6)]
    assert ranged[0].data["seg"][1].tolist() == [0, 0, 1]


def test_iterate_by_memory_and_progress(production: HDF5Reader, capsys: pytest.CaptureFixture) -> None:
    small = list(production.iterate("reco_particles", step_size="1 B", library="pd"))
    assert [len(chunk) for chunk in small] == [1] * len(production)
    large = list(production.iterate("reco_particles", step_size="1 GiB", progress=True))
    assert len(large) == 1 and (large[0].entry_start, large[0].entry_stop) == (0, len(production))
    assert "7/7" in capsys.readouterr().err
    assert parse_step_size("100 MB") == (None, 100_000_000)
    assert parse_step_size("2.5kib") == (None, 2560)
    assert parse_step_size(10) == (10, None)
    for bad in ("ten", "5 parsecs", 0, True, 1.5):
        with pytest.raises((ValueError, TypeError)):
            parse_step_size(bad)


@pytest.mark.parametrize("selection", [slice(1, 5), slice(None, None, 2), slice(-2, None), slice(None, None, -1)])
def test_slicing_returns_entry_lists(production: HDF5Reader, selection: slice) -> None:
    entries = production[selection]
    expected = list(range(len(production)))[selection]
    assert [entry["index"] for entry in entries] == expected
    assert [entry["name"] for entry in entries] == [production[i]["name"] for i in expected]


def test_iteration_over_reader(production: HDF5Reader) -> None:
    assert [entry["index"] for entry in production] == list(range(len(production)))


def test_views_reject_bad_arguments(production: HDF5Reader) -> None:
    with pytest.raises(ValueError, match="library"):
        production.arrays(library="polars")
    with pytest.raises(KeyError):
        production.arrays("no_such_product")
    assert len(production.arrays(entry_start=3, entry_stop=3)) == 0


def test_import_stays_light() -> None:
    heavy = "{'awkward', 'pandas', 'pyarrow'}"
    code = f"import sys, spineh5, spineh5.reader, spineh5.views; print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- random productions -----------------------------------------------------------------------------------


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    version=st.sampled_from([1, 2]),
    files=st.lists(st.lists(st.integers(1, 4), min_size=1, max_size=2), min_size=1, max_size=3),
    first=st.integers(0, 3),
    start=st.one_of(st.none(), st.integers(-8, 8)),
    stop=st.one_of(st.none(), st.integers(-8, 12)),
)
def test_random_productions(version: int, files: list[list[int]], first: int, start: Any, stop: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        paths, entry = [], first
        for number, batches in enumerate(files):
            # A file's first entry follows pattern 0 (nothing empty), from which the writer decides the types.
            entry += -entry % 3
            batch_list = []
            for size in batches:
                batch_list.append(every_case_batch(entry, size))
                entry += size
            paths.append(write_every_case(Path(folder) / f"f{number}.h5", batch_list, format_version=version))
        reader = _open(paths)
        try:
            keys = ["reco_particles", "truth_interactions", "crthits", "clusts", "jag", "points", "name", "meta"]
            array = reader.arrays(keys, entry_start=start, entry_stop=stop)
            positions = range(len(reader))[slice(start, stop)]
            assert_matches(reader, array, positions)
            frame = reader.arrays("reco_particles", entry_start=start, entry_stop=stop, library="pd")
            assert len(frame) == int(ak.sum(ak.num(array.reco_particles))) if len(array) else len(frame) == 0
            chunks = list(reader.iterate(keys, step_size=2, entry_start=start, entry_stop=stop))
            assert sum(len(chunk) for chunk in chunks) == len(positions)
            assert [chunk.entry_start for chunk in chunks] == list(positions)[::2]
        finally:
            reader.close()


def test_enum_members_compare_with_awkward_arrays(production: HDF5Reader) -> None:
    from spineh5.generated import ParticlePID

    pid = production.arrays("reco_particles", columns=["pid"]).reco_particles.pid
    assert ak.to_list(pid == ParticlePID.MUON) == ak.to_list(pid == 2)
    assert ParticlePID.MUON.dtype == np.dtype(np.int64) and ParticlePID(2) is ParticlePID.MUON
