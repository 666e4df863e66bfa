"""Seeded hostile files and a worker that runs a tool on each with a time budget (tests/test_hostile.py).

* :func:`mutate`: one seeded mutation of a file's bytes (bit flips, truncation,
  a splice of a byte range copied from elsewhere in the file, a zeroed range);
  half of the positions fall in the first and last 16 kB, where HDF5 keeps
  most of its metadata (superblock, object headers, B-trees, heaps);
* :func:`spineh5_files`: small spineh5-written files of both layouts
  (checksums on, as by default);
* :class:`Worker`: one long-lived forked process that runs one tool on many
  files, each with a time budget, restarted when it hangs or dies;
* :data:`TOOLS`: the tools (reader, inspect, validate, compare), each
  returning an :data:`Outcome` for one file.

Run as a script for a larger survey::

    PYTHONPATH=src python tests/mutation.py --count 1000 --seed 1
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

#: Outcomes of one tool on one file.
OK, ERROR, UNCLEAN, HANG, CRASH = "ok", "error", "unclean", "hang", "crash"
#: A clean outcome: the file read (OK) or was refused with a SpineH5Error / an exit-1 message (ERROR).
CLEAN = (OK, ERROR)
#: Where HDF5 keeps most of its metadata: the first and last bytes of small files.
_EDGE = 16384
DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Outcome:
    """What one tool did with one file: one of OK, ERROR, UNCLEAN, HANG, CRASH, and its message."""

    kind: str
    message: str = ""


def _position(rng: random.Random, size: int) -> int:
    if rng.random() < 0.5:
        edge = min(_EDGE, size)
        offset = rng.randrange(edge)
        return offset if rng.random() < 0.6 else size - 1 - offset
    return rng.randrange(size)


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """Return a mutant of ``data`` and a description of the mutation (seeded by ``rng``)."""
    size = len(data)
    how = rng.choice(("flip", "flip", "truncate", "splice", "zero"))
    out = bytearray(data)
    if how == "flip":
        spots = [_position(rng, size) for _ in range(rng.randint(1, 8))]
        for spot in spots:
            out[spot] ^= 1 << rng.randrange(8)
        return bytes(out), f"flip bits at {spots}"
    if how == "truncate":
        cut = _position(rng, size)
        return bytes(out[:cut]), f"truncate at {cut}"
    length = rng.choice((4, 8, 16, 64, 256))
    start = min(_position(rng, size), size - length)
    if how == "zero":
        out[start : start + length] = bytes(length)
        return bytes(out), f"zero {length} bytes at {start}"
    source = rng.randrange(size - length)
    out[start : start + length] = data[source : source + length]
    return bytes(out), f"splice {length} bytes from {source} to {start}"


def spineh5_files(folder: Path) -> list[Path]:
    """Write small spineh5 files of both layouts (6 entries of every storage case) into ``folder``."""
    sys.path.insert(0, str(Path(__file__).parent))
    from conftest import every_case_batch, write_every_case

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [
            write_every_case(folder / f"spineh5_v{version}.h5", [every_case_batch(0), every_case_batch(3)], version)
            for version in (1, 2)
        ]


def fixtures(folder: Path) -> list[Path]:
    """Return every file of tests/data and the spineh5-written files (written into ``folder``)."""
    return sorted(DATA.glob("*.h5")) + spineh5_files(folder)


def mutants(sources: list[Path], folder: Path, count: int, seed: int) -> Iterator[tuple[Path, str]]:
    """Write ``count`` mutants of ``sources`` (in turn) into ``folder``; yield each path and its description."""
    rng = random.Random(seed)
    contents = [path.read_bytes() for path in sources]
    for number in range(count):
        which = number % len(sources)
        data, how = mutate(contents[which], rng)
        path = folder / f"mutant_{number:05d}.h5"
        path.write_bytes(data)
        yield path, f"{sources[which].name}: {how}"


# -- the tools --------------------------------------------------------------------------------------------


def _first_line(err: BaseException) -> str:
    return f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"


def run_reader(path: str) -> Outcome:
    """Open the file with HDF5Reader, read every entry, and every object/array product as a table."""
    from spineh5 import HDF5Reader
    from spineh5.errors import SpineH5Error
    from spineh5.products import Kind

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with HDF5Reader(path, ignore_incomplete=True) as reader:
                for entry in range(len(reader)):
                    reader[entry]
                for key in reader.keys:
                    if reader.spec(key).kind not in (Kind.FLAT, Kind.JAGGED):
                        reader.table(key)
    except SpineH5Error as err:
        if "\n" in str(err):
            return Outcome(UNCLEAN, f"multi-line message: {_first_line(err)}")
        return Outcome(ERROR, _first_line(err))
    except Exception as err:  # noqa: BLE001 - any other exception is what this survey is looking for
        return Outcome(UNCLEAN, f"{_first_line(err)} | {traceback.format_exc().splitlines()[-3].strip()}")
    return Outcome(OK)


def run_compare(path: str) -> Outcome:
    """Compare the file with itself (every product, every entry)."""
    from spineh5.comparison import compare
    from spineh5.errors import SpineH5Error

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compare(path, path)
    except SpineH5Error as err:
        return Outcome(ERROR, _first_line(err))
    except Exception as err:  # noqa: BLE001
        return Outcome(UNCLEAN, f"{_first_line(err)} | {traceback.format_exc().splitlines()[-3].strip()}")
    return Outcome(OK)


def _cli(args: list[str]) -> Outcome:
    from click.testing import CliRunner

    from spineh5.cli import main

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = CliRunner().invoke(main, args)
    if result.exit_code == 0:
        return Outcome(OK)
    if not isinstance(result.exception, SystemExit):
        err = result.exception
        where = traceback.format_exception(type(err), err, err.__traceback__)[-2].strip().splitlines()[0]
        return Outcome(UNCLEAN, f"{_first_line(err)} | {where}")
    text = result.output.strip()
    if result.exit_code != 1:
        return Outcome(UNCLEAN, f"exit {result.exit_code}: {text[:200]}")
    if "Traceback" in text or not text:
        return Outcome(UNCLEAN, f"exit 1 without a message or with a traceback: {text[:200]}")
    return Outcome(ERROR, text.splitlines()[-1][:200] if args[0] == "inspect" else text.splitlines()[0][:200])


#: The CLI's own time budget (``--timeout``): 0 runs the checks in the tool's process (the worker is then the only
#: sandbox); None passes no option (MUTATION_BASELINE=1, for a survey of a tree without it).
CLI_BUDGET: float | None = None if os.environ.get("MUTATION_BASELINE") else 0.0


def _budget() -> list[str]:
    return [] if CLI_BUDGET is None else ["--timeout", str(CLI_BUDGET)]


def run_inspect(path: str) -> Outcome:
    """``spineh5 inspect PATH``, then ``--entry -1`` (every product of the last entry)."""
    for extra in ([], ["--entry", "-1"]):
        outcome = _cli(["inspect", path, *extra, *_budget()])
        if outcome.kind != OK:
            return outcome
    return Outcome(OK)


def run_validate(path: str) -> Outcome:
    """``spineh5 validate PATH``."""
    return _cli(["validate", path, *_budget()])


#: Every tool of the survey, by name.
TOOLS: dict[str, Callable[[str], Outcome]] = {
    "reader": run_reader,
    "inspect": run_inspect,
    "validate": run_validate,
    "compare": run_compare,
}


# -- the worker -------------------------------------------------------------------------------------------


def _serve(tool: Callable[[str], Outcome], conn, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            while not conn.poll(1.0):
                if os.getppid() != parent:  # siblings hold copies of the pipe: EOF alone does not say it
                    return
            path = conn.recv()
        except EOFError:
            return
        if path is None:
            return
        conn.send(tool(path))


class Worker:
    """One forked process running ``tool`` on file after file, each within ``timeout`` seconds.

    A file the tool does not finish in time is a HANG, and one that kills
    the process (a segfault) a CRASH; either way the process is replaced.
    """

    def __init__(self, tool: Callable[[str], Outcome], timeout: float) -> None:
        self.tool = tool
        self.timeout = timeout
        self._context = multiprocessing.get_context("fork")
        self._process = None
        self._conn = None
        self._deadline = 0.0

    def _start(self) -> None:
        parent, child = self._context.Pipe()
        self._process = self._context.Process(target=_serve, args=(self.tool, child, os.getpid()), daemon=True)
        self._process.start()
        child.close()
        self._conn = parent

    def _stop(self) -> None:
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join()
            self._conn.close()
        self._process = self._conn = None

    def submit(self, path: str) -> None:
        """Start the tool on ``path`` (collect with :meth:`result`), so that several workers run at once."""
        if self._process is None or not self._process.is_alive():
            self._stop()
            self._start()
        self._conn.send(path)
        self._deadline = time.monotonic() + self.timeout

    def result(self) -> Outcome:
        """Return what the tool did with the file last submitted."""
        if self._conn.poll(max(self._deadline - time.monotonic(), 0)):
            try:
                return self._conn.recv()
            except EOFError:
                pass
            self._process.join()
            code = self._process.exitcode
            self._stop()
            return Outcome(CRASH, f"worker died (exit code {code})")
        if not self._process.is_alive():
            code = self._process.exitcode
            self._stop()
            return Outcome(CRASH, f"worker died (exit code {code})")
        self._stop()
        return Outcome(HANG, f"no answer within {self.timeout} s")

    def run(self, path: str) -> Outcome:
        """Return what the tool did with ``path``."""
        self.submit(path)
        return self.result()

    def close(self) -> None:
        """Stop the process."""
        if self._conn is not None and self._process.is_alive():
            self._conn.send(None)
            self._process.join(5)
        self._stop()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def survey(count: int, seed: int, timeout: float, tools: list[str]) -> dict[str, Counter]:
    """Run each tool on ``count`` mutants; print every unclean outcome; return the counts per tool."""
    counts: dict[str, Counter] = {name: Counter() for name in tools}
    with tempfile.TemporaryDirectory() as folder:
        sources = fixtures(Path(folder))
        workers = {name: Worker(TOOLS[name], timeout) for name in tools}
        try:
            for path, how in mutants(sources, Path(folder), count, seed):
                for worker in workers.values():
                    worker.submit(str(path))
                for name, worker in workers.items():
                    outcome = worker.result()
                    counts[name][outcome.kind] += 1
                    if outcome.kind not in CLEAN:
                        print(f"{name:8} {outcome.kind:7} {path.name} [{how}] {outcome.message}", flush=True)
                os.unlink(path)
        finally:
            for worker in workers.values():
                worker.close()
    return counts


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--tools", default="reader,inspect,validate,compare")
    parser.add_argument("--cli-timeout", type=float, help="the CLI's own --timeout (default: 0, in-process)")
    options = parser.parse_args()
    if options.cli_timeout is not None:
        CLI_BUDGET = options.cli_timeout
    totals = survey(options.count, options.seed, options.timeout, options.tools.split(","))
    for name, counter in totals.items():
        print(name, dict(sorted(counter.items())))
