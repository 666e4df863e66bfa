"""``spineh5 inspect`` as a physicist reads it (issue 12 item 5), and the messages of files that cannot be opened.

Run, subrun and event in entry headers and as a way to pick an entry;
``--columns`` and one number format; object tables (``--full`` for blocks);
variable-length bytes per product in V1; one plain sentence for truncated and
damaged files; CLI messages in CLI words and Python messages in Python words.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import FULL, HEAD_V1, HEAD_V2

from spineh5 import HDF5Reader, HDF5Writer
from spineh5.cli import main
from spineh5.conversion import ConvertError, convert
from spineh5.describe import open_file, summarize
from spineh5.describe import vlen as vlen_module
from spineh5.describe.numbers import array_text, cell_text, number_text, value_text
from spineh5.describe.objects import TABLE_WIDTH
from spineh5.describe.product import storage_size
from spineh5.describe.vlen import heap_bytes
from spineh5.errors import FileOpenError, SpineFileError
from spineh5.open_problems import open_problem, stored_size
from spineh5.validation import validate

pytestmark = pytest.mark.filterwarnings("ignore::spineh5.errors.UnknownColumnsWarning")


def run(*args: str | Path):
    return CliRunner().invoke(main, [str(arg) for arg in args])


def assert_one_line(result, text: str, exit_code: int = 1) -> None:
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output
    assert text in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


@pytest.fixture
def no_run_info(tmp_path: Path) -> Path:
    path = tmp_path / "no_run_info.h5"
    with HDF5Writer(file_name=str(path), overwrite=True) as writer:
        writer({"index": [0, 1], "points": [np.zeros((3, 3), np.float32), np.ones((2, 3), np.float32)]})
    return path


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two entries of the benchmark's event mix (30 reco particles each), few voxels."""
    from spineh5.demo import make_batches

    path = tmp_path_factory.mktemp("production") / "demo.h5"
    with HDF5Writer(file_name=str(path), overwrite=True) as writer:
        for batch in make_batches(2, batch_size=2, seed=1, scale=0.02):
            writer(batch, {})
    return path


# -- run, subrun and event ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [FULL, HEAD_V2])
def test_entry_headers_show_run_subrun_event(path: Path) -> None:
    with h5py.File(path, "r") as h5file:
        rows = h5file["run_info"][()] if "run_info" in h5file else None
    with HDF5Reader(path) as reader:
        run_info = reader[3]["run_info"]
    expected = f"run {run_info.run}, subrun {run_info.subrun}, event {run_info.event}"
    assert rows is None or (int(rows[3]["event"]) == run_info.event)
    overview = run("inspect", path, "-e", "3").output.splitlines()
    assert overview[0] == f"entry 3 of 6  ({expected})"
    for key in ("points", "reco_particles", "clusts", "index"):
        header = run("inspect", path, "-e", "3", "-k", key).output.splitlines()[0]
        assert header.startswith(f"{key}  entry 3  (") and header.endswith(f"({expected})"), header


def test_entry_header_says_when_there_is_no_run_info(no_run_info: Path) -> None:
    out = run("inspect", no_run_info, "-e", "1").output
    assert out.splitlines()[0] == "entry 1 of 2  (run/subrun/event unknown (no run_info in the file))"
    assert (
        "(run/subrun/event unknown (no run_info in the file))"
        in run("inspect", no_run_info, "-e", "0", "-k", "points").output
    )


@pytest.mark.parametrize("path", [FULL, HEAD_V1, HEAD_V2])
def test_run_subrun_event_pick_the_entry(path: Path) -> None:
    with HDF5Reader(path, create_run_map=True) as reader:
        info = reader[4]["run_info"]
        assert reader.find(info.run, info.subrun, info.event) == 4
    triplet = ["--run", info.run, "--subrun", info.subrun, "--event", info.event]
    for extra in ([], ["-k", "reco_particles"], ["-k", "points"]):
        picked = run("inspect", path, *triplet, *extra)
        assert picked.exit_code == 0, picked.output
        assert picked.output == run("inspect", path, "-e", "4", *extra).output


