"""A production as dask-awkward arrays and dask DataFrames (spineh5.dask)."""

from __future__ import annotations

import pickle
from pathlib import Path

import awkward as ak
import dask
import numpy as np
import pandas as pd
import pytest
from conftest import DATA, every_case_batch, write_every_case

from spineh5 import dask as spine_dask
from spineh5.layouts.v2_read import V2ReadLayout
from spineh5.reader import HDF5Reader

SPINE_FIXTURE = DATA / "spine_f31056c8.h5"


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A glob of three files (4, 3 and 5 entries; V1, V2, V1)."""
    base = tmp_path_factory.mktemp("dask")
    for number, (start, count, version) in enumerate([(0, 4, 1), (4, 3, 2), (7, 5, 1)]):
        write_every_case(base / f"prod_{number}.h5", [every_case_batch(start, count)], format_version=version)
    return str(base / "prod_*.h5")


@pytest.fixture()
def table_calls(monkeypatch: pytest.MonkeyPatch) -> list:
    """Record the columns= of every bulk read (tasks run in this process: sync scheduler).

    The bulk reads are HDF5Reader._table_rows calls (the structured rows the
    views read; table() of an object product pools them instead) and, for V2
    object products read as awkward arrays, V2ReadLayout.read_columns calls (one per file).
    """
    calls: list = []
    table = HDF5Reader._table_rows
    read_columns = V2ReadLayout.read_columns

    def recording(self, key, entries=None, columns=None, fixed_only=False):  # noqa: ANN001, ANN202
        calls.append((key, None if columns is None else tuple(columns)))
        return table(self, key, entries, columns, fixed_only)

    def recording_columns(self, key, entries, columns=None):  # noqa: ANN001, ANN202
        calls.append((key, None if columns is None else tuple(columns)))
        return read_columns(self, key, entries, columns)

    monkeypatch.setattr(HDF5Reader, "_table_rows", recording)
    monkeypatch.setattr(V2ReadLayout, "read_columns", recording_columns)
    with dask.config.set(scheduler="sync"):
        yield calls


def _fixed(reader: HDF5Reader, key: str) -> list[str]:
    rows = reader.arrays(key, 0, 0, library="np")[key][0]
    return [name for name in rows.dtype.names if rows.dtype.fields[name][0].kind != "O"]


@pytest.mark.parametrize("key", ["reco_particles", "run_info", "clusts", "points", "tag"])
@pytest.mark.parametrize("step_size", [None, 2])
def test_from_files_equals_reader(production: str, key: str, step_size: int | None) -> None:
    array = spine_dask.from_files(production, key, step_size=step_size)
    assert array.npartitions == (3 if step_size is None else 2 + 2 + 3)
    assert array.divisions[-1] == 12
    want = HDF5Reader(production).arrays(key)[key]
    with dask.config.set(scheduler="sync"):
        assert ak.array_equal(array.compute(), want, equal_nan=True)


def test_from_files_spine_fixture() -> None:
    array = spine_dask.from_files([SPINE_FIXTURE, SPINE_FIXTURE], "truth_particles", step_size=4)
    want = HDF5Reader([SPINE_FIXTURE, SPINE_FIXTURE]).arrays("truth_particles").truth_particles
    with dask.config.set(scheduler="sync"):
        assert ak.array_equal(array.compute(), want, equal_nan=True)


def test_projection_reads_only_used_columns(production: str, table_calls: list) -> None:
    want = HDF5Reader(production).arrays("reco_particles").reco_particles
    array = spine_dask.from_files(production, "reco_particles")
    table_calls.clear()  # the planning reads (no entry) of from_files
    selected = array.id[ak.num(array.index, axis=-1) > 0]
    total = ak.sum(selected).compute()
    assert total == ak.sum(want.id[ak.num(want.index, axis=-1) > 0])
    read = [columns for key, columns in table_calls if key == "reco_particles"]
    assert len(read) == 3 and all(set(columns) == {"id", "index"} for columns in read), read


def test_columns_restrict_the_form(production: str, table_calls: list) -> None:
    array = spine_dask.from_files(production, "reco_particles", columns=["id", "match_ids"])
    assert ak.fields(array) == ["id", "match_ids"]
    got = array.compute()
    want = HDF5Reader(production).arrays("reco_particles", columns=["id", "match_ids"]).reco_particles
    assert ak.array_equal(got, want)
    assert {columns for key, columns in table_calls if key == "reco_particles"} <= {("id", "match_ids")}


def test_dataframe_equals_pandas_view(production: str) -> None:
    frame = spine_dask.dataframe(production, "reco_particles", step_size=3)
    reader = HDF5Reader(production)
    want = reader.arrays("reco_particles", columns=_fixed(reader, "reco_particles"), library="pd").reset_index()
    with dask.config.set(scheduler="sync"):
        got = frame.compute()
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want)
    assert list(frame.columns) == list(want.columns)


def test_dataframe_spine_fixture_and_projection(table_calls: list) -> None:
    frame = spine_dask.dataframe([SPINE_FIXTURE, SPINE_FIXTURE], "reco_particles")
    reader = HDF5Reader([SPINE_FIXTURE, SPINE_FIXTURE])
    want = reader.arrays("reco_particles", columns=_fixed(reader, "reco_particles"), library="pd").reset_index()
    assert {"start_point_x", "pid_scores_5", "entry", "subentry"} <= set(frame.columns)
    pd.testing.assert_frame_equal(frame.compute().reset_index(drop=True), want)
    table_calls.clear()
    muons = frame[frame.pid == 2]
    got = muons[["entry", "start_point_z", "ke"]].compute().reset_index(drop=True)
    expected = want[want.pid == 2][["entry", "start_point_z", "ke"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)
    read = {columns for key, columns in table_calls if key == "reco_particles"}
    assert read == {("pid", "start_point", "ke")} or read == {("start_point", "ke", "pid")}, read
    table_calls.clear()  # momentum is no vector to SPINE: its components are momentum_0.._2, read as one column
    got = frame[["momentum_1"]].compute().reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want[["momentum_1"]].reset_index(drop=True))
    assert {columns for key, columns in table_calls if key == "reco_particles"} == {("momentum",)}


def test_errors(production: str) -> None:
    with pytest.raises(spine_dask.DaskError, match="no product 'nope'"):
        spine_dask.from_files(production, "nope")
    with pytest.raises(spine_dask.DaskError, match="has no column foo"):
        spine_dask.from_files(production, "reco_particles", columns=["foo"])
    with pytest.raises(spine_dask.DaskError, match="not an object product"):
        spine_dask.dataframe(production, "clusts")
    with pytest.raises(spine_dask.DaskError, match="not fixed columns"):
        spine_dask.dataframe(production, "reco_particles", columns=["id", "index"])
    with pytest.raises(spine_dask.DaskError, match="step_size"):
        spine_dask.from_files(production, "reco_particles", step_size=0)


def test_partition_functions_pickle(production: str) -> None:
    array = spine_dask.from_files(production, "reco_particles")
    product = spine_dask.ReadProduct("reco_particles", array.form, ("id",))
    frame = spine_dask.ReadFrame("reco_particles", {"start_point_x": "start_point", "id": "id"})
    partition = spine_dask.Partition("a.h5", 0, 3, 7)
    for function in (product, frame, partition):
        assert pickle.loads(pickle.dumps(function)) == function


def test_distributed_two_processes(production: str) -> None:
    distributed = pytest.importorskip("distributed")
    try:
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, death_timeout=30
        )
    except (OSError, RuntimeError) as err:  # a sandbox that cannot start worker processes
        pytest.skip(f"cannot start a LocalCluster: {err}")
    try:
        with distributed.Client(cluster, timeout=30) as client:
            array = spine_dask.from_files(production, "reco_particles", step_size=2)
            reader = HDF5Reader(production)
            want = reader.arrays("reco_particles").reco_particles
            got = client.compute(ak.sum(array.id[array.pid >= 0]) + 0).result(timeout=60)
            assert got == ak.sum(want.id[want.pid >= 0])
            assert ak.array_equal(client.compute(array).result(timeout=60), want, equal_nan=True)
            frame = spine_dask.dataframe(production, "reco_particles")
            expected = reader.arrays("reco_particles", columns=_fixed(reader, "reco_particles"), library="pd")
            got_frame = client.compute(frame).result(timeout=60).reset_index(drop=True)
            pd.testing.assert_frame_equal(got_frame, expected.reset_index())
            assert len(client.scheduler_info()["workers"]) == 2
    finally:
        cluster.close()


def test_empty_production_partition(tmp_path: Path) -> None:
    path = write_every_case(tmp_path / "one.h5", [every_case_batch(0, 1)])
    array = spine_dask.from_files(path, "seg", step_size=5)
    assert array.npartitions == 1
    np.testing.assert_array_equal(ak.to_numpy(ak.flatten(array.compute())), np.arange(2))
