"""HDF5Reader on the reference files written by SPINE's own writer (tests/data/README.md)."""

from __future__ import annotations

import json
import math
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA, FULL, HEAD_V1, LITE

from spineh5.generated import REGISTRY, ImageMeta3D
from spineh5.reader import HDF5Reader, SpineFileError, UnknownColumnsWarning

RUNTIME_KEYS = {"file_index", "file_entry_index"}
OBJECT_KEYS = [
    "run_info",
    "meta",
    "trigger",
    "particles",
    "neutrinos",
    "flashes",
    "crthits",
    "reco_fragments",
    "truth_fragments",
    "reco_particles",
    "truth_particles",
    "reco_interactions",
    "truth_interactions",
]


@pytest.fixture(scope="module")
def expected() -> list[dict]:
    return json.loads((DATA / "spine_f31056c8.json").read_text())["entries"]


def assert_value(expected, actual, where: str) -> None:
    """Compare a JSON value with a read value: arrays exactly (NaN equal NaN), scalars by value."""
    if isinstance(actual, np.ndarray):
        assert isinstance(expected, list), where
        want = np.asarray(expected, dtype=np.float64 if actual.dtype.kind == "f" else None)
        assert want.size == actual.size, where
        got = actual.astype(np.float64) if actual.dtype.kind == "f" else actual
        np.testing.assert_array_equal(got, want.reshape(actual.shape), err_msg=where)
    elif isinstance(expected, float) and math.isnan(expected):
        assert isinstance(actual, (float, np.floating)) and math.isnan(actual), where
    elif isinstance(expected, str):
        assert isinstance(actual, str) and actual == expected, where
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def assert_object(expected: dict, actual, where: str, lite: bool = False) -> None:
    assert type(actual).__name__ == expected["class_name"], where
    stored = {column.name for column in actual.COLUMNS if not column.derived}
    assert set(expected["fields"]) == stored, where
    for column in actual.COLUMNS:
        if column.derived:
            continue
        value = expected["fields"][column.name]
        if lite and not column.lite:
            default = column.make_default()
            assert_value(
                default.tolist() if isinstance(default, np.ndarray) else default, getattr(actual, column.name), where
            )
            assert len(getattr(actual, column.name)) == 0, where
        else:
            assert_value(value, getattr(actual, column.name), f"{where}.{column.name}")


def assert_entry(expected: dict, actual: dict, where: str, lite: bool = False, index: int | None = None) -> None:
    assert set(actual) - RUNTIME_KEYS == set(expected), where
    for key, value in expected.items():
        got = actual[key]
        if key == "index" and index is not None:
            value = index
        here = f"{where}[{key!r}]"
        if isinstance(value, dict):
            assert_object(value, got, here, lite)
        elif isinstance(value, list) and key in OBJECT_KEYS:
            assert isinstance(got, list) and len(got) == len(value), here
            for position, (item, obj) in enumerate(zip(value, got)):
                assert_object(item, obj, f"{here}[{position}]", lite)
        elif key == "clusts":
            assert isinstance(got, list) and len(got) == len(value), here
            for item, array in zip(value, got):
                assert_value(item, array, here)
        else:
            assert_value(value, got, here)


def test_full_file_reads_back_the_decoded_content(expected):
    with HDF5Reader(FULL) as reader:
        assert len(reader) == len(expected) == 6
        for position, entry in enumerate(expected):
            data = reader[position]
            assert_entry(entry, data, f"entry {position}")
            # the stored file_index / file_entry_index overwrite the runtime ones, as in SPINE
            assert data["file_index"] == 0 and data["file_entry_index"] == 100 + position
            assert reader.location(position) == (0, position)