def test_a_triplet_not_in_the_file_is_one_line_naming_it() -> None:
    result = run("inspect", FULL, "--run", "1", "--subrun", "0", "--event", "99")
    assert_one_line(result, "no entry holds run 1, subrun 0, event 99")


def test_picking_by_event_without_run_info_is_one_line(no_run_info: Path) -> None:
    result = run("inspect", no_run_info, "--run", "1", "--subrun", "0", "--event", "0")
    assert_one_line(result, "cannot look up run 1, subrun 0, event 0")
    assert "run_info" in result.output


def test_duplicate_triplets_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.h5"
    shutil.copyfile(FULL, path)
    path.chmod(0o644)
    with h5py.File(path, "r+") as h5file:
        rows = h5file["run_info"][()]
        rows[5] = rows[4]
        h5file["run_info"][...] = rows
    event = int(rows[4]["event"])
    result = run("inspect", path, "--run", "1", "--subrun", "1", "--event", str(event))
    assert_one_line(result, f"run 1, subrun 1, event {event} is held by entries 4, 5; pick one with --entry")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--run", "1", "--subrun", "0", "--event", "2", "--entry", "2"], "not both"),
        (["--run", "1", "--event", "2"], "give --run, --subrun and --event together"),
        (["--columns", "id"], "--columns and --full need --key and an entry"),
        (["-k", "reco_particles", "--full"], "--columns and --full need --key and an entry"),
    ],
)
def test_option_combinations_are_refused(args: list[str], message: str) -> None:
    result = run("inspect", FULL, *args)
    assert result.exit_code == 2
    assert message in result.output


# -- columns and numbers ------------------------------------------------------------------------------


def _table_header(out: str) -> list[str]:
    return out.splitlines()[1].split()


@pytest.mark.parametrize("path", [FULL, HEAD_V2])
def test_columns_limit_the_fields(path: Path) -> None:
    result = run("inspect", path, "-e", "2", "-k", "reco_particles", "--columns", "id,shape,length,start_point")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert _table_header(result.output) == ["#", "id", "shape", "length", "start_point"]
    assert lines[2].split() == ["cm", "cm"]  # the units row
    assert "is_truth" not in result.output and "index" not in result.output
    full = run("inspect", path, "-e", "2", "-k", "reco_particles", "-c", "id,length", "--full").output
    assert full.splitlines()[1] == "reco_particles[0]  RecoParticle"
    blocks = [line.split()[0] for line in full.splitlines()[1:]]
    assert blocks[:3] == ["reco_particles[0]", "id", "length"]
    assert set(blocks) - {"id", "length"} == {f"reco_particles[{i}]" for i in range(blocks.count("id"))}


def test_unknown_columns_are_one_line_listing_the_available_ones() -> None:
    result = run("inspect", FULL, "-e", "2", "-k", "reco_particles", "-c", "id,nope,energy")
    assert_one_line(result, "no column 'nope', 'energy' in 'reco_particles'; columns: is_truth, units, id,", 2)
    assert "module_ids" in result.output
    assert_one_line(run("inspect", FULL, "-e", "2", "-k", "points", "-c", "x"), "'points' holds no objects", 2)


def test_one_number_format_for_scalars_and_arrays() -> None:
    assert number_text(487.49999999999994) == "487.5"
    assert number_text(np.float32(-3.8047)) == "-3.8047"
    assert number_text(5.0) == "5.0" and number_text(np.float64(0)) == "0.0"
    assert number_text(1e-7) == "1e-07" and number_text(123456789.0) == "1.23457e+08"
    assert number_text(float("nan")) == "nan" and number_text(np.float32(-np.inf)) == "-inf"
    assert number_text(np.int64(12)) == "12" and number_text(np.bool_(True)) == "True"
    values = np.array([487.49999999999994, 5.0, np.nan], dtype=np.float64)
    assert array_text(values) == "float64 (3,) [487.5 5.0 nan]"
    assert array_text(values.astype(np.float32)) == "float32 (3,) [487.5 5.0 nan]"
    assert array_text(np.array([1, -2], dtype=np.int32)) == "int32 (2,) [1 -2]"
    assert value_text(np.float64(487.49999999999994)) == "487.5"
    assert cell_text(np.arange(46, dtype=np.int32)) == "[0 1 2 ...](46)"
    assert cell_text(np.array([0.5, 1.25], dtype=np.float32)) == "[0.5 1.25]"


