"""User schemas: ``spineh5 generate`` renders a package that HDF5Writer and HDF5Reader know once imported."""

from __future__ import annotations

import importlib
import re
import shutil
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from spineh5 import HDF5Reader, HDF5Writer, validate
from spineh5.cli import main
from spineh5.codegen.library import LIBRARY_DIR, load_library, stale_library
from spineh5.codegen.model import resolve_columns
from spineh5.generated import ParticleShape, RunInfo
from spineh5.types.registry import REGISTRY, ClassNameClashError, unregister

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

CANDIDATES = """\
schema_version: 1
types:
  MyCandidate:
    doc: A muon candidate of my analysis
    fields:
      - {name: id, dtype: int64, default: -1}
      - {name: score, dtype: float32, default: .nan}
      - {name: muon_id, dtype: int64, default: -1}
      - {name: start_point, dtype: float32, storage: fixed, length: 3, default: .nan, units: cm}
      - {name: index, dtype: int64, storage: vlen}
"""

TRACKS = """\
schema_version: 3
enums:
  Quality:
    doc: How good a track is.
    members: {BAD: 0, GOOD: 1}
types:
  MyTrack:
    doc: A track built on spineh5's particle fields
    bases: [ParticleBase]
    fields:
      - {name: kind, dtype: ParticleShape, default: TRACK}
      - {name: quality, dtype: Quality, default: GOOD}
"""


@pytest.fixture
def packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Generate and import user packages under ``tmp_path``; forget them (modules and registry) afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    imported: list[str] = []

    def make(name: str, schema: str, file: str = "objects.yaml"):
        folder = tmp_path / f"{name}_schema"
        folder.mkdir()
        (folder / file).write_text(schema, encoding="utf-8")
        result = run("generate", str(folder), "--out", str(tmp_path / name))
        assert result.exit_code == 0, result.output
        imported.append(name)
        return importlib.import_module(name)

    yield make
    for name in imported:
        module = sys.modules.get(name)
        if module is not None:
            unregister(*module.REGISTRY.values())
        for key in [k for k in sys.modules if k == name or k.startswith(f"{name}.")]:
            del sys.modules[key]


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("format_version", [1, 2])
def test_a_generated_package_is_written_and_read_back(packages, tmp_path: Path, format_version: int) -> None:
    package = packages("cands", CANDIDATES)
    assert REGISTRY["MyCandidate"] is package.MyCandidate
    assert package.MyCandidate.__module__ == "cands.objects"
    batch = {
        "index": [0, 1, 2],
        "run_info": [RunInfo(run=1, subrun=0, event=e) for e in range(3)],
        "candidates": [
            [package.MyCandidate(id=0, score=0.75, muon_id=3, start_point=[1, 2, 3], index=np.arange(5))],
            [],
            [package.MyCandidate(id=0), package.MyCandidate(id=1, index=[7])],
        ],
        "best": [package.MyCandidate(id=e, score=e / 2) for e in range(3)],
    }
    path = tmp_path / f"cands_v{format_version}.h5"
    with HDF5Writer(str(path), overwrite=True, format_version=format_version) as writer:
        writer(batch)
    reader = HDF5Reader(str(path))
    for entry in range(3):
        data = reader[entry]
        assert data["candidates"] == batch["candidates"][entry]
        assert data["best"] == batch["best"][entry]
        assert all(type(obj) is package.MyCandidate for obj in data["candidates"])
    rows, _ = reader.table("candidates")
    assert rows.dtype.names == ("id", "score", "muon_id", "start_point", "index")
    assert validate(str(path)) == []