def test_types_of_the_returned_values():
    with HDF5Reader(FULL) as reader:
        data = reader[1]
    assert isinstance(data["run_info"], REGISTRY["RunInfo"])
    assert isinstance(data["meta"], ImageMeta3D)
    assert isinstance(data["reco_particles"], list)
    assert all(isinstance(obj, REGISTRY["RecoParticle"]) for obj in data["reco_particles"])
    assert data["points"].shape == (200, 3) and data["points"].dtype == np.float32
    assert data["seg_label"].shape == (200,) and data["seg_label"].dtype == np.int64
    assert isinstance(data["clusts"], list) and all(isinstance(c, np.ndarray) for c in data["clusts"])
    assert isinstance(data["source_file_index"], np.integer)
    assert data["index"] == 1
    # enums come back as members, derived columns are kept
    particle = data["truth_particles"][0]
    assert type(particle.pid).__name__ == "ParticlePID"
    assert isinstance(particle.size, int)


def test_empty_entry():
    with HDF5Reader(FULL) as reader:
        data = reader[3]
    for key in OBJECT_KEYS[3:]:
        assert data[key] == []


def test_info_cfg_version():
    with HDF5Reader(FULL) as reader:
        assert reader.cfg == {"base": {"seed": 5}}
        assert reader.version == "0.14.1"
        assert reader.writer is None
        assert reader.format_version == 1
        assert reader.info["complete"] is True


def test_lite_file_reads_defaults_for_dropped_columns(expected):
    with HDF5Reader(LITE) as reader:
        for position, entry in enumerate(expected):
            assert_entry(entry, reader[position], f"lite entry {position}", lite=True)


def test_build_classes_false_gives_dicts_of_every_column():
    with HDF5Reader(FULL, build_classes=False) as reader, HDF5Reader(FULL) as typed:
        raw, objects = reader[0], typed[0]
    assert isinstance(raw["run_info"], dict) and raw["run_info"]["run"] == 1
    particle = raw["truth_particles"][0]
    assert set(particle) == {column.name for column in REGISTRY["TruthParticle"].COLUMNS}
    assert particle["units"] == "cm"
    np.testing.assert_array_equal(particle["index"], objects["truth_particles"][0].index)


def test_later_release_file_reads_with_extra_columns_reported_once():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with HDF5Reader(HEAD_V1) as reader:
            assert reader.version == "0.17.3"
            for _ in range(2):
                entries = list(reader)
    reported = [w for w in caught if issubclass(w.category, UnknownColumnsWarning)]
    texts = [str(w.message) for w in reported]
    # one warning per class with extra columns, not one per entry or per read
    assert len(texts) == len(set(texts)) == 7
    assert any("Particle rows" in text and "first_step_t" in text for text in texts)
    assert any("RecoParticle" in text and "best_match_id" in text for text in texts)
    assert len(entries) == 6
    assert isinstance(entries[0]["particles"][0], REGISTRY["Particle"])
    assert not hasattr(entries[0]["particles"][0], "first_step_t")


def test_later_release_extra_columns_stay_reachable():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownColumnsWarning)
        with HDF5Reader(HEAD_V1) as reader:
            entry = next(i for i in range(len(reader)) if reader[i]["particles"])
            particles = reader[entry]["particles"]
            rows = reader.raw(entry, "particles")
            assert "first_step_t" in rows.dtype.names
            assert len(rows) == len(particles)
            for row, particle in zip(rows, particles):
                assert row["id"] == particle.id
                np.testing.assert_array_equal(row["position"], particle.position)
            table, offsets = reader.table("particles", [entry])
            assert "last_step_t" in table.dtype.names
            np.testing.assert_array_equal(table["first_step_t"], rows["first_step_t"])
            interactions, _ = reader.table("truth_interactions", columns=["id", "time", "flash_hypothesis_ids"])
            assert interactions.dtype.names == ("id", "time", "flash_hypothesis_ids")
    with HDF5Reader(HEAD_V1, build_classes=False) as reader:
        assert "first_step_t" in reader[entry]["particles"][0]


def test_later_release_strict_mode_refuses_extra_columns():
    with HDF5Reader(HEAD_V1, skip_unknown_attrs=False) as reader:
        with pytest.raises(SpineFileError, match="schema does not know: .*best_match_id") as info:
            reader[0]
    assert "skip_unknown_attrs=True" in str(info.value)