@pytest.mark.parametrize("extra", [[], ["--full"]])
def test_entry_values_never_show_more_than_six_significant_digits(extra: list[str]) -> None:
    out = run("inspect", FULL, "-e", "2", "-k", "reco_particles", *extra).output
    numbers = re.findall(r"(?<![\w.])-?(\d+\.\d+)(?:e[+-]\d+)?", out)
    assert numbers
    digits = [len(number.replace(".", "").lstrip("0")) for number in numbers]
    assert max(digits) <= 6, [number for number, count in zip(numbers, digits) if count > 6]


def test_object_products_are_a_compact_table_by_default(production: Path) -> None:
    table = run("inspect", production, "-e", "1", "-k", "reco_particles")
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].startswith("reco_particles  entry 1  (objects)  30 RecoParticle")
    assert max(map(len, lines)) <= TABLE_WIDTH + 2
    panels = [i for i, line in enumerate(lines) if line.split()[:1] == ["#"]]
    assert len(panels) >= 2
    for start in panels:  # each panel: names, (units), one row per object
        rows = [line.split()[0] for line in lines[start + 1 :] if line.strip()][:31]
        assert [int(cell) for cell in rows if cell.isdigit()][:30] == list(range(30))
    assert len(lines) < 400  # 1,591 lines for 30 particles before
    assert "..." in table.output  # arrays summarized
    full = run("inspect", production, "-e", "1", "-k", "reco_particles", "--full").output
    assert full.count("RecoParticle\n") == 30 and "reco_particles[29]  RecoParticle" in full
    assert len(full.splitlines()) > len(lines)
    assert "..." not in full  # every value


# -- bytes on disk ----------------------------------------------------------------------------------------


def _products(path: Path) -> dict:
    with open_file(path) as h5file:
        return {product.key: product for product in summarize(h5file).products}


def test_v1_bytes_on_disk_include_variable_length_data() -> None:
    v1, v2 = _products(HEAD_V1), _products(HEAD_V2)
    with h5py.File(HEAD_V1, "r") as h5file:
        fixed = storage_size(h5file["reco_particles"])
    assert v1["reco_particles"].vlen_bytes > 0 and not v1["reco_particles"].vlen_estimated
    assert v1["reco_particles"].nbytes == fixed + v1["reco_particles"].vlen_bytes
    for key in ("reco_particles", "truth_particles", "reco_fragments", "crthits"):
        assert 0.6 < v1[key].nbytes / v2[key].nbytes < 1.6, key  # the same data costs about the same
    assert sum(product.nbytes for product in v1.values()) <= HEAD_V1.stat().st_size
    assert all(product.vlen_bytes == 0 for product in v2.values())
    out = run("inspect", HEAD_V1).output
    assert re.search(r"22 products, [\d.]+ kB on disk \([\d.]+ kB of it variable-length data\)", out)
    assert "of it variable-length data)" in run("inspect", HEAD_V1, "-k", "reco_particles").output


def _vlen_file(path: Path, rows: int, dtype: np.dtype, make) -> h5py.Dataset:
    h5file = h5py.File(path, "w")
    dataset = h5file.create_dataset("rows", (rows,), dtype=dtype)
    dataset[...] = make(rows)
    h5file.flush()
    return dataset


def test_heap_bytes_match_the_file_growth(tmp_path: Path) -> None:
    dtype = np.dtype([("a", np.int32), ("v", h5py.vlen_dtype(np.float32)), ("s", h5py.string_dtype())])
    rng = np.random.default_rng(0)

    def make(rows: int) -> np.ndarray:
        out = np.empty(rows, dtype=dtype)
        for row in range(rows):
            out[row] = (row, np.zeros(rng.integers(0, 40), np.float32), "cm" * int(rng.integers(0, 3)))
        return out

    dataset = _vlen_file(tmp_path / "vlen.h5", 5000, dtype, make)
    heap = heap_bytes(dataset)
    growth = os.path.getsize(tmp_path / "vlen.h5") - dataset.id.get_storage_size()
    dataset.file.close()
    assert not heap.estimated
    assert 0.9 * growth < heap.nbytes <= growth


