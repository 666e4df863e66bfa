"""``spineh5.conversion``: V1 <-> V2 rewrites that read back identical, and the refusals."""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from conftest import FULL, HEAD_V2, LITE, assert_same_content, spine_plain, spine_v2_file, spine_v2_reader

from spineh5 import HDF5Reader, HDF5Writer
from spineh5.conversion import ConvertError, convert, detect_lite
from spineh5.generated import Flash, RecoParticle, RunInfo
from spineh5.synthetic import make_batches
from spineh5.validation import is_sound, validate

# -- helpers ----------------------------------------------------------------------------------------------


def format_version(path: Path) -> int:
    with h5py.File(path, "r") as h5file:
        return int(h5file["info"].attrs.get("format_version", 1))


def round_trip(source: Path, folder: Path, first: int, **options: Any) -> tuple[Path, Path]:
    """Convert ``source`` to layout ``first`` and back to the other one."""
    middle, back = folder / f"middle_v{first}.h5", folder / f"back_v{3 - first}.h5"
    convert(source, middle, first, **options)
    convert(middle, back, 3 - first, **options)
    assert format_version(middle) == first and format_version(back) == 3 - first
    return middle, back


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo-like V1 file: the benchmark event mix at 1 % of the voxels, stored index from 10."""
    path = tmp_path_factory.mktemp("synthetic") / "demo.h5"
    with HDF5Writer(file_name=str(path)) as writer:
        for batch in make_batches(3, batch_size=2, scale=0.01, start=10):
            writer(batch, {"demo": {"events": 3, "scale": 0.01}})
    return path


# -- round trips ----------------------------------------------------------------------------------------------


def test_synthetic_v1_v2_v1_reads_back_identical(synthetic: Path, tmp_path: Path) -> None:
    middle, back = round_trip(synthetic, tmp_path, 2, batch_size=2)
    assert_same_content(synthetic, middle)
    assert_same_content(synthetic, back)
    with HDF5Reader(str(back)) as reader:
        assert reader.cfg == {"demo": {"events": 3, "scale": 0.01}}
        assert [reader.raw(i, "index") for i in range(3)] == [10, 11, 12]
    assert validate(middle) == [] and validate(back) == []


@pytest.mark.parametrize("source", [FULL, LITE], ids=["full", "lite"])
def test_spine_file_v1_v2_v1_reads_back_identical(source: Path, tmp_path: Path) -> None:
    middle, back = round_trip(source, tmp_path, 2, batch_size=4)
    assert_same_content(source, middle)
    assert_same_content(source, back)
    lite = source == LITE
    with h5py.File(back, "r") as h5file:
        assert ("index" in h5file["reco_particles"].dtype.names) is not lite
    with h5py.File(middle, "r") as h5file:
        fields = h5file["products/reco_particles/variables/pool_1"].attrs["fields"]
        assert ("- index\n" in fields) is not lite
    assert validate(back) == []


def test_v2_v1_v2_reads_back_identical(synthetic: Path, tmp_path: Path) -> None:
    v2 = tmp_path / "v2.h5"
    convert(synthetic, v2, 2)
    _, back = round_trip(v2, tmp_path, 1, batch_size=3)
    assert_same_content(v2, back)


def test_spine_head_fixtures_convert_with_notes(tmp_path: Path) -> None:
    result = convert(HEAD_V2, tmp_path / "head_v1.h5", 1)
    assert result.source_version == 2 and result.format_version == 1 and result.entries == 6
    assert any("'reco_particles' (RecoParticle)" in note and "best_match_id" in note for note in result.notes)
    assert_same_content(HEAD_V2, tmp_path / "head_v1.h5")  # the later columns are left out of the objects anyway
    assert is_sound(validate(tmp_path / "head_v1.h5"), strict=True)


def test_every_kind_with_empty_first_batches(tmp_path: Path) -> None:
    """Entry 0 has every list empty: with batch_size=1 the first batch decides nothing from data."""
    source = tmp_path / "kinds.h5"
    entries = [
        {
            "flashes": [],
            "run_info": RunInfo(run=1, subrun=2, event=0),
            "pairs": [],
            "clusts": [],
            "points": np.empty((0, 3), np.float32),
            "jag": [np.empty((0, 2)), np.empty(0)],
            "name": "",
            "nhits": np.int32(0),
            "flag": True,
        },
        {
            "flashes": [Flash(id=3, time=math.nan, pe_per_ch=np.array([1.0, np.inf], np.float32))],
            "run_info": RunInfo(run=1, subrun=2, event=1),
            "pairs": [np.array([[1, 2], [3, 4]], np.int32), np.empty((0, 2), np.int32)],
            "clusts": [np.arange(3), np.arange(0)],
            "points": np.array([[1.0, math.nan, 3.0]], np.float32),
            "jag": [np.ones((1, 2)), np.arange(2.0)],
            "name": "bé",
            "nhits": np.int32(7),
            "flag": False,
        },
    ]
    data: dict[str, Any] = {key: [entry[key] for entry in entries] for key in entries[0]}
    data.update(index=[0, 1], loss=0.25)
    with HDF5Writer(str(source), types={"flashes": "Flash", "clusts": np.int64}) as writer:
        writer(data, {"kinds": True})
    for first in (2, 1):
        start = source if first == 2 else tmp_path / "kinds_v2.h5"
        if first == 1:
            convert(source, start, 2)
        folder = tmp_path / f"from_v{3 - first}"
        folder.mkdir()
        middle, back = round_trip(start, folder, first, batch_size=1)
        assert_same_content(source, middle)
        assert_same_content(source, back)
    with HDF5Reader(str(back)) as reader:
        assert reader.spec("pairs").widths == (2,) and reader.spec("flashes").class_name == "Flash"
        assert reader[0]["loss"] == 0.25 and reader[1]["loss"] == 0.25  # a global scalar, now per entry


def test_detect_lite() -> None:
    with HDF5Reader(str(LITE)) as lite, HDF5Reader(str(FULL)) as full:
        assert detect_lite({key: lite.spec(key) for key in lite.keys})
        assert not detect_lite({key: full.spec(key) for key in full.keys})
        mixed = {"a": lite.spec("reco_particles"), "b": full.spec("truth_particles")}
        assert not detect_lite(mixed), "a mix is written full: lite would lose data"
        assert not detect_lite({"run_info": full.spec("run_info")})


def test_progress_is_reported(synthetic: Path, tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    result = convert(
        synthetic, tmp_path / "out.h5", 2, batch_size=2, progress=lambda done, total: calls.append((done, total))
    )
    assert calls == [(0, 3), (2, 3), (3, 3)]
    assert result.entries == 3 and result.source_version == 1 and not result.lite


# -- refusals ---------------------------------------------------------------------------------------------------


def leftovers(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.endswith(".converting"))


def test_existing_target_needs_overwrite(synthetic: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.h5"
    target.write_bytes(b"keep me")
    with pytest.raises(ConvertError, match="exists; pass overwrite=True to replace it"):
        convert(synthetic, target, 2)
    assert target.read_bytes() == b"keep me"
    convert(synthetic, target, 2, overwrite=True)
    assert format_version(target) == 2 and leftovers(tmp_path) == []


def test_target_is_the_source(synthetic: Path, tmp_path: Path) -> None:
    source = tmp_path / "same.h5"
    shutil.copyfile(synthetic, source)
    before = source.read_bytes()
    with pytest.raises(ConvertError, match="is the input file"):
        convert(source, source, 2, overwrite=True)
    assert source.read_bytes() == before


def not_hdf5(path: Path) -> None:
    path.write_text("hello\n")


def no_events(path: Path) -> None:
    with h5py.File(path, "w") as h5file:
        h5file.create_group("info").attrs["cfg"] = "{}\n"


def incomplete(path: Path) -> None:
    shutil.copyfile(FULL, path)
    path.chmod(0o644)
    with h5py.File(path, "r+") as h5file:
        h5file["info"].attrs["complete"] = np.bool_(False)


def no_entries(path: Path) -> None:
    shutil.copyfile(FULL, path)
    path.chmod(0o644)
    with h5py.File(path, "r+") as h5file:
        h5file["events"].resize((0,))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (not_hdf5, "is not a readable SPINE file: not an HDF5 file"),
        (no_events, "is not a readable SPINE file"),
        (incomplete, "is marked incomplete"),
        (no_entries, "has no entries"),
        (None, "no such file"),
    ],
    ids=["not-hdf5", "no-events", "incomplete", "no-entries", "missing"],
)
def test_bad_sources_are_refused(tmp_path: Path, make: Any, message: str) -> None:
    source = tmp_path / "in.h5"
    if make is not None:
        make(source)
    with pytest.raises(ConvertError, match=message) as info:
        convert(source, tmp_path / "out.h5", 2)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "out.h5").exists() and leftovers(tmp_path) == []


def test_failed_write_leaves_nothing(synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.h5"
    target.write_bytes(b"old")
    original = HDF5Writer.__call__
    calls = []

    def fail_second_batch(self: Any, data: dict, cfg: Any = None) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        original(self, data, cfg)

    monkeypatch.setattr(HDF5Writer, "__call__", fail_second_batch)
    with pytest.raises(ConvertError, match="disk full"):
        convert(synthetic, target, 2, batch_size=2, overwrite=True)
    assert target.read_bytes() == b"old" and leftovers(tmp_path) == []


@pytest.mark.parametrize("bad", [3, "2", 2.0, True, 0])
def test_format_version_must_be_1_or_2(synthetic: Path, tmp_path: Path, bad: Any) -> None:
    with pytest.raises(ValueError, match="format_version must be 1 or 2"):
        convert(synthetic, tmp_path / "out.h5", bad)


def test_unknown_class_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "unknown.h5"
    shutil.copyfile(FULL, source)
    source.chmod(0o644)
    with h5py.File(source, "r+") as h5file:
        h5file["flashes"].attrs["class_name"] = "FlashHypothesis"
    with pytest.raises(ConvertError, match="FlashHypothesis objects, a class the schema does not know"):
        convert(source, tmp_path / "out.h5", 2)
    assert leftovers(tmp_path) == []


def test_objects_of_the_round_trip_equal_the_written_ones(tmp_path: Path) -> None:
    source = tmp_path / "objects.h5"
    particles = [[RecoParticle(id=i, index=np.arange(i, dtype=np.int32), calo_ke=math.nan)] for i in range(3)]
    with HDF5Writer(str(source), format_version=2) as writer:
        writer({"index": [0, 1, 2], "reco_particles": particles})
    convert(source, tmp_path / "v1.h5", 1)
    with HDF5Reader(str(tmp_path / "v1.h5")) as reader:
        assert [reader[i]["reco_particles"] for i in range(3)] == particles


# -- SPINE's own V2 reader and writer (only where SPINE >= 1.4 is installed: `nox -s spine_v2`) ----------------


def test_spine_v2_reads_converted_files_like_the_originals(tmp_path: Path) -> None:
    """SPINE's later reader gives the same values for the originals and for their V1 -> V2 -> V1 conversions."""
    spine_reader = spine_v2_reader()
    written = spine_v2_file(tmp_path / "spine_v2.h5")
    runtime = {"index", "file_index", "file_entry_index", "source_file_name", "source_file_size"}
    for source, first in ((FULL, 2), (written, 1)):
        folder = tmp_path / source.stem
        folder.mkdir()
        middle, back = round_trip(source, folder, first)
        reference = spine_reader(file_keys=str(source), skip_unknown_attrs=True)
        for path in (middle, back):
            other = spine_reader(file_keys=str(path), skip_unknown_attrs=True)
            assert len(other) == len(reference)
            for i in range(len(reference)):
                left, right = reference[i], other[i]
                for key in set(left) - runtime - {"source_file_mtime_ns"}:
                    assert spine_plain(left[key]) == spine_plain(right[key]), (path.name, i, key)