# -- lookups and selections --------------------------------------------------------------------


def test_find_by_run_subrun_event():
    with HDF5Reader(FULL, keys=["run_info"]) as reader:
        for position in range(len(reader)):
            info = reader[position]["run_info"]
            assert reader.find(info.run, info.subrun, info.event) == position
        with pytest.raises(KeyError, match="run=9"):
            reader.find(9, 9, 9)


def test_find_with_a_selection_returns_positions():
    with HDF5Reader(FULL, entry_list=[4, 1], create_run_map=True) as reader:
        assert reader.find(1, 1, 4) == 0
        assert reader.find(1, 0, 1) == 1
        with pytest.raises(KeyError):
            reader.find(1, 0, 0)


def test_find_refuses_duplicate_events(tmp_path):
    copy = tmp_path / "copy.h5"
    shutil.copy(FULL, copy)
    with HDF5Reader([FULL, copy]) as reader:
        assert len(reader) == 12
        with pytest.raises(ValueError, match="more than once"):
            reader.find(1, 0, 0)
    with pytest.raises(ValueError, match="more than once"):
        HDF5Reader([FULL, copy], create_run_map=True)
    # a selection without duplicates can be looked up
    with HDF5Reader([FULL, copy], n_skip=3, n_entry=6) as reader:
        assert reader.find(1, 0, 0) == 3
        assert reader.find(1, 1, 5) == 2


def test_keys_reads_only_those_products():
    with HDF5Reader(FULL, keys=["run_info", "points", "clusts"]) as reader:
        data = reader[2]
        assert set(data) == {"run_info", "points", "clusts", "index", "file_index", "file_entry_index"}
        assert data["file_index"] == 0 and data["file_entry_index"] == 2  # runtime values: not read from the file
        assert reader.keys == ("run_info", "points", "clusts")
    with pytest.raises(KeyError, match="nonexistent"):
        HDF5Reader(FULL, keys=["nonexistent"])


def test_entry_selections():
    with HDF5Reader(FULL, keys=["run_info"], entry_list=[4, 1, 4]) as reader:
        assert len(reader) == 3
        assert [reader[i]["run_info"].event for i in range(3)] == [4, 1, 4]
        assert reader[0]["index"] == 0
        assert reader.location(1) == (0, 1)
        assert reader[-1]["run_info"].event == 4
    with HDF5Reader(FULL, keys=["run_info"], n_skip=2, n_entry=3) as reader:
        assert [data["run_info"].event for data in reader] == [2, 3, 4]
    with HDF5Reader(FULL, n_entry=2) as reader:
        assert len(reader) == 2
    with HDF5Reader(FULL, n_skip=5) as reader:
        assert len(reader) == 1
    with pytest.raises(ValueError):
        HDF5Reader(FULL, entry_list=[1], n_entry=1)
    with pytest.raises(ValueError, match="out of range"):
        HDF5Reader(FULL, entry_list=[6])
    with pytest.raises(ValueError):
        HDF5Reader(FULL, n_skip=4, n_entry=3)
    with HDF5Reader(FULL) as reader:
        with pytest.raises(IndexError):
            reader[6]
        with pytest.raises(TypeError):
            reader["run_info"]


def test_list_and_glob_read_as_one_sequence(tmp_path, expected):
    for name in ("out_1.h5", "out_2.h5", "out_10.h5"):
        shutil.copy(FULL, tmp_path / name)
    with HDF5Reader(str(tmp_path / "out_*.h5")) as reader:
        assert [Path(p).name for p in reader.file_paths] == ["out_1.h5", "out_2.h5", "out_10.h5"]
        assert len(reader) == 18
        assert reader.location(7) == (1, 1)
        assert reader.location(17) == (2, 5)
        data = reader[13]
        assert data["index"] == 13
        assert_entry(expected[1], data, "entry 13", index=13)
    with HDF5Reader([tmp_path / "out_10.h5", tmp_path / "out_1.h5"]) as reader:
        assert [Path(p).name for p in reader.file_paths] == ["out_10.h5", "out_1.h5"]
        assert len(reader) == 12
    with pytest.raises(FileNotFoundError):
        HDF5Reader(str(tmp_path / "nothing_*.h5"))


