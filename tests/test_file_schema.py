"""The schema travels with the file: ``info/schema`` records, ``spineh5 schema --file``, ``generate --from-file``
and the refusal of an append of another schema."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import pytest
import yaml
from click.testing import CliRunner
from test_user_schema import CANDIDATES, TRACKS, packages  # noqa: F401 - the fixture

from spineh5 import HDF5Reader, HDF5Writer
from spineh5.cli import main
from spineh5.codegen.load import build_schema
from spineh5.codegen.model import resolve_columns
from spineh5.errors import LayoutMismatchError
from spineh5.format.common import INFO
from spineh5.format.schema import MAX_ATTRIBUTE_BYTES, SCHEMA, read_class_schemas, write_class_schemas
from spineh5.generated import SCHEMA_VERSION, RunInfo
from spineh5.synthetic import make_batches
from spineh5.types.registry import REGISTRY, unregister

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_demo(path: Path, format_version: int) -> Path:
    with HDF5Writer(str(path), format_version=format_version, overwrite=True) as writer:
        for batch in make_batches(2, batch_size=2, scale=0.02, seed=3):
            writer(batch, cfg={"base": {"seed": 3}})
    return path


@pytest.mark.parametrize("format_version", [1, 2])
def test_every_file_records_each_stored_class(tmp_path: Path, format_version: int) -> None:
    path = write_demo(tmp_path / "demo.h5", format_version)
    reader = HDF5Reader(str(path))
    classes = {reader.spec(key).class_name for key in reader.keys} - {None}
    records = reader.file_schema()
    assert set(records) == classes and "RecoParticle" in classes
    with h5py.File(path, "r") as h5file:
        attributes = h5file[INFO][SCHEMA].attrs
        assert set(attributes) == classes  # one attribute per class, each under HDF5's 64 KiB limit
        assert all(len(attributes[name].encode()) <= MAX_ATTRIBUTE_BYTES for name in attributes)
    for name in classes:
        cls, record = REGISTRY[name], reader.file_schema(name)
        assert record["class_name"] == name and record["schema_version"] == SCHEMA_VERSION
        assert record["module"] == cls.__module__
        assert [c["name"] for c in record["columns"]] == list(cls.DTYPE.names)
        # the stored YAML alone regenerates the same columns: dtype, storage, default, units, lite, derived, enum
        document = yaml.safe_load(record["yaml"])
        schema = build_schema([(Path(f"{name}.yaml"), document)])
        fields = resolve_columns(schema.types, name)
        got = [(f.name, f.base_dtype, f.storage, f.length, f.units, f.lite, f.derived, f.doc) for f in fields]
        want = [(c.name, c.dtype, c.storage, c.length, c.units, c.lite, c.derived, c.doc) for c in cls.COLUMNS]
        assert got == want, name
        defaults = [(f.name, repr(f.default)) for f in fields]
        empty = {c.name for c in cls.COLUMNS if c.storage == "vlen" and c.default is None}  # () in the schema
        assert defaults == [(c.name, repr(() if c.name in empty else c.default)) for c in cls.COLUMNS], name
        assert [f.enum.name if f.enum else None for f in fields] == [
            c.enum.__name__ if c.enum else None for c in cls.COLUMNS
        ]
    with pytest.raises(KeyError, match="records no schema for class 'Nope'"):
        reader.file_schema("Nope")


def test_spine_files_record_no_schema() -> None:
    assert HDF5Reader(str(ROOT / "tests" / "data" / "spine_head_v2.h5")).file_schema() == {}


def test_a_record_over_the_attribute_limit_is_stored_as_a_dataset(tmp_path: Path) -> None:
    big = {"class_name": "Big", "yaml": "x" * (2 * MAX_ATTRIBUTE_BYTES), "columns": []}
    small = {"class_name": "Small", "yaml": "y", "columns": []}
    with h5py.File(tmp_path / "f.h5", "w") as h5file:
        h5file.create_group(INFO)
        write_class_schemas(h5file, {"Big": big, "Small": small})
    with h5py.File(tmp_path / "f.h5", "r") as h5file:
        assert isinstance(h5file[INFO][SCHEMA]["Big"], h5py.Dataset) and "Small" in h5file[INFO][SCHEMA].attrs
        assert read_class_schemas(h5file) == {"Big": big, "Small": small}


def test_schema_file_prints_the_stored_schema(tmp_path: Path) -> None:
    path = write_demo(tmp_path / "demo.h5", 2)
    text = run("schema", "--file", str(path))
    assert text.exit_code == 0, text.output
    assert "the stored schema of" in text.output
    assert "RecoParticle" in text.output and "same columns as now" in text.output
    one = run("schema", "--file", str(path), "RunInfo")
    assert one.exit_code == 0 and "RunInfo in" in one.output
    assert [line.split()[1] for line in one.output.splitlines()[-3:]] == ["run", "subrun", "event"]
    as_yaml = run("schema", "--file", str(path), "--yaml", "RunInfo")
    assert yaml.safe_load(as_yaml.output)["types"]["RunInfo"]["fields"][0]["name"] == "run"
    as_json = run("schema", "--file", str(path), "--json")
    assert json.loads(as_json.output) == HDF5Reader(str(path)).file_schema()
    missing = run("schema", "--file", str(path), "Nope")
    assert missing.exit_code == 2 and "records no class 'Nope'" in missing.output
    spine = run("schema", "--file", str(ROOT / "tests" / "data" / "spine_head_v2.h5"))
    assert spine.exit_code == 0 and "records no schema" in spine.output
    assert run("schema", "--yaml").exit_code == 2


_READ_BACK = """
import json, sys
import rebuilt
from spineh5 import HDF5Reader
reader = HDF5Reader(sys.argv[1])
tracks = [obj for e in range(len(reader)) for obj in reader[e]["tracks"]]
assert all(type(obj) is rebuilt.MyTrack for obj in tracks), [type(obj) for obj in tracks]
print(json.dumps({"version": rebuilt.SCHEMA_VERSION, "columns": [c.name for c in rebuilt.MyTrack.COLUMNS],
                  "tracks": [repr(obj) for obj in tracks], "quality": rebuilt.Quality.__module__}))
