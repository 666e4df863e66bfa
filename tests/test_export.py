"""Export of one product to Parquet and CSV (spineh5.views.export and ``spineh5 export``)."""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from conftest import DATA, every_case_batch, write_every_case

from spineh5.cli import main
from spineh5.reader import HDF5Reader
from spineh5.views import ExportError, export

SPINE_FIXTURE = DATA / "spine_f31056c8.h5"


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Two files of the every-case mix, one per layout (5 + 4 entries)."""
    base = tmp_path_factory.mktemp("export")
    first = write_every_case(base / "prod_1.h5", [every_case_batch(0, 5)], format_version=1)
    second = write_every_case(base / "prod_2.h5", [every_case_batch(5, 4)], format_version=2)
    return [str(first), str(second)]


def _cli(*args: object) -> object:
    return CliRunner().invoke(main, ["export", *[str(arg) for arg in args]])


def _assert_csv_equal(path: Path, want: pd.DataFrame) -> None:
    got = pd.read_csv(path, index_col=["entry", "subentry"])
    assert list(got.columns) == list(want.columns)
    assert got.index.equals(want.index)
    for name in want.columns:
        expected, actual = want[name], got[name]
        if expected.dtype.kind in "fiub":
            np.testing.assert_allclose(
                actual.to_numpy(np.float64), expected.to_numpy(np.float64), rtol=1e-6, equal_nan=True, err_msg=name
            )
        else:  # strings: an empty string reads back as NaN
            assert (
                actual.astype(object).where(actual.notna(), "").astype(str).tolist() == expected.astype(str).tolist()
            ), name


@pytest.mark.parametrize("key", ["reco_particles", "run_info", "clusts", "points", "jag", "tag"])
def test_parquet_round_trip_production(production: list[str], tmp_path: Path, key: str) -> None:
    out = tmp_path / "out.parquet"
    assert export(production, key, out) == 9
    back = ak.from_parquet(out)
    reader = HDF5Reader(production)
    assert back.fields == ["entry", key]
    assert back.entry.tolist() == list(range(9))
    assert ak.array_equal(back[key], reader.arrays(key)[key], equal_nan=True)
    assert pq.ParquetFile(out).metadata.num_row_groups == 1


def test_parquet_chunks_are_row_groups(production: list[str], tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    assert export(production, "reco_particles", out, step_size=2, entries=(1, 8)) == 7
    assert pq.ParquetFile(out).metadata.num_row_groups == 4
    back = ak.from_parquet(out)
    assert back.entry.tolist() == list(range(1, 8))
    assert ak.array_equal(
        back.reco_particles, HDF5Reader(production).arrays("reco_particles", 1, 8).reco_particles, equal_nan=True
    )


def test_parquet_spine_fixture(tmp_path: Path) -> None:
    reader = HDF5Reader(SPINE_FIXTURE)
    for key in ["reco_particles", "truth_particles", "meta", "clusts"]:
        out = tmp_path / f"{key}.parquet"
        export(SPINE_FIXTURE, key, out)
        assert ak.array_equal(ak.from_parquet(out)[key], reader.arrays(key)[key], equal_nan=True), key


def test_parquet_keeps_enum_names(tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    export(SPINE_FIXTURE, "reco_particles", out, columns=["id", "pid"])
    back = ak.from_parquet(out)
    assert ak.fields(back.reco_particles) == ["id", "pid"]
    members = back.reco_particles.layout.content.content("pid").parameter("spineh5_enum_members")
    assert members["MUON"] == 2


@pytest.mark.parametrize("source", ["production", "spine"])
def test_csv_round_trip(production: list[str], tmp_path: Path, source: str) -> None:
    paths = production if source == "production" else [str(SPINE_FIXTURE)]
    keys = ["reco_particles", "truth_interactions", "crthits"] if source == "production" else ["reco_particles"]
    reader = HDF5Reader(paths)
    for key in keys:
        out = tmp_path / f"{key}.csv"
        export(paths, key, out, step_size=2)
        _assert_csv_equal(out, reader.arrays(key, library="pd"))
    header = (tmp_path / "reco_particles.csv").read_text().splitlines()[0].split(",")
    assert header[:2] == ["entry", "subentry"]
    if source == "spine":
        assert {"start_point_x", "start_point_y", "start_point_z", "pid_scores_5"} <= set(header)
        assert "index" not in header  # variable-length columns have no scalar_dict columns


def test_cli_entries_and_columns(production: list[str], tmp_path: Path) -> None:
    out = tmp_path / "sel.csv"
    result = _cli(*production, "--key", "reco_particles", "--to", out, "--columns", "id,match_ids", "--entries", "3:7")
    assert result.exit_code == 0, result.output
    assert "exported 4 entries" in result.output
    want = HDF5Reader(production).arrays("reco_particles", 3, 7, columns=["id"], library="pd")
    _assert_csv_equal(out, want)
    assert out.read_text().splitlines()[0] == "entry,subentry,id"
    parquet = tmp_path / "sel.parquet"
    result = _cli(*production, "-k", "reco_particles", "--to", parquet, "-c", "id,index", "-e", "6:", "-q")
    assert result.exit_code == 0, result.output
    back = ak.from_parquet(parquet)
    assert back.entry.tolist() == [6, 7, 8]
    assert ak.fields(back.reco_particles) == ["id", "index"]
    assert ak.array_equal(
        back.reco_particles,
        HDF5Reader(production).arrays("reco_particles", 6, None, ["id", "index"]).reco_particles,
        equal_nan=True,
    )


def test_empty_selection(production: list[str], tmp_path: Path) -> None:
    out = tmp_path / "none.csv"
    assert export(production, "reco_particles", out, entries="4:4") == 0
    assert out.read_text().splitlines()[0].startswith("entry,subentry,")
    parquet = tmp_path / "none.parquet"
    assert export(production, "reco_particles", parquet, entries="4:4") == 0
    assert len(ak.from_parquet(parquet)) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--key", "nope", "--to", "{out}.csv"], "no product 'nope'; products:"),
        (["--key", "clusts", "--to", "{out}.csv"], "CSV holds object products only"),
        (["--key", "reco_particles", "--to", "{out}.csv", "--columns", "id,foo"], "has no column foo"),
        (["--key", "reco_particles", "--to", "{out}.txt"], "unknown output format '.txt'"),
        (["--key", "reco_particles", "--to", "{out}.csv", "--entries", "3-4"], "is not a range"),
        (["--key", "reco_particles", "--to", "{existing}"], "exists; pass overwrite=True (--overwrite)"),
    ],
)
def test_cli_errors(production: list[str], tmp_path: Path, args: list[str], message: str) -> None:
    existing = tmp_path / "there.csv"
    existing.write_text("keep me")
    args = [arg.format(out=tmp_path / "out", existing=existing) for arg in args]
    result = _cli(*production, *args)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.output
    assert existing.read_text() == "keep me"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["there.csv"]


def test_overwrite(production: list[str], tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("old")
    result = _cli(*production, "--key", "crthits", "--to", out, "--overwrite")
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("entry,subentry,")
    with pytest.raises(ExportError, match="exists"):
        export(production, "crthits", out)


def test_missing_file(tmp_path: Path) -> None:
    result = _cli(tmp_path / "absent.h5", "--key", "reco_particles", "--to", tmp_path / "out.csv")
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and "absent.h5" in result.output
