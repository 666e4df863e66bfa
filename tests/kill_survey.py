"""A longer kill survey than the test: many seeded kills of one kind, the outcomes counted.

Uses the kill test's harness (:mod:`test_kill`): a forked child writes with
``flush_frequency=1`` (or the defaults) and is SIGKILLed inside a flush
(``flush``), inside one of the first two flushes (``first``), at a random
moment (``random``) or at a random moment with the default settings
(``default``); each file is recovered and K compared with the entries flushed.

    PYTHONPATH=src python tests/kill_survey.py VERSION KIND COUNT [SEED]

prints ``{ok, lost, unrec, nofile}`` (``nofile``: killed before the file existed,
nothing flushed) and the reasons of every refusal or loss.
"""

from __future__ import annotations

import collections
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import test_kill  # noqa: E402
from recovery_helpers import located, write  # noqa: E402

from spineh5 import recover  # noqa: E402
from spineh5.recovery import RecoveryError  # noqa: E402


def _schedule(kind: str, rng: random.Random, seconds: float) -> tuple[str, object]:
    if kind == "first":
        return "in_flush", (rng.randint(1, 2), rng.uniform(0, 0.006))
    if kind == "flush":
        return "in_flush", (rng.randint(1, test_kill.N_BATCHES * 2), rng.uniform(0, 0.004))
    return "any_time", rng.uniform(0, 1.2 * seconds)


def survey(version: int, kind: str, count: int, seed: int) -> collections.Counter:
    """Run ``count`` kills of ``kind``; print and return the outcomes."""
    rng = random.Random(seed)
    outcomes: collections.Counter = collections.Counter()
    reasons: collections.Counter = collections.Counter()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        started = time.monotonic()
        write(folder / "reference.h5", test_kill.N_BATCHES, version)
        seconds = time.monotonic() - started
        for number in range(count):
            how, argument = _schedule(kind, rng, seconds)
            path = folder / f"kill{number}.h5"
            run = test_kill._Run(path, version, None if kind == "default" else 1)
            deadline = time.monotonic() + test_kill.CHILD_SECONDS
            if how == "in_flush":
                flush, delay = argument
                run.wait_for(lambda r=run, f=flush: r.flushes_started >= f or r.done or r.error, deadline)
                time.sleep(delay)
            else:
                run.wait_for(lambda r=run: r.batches_started or r.done or r.error, deadline)
                time.sleep(argument)
            run.kill(signal.SIGKILL)
            source = located(path)
            if not source.exists():
                outcomes["nofile"] += 1
                continue
            try:
                report = recover(source, out=folder / f"kill{number}.recovered.h5")
            except RecoveryError as err:
                outcomes["unrec"] += 1
                reasons[str(err).split(": ", 1)[-1][:150]] += 1
                continue
            lost = report.entries_kept < run.flushed
            outcomes["lost" if lost else "ok"] += 1
            if lost:
                reasons[f"kept {report.entries_kept} of {run.flushed} flushed: {report.reasons}"] += 1
    print(f"V{version} {kind}: {dict(outcomes)}")
    for reason, times in reasons.most_common():
        print(f"    {times} x {reason}")
    return outcomes


if __name__ == "__main__":
    arguments = sys.argv[1:]
    survey(int(arguments[0]), arguments[1], int(arguments[2]), int(arguments[3]) if len(arguments) > 3 else 1)
