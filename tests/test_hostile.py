"""Hostile files: seeded mutants of every fixture, both layouts, never a hang, a crash or a stray exception.

300 mutants (bit flips, truncation, splices, zeroed ranges: :mod:`mutation`) of
every file in tests/data and of spineh5-written V1 and V2 files go through the
reader (open, every entry, every table), ``spineh5 inspect`` and ``spineh5
validate``, each tool in one long-lived forked worker with a per-mutant budget.
A clean outcome is success, a :class:`~spineh5.errors.SpineH5Error`, or an
exit-1 message; the CLI tools run with their own worker (``--timeout``), so a
file HDF5 loops on is a one-line finding there.

The reader has no such sandbox: it refuses region references into damaged
global heap collections before HDF5 follows them, but HDF5 can still loop
while reading a variable-length string from a damaged collection. Such a
mutant must be one that ``validate`` reports as stopped by its time budget,
and there must be few of them.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import mutation
import pytest
from click.testing import CliRunner

from spineh5.cli import main
from spineh5.sandbox import CheckTimeoutError, run_bounded

COUNT = 300
SEED = 20261201
#: The CLI's own budget, and the worker's per-mutant budget (above it: the CLI must answer first).
CLI_BUDGET, WORKER_BUDGET = 2.0, 6.0


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, list[tuple[str, mutation.Outcome]]]:
    folder = tmp_path_factory.mktemp("hostile")
    sources = mutation.fixtures(folder)
    mutation.CLI_BUDGET = CLI_BUDGET
    tools = ("reader", "inspect", "validate")
    found: dict[str, list[tuple[str, mutation.Outcome]]] = {name: [] for name in tools}
    workers = {name: mutation.Worker(mutation.TOOLS[name], WORKER_BUDGET) for name in tools}
    try:
        for path, how in mutation.mutants(sources, folder, COUNT, SEED):
            for worker in workers.values():
                worker.submit(str(path))
            for name, worker in workers.items():
                found[name].append((how, worker.result()))
            path.unlink()
    finally:
        for worker in workers.values():
            worker.close()
        mutation.CLI_BUDGET = 0.0
    return found


def _unclean(found: list[tuple[str, mutation.Outcome]], allowed: tuple[str, ...]) -> list[str]:
    return [f"{how}: {outcome.kind} {outcome.message}" for how, outcome in found if outcome.kind not in allowed]


def test_every_fixture_and_both_layouts_are_mutated(outcomes, tmp_path):
    names = {how.split(":")[0] for how, _ in outcomes["reader"]}
    assert names == {path.name for path in mutation.DATA.glob("*.h5")} | {"spineh5_v1.h5", "spineh5_v2.h5"}
    kinds = Counter(how.split(": ")[1].split()[0] for how, _ in outcomes["reader"])
    assert set(kinds) == {"flip", "truncate", "splice", "zero"}
    errors = Counter(outcome.kind for _, outcome in outcomes["reader"])
    assert errors[mutation.ERROR] > COUNT // 10  # the mutants are hostile enough to be refused


@pytest.mark.parametrize("tool", ["inspect", "validate"])
def test_cli_tools_answer_every_mutant_in_one_line(outcomes, tool):
    assert _unclean(outcomes[tool], mutation.CLEAN) == []


def test_reader_raises_only_spineh5_errors(outcomes):
    assert _unclean(outcomes["reader"], (*mutation.CLEAN, mutation.HANG)) == []


def test_reader_hangs_only_where_hdf5_loops_on_strings(outcomes):
    """A reader hang is a mutant ``validate`` stopped at its budget (HDF5 looping), and rare."""
    stopped = {how for how, outcome in outcomes["validate"] if "did not finish within" in outcome.message}
    hangs = [how for how, outcome in outcomes["reader"] if outcome.kind == mutation.HANG]
    assert set(hangs) <= stopped
    assert len(hangs) <= COUNT // 50


def test_mutator_is_seeded(tmp_path):
    source = mutation.DATA / "spine_head_v2.h5"
    runs = [[(how, path.read_bytes()) for path, how in mutation.mutants([source], tmp_path, 4, 5)] for _ in range(2)]
    assert runs[0] == runs[1]
    assert sum(data != source.read_bytes() for _, data in runs[0]) >= 3


# -- the sandbox itself ----------------------------------------------------------------------------------


def _spin() -> None:
    while True:
        pass


def _segfault() -> None:
    import ctypes

    ctypes.string_at(0)


def test_sandbox_stops_a_loop_within_its_budget():
    start = time.monotonic()
    with pytest.raises(CheckTimeoutError, match=r"x\.h5: checks did not finish within 0\.5 s"):
        run_bounded(_spin, timeout=0.5, path="x.h5")
    assert time.monotonic() - start < 10


def test_sandbox_reports_a_dead_worker():
    from spineh5.sandbox import CheckCrashError

    with pytest.raises(CheckCrashError, match="killed by signal 11"):
        run_bounded(_segfault, timeout=10, path="x.h5")


def test_sandbox_returns_results_and_raises_the_checks_errors():
    assert run_bounded(sorted, [3, 1, 2], timeout=10) == [1, 2, 3]
    with pytest.raises(ZeroDivisionError):
        run_bounded(divmod, 1, 0, timeout=10)
    assert run_bounded(sorted, [2, 1], timeout=0) == [1, 2]  # in-process


def test_cli_reports_a_hang_as_one_line(monkeypatch, tmp_path):
    """A check HDF5 loops in is stopped at --timeout: one line naming the file, exit 1."""
    import spineh5.cli.inspect as inspect_module
    import spineh5.cli.validate as validate_module

    path = str(Path(mutation.DATA / "spine_head_v2.h5"))
    monkeypatch.setattr(validate_module, "validate", lambda _path: _spin())
    monkeypatch.setattr(inspect_module, "_describe", lambda *_args: _spin())
    for command in ("validate", "inspect"):
        result = CliRunner().invoke(main, [command, path, "--timeout", "0.5"])
        assert result.exit_code == 1, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and path in lines[0] and "did not finish within 0.5 s" in lines[0]
