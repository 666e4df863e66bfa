"""The cost of the flush policies of ``HDF5Writer`` on the benchmark mix (``python -m benchmarks.flush_policy``).

Writes the mix (:mod:`benchmarks.mix`, batches of 8 entries) in rounds, each
policy back to back so that load hits all of them, in V1 and V2:

* ``flush_interval=None``: no flush between batches (spineh5 before issue 17);
* ``flush_interval=0``: every batch flushed, in two phases (products, then
  ``events``, see ``docs/crash-safety.md``);
* ``flush_interval=1`` and ``5``: at most one flush per file every 1 or 5 s.

Prints, per policy, the median write rate and its time as a multiple of the
no-flush time (median over rounds of the paired ratios), and the share of
the every-batch write time spent inside ``h5py.File.flush`` (less sensitive
to load than the rates).
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import tempfile
import time

import h5py

from . import mix
from .measure import Timing, interleaved, paired, timed, wall, write_spineh5

#: ``name: HDF5Writer options`` of each policy measured.
POLICIES = {
    "no flush (flush_interval=None)": {"flush_interval": None},
    "every batch (flush_interval=0)": {"flush_interval": 0.0},
    "every 1 s (flush_interval=1)": {"flush_interval": 1.0},
    "every 5 s (flush_interval=5)": {"flush_interval": 5.0},
}


def _write(batches: list[dict], version: int, options: dict, path: str) -> Timing:
    return timed(write_spineh5(batches, format_version=version, **options), path)


def flush_share(batches: list[dict], version: int, path: str) -> float:
    """Return the share of the write time of ``flush_interval=0`` spent inside ``h5py.File.flush``."""
    spent = [0.0]
    original = h5py.File.flush

    def flush(self: h5py.File) -> None:
        begin = time.perf_counter()
        original(self)
        spent[0] += time.perf_counter() - begin

    h5py.File.flush = flush
    try:
        total = _write(batches, version, {"flush_interval": 0.0}, path).wall
    finally:
        h5py.File.flush = original
    return spent[0] / total


def main(argv: list[str] | None = None) -> int:
    """Measure every policy in V1 and V2; print one line each."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.flush_policy", description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=160, help="entries written per run (default 160)")
    parser.add_argument("--repeat", type=int, default=5, help="rounds (default 5)")
    args = parser.parse_args(argv)
    batches = mix.make_batches(args.entries)
    with tempfile.TemporaryDirectory() as folder:
        for version in (1, 2):
            runs = {
                name: functools.partial(_write, batches, version, options, os.path.join(folder, f"v{version}_{i}.h5"))
                for i, (name, options) in enumerate(POLICIES.items())
            }
            result = interleaved(runs, args.repeat)
            floor = result[next(iter(POLICIES))]
            for name, timings in result.items():
                rate = args.entries / wall(timings)
                print(f"V{version} {name:32s} {rate:7.1f} entries/s, time x{paired(timings, floor):.3f} of no flush")
            shares = [flush_share(batches, version, os.path.join(folder, "share.h5")) for _ in range(args.repeat)]
            print(f"V{version} time inside h5py flush with flush_interval=0: {100 * statistics.median(shares):.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