def test_file_handles_are_lazy_and_bounded(tmp_path):
    paths = []
    for number in range(4):
        paths.append(tmp_path / f"f{number}.h5")
        shutil.copy(FULL, paths[-1])
    reader = HDF5Reader(paths, keys=["run_info"], max_open_files=2)
    assert len(reader._open) <= 2
    assert [reader[i]["run_info"].event for i in (0, 7, 14, 21, 2)] == [0, 1, 2, 3, 2]
    assert len(reader._open) <= 2
    reader.close()
    assert reader[8]["run_info"].event == 2  # reopens after close
    reader.close()


# -- bulk columns --------------------------------------------------------------------------------


def assert_table_matches_entries(reader: HDF5Reader, key: str, positions) -> None:
    rows, offsets = reader.table(key, positions)
    assert offsets.dtype == np.int64 and len(offsets) == len(positions) + 1 and offsets[0] == 0
    assert offsets[-1] == len(rows)
    single = HDF5Reader(reader.file_paths, keys=[key], entry_list=reader.entry_index)
    for number, position in enumerate(positions):
        value = single[position][key]
        part = rows[offsets[number] : offsets[number + 1]]
        if isinstance(value, list):
            assert type(value[0]).from_records(part) == value if value else len(part) == 0
        elif hasattr(value, "COLUMNS"):
            assert len(part) == 1 and type(value).from_records(part) == [value]
        elif isinstance(value, np.ndarray):
            np.testing.assert_array_equal(part, value)
        else:
            assert len(part) == 1 and part[0] == value


@pytest.mark.parametrize(
    "key",
    ["reco_particles", "truth_particles", "truth_interactions", "crthits", "run_info", "meta", "points", "seg_label"],
)
def test_table_matches_per_entry_reads(key):
    with HDF5Reader(FULL) as reader:
        assert_table_matches_entries(reader, key, list(range(len(reader))))
        assert_table_matches_entries(reader, key, [5, 0, 3, 3, 1])
        assert_table_matches_entries(reader, key, [])


def test_table_scalar_products_and_columns():
    with HDF5Reader(FULL) as reader:
        rows, offsets = reader.table("source_file_entry_index")
        np.testing.assert_array_equal(rows, 100 + np.arange(6))
        np.testing.assert_array_equal(offsets, np.arange(7))
        rows, offsets = reader.table("reco_particles", columns=["id", "pid"])
        assert rows.dtype.names == ("id", "pid")
        full, full_offsets = reader.table("reco_particles")
        np.testing.assert_array_equal(rows["id"], full["id"])
        np.testing.assert_array_equal(offsets, full_offsets)
        with pytest.raises(ValueError, match="list of arrays"):
            reader.table("clusts")
        with pytest.raises(KeyError):
            reader.table("reco_particles", columns=["nope"])


def test_table_across_files_in_any_order(tmp_path):
    for name in ("a.h5", "b.h5", "c.h5"):
        shutil.copy(FULL, tmp_path / name)
    with HDF5Reader([tmp_path / "a.h5", tmp_path / "b.h5", tmp_path / "c.h5"]) as reader:
        for key in ("truth_particles", "points", "run_info", "source_file_entry_index"):
            assert_table_matches_entries(reader, key, list(range(len(reader))))
            assert_table_matches_entries(reader, key, [13, 0, 7, 17, 1, 13, 6])


def test_table_across_lite_and_full_files_unites_columns(tmp_path):
    with HDF5Reader([FULL, LITE]) as reader:
        rows, offsets = reader.table("reco_particles")
        assert "index" in rows.dtype.names
        half = offsets[6]
        assert all(len(index) == 0 for index in rows["index"][half:])
        full, _ = reader.table("reco_particles", list(range(6)))
        np.testing.assert_array_equal(rows["id"][:half], full["id"])
        assert_table_matches_entries(reader, "truth_interactions", [7, 0, 11, 2])