def test_heap_bytes_of_large_datasets_are_sampled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dtype = np.dtype([("v", h5py.vlen_dtype(np.int64))])

    def make(rows: int) -> np.ndarray:
        out = np.empty(rows, dtype=dtype)
        out["v"] = [np.arange(row % 8) for row in range(rows)]
        return out

    dataset = _vlen_file(tmp_path / "large.h5", 3000, dtype, make)
    exact = heap_bytes(dataset)
    monkeypatch.setattr(vlen_module, "BLOCK_ROWS", 64)
    monkeypatch.setattr(vlen_module, "EXACT_ROWS", 512)
    sampled = heap_bytes(dataset)
    dataset.file.close()
    assert sampled.estimated and not exact.estimated
    assert abs(sampled.nbytes - exact.nbytes) < 0.05 * exact.nbytes


# -- truncated and damaged files -------------------------------------------------------------------------


def _cut(tmp_path: Path, size: int) -> Path:
    path = tmp_path / "cut.h5"
    path.write_bytes(FULL.read_bytes()[:size])
    return path


def test_the_superblock_records_the_file_size(tmp_path: Path) -> None:
    assert stored_size(FULL) == FULL.stat().st_size
    for userblock, libver in ((0, "earliest"), (512, "earliest"), (1024, "latest")):
        path = tmp_path / f"ub{userblock}.h5"
        with h5py.File(path, "w", userblock_size=userblock, libver=(libver, "latest")) as h5file:
            h5file["x"] = np.arange(100)
        assert stored_size(path) == path.stat().st_size
    (tmp_path / "text.h5").write_text("hello")
    assert stored_size(tmp_path / "text.h5") is None
    assert stored_size(_cut(tmp_path, 20)) is None  # the superblock itself is cut


def test_truncated_files_get_one_plain_sentence(tmp_path: Path) -> None:
    path = _cut(tmp_path, 50_000)
    expected = "truncated: 50.0 kB of 453.5 kB present"
    assert_one_line(run("inspect", path), f"{path}: {expected}")
    assert run("validate", path).output.strip() == f"{path}: {expected}"
    with pytest.raises(FileOpenError) as opened:
        open_file(path)
    assert str(opened.value) == expected
    with pytest.raises(SpineFileError) as read:
        HDF5Reader(path)
    assert str(read.value) == f"{path}: {expected}" and read.value.problem == expected
    for text in (str(opened.value), str(read.value), run("inspect", path).output):
        assert "eof" not in text and "sblock" not in text


def test_damaged_files_get_one_plain_sentence(tmp_path: Path) -> None:
    data = bytearray(FULL.read_bytes())
    data[96:1000] = b"\xff" * 904
    path = tmp_path / "damaged.h5"
    path.write_bytes(bytes(data))
    assert_one_line(run("inspect", path), "damaged HDF5 file: bad object header version number")
    (problem,) = validate(path)
    assert problem.message == "damaged HDF5 file: bad object header version number"
    with pytest.raises(SpineFileError, match=r"damaged HDF5 file: bad object header version number$"):
        HDF5Reader(path)
    try:
        h5py.File(path, "r")
    except OSError as err:
        assert open_problem(path, err) == "damaged HDF5 file: bad object header version number"
    with pytest.raises(SpineFileError, match="not an HDF5 file"):
        HDF5Reader(_cut(tmp_path, 0))


# -- CLI words and Python words ----------------------------------------------------------------------------


def test_convert_speaks_cli_on_the_command_line_and_python_in_python(tmp_path: Path) -> None:
    target = tmp_path / "out.h5"
    target.write_bytes(b"mine")
    result = run("convert", FULL, target)
    assert_one_line(result, f"{target} exists; pass --overwrite to replace it")
    assert "overwrite=True" not in result.output
    with pytest.raises(ConvertError) as err:
        convert(FULL, target, 2)
    assert str(err.value) == f"{target} exists; pass overwrite=True to replace it"
    assert "--" not in str(err.value)
    assert target.read_bytes() == b"mine"