"""


@pytest.mark.parametrize("format_version", [1, 2])
def test_generate_from_file_rebuilds_classes_that_read_the_file(packages, tmp_path: Path, format_version) -> None:  # noqa: F811
    package = packages("tracks", TRACKS, "tracks.yaml")
    path = tmp_path / f"tracks_v{format_version}.h5"
    tracks = [[package.MyTrack(id=0, kind="shower", start_point=[1, 2, 3], quality="BAD"), package.MyTrack(id=1)], []]
    with HDF5Writer(str(path), overwrite=True, format_version=format_version) as writer:
        writer({"index": [0, 1], "run_info": [RunInfo(run=1, event=e) for e in range(2)], "tracks": tracks})
    result = run("generate", "--from-file", str(path), "--out", str(tmp_path / "out" / "rebuilt"))
    assert result.exit_code == 0, result.output
    assert "generated package rebuilt (MyTrack)" in result.output and "RunInfo" in result.output  # RunInfo: spineh5's
    assert not (tmp_path / "out" / "rebuilt" / "larcv.py").exists()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(tmp_path / "out")])}
    done = subprocess.run(
        [sys.executable, "-c", _READ_BACK, str(path)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    back = json.loads(done.stdout)
    assert back["version"] == 3
    assert back["columns"] == [column.name for column in package.MyTrack.COLUMNS]
    assert back["tracks"] == [repr(obj) for obj in tracks[0]]
    assert back["quality"] == "rebuilt.enums"


def test_generate_from_file_refuses_files_without_user_classes(tmp_path: Path) -> None:
    demo = write_demo(tmp_path / "demo.h5", 1)
    result = run("generate", "--from-file", str(demo), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and "records only spineh5's own classes" in result.output
    spine = run("generate", "--from-file", str(ROOT / "tests" / "data" / "spine_head_v2.h5"), "--out", "x")
    assert spine.exit_code == 2 and "records no schema" in spine.output
    both = run("generate", str(tmp_path), "--from-file", str(demo), "--out", str(tmp_path / "out"))
    assert both.exit_code == 2 and "either SCHEMA_DIR_OR_FILES or --from-file" in both.output
    assert not (tmp_path / "out").exists()


#: MyCandidate of a later schema: ``muon_id`` removed, ``quality`` added, ``score`` widened.
CANDIDATES_LATER = (
    CANDIDATES.replace("schema_version: 1", "schema_version: 2")
    .replace("      - {name: muon_id, dtype: int64, default: -1}\n", "")
    .replace("{name: score, dtype: float32,", "{name: score, dtype: float64,")
    .replace("      - {name: index,", "      - {name: quality, dtype: int32, default: 0}\n      - {name: index,")
)


@pytest.mark.parametrize("format_version", [1, 2])
def test_an_append_of_another_schema_is_refused_untouched(packages, tmp_path: Path, format_version) -> None:  # noqa: F811
    first = packages("cands", CANDIDATES)
    path = tmp_path / f"cands_v{format_version}.h5"
    with HDF5Writer(str(path), format_version=format_version) as writer:
        writer({"index": [0], "candidates": [[first.MyCandidate(id=0, score=0.5)]]})
    unrecorded = tmp_path / f"unrecorded_v{format_version}.h5"  # as earlier writers wrote it: no info/schema
    shutil.copyfile(path, unrecorded)
    with h5py.File(unrecorded, "a") as h5file:
        del h5file[INFO][SCHEMA]
    before, before_unrecorded = digest(path), digest(unrecorded)
    unregister(*first.REGISTRY.values())
    later = packages("cands_later", CANDIDATES_LATER)
    assert REGISTRY["MyCandidate"] is later.MyCandidate
    writer = HDF5Writer(str(path), append=True, format_version=format_version)
    with pytest.raises(LayoutMismatchError) as caught:
        writer({"index": [1], "candidates": [[later.MyCandidate(id=1)]]})
    message = str(caught.value)
    assert message.startswith(f"cannot append to {path}: class MyCandidate: the file's schema differs"), message
    assert "added quality" in message and "removed muon_id" in message
    assert "dtype changed score (float32 -> float64)" in message
    writer.close()
    assert digest(path) == before
    # without a stored schema the layout's own check names the class and columns
    writer = HDF5Writer(str(unrecorded), append=True, format_version=format_version)
    with pytest.raises(LayoutMismatchError) as caught:
        writer({"index": [1], "candidates": [[later.MyCandidate(id=1)]]})
    message = str(caught.value)
    assert "'candidates': stored MyCandidate columns differ from the data's" in message, message
    assert all(name in message for name in ("quality", "muon_id", "score")), message
    writer.close()
    assert digest(unrecorded) == before_unrecorded


def test_the_readme_commands_run_as_written(packages, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## The schema travels with the file", 1)[1]
    (block,) = re.findall(r"```sh\n(.*?)```", section.split("\n## ", 1)[0], re.DOTALL)
    package = packages("cands", CANDIDATES)
    monkeypatch.chdir(tmp_path)
    with HDF5Writer("candidates_v2.h5", format_version=2) as writer:
        writer({"index": [0], "candidates": [[package.MyCandidate(id=0)]]})
    for line in block.strip().splitlines():
        command = line.split("#", 1)[0].split()
        assert command[0] == "spineh5"
        result = run(*command[1:])
        assert result.exit_code == 0, (line, result.output)
    assert "MyCandidate" in (tmp_path / "rebuilt" / "__init__.py").read_text(encoding="utf-8")