@pytest.mark.parametrize("format_version", [1, 2])
def test_a_generated_package_has_collections_written_as_its_objects(
    packages, tmp_path: Path, format_version: int
) -> None:
    package = packages("cands_coll", CANDIDATES)
    objects = [[package.MyCandidate(id=1, index=np.arange(3))], [], [package.MyCandidate(id=2, score=0.5)]]
    collections = [package.MyCandidateCollection.from_objects(entry) for entry in objects]
    assert package.MyCandidate.COLLECTION is package.MyCandidateCollection
    files = []
    for name, value in (("objects", objects), ("collections", collections)):
        path = tmp_path / f"{name}.h5"
        with HDF5Writer(str(path), overwrite=True, format_version=format_version) as writer:
            writer({"index": [0, 1, 2], "candidates": value})
        files.append(path.read_bytes())
    assert files[0] == files[1]
    read = HDF5Reader(str(tmp_path / "objects.h5"), build_classes="collection")
    assert [read[entry]["candidates"] for entry in range(3)] == collections


def test_an_empty_first_batch_takes_a_user_class_hint(packages, tmp_path: Path) -> None:
    package = packages("cands", CANDIDATES)
    path = tmp_path / "hinted.h5"
    with HDF5Writer(str(path), overwrite=True, types={"candidates": "MyCandidate"}) as writer:
        writer({"index": [0], "candidates": [[]]})
        writer({"index": [1], "candidates": [[package.MyCandidate(id=4)]]})
    assert HDF5Reader(str(path))[1]["candidates"] == [package.MyCandidate(id=4)]


def test_a_user_schema_builds_on_spineh5s_groups_and_enums(packages, tmp_path: Path) -> None:
    package = packages("tracks", TRACKS, "tracks.yaml")
    track = package.MyTrack
    base = resolve_columns(load_library().types, "ParticleBase")
    plain, derived = [f.name for f in base if not f.derived], [f.name for f in base if f.derived]
    assert derived  # derived columns come last, after the type's own
    assert [c.name for c in track.COLUMNS] == [*plain, "kind", "quality", *derived]
    assert track().kind is ParticleShape.TRACK
    assert track().quality is package.Quality.GOOD
    assert package.SCHEMA_VERSION == 3
    source = (tmp_path / "tracks" / "tracks.py").read_text(encoding="utf-8")
    assert re.search(r"^from spineh5\.generated\.enums import .*\bParticleShape\b", source, re.MULTILINE)
    assert source.startswith("# Generated by codegen from tracks_schema/tracks.yaml, spineh5/bases.yaml ")
    assert "from .enums import Quality" in source
    for version in (1, 2):
        path = tmp_path / f"tracks_v{version}.h5"
        objects = [[track(id=0, kind="shower", start_point=[1, 2, 3]), track(id=1)]]
        with HDF5Writer(str(path), overwrite=True, format_version=version) as writer:
            writer({"index": [0], "tracks": objects})
        assert HDF5Reader(str(path))[0]["tracks"] == objects[0]


def test_a_user_type_with_a_name_of_spineh5_is_refused(tmp_path: Path) -> None:
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "mine.yaml").write_text(CANDIDATES.replace("MyCandidate", "RecoParticle"), encoding="utf-8")
    result = run("generate", str(tmp_path / "schema"), "--out", str(tmp_path / "mine"))
    assert result.exit_code == 2
    assert result.output.strip() == (
        "schema error: mine.yaml: 'RecoParticle' already declared in output.yaml of spineh5's own schema "
        "(choose another name)"
    )
    assert not (tmp_path / "mine").exists()


def test_two_packages_with_the_same_class_are_refused(packages) -> None:
    first = packages("first_pkg", CANDIDATES)
    with pytest.raises(ClassNameClashError) as caught:
        packages("second_pkg", CANDIDATES)
    message = str(caught.value)
    assert "second_pkg.objects.MyCandidate" in message and "first_pkg.objects.MyCandidate" in message
    assert "'MyCandidate'" in message
    assert REGISTRY["MyCandidate"] is first.MyCandidate


