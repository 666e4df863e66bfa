"""Production benchmarks (``spineh5[dask]``): a 4-shard production written and scanned by 1 and 2 Dask workers.

``python -m benchmarks --production`` adds these rows; ``python -m benchmarks.production`` runs them alone.

* Write: the event mix (:mod:`benchmarks.mix`) split into ``SHARDS`` shards,
  each shard's batches pickled to a file beforehand (outside any timing), so a
  task is "load the batches, write the shard with HDF5Writer, finalize,
  validate, checksum". One process writing the same shards in a loop
  (:func:`spineh5.parallel.shards.write_shard`, the same per-shard work) is the
  reference; :func:`spineh5.parallel.write_production` on a ``LocalCluster`` of
  1 and of 2 worker processes (one thread each) is timed per round, the
  cluster's start-up excluded. Ratios are reference time / production time
  (above 1: faster than one process).
* Scan: ``spineh5.dask.from_files(manifest, "reco_particles", columns=["ke"])``,
  the sum of every particle's kinetic energy, computed on 1 and on 2 workers;
  the ratio is the 1-worker time over the 2-worker time.

Medians over rounds. On a machine shared with other jobs the figures move a
lot: the output says the load average when the rows were taken.
"""

from __future__ import annotations

import argparse
import logging
import os
import pickle
import shutil
import statistics
import sys
import tempfile
import time

from . import mix

#: Shards of the production (one task each).
SHARDS = 4


def _load(path: str) -> list[dict]:
    """Return the batches of a shard, unpickled: the producer of the benchmark (instead of reconstructing events)."""
    with open(path, "rb") as handle:
        return pickle.load(handle)


def _inputs(folder: str, entries: int) -> list[str]:
    """Write the mix's batches as ``SHARDS`` pickles (about equal entry counts); return their paths."""
    batches = mix.make_batches(entries)
    os.makedirs(folder, exist_ok=True)
    paths = []
    for index in range(SHARDS):
        path = os.path.join(folder, f"input_{index}.pkl")
        with open(path, "wb") as handle:
            pickle.dump(batches[index::SHARDS], handle)
        paths.append(path)
    return paths


def _serial(inputs: list[str], folder: str) -> float:
    """Write the shards one after the other in this process; return the seconds."""
    from spineh5.parallel.manifest import shard_name
    from spineh5.parallel.shards import ShardTask, write_shard

    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    started = time.perf_counter()
    for index, path in enumerate(inputs):
        name = shard_name("serial", index)
        write_shard(ShardTask(index, os.path.join(folder, name), name, (path,)), producer=_load)
    return time.perf_counter() - started


def _parallel(inputs: list[str], folder: str, client: object) -> float:
    from spineh5.parallel import write_production

    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    write_production(_load, folder, inputs=inputs, client=client)
    return time.perf_counter() - started


def _scan(manifest: str, client: object) -> float:
    import dask_awkward as dak

    from spineh5 import dask as spine_dask

    started = time.perf_counter()
    energies = spine_dask.from_files(manifest, "reco_particles", columns=["ke"])
    client.compute(dak.sum(energies.ke, axis=None)).result()
    return time.perf_counter() - started


def measure(folder: str, entries: int, repeat: int) -> dict[str, list[float]]:
    """Return the seconds of every round: ``serial``, ``write_1``, ``write_2``, ``scan_1``, ``scan_2``."""
    import cloudpickle
    import distributed

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    inputs = _inputs(os.path.join(folder, "inputs"), entries)
    seconds: dict[str, list[float]] = {name: [] for name in ("serial", "write_1", "write_2", "scan_1", "scan_2")}
    clusters = {}
    try:
        for workers in (1, 2):
            cluster = distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                silence_logs=logging.ERROR,
            )
            clusters[workers] = (cluster, distributed.Client(cluster))
        manifest = os.path.join(folder, "scan", "production.json")
        _parallel(inputs, os.path.dirname(manifest), clusters[2][1])
        for _, client in clusters.values():  # warm-up: imports and first opens on every worker
            _scan(manifest, client)
        for _ in range(repeat):  # rounds: every variant once per round, so that load hits all alike
            seconds["serial"].append(_serial(inputs, os.path.join(folder, "serial")))
            for workers, (_, client) in clusters.items():
                seconds[f"write_{workers}"].append(_parallel(inputs, os.path.join(folder, f"w{workers}"), client))
                seconds[f"scan_{workers}"].append(_scan(manifest, client))
    finally:
        for cluster, client in clusters.values():
            client.close()
            cluster.close()
    return seconds


def add_rows(table: object, folder: str, entries: int, repeat: int) -> None:
    """Add the production rows to a :class:`benchmarks.__main__.Table`."""
    load = os.getloadavg()[0]
    seconds = measure(folder, entries, repeat)
    median = {name: statistics.median(values) for name, values in seconds.items()}
    serial = f"one process: {entries / median['serial']:,.1f} ev/s"
    for workers in (1, 2):
        table.add(
            f"production write, {SHARDS} shards, {workers} worker(s) [load {load:.1f}]",
            f"{entries / median[f'write_{workers}']:,.1f} ev/s",
            serial,
            f"{median['serial'] / median[f'write_{workers}']:.2f} x one process",
        )
    table.add(
        f"dask scan of reco_particles.ke, {SHARDS} files [load {load:.1f}]",
        f"2 workers: {entries / median['scan_2']:,.1f} ev/s",
        f"1 worker: {entries / median['scan_1']:,.1f} ev/s",
        f"{median['scan_1'] / median['scan_2']:.2f} (2 vs 1 worker)",
    )
    print("production raw seconds:", {name: [f"{value:.2f}" for value in values] for name, values in seconds.items()})


def main(argv: list[str] | None = None) -> int:
    from .measure import Table

    parser = argparse.ArgumentParser(prog="python -m benchmarks.production", description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=64, help="entries of the event mix (default 64)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the median is shown (default 3)")
    args = parser.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="spineh5-bench-production-")
    try:
        table = Table()
        add_rows(table, folder, args.entries, args.repeat)
        print(table.render())
        print(f"command: python -m benchmarks.production {' '.join(sys.argv[1:])}".rstrip())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