def test_legacy_meta_class_name(tmp_path):
    import h5py

    copy = tmp_path / "meta.h5"
    shutil.copy(FULL, copy)
    with h5py.File(copy, "a") as h5file:
        h5file["meta"].attrs["class_name"] = "Meta"
    with HDF5Reader(copy) as reader, HDF5Reader(FULL) as original:
        assert isinstance(reader[0]["meta"], ImageMeta3D)
        assert reader[0]["meta"] == original[0]["meta"]


# -- SPINE's own reader agrees ----------------------------------------------------------------------


def test_spine_reader_agrees():
    spine_reader = pytest.importorskip("spine.io.read.hdf5")
    spine_reader = spine_reader.HDF5Reader(str(FULL))
    with HDF5Reader(FULL) as reader:
        assert len(reader) == len(spine_reader)
        assert reader.cfg == spine_reader.cfg and reader.version == spine_reader.version
        for position in range(len(reader)):
            ours, theirs = reader[position], spine_reader[position]
            for key, value in ours.items():
                assert key in theirs, key
                other = theirs[key]
                where = f"entry {position}, {key!r}"
                if isinstance(value, list) and key in OBJECT_KEYS:
                    assert len(value) == len(other), where
                    pairs = list(zip(value, other))
                elif hasattr(value, "COLUMNS"):
                    pairs = [(value, other)]
                elif isinstance(value, list):
                    assert len(value) == len(other), where
                    for array, their_array in zip(value, other):
                        np.testing.assert_array_equal(array, their_array, err_msg=where)
                    continue
                elif isinstance(value, np.ndarray):
                    np.testing.assert_array_equal(value, other, err_msg=where)
                    continue
                else:
                    assert value == other, where
                    continue
                for obj, their_obj in pairs:
                    assert type(obj).__name__ == type(their_obj).__name__, where
                    for column in obj.COLUMNS:
                        if column.derived:
                            continue
                        mine, spine_value = getattr(obj, column.name), getattr(their_obj, column.name)
                        if isinstance(mine, np.ndarray):
                            assert mine.dtype == np.asarray(spine_value).dtype, f"{where}.{column.name}"
                            np.testing.assert_array_equal(mine, spine_value, err_msg=f"{where}.{column.name}")
                        elif isinstance(mine, float) and math.isnan(mine):
                            assert math.isnan(spine_value), f"{where}.{column.name}"
                        else:
                            assert mine == spine_value, f"{where}.{column.name}"
                            assert type(spine_value)(mine) == spine_value


def test_product_specs():
    with HDF5Reader(FULL) as reader:
        kinds = {key: reader.spec(key).kind.value for key in reader.keys}
        assert kinds["run_info"] == "object" and reader.spec("run_info").class_name == "RunInfo"
        assert kinds["reco_particles"] == "objects"
        assert kinds["index"] == "scalar"
        assert kinds["points"] == "array" and reader.spec("points").widths == (3,)
        assert kinds["clusts"] == "flat"


def test_file_without_entries(tmp_path):
    import h5py

    copy = tmp_path / "empty.h5"
    shutil.copy(FULL, copy)
    with h5py.File(copy, "a") as h5file:
        h5file["events"].resize((0,))
    with HDF5Reader(copy) as reader:
        assert len(reader) == 0 and list(reader) == []
        rows, offsets = reader.table("reco_particles")
        assert len(rows) == 0 and list(offsets) == [0]
        with pytest.raises(KeyError):
            reader.find(1, 0, 0)
    with HDF5Reader([copy, FULL]) as reader:
        assert len(reader) == 6 and reader.location(0) == (1, 0)


def test_reader_pickles_without_handles():
    import pickle

    with HDF5Reader(FULL, keys=["run_info"]) as reader:
        reader[0]
        clone = pickle.loads(pickle.dumps(reader))
    assert clone[5]["run_info"].event == 5
    clone.close()