def test_reimporting_a_package_replaces_its_classes(packages) -> None:
    package = packages("cands", CANDIDATES)
    del sys.modules["cands"], sys.modules["cands.objects"]
    again = importlib.import_module("cands")
    assert again.MyCandidate is not package.MyCandidate
    assert REGISTRY["MyCandidate"] is again.MyCandidate


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (CANDIDATES.replace("float32, default: .nan}", "float16, default: .nan}"), "MyCandidate.score: unknown dtype"),
        (CANDIDATES.replace("fields:", "fields: [oops"), "not valid YAML"),
        (CANDIDATES.replace("MyCandidate:", "MyCandidate:\n    bases: [NoSuchGroup]"), "unknown base 'NoSuchGroup'"),
        (CANDIDATES.replace("schema_version: 1\n", ""), "schema_version must be declared"),
    ],
)
def test_a_bad_schema_gives_one_line_and_exit_2(tmp_path: Path, schema: str, message: str) -> None:
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "bad.yaml").write_text(schema, encoding="utf-8")
    result = run("generate", str(tmp_path / "schema" / "bad.yaml"), "--out", str(tmp_path / "bad"))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("schema error: ") and message in lines[0], result.output
    assert not (tmp_path / "bad").exists()


def test_missing_schema_and_bad_package_names_exit_2(tmp_path: Path) -> None:
    result = run("generate", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and "no such schema file or folder" in result.output
    (tmp_path / "s.yaml").write_text(CANDIDATES, encoding="utf-8")
    result = run("generate", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "out"), "--package", "my-pkg")
    assert result.exit_code == 2 and "not a dotted Python identifier" in result.output


def test_check_and_the_version_ledger(tmp_path: Path) -> None:
    schema = tmp_path / "schema"
    schema.mkdir()
    (schema / "cands.yaml").write_text(CANDIDATES, encoding="utf-8")
    out = tmp_path / "cands"
    assert run("generate", str(schema), "--out", str(out), "--check").exit_code == 2  # version not recorded
    result = run("generate", str(schema), "--out", str(out))
    assert result.exit_code == 0 and "recorded schema_version 1" in result.output
    assert (schema / "versions.json").exists()
    assert run("generate", str(schema), "--out", str(out), "--check").exit_code == 0
    (out / "objects.py").write_text("# stale\n", encoding="utf-8")
    result = run("generate", str(schema), "--out", str(out), "--check")
    assert result.exit_code == 1 and "stale generated code" in result.output
    (schema / "cands.yaml").write_text(CANDIDATES.replace("score", "weight"), encoding="utf-8")
    result = run("generate", str(schema), "--out", str(out))
    assert result.exit_code == 2 and "bump schema_version to 2" in result.output


def test_the_shipped_schema_copy_is_checked(tmp_path: Path) -> None:
    assert stale_library(ROOT / "schema") == []
    shipped = sorted(p.name for p in LIBRARY_DIR.glob("*.yaml"))
    assert shipped == sorted(p.name for p in (ROOT / "schema").glob("*.yaml"))
    copy = tmp_path / "schema"
    shutil.copytree(ROOT / "schema", copy)
    (copy / "bases.yaml").write_text((copy / "bases.yaml").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    (copy / "extra.yaml").write_text("{}\n", encoding="utf-8")
    assert stale_library(copy) == ["bases.yaml", "extra.yaml"]


def _readme_blocks() -> tuple[str, str, str]:
    section = README.read_text(encoding="utf-8").split("## Your own types", 1)[1].split("\n## ", 1)[0]
    (yaml_block,) = re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)
    (shell_block,) = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    (python_block,) = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    return yaml_block, shell_block, python_block


def test_the_readme_cycle_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    yaml_block, shell_block, python_block = _readme_blocks()
    schema_file = re.search(r"# (\S+\.yaml)", yaml_block).group(1)
    (tmp_path / schema_file).parent.mkdir(parents=True)
    (tmp_path / schema_file).write_text(yaml_block, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    command = textwrap.dedent(shell_block).strip().split()
    assert command[:2] == ["spineh5", "generate"]
    result = run(*command[1:])
    assert result.exit_code == 0, result.output
    try:
        exec(compile(python_block, "README.md", "exec"), {})
        assert (tmp_path / "candidates_v1.h5").exists() and (tmp_path / "candidates_v2.h5").exists()
    finally:
        for key in [k for k in sys.modules if k == "myanalysis" or k.startswith("myanalysis.")]:
            module = sys.modules.pop(key)
            unregister(*getattr(module, "REGISTRY", {}).values())
