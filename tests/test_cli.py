"""The ``spineh5`` command line: every command, its output and its failure exits."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import pytest
from click.testing import CliRunner
from conftest import FULL, HEAD_V1, HEAD_V2, LITE

from spineh5 import __version__
from spineh5.cli import main
from spineh5.generated import TruthParticle
from spineh5.validation import RULES

SCRIPT = Path(sys.executable).parent / "spineh5"


def run(*args: str | Path):
    return CliRunner().invoke(main, [str(arg) for arg in args])


def broken_copy(tmp_path: Path) -> Path:
    path = tmp_path / "broken.h5"
    shutil.copyfile(FULL, path)
    with h5py.File(path, "r+") as h5file:
        del h5file["info"].attrs["cfg"]
        h5file["info"].attrs["complete"] = False
    return path


def not_hdf5(tmp_path: Path) -> Path:
    path = tmp_path / "notes.h5"
    path.write_text("hello\n")
    return path


def truncated(tmp_path: Path) -> Path:
    path = tmp_path / "truncated.h5"
    path.write_bytes(FULL.read_bytes()[:5000])
    return path


def assert_one_line_failure(result, text: str) -> None:
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert text in result.output
    assert len(result.output.strip().splitlines()) == 1


# -- top level -------------------------------------------------------------------------------------


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.exit_code == 0
    for command in ("demo", "inspect", "validate", "convert", "schema"):
        assert command in result.output


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert __version__ in result.output


def test_unknown_command_is_a_usage_error() -> None:
    assert run("frobnicate").exit_code == 2


# -- schema ----------------------------------------------------------------------------------------


def test_schema_lists_the_types() -> None:
    result = run("schema")
    assert result.exit_code == 0
    assert "14 object types" in result.output
    line = next(line for line in result.output.splitlines() if line.startswith("TruthParticle "))
    derived = sum(column.derived for column in TruthParticle.COLUMNS)
    assert line.split()[1:4] == ["94", "90", str(derived)]


def test_schema_of_one_type() -> None:
    result = run("schema", "RecoParticle")
    assert result.exit_code == 0
    out = result.output
    assert "52 columns (50 in lite files" in out
    start_point = next(line for line in out.splitlines() if " start_point " in line)
    assert "float32[3]" in start_point and "fixed" in start_point and "instance" in start_point
    index = next(line for line in out.splitlines() if " index " in line)
    assert "vlen<int32>" in index and " no " in index
    assert "ParticleShape: UNKNOWN=-1, SHOWER=0" in out
    assert "Voxel indexes of the object" in out


def test_schema_class_is_case_insensitive() -> None:
    assert run("schema", "runinfo").output == run("schema", "RunInfo").output


def test_schema_unknown_class() -> None:
    result = run("schema", "RecoParticel")
    assert result.exit_code == 2
    assert "Did you mean RecoParticle" in result.output


# -- inspect ---------------------------------------------------------------------------------------


def test_inspect_summary_of_a_spine_file() -> None:
    result = run("inspect", FULL)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "entries       6" in out
    assert "complete      yes" in out
    assert "writer        SPINE 0.14.1" in out
    assert "cfg           1 section: base (seed)" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line and not line.startswith(" ")}
    assert rows["reco_particles"][1:5] == ["objects", "RecoParticle", "52", "12"]
    assert rows["run_info"][1:3] == ["object", "RunInfo"]
    assert rows["clusts"][1:3] == ["flat", "list"]
    assert rows["index"][1] == "scalar"
    assert rows["points"][1] == "array"
    assert "none" in rows["points"]  # compression


def test_inspect_lite_file_has_fewer_columns() -> None:
    line = next(line for line in run("inspect", LITE).output.splitlines() if line.startswith("reco_particles"))
    assert line.split()[3] == "50"


def test_inspect_v2_summary() -> None:
    result = run("inspect", HEAD_V2)
    assert result.exit_code == 0
    assert "SPINE V2" in result.output
    assert "reco_particles" in result.output


def test_inspect_one_product() -> None:
    result = run("inspect", FULL, "--key", "reco_particles")
    assert result.exit_code == 0
    out = result.output
    assert "kind          objects" in out
    assert "per entry     rows: min 0" in out
    assert any(line.split()[:3] == ["shape", "enum<int64>", "ParticleShape"] for line in out.splitlines())


def test_inspect_one_entry() -> None:
    result = run("inspect", FULL, "--entry", "3")
    assert result.exit_code == 0
    out = result.output
    assert out.startswith("entry 3 of 6")
    assert any(line.split() == ["index", "scalar", "3"] for line in out.splitlines())
    assert any(line.split()[:3] == ["reco_particles", "objects", "0"] for line in out.splitlines())


def test_inspect_one_product_of_one_entry() -> None:
    # issue 12: objects are a table by default, the blocks of one object per column moved to --full
    result = run("inspect", FULL, "--entry", "0", "--key", "reco_particles", "--full")
    assert result.exit_code == 0
    out = result.output
    assert "reco_particles[0]  RecoParticle" in out
    assert any(line.split()[:2] == ["units", "'cm'"] for line in out.splitlines())
    assert "TRACK (1)" in out or "SHOWER (0)" in out or "UNKNOWN (-1)" in out
    table = run("inspect", FULL, "--entry", "0", "--key", "reco_particles").output.splitlines()
    assert table[1].split()[:4] == ["#", "is_truth", "units", "id"]
    assert any(line.split()[:3] == ["0", "True", "cm"] or line.split()[:3] == ["0", "False", "cm"] for line in table)
    assert any(name in line.split() for name in ("TRACK", "SHOWER", "UNKNOWN") for line in table)


@pytest.mark.parametrize(("key", "text"), [("clusts", "arrays"), ("points", "float32 (200, 3)"), ("index", "5")])
def test_inspect_entry_content_of_each_kind(key: str, text: str) -> None:
    result = run("inspect", FULL, "-e", "-1", "-k", key)
    assert result.exit_code == 0
    assert text in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--entry", "6"], "out of range"),
        (["--key", "nope"], "no product 'nope'"),
        (["--key", "info"], "no product 'info'"),
    ],
)
def test_inspect_bad_options(args: list[str], message: str) -> None:
    result = run("inspect", FULL, *args)
    assert result.exit_code == 2
    assert message in result.output


def test_inspect_v2_summary_matches_v1() -> None:
    """The same data in both layouts gives the same kinds, classes, columns and rows per product."""

    def table(path: Path) -> dict[str, list[str]]:
        out = run("inspect", path).output.splitlines()
        start = next(i for i, line in enumerate(out) if line.startswith("product "))
        return {line.split()[0]: line.split() for line in out[start + 1 :] if line and " products, " not in line}

    v1, v2 = table(HEAD_V1), table(HEAD_V2)
    assert v1.keys() == v2.keys()
    for key in v1:
        kind = 2 if v1[key][1] not in ("flat", "jagged") else 3
        assert v1[key][: kind + 4] == v2[key][: kind + 4], key  # key, kind, class, columns, rows, per entry


def test_inspect_v2_product() -> None:
    result = run("inspect", HEAD_V2, "--key", "reco_particles")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "kind          objects (V2 kind=objects)" in out
    assert "per entry     rows: min 0" in out
    assert any(
        line.split()[:3] == ["pool_1", "array", "int32,"] and "index, orig_index" in line for line in out.splitlines()
    )
    assert any(line.split()[:2] == ["event_offsets", "int64"] for line in out.splitlines())
    assert any(line.split()[:3] == ["shape", "enum<int64>", "ParticleShape"] for line in out.splitlines())
    assert any(line.split()[:3] == ["index", "vlen<int32>", "vlen<int32>"] for line in out.splitlines())


def test_inspect_v2_entries_read_like_v1() -> None:
    for args in (
        ["-e", "0"],
        ["-e", "0", "-k", "crthits"],
        ["-e", "-1", "-k", "clusts"],
        ["-e", "2", "-k", "run_info"],
    ):
        v1, v2 = run("inspect", HEAD_V1, *args), run("inspect", HEAD_V2, *args)
        assert v2.exit_code == 0, v2.output
        assert v2.output == v1.output, args


def test_inspect_v2_of_every_kind(tmp_path: Path) -> None:
    from conftest import every_case_batch as make_batch
    from conftest import write_every_case as write

    path = write(tmp_path / "kinds.h5", [make_batch(0, 3)])
    out = run("inspect", path).output
    kinds = {line.split()[0]: line.split()[1] for line in out.splitlines() if line and line[0].isalpha()}
    assert kinds["name"] == "scalar" and kinds["jag"] == "jagged" and kinds["clusts"] == "flat"
    assert kinds["run_info"] == "object" and kinds["reco_particles"] == "objects" and kinds["points"] == "array"
    overview = run("inspect", path, "-e", "1").output
    assert any(line.split() == ["name", "scalar", "'bé'"] for line in overview.splitlines())
    assert any(line.split()[:4] == ["jag", "jagged", "list", "2"] for line in overview.splitlines())
    assert (
        "reco_particles  entry 1  (objects)  0 RecoParticle"
        in run("inspect", path, "-e", "1", "-k", "reco_particles").output
    )
    assert "rows of element_0" in run("inspect", path, "-k", "jag").output


def test_inspect_v2_damaged_offsets_fail_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "damaged.h5"
    shutil.copyfile(HEAD_V2, path)
    path.chmod(0o644)
    with h5py.File(path, "r+") as h5file:
        offsets = h5file["products/points/event_offsets"]
        offsets[2] = 10_000
    result = run("inspect", path, "-e", "1", "-k", "points")
    assert_one_line_failure(result, "spineh5 validate")


@pytest.mark.parametrize(("make", "text"), [(not_hdf5, "not an HDF5 file"), (truncated, "truncated")])
def test_inspect_unreadable_file(tmp_path: Path, make, text: str) -> None:
    assert_one_line_failure(run("inspect", make(tmp_path)), text)


def test_inspect_missing_file(tmp_path: Path) -> None:
    assert_one_line_failure(run("inspect", tmp_path / "nothing.h5"), "no such file")


# -- validate -----------------------------------------------------------------------------------------


def test_validate_sound_files() -> None:
    result = run("validate", FULL, LITE)
    assert result.exit_code == 0, result.output
    assert f"{FULL}: sound" in result.output
    assert "2 of 2 files sound" in result.output


def test_validate_later_release_warns_and_strict_fails() -> None:
    result = run("validate", HEAD_V1)
    assert result.exit_code == 0
    assert "sound: 7 warnings" in result.output
    assert "first_step_t" in result.output
    assert run("validate", "--strict", HEAD_V1).exit_code == 1


def test_validate_lists_every_problem(tmp_path: Path) -> None:
    result = run("validate", broken_copy(tmp_path))
    assert result.exit_code == 1
    assert "NOT SOUND: 2 errors" in result.output
    assert "[info.cfg.missing]" in result.output
    assert "[info.incomplete]" in result.output
    assert "Traceback" not in result.output


def test_validate_v2_files() -> None:
    result = run("validate", HEAD_V2)
    assert result.exit_code == 0, result.output
    assert "sound: 7 warnings" in result.output and "[column.later]" in result.output
    assert run("validate", "--strict", HEAD_V2).exit_code == 1


def test_validate_v2_damaged_offsets(tmp_path: Path) -> None:
    path = tmp_path / "damaged.h5"
    shutil.copyfile(HEAD_V2, path)
    path.chmod(0o644)
    with h5py.File(path, "r+") as h5file:
        h5file["products/points/event_offsets"].resize((5,))
    result = run("validate", path)
    assert result.exit_code == 1
    assert "NOT SOUND" in result.output and "[v2.events.count]" in result.output and "/products/points" in result.output


@pytest.mark.parametrize(("make", "text"), [(not_hdf5, "not an HDF5 file"), (truncated, "truncated")])
def test_validate_unreadable_file(tmp_path: Path, make, text: str) -> None:
    assert_one_line_failure(run("validate", make(tmp_path)), text)


def test_validate_mixed_files(tmp_path: Path) -> None:
    result = run("validate", FULL, not_hdf5(tmp_path), broken_copy(tmp_path))
    assert result.exit_code == 1
    assert "1 of 3 files sound" in result.output


def test_validate_quiet_prints_only_failures(tmp_path: Path) -> None:
    assert run("validate", "-q", FULL, LITE).output == ""
    result = run("validate", "-q", FULL, broken_copy(tmp_path))
    assert result.exit_code == 1
    assert str(FULL) not in result.output and "broken.h5" in result.output


def test_validate_needs_a_path() -> None:
    result = run("validate")
    assert result.exit_code == 2
    assert "--rules" in result.output


def test_validate_lists_its_rules() -> None:
    result = run("validate", "--rules")
    assert result.exit_code == 0
    assert len(result.output.strip().splitlines()) == len(RULES)
    assert any(line.split()[0] == "ref.outside" for line in result.output.splitlines())


# -- demo -----------------------------------------------------------------------------------------------


def test_demo_writes_and_describes(tmp_path: Path) -> None:
    pytest.importorskip("spineh5.writer")
    path = tmp_path / "demo.h5"
    result = run("demo", path, "--events", "3", "--scale", "0.01", "--batch-size", "2")
    assert result.exit_code == 0, result.output
    assert f"wrote 3 entries to {path}" in result.output
    assert "entries       3" in result.output
    assert "complete      yes" in result.output
    assert "3/3" in result.stderr  # the progress bar
    for key in ("reco_particles", "truth_interactions", "clusts", "neutrinos", "crthits", "flashes"):
        assert key in result.output
    assert run("validate", path).exit_code == 0
    with h5py.File(path) as h5file:
        assert h5file["reco_particles"].shape == (90,)
        assert h5file["points"].shape == (600, 3)


def test_demo_default_path_and_lite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("spineh5.writer")
    monkeypatch.chdir(tmp_path)
    result = run("demo", "--events", "1", "--scale", "0.01", "--lite")
    assert result.exit_code == 0, result.output
    with h5py.File(tmp_path / "spineh5_demo.h5") as h5file:
        assert "index" not in h5file["reco_particles"].dtype.names
    again = run("demo", "--events", "1", "--scale", "0.01")
    assert again.exit_code == 0  # a file an earlier demo wrote is replaced


def test_demo_refuses_to_overwrite_a_foreign_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.h5"
    shutil.copyfile(FULL, path)
    result = run("demo", path, "--events", "1", "--scale", "0.01")
    assert result.exit_code == 1
    assert "--force" in result.output
    assert path.read_bytes() == FULL.read_bytes()


def test_demo_rejects_bad_counts() -> None:
    assert run("demo", "--events", "0").exit_code == 2


def test_demo_file_loads_in_spine(tmp_path: Path) -> None:
    pytest.importorskip("spineh5.writer")
    spine_read = pytest.importorskip("spine.io.read")
    path = tmp_path / "demo.h5"
    assert run("demo", path, "--events", "2", "--scale", "0.01").exit_code == 0
    reader = spine_read.HDF5Reader(file_keys=str(path), create_run_map=True)
    data = reader[1]
    assert len(data["reco_particles"]) == 30 and len(data["truth_particles"]) == 40
    assert data["run_info"].event == 1


# -- the installed console script --------------------------------------------------------------------------


@pytest.mark.skipif(not SCRIPT.exists(), reason="spineh5 console script not installed (pip install -e .)")
def test_console_script(tmp_path: Path) -> None:
    result = subprocess.run([str(SCRIPT), "schema"], capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0
    assert "RecoParticle" in result.stdout
    result = subprocess.run(
        [str(SCRIPT), "validate", str(not_hdf5(tmp_path))], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "not an HDF5 file" in result.stdout


# -- convert ---------------------------------------------------------------------------------------------


def test_convert_round_trip(tmp_path: Path) -> None:
    v2, back = tmp_path / "v2.h5", tmp_path / "back.h5"
    result = run("convert", FULL, v2)
    assert result.exit_code == 0, result.output
    assert f"converted 6 entries of {FULL} (V1) to {v2} (V2)" in result.stdout
    assert "6/6" in result.stderr  # the progress bar
    result = run("convert", v2, back, "--format-version", "1", "--batch-size", "4")
    assert result.exit_code == 0, result.output
    assert "(V2) to" in result.stdout and "(V1) in" in result.stdout
    assert run("validate", v2, back).exit_code == 0
    with h5py.File(back, "r") as h5file:
        assert h5file["reco_particles"].shape == (12,)
    assert (
        run("inspect", back, "-e", "3").output.splitlines()[1:]
        == run("inspect", FULL, "-e", "3").output.splitlines()[1:]
    )


def test_convert_lite_and_notes(tmp_path: Path) -> None:
    result = run("convert", LITE, tmp_path / "lite_v2.h5")
    assert result.exit_code == 0 and "(V2, lite)" in result.stdout
    result = run("convert", HEAD_V2, tmp_path / "head_v1.h5")
    assert result.exit_code == 0, result.output
    assert "(V2) to" in result.stdout
    assert "note: 'truth_particles' (TruthParticle): columns unknown to the schema are not converted" in result.stdout


def test_convert_refuses_an_existing_output(tmp_path: Path) -> None:
    target = tmp_path / "out.h5"
    target.write_bytes(b"mine")
    result = run("convert", FULL, target)
    assert_one_line_failure(result, "exists; pass --overwrite")
    assert target.read_bytes() == b"mine"
    assert run("convert", FULL, target, "--overwrite").exit_code == 0
    with h5py.File(target, "r") as h5file:
        assert int(h5file["info"].attrs["format_version"]) == 2


@pytest.mark.parametrize(
    ("make", "text"),
    [(not_hdf5, "not an HDF5 file"), (truncated, "truncated"), (broken_copy, "is marked incomplete")],
)
def test_convert_refuses_bad_input(tmp_path: Path, make, text: str) -> None:
    source = make(tmp_path)
    for extra in ([], ["-F", "2"]):
        result = run("convert", source, tmp_path / "out.h5", *extra)
        assert_one_line_failure(result, text)
        assert not (tmp_path / "out.h5").exists()


def test_convert_refuses_a_missing_input_and_a_bad_version(tmp_path: Path) -> None:
    assert_one_line_failure(run("convert", tmp_path / "nothing.h5", tmp_path / "out.h5"), "no such file")
    assert run("convert", FULL, tmp_path / "out.h5", "--format-version", "3").exit_code == 2
