"""``spineh5 upgrade`` and :func:`spineh5.conversion.upgrade`: a file rewritten into the current schema."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import assert_same_content
from test_file_schema import digest, write_demo
from test_user_schema import CANDIDATES, packages  # noqa: F401 - the fixture

from spineh5 import HDF5Reader, HDF5Writer
from spineh5.cli import main
from spineh5.conversion import upgrade
from spineh5.errors import LayoutMismatchError
from spineh5.format.common import detect_layout
from spineh5.types.registry import REGISTRY, unregister

#: MyCandidate of a later schema: one column added.
CANDIDATES_ADDED = CANDIDATES.replace("schema_version: 1", "schema_version: 2").replace(
    "      - {name: index,",
    "      - {name: quality, dtype: int32, default: 7, doc: Added later}\n      - {name: index,",
)


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("format_version", [1, 2])
def test_upgrade_fills_a_column_the_file_lacks(packages, tmp_path: Path, format_version: int) -> None:  # noqa: F811
    old = packages("cands", CANDIDATES)
    path = tmp_path / f"old_v{format_version}.h5"
    batch = {
        "index": [0, 1],
        "candidates": [[old.MyCandidate(id=0, score=0.5, index=np.arange(3))], [old.MyCandidate(id=1, muon_id=4)]],
    }
    with HDF5Writer(str(path), format_version=format_version) as writer:
        writer(batch, cfg={"analysis": "v1"})
    before = digest(path)
    unregister(*old.REGISTRY.values())
    new = packages("cands_added", CANDIDATES_ADDED)
    assert REGISTRY["MyCandidate"] is new.MyCandidate

    target = tmp_path / "upgraded.h5"
    seen: list[tuple[int, int]] = []
    result = upgrade(path, target, progress=lambda done, total: seen.append((done, total)))
    assert digest(path) == before  # the input is only read
    assert (result.source_version, result.format_version, result.entries) == (format_version, format_version, 2)
    assert seen[0] == (0, 2) and seen[-1] == (2, 2)
    assert "'candidates' (MyCandidate): columns filled with their defaults: quality" in result.notes
    with h5py.File(target, "r") as h5file:
        assert detect_layout(h5file).version == format_version  # the layout is kept
    reader = HDF5Reader(str(target))
    record = reader.file_schema("MyCandidate")
    assert record["schema_version"] == 2 and record["module"] == "cands_added.objects"
    assert [c["name"] for c in record["columns"]] == ["id", "score", "muon_id", "start_point", "quality", "index"]
    rows, _ = reader.table("candidates")
    assert rows["quality"].tolist() == [7, 7]
    assert reader[0]["candidates"] == [new.MyCandidate(id=0, score=0.5, index=np.arange(3))]
    assert reader[1]["candidates"] == [new.MyCandidate(id=1, muon_id=4)]
    assert reader.cfg == {"analysis": "v1"}
    reader.close()

    # the upgraded file takes appends of current data; the old one refuses them untouched
    later = {"index": [2], "candidates": [[new.MyCandidate(id=2, quality=1)]]}
    with HDF5Writer(str(target), append=True, format_version=format_version) as writer:
        writer(later)
    assert HDF5Reader(str(target))[2]["candidates"] == later["candidates"][0]
    refused = HDF5Writer(str(path), append=True, format_version=format_version)
    with pytest.raises(LayoutMismatchError, match="class MyCandidate: the file's schema differs .*: added quality"):
        refused(later)
    refused.close()
    assert digest(path) == before


@pytest.mark.parametrize("format_version", [1, 2])
def test_upgrading_a_current_file_keeps_its_content(tmp_path: Path, format_version: int) -> None:
    path = write_demo(tmp_path / "current.h5", format_version)
    result = upgrade(path, tmp_path / "upgraded.h5")
    assert result.format_version == format_version
    assert not any("filled with their defaults" in note for note in result.notes)
    assert_same_content(path, tmp_path / "upgraded.h5")
    assert HDF5Reader(str(tmp_path / "upgraded.h5")).file_schema() == HDF5Reader(str(path)).file_schema()


def test_the_upgrade_command(tmp_path: Path) -> None:
    path = write_demo(tmp_path / "current.h5", 1)
    done = run("upgrade", str(path), str(tmp_path / "v2.h5"), "--format-version", "2")
    assert done.exit_code == 0, done.output
    assert "upgraded 2 entries" in done.output and "(V2, current schema)" in done.output
    with h5py.File(tmp_path / "v2.h5", "r") as h5file:
        assert detect_layout(h5file).version == 2
    assert_same_content(path, tmp_path / "v2.h5")
    again = run("upgrade", str(path), str(tmp_path / "v2.h5"))
    assert again.exit_code == 1 and "exists; pass --overwrite" in again.output
    missing = run("upgrade", str(tmp_path / "nowhere.h5"), str(tmp_path / "out.h5"))
    assert missing.exit_code == 1 and "no such file" in missing.output
