"""Productions written in parallel with Dask (spineh5.parallel) on a local 2-process ``distributed`` cluster.

One cluster for the module (2 worker processes, 1 thread each). The producers
are module functions shipped to the workers by value (cloudpickle), reading
small input files that hold the first entry of their shard; entry ``i`` of the
event mix depends only on ``(SEED, i)``, so a serial write of the same entries
is the reference.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

import cloudpickle  # noqa: E402
import dask  # noqa: E402
import dask.bag as db  # noqa: E402
from conftest import assert_same  # noqa: E402

from spineh5 import HDF5Reader, HDF5Writer  # noqa: E402
from spineh5.comparison import compare  # noqa: E402
from spineh5.demo import make_batches  # noqa: E402
from spineh5.generated import SCHEMA_VERSION  # noqa: E402
from spineh5.parallel import ProductionError, write_production  # noqa: E402
from spineh5.parallel.manifest import Manifest, file_sha256, shard_state  # noqa: E402
from spineh5.parallel.status import production_status  # noqa: E402

cloudpickle.register_pickle_by_value(sys.modules[__name__])

SEED, SCALE, PER_SHARD, SHARDS, BATCH = 7, 0.01, 4, 3, 2
#: Products whose values are the runtime location of an entry, not stored (they differ between layouts of files).
RUNTIME = {"file_index", "file_entry_index"}


def _batches(start: int, count: int = PER_SHARD):
    return make_batches(count, batch_size=BATCH, seed=SEED, scale=SCALE, start=start)


def produce(path: str):
    """The batches of one input file's shard (a generator: the writer writes each as it comes)."""
    yield from _batches(int(Path(path).read_text()))


def produce_counting(path: str):
    """:func:`produce`, appending a line to ``<input>.calls`` each time it is called."""
    with open(path + ".calls", "a") as handle:
        handle.write("call\n")
    yield from produce(path)


def produce_killing(path: str):
    """:func:`produce`, SIGKILLing its own worker after the first batch of shard 1, on the first attempt only."""
    start = int(Path(path).read_text())
    batches = _batches(start)
    yield next(batches)
    marker = Path(path + ".killed")
    if start == PER_SHARD and not marker.exists():
        marker.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    yield from batches


def produce_failing(path: str):
    """:func:`produce`, raising for shard 2 (every attempt)."""
    if int(Path(path).read_text()) == 2 * PER_SHARD:
        raise RuntimeError("detector database unreachable")
    yield from produce(path)


@pytest.fixture(scope="module")
def client():
    """A local cluster of 2 worker processes, shared by the module."""
    with dask.config.set({"distributed.comm.timeouts.connect": "30s"}):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=logging.ERROR
        )
        with cluster, distributed.Client(cluster, timeout="60s") as connected:
            yield connected


