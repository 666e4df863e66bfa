"""What every benchmark row shares: timing, interleaved rounds, medians, peak memory and the printed table.

Every figure of ``python -m benchmarks`` is a median over interleaved rounds (the
runs of one row alternate with those of its floor, so load drifts hit both),
printed as a ratio to the floor measured in the same run.
"""

from __future__ import annotations

import ctypes
import gc
import os
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import NamedTuple

from spineh5 import HDF5Writer

TARGET = 0.75

#: The writer options under which spineh5 does the work the floors do: no Fletcher-32 checksums, no flush
#: between batches, the file written under its final name (no fsync and rename when it is finalized). Issue
#: 14's write targets are judged with them; the rows of the defaults (checksums, a flush after every batch,
#: atomic publishing) are shown beside them.
FLOOR_SETTINGS = {"checksum": False, "flush_interval": None, "publish": "in_place"}


class Timing(NamedTuple):
    """Seconds of one run: elapsed (what the rates show) and CPU of this process (user + system)."""

    wall: float
    cpu: float


def timed(write: Callable[[str], None], path: str) -> Timing:
    """Time ``write(path)`` (a fresh file each time)."""
    if os.path.exists(path):
        os.remove(path)
    return _timed_call(lambda: write(path))


def _timed_call(function: Callable[[], object]) -> Timing:
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return Timing(time.perf_counter() - wall, time.process_time() - cpu)


def interleaved(runs: dict[str, Callable[[], Timing]], repeat: int) -> dict[str, list[Timing]]:
    """Run each measurement ``repeat`` times, round-robin; return the timings of each run."""
    out: dict[str, list[Timing]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            out[name].append(run())
    return out


def wall(timings: list[Timing]) -> float:
    """Return the median elapsed seconds."""
    return statistics.median(t.wall for t in timings)


def cpu(timings: list[Timing]) -> float:
    """Return the median CPU seconds."""
    return statistics.median(t.cpu for t in timings)


def paired(floor_runs: list[Timing], runs: list[Timing], field: str = "wall") -> float:
    """Return the median over rounds of floor time / time (rounds ran back to back, so load hits both)."""
    return statistics.median(getattr(f, field) / getattr(r, field) for f, r in zip(floor_runs, runs))


def write_spineh5(batches: list[dict], **options) -> Callable[[str], None]:
    def write(path: str) -> None:
        writer = HDF5Writer(path, overwrite=True, **options)
        for batch in batches:
            writer(batch, {})
        writer.finalize()

    return write


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def peak_rss(write: Callable[[str], None], path: str) -> int | None:
    """Return the resident-memory high-water mark above the start (bytes) while ``write(path)`` runs.

    Linux only (``/proc/self/clear_refs`` resets the mark); it includes HDF5's own buffers (chunk caches,
    conversion buffers) that tracemalloc does not see.
    """
    if os.path.exists(path):
        os.remove(path)
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # hand freed heap pages back, so new allocations show
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return None
    before = _status_kb("VmRSS")
    write(path)
    peak = _status_kb("VmHWM")
    return None if before is None or peak is None else (peak - before) * 1024


def peak_memory(batches: list[dict], path: str) -> int:
    """Return tracemalloc's peak (bytes above the start) while spineh5 writes ``batches``."""
    if os.path.exists(path):
        os.remove(path)
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        write_spineh5(batches)(path)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


# -- table ---------------------------------------------------------------------------------------------


def fmt_rate(entries: int, seconds: float, megabytes: float | None = None) -> str:
    text = f"{entries / seconds:,.1f} ev/s"
    if megabytes is not None:
        text += f", {megabytes / seconds:,.0f} MB/s"
    return text


def fmt_ratio(ratio: float, target: float | None = TARGET) -> str:
    if target is None:
        return f"{ratio:.2f}"
    return f"{ratio:.2f} ({ratio - target:+.2f})"


def with_target(label: str, target: float) -> str:
    """Return a row label naming the target its ratio is judged against."""
    return f"{label} [target {target:g}]"


class Table:
    """A markdown table: one row per measurement."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def add(self, what: str, ours: str, theirs: str, ratio: str) -> None:
        """Add one row."""
        self.rows.append((what, ours, theirs, ratio))

    def render(self) -> str:
        """Return the table as aligned markdown."""
        header = ("measurement", "spineh5", "floor / reference", "ratio (vs its target; 0.75 unless named)")
        widths = [max(len(row[i]) for row in [header, *self.rows]) for i in range(4)]
        lines = ["| " + " | ".join(cell.ljust(width) for cell, width in zip(header, widths)) + " |"]
        lines.append("|" + "|".join("-" * (width + 2) for width in widths) + "|")
        for row in self.rows:
            lines.append("| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths)) + " |")
        return "\n".join(lines)


# -- main -------------------------------------------------------------------------------------------------