def _inputs(folder: Path, shards: int = SHARDS) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(shards):
        path = folder / f"input_{index}.txt"
        path.write_text(str(index * PER_SHARD))
        paths.append(str(path))
    return paths


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same entries written by one process into one file."""
    path = tmp_path_factory.mktemp("serial") / "serial.h5"
    with HDF5Writer(str(path)) as writer:
        for batch in _batches(0, SHARDS * PER_SHARD):
            writer(batch)
    return path


def assert_same_entries(left, right, entries: range | None = None) -> None:
    """Both sources read back the same entries, product by product (runtime locations aside)."""
    with HDF5Reader(left) as a, HDF5Reader(right) as b:
        positions = range(len(a)) if entries is None else entries
        assert len(a) == len(positions)
        for mine, theirs in enumerate(positions):
            x, y = a[mine], b[theirs]
            assert x.keys() == y.keys()
            for key in x.keys() - RUNTIME - {"index"}:  # index: the reader position; the stored one below
                assert_same(x[key], y[key], f"entry {mine}, {key!r}")
            assert a.raw(mine, "index") == b.raw(theirs, "index")


def assert_truthful(manifest_path: Path) -> Manifest:
    """Every shard the manifest records complete is there, finalized, with its recorded entries and checksum."""
    manifest = Manifest.load(manifest_path)
    for record in manifest.shards:
        if not record.complete:
            continue
        path = manifest.shard_path(record)
        assert file_sha256(path) == record.sha256 and os.path.getsize(path) == record.bytes
        with HDF5Reader(path) as reader:
            assert len(reader) == record.entries
            assert reader.info["complete"]
    return manifest


def test_parallel_production_equals_serial(client, tmp_path: Path, serial: Path) -> None:
    inputs = _inputs(tmp_path / "in")
    result = write_production(produce, tmp_path / "prod", "run7", inputs=inputs, client=client, timeout=120)
    assert result.written == (0, 1, 2) and result.skipped == () and result.failed == ()
    manifest = assert_truthful(tmp_path / "prod" / "production.json")
    assert [record.path for record in manifest.shards] == ["run7_00000.h5", "run7_00001.h5", "run7_00002.h5"]
    assert [record.inputs for record in manifest.shards] == [[path] for path in inputs]
    assert all(record.complete and record.entries == PER_SHARD for record in manifest.shards)
    assert {(record.schema_version, record.format_version) for record in manifest.shards} == {(SCHEMA_VERSION, 1)}
    assert_same_entries(str(tmp_path / "prod" / "production.json"), str(serial))
    assert_same_entries(str(tmp_path / "prod"), str(serial))  # the folder reads through its manifest

    from spineh5 import dask as spine_dask

    energies = spine_dask.from_files(str(tmp_path / "prod" / "production.json"), "reco_particles", columns=["ke"])
    with HDF5Reader(str(serial)) as reader:
        expected = reader.arrays("reco_particles", columns=["ke"])["reco_particles"].ke
    assert energies.npartitions == SHARDS
    assert energies.ke.compute().tolist() == expected.tolist()


def test_killed_worker_has_its_partition_redone(client, tmp_path: Path, serial: Path) -> None:
    inputs = _inputs(tmp_path / "in")
    result = write_production(produce_killing, tmp_path / "prod", inputs=inputs, client=client, retries=0, timeout=120)
    killed = Path(inputs[1] + ".killed")
    assert killed.exists(), "the producer did not kill its worker"
    assert int(killed.read_text()) not in client.run(os.getpid).values()  # that worker process is gone
    assert result.failed == () and result.written == (0, 1, 2)
    manifest = assert_truthful(tmp_path / "prod" / "production.json")
    assert all(record.complete for record in manifest.shards)
    assert_same_entries(str(tmp_path / "prod" / "shard_00001.h5"), str(serial), range(PER_SHARD, 2 * PER_SHARD))


def test_failed_partition_is_never_complete(client, tmp_path: Path) -> None:
    inputs = _inputs(tmp_path / "in")
    with pytest.raises(ProductionError, match=r"1 of 3 shards failed \(shard_00002.h5: RuntimeError: detector"):
        write_production(produce_failing, tmp_path / "prod", inputs=inputs, client=client, retries=1, timeout=120)
    manifest = assert_truthful(tmp_path / "prod" / "production.json")
    assert [record.complete for record in manifest.shards] == [True, True, False]
    assert "detector database unreachable" in manifest.shards[2].error
    status = production_status(tmp_path / "prod")
    assert [shard.state for shard in status.shards] == ["complete", "complete", "missing"]
    assert status.resubmit() == [inputs[2]] and status.entries == 2 * PER_SHARD
    with pytest.raises(ProductionError, match=r"1 of 3 shards are not complete \(shard_00002.h5\)"):
        HDF5Reader(str(tmp_path / "prod" / "production.json"))


def test_rerun_skips_complete_shards(client, tmp_path: Path, serial: Path) -> None:
    inputs = _inputs(tmp_path / "in")
    folder = tmp_path / "prod"
    write_production(produce_counting, folder, inputs=inputs, client=client, timeout=120)
    shards = [folder / f"shard_{index:05d}.h5" for index in range(SHARDS)]
    before = [(path.stat().st_ino, path.stat().st_mtime_ns) for path in shards]
    shards[1].unlink()  # a lost shard
    with open(shards[2], "r+b") as handle:  # a damaged one: same size, other bytes
        handle.seek(-1, os.SEEK_END)
        last = handle.read(1)
        handle.seek(-1, os.SEEK_END)
        handle.write(bytes([last[0] ^ 0xFF]))
    manifest = Manifest.load(folder / "production.json")
    assert [shard_state(manifest, record)[0] for record in manifest.shards] == ["complete", "missing", "invalid"]

    result = write_production(produce_counting, folder, inputs=inputs, client=client, timeout=120)
    assert result.skipped == (0,) and result.written == (1, 2)
    calls = [len(Path(path + ".calls").read_text().splitlines()) for path in inputs]
    assert calls == [1, 2, 2]  # shard 0's producer was not called again
    assert (shards[0].stat().st_ino, shards[0].stat().st_mtime_ns) == before[0]
    assert_truthful(folder / "production.json")
    assert_same_entries(str(folder), str(serial))

    again = write_production(produce_counting, folder, inputs=inputs, client=client, timeout=120)
    assert again.skipped == (0, 1, 2) and again.written == ()
    assert [len(Path(path + ".calls").read_text().splitlines()) for path in inputs] == [1, 2, 2]


def test_bag_and_delayed_sources(tmp_path: Path, serial: Path) -> None:
    """Without a client (dask's local scheduler): a bag (one shard per partition) and delayed producers."""
    batches = list(_batches(0, SHARDS * PER_SHARD))
    with dask.config.set(scheduler="sync"):
        bag = db.from_sequence(batches, npartitions=SHARDS)
        result = write_production(bag, tmp_path / "bag", "bag", format_version=2, client=None)
        assert result.written == (0, 1, 2)
        producers = [dask.delayed(lambda start: list(_batches(start)))(i * PER_SHARD) for i in range(SHARDS)]
        write_production(producers, tmp_path / "delayed", "delayed", inputs=[f"run {i}" for i in range(SHARDS)])
    for folder in ("bag", "delayed"):  # bulk comparison, every product but the runtime ones
        assert compare(str(tmp_path / folder), str(serial), exact=True).identical, folder
    manifest = Manifest.load(tmp_path / "delayed" / "production.json")
    assert [record.inputs for record in manifest.shards] == [["run 0"], ["run 1"], ["run 2"]]
    assert {record.format_version for record in Manifest.load(tmp_path / "bag" / "production.json").shards} == {2}


def test_another_production_in_the_folder_is_refused(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path / "in", 2)
    with dask.config.set(scheduler="sync"):
        write_production(produce, tmp_path / "prod", "a", inputs=inputs, client=None)
        with pytest.raises(ProductionError, match=r"records production 'a' \(V1, 2 shards\), not 'b'"):
            write_production(produce, tmp_path / "prod", "b", inputs=inputs, client=None)
    data = json.loads((tmp_path / "prod" / "production.json").read_text())
    assert data["format"] == "spineh5-production" and data["name"] == "a"


def produce_slowly(path: str):
    """:func:`produce`, sleeping 4 s first (longer than the test's timeout)."""
    import time

    time.sleep(4)
    yield from produce(path)


def test_timeout_names_the_shards_not_done(client, tmp_path: Path) -> None:
    inputs = _inputs(tmp_path / "in", 2)
    with pytest.raises(ProductionError, match=r"2 shards were not done within 1 s \(shard_00000.h5, shard_00001.h5\)"):
        write_production(produce_slowly, tmp_path / "prod", inputs=inputs, client=client, timeout=1)
    manifest = Manifest.load(tmp_path / "prod" / "production.json")
    assert [record.complete for record in manifest.shards] == [False, False]
