"""What a writer process leaves when it is stopped: SIGTERM and SIGINT (handled), SIGKILL during the first batch.

Each test runs a child process that writes batches of 3 entries with the default settings (entry i holds
points of value i) and prints the entries written after each batch. Seeded and bounded in time.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from spineh5 import HDF5Reader
from spineh5.file_lock import lock_path
from spineh5.publishing import partial_path

TIMEOUT = 60
SRC = str(Path(__file__).resolve().parents[1] / "src")

#: argv: path, format version, mode ('run': write until stopped; 'first': SIGKILL itself inside the first batch).
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    from spineh5 import HDF5Writer, h5io

    path, version, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's default, even if the parent ignores SIGINT

    def batch(start):
        entries = range(start, start + 3)
        return {"index": list(entries), "points": [np.full((i % 4 + 1, 3), i, np.float32) for i in entries]}

    if mode == "first":
        original, calls = h5io.append_rows, []

        def append_rows(*args, **kwargs):
            calls.append(1)
            if len(calls) == 3:  # the third dataset of the first batch
                os.kill(os.getpid(), signal.SIGKILL)
            return original(*args, **kwargs)

        h5io.append_rows = append_rows
    writer = HDF5Writer(path, format_version=version)
    for start in range(0, 30000, 3):
        writer(batch(start))
        print(start + 3, flush=True)
    """
)


def _start(path: Path, version: int, mode: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(version), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _entries(path: str) -> list[int]:
    with HDF5Reader(path, ignore_incomplete=True) as reader:
        return [int(reader[i]["points"][0, 0]) for i in range(len(reader))]


@pytest.mark.parametrize("version", [1, 2], ids=["v1", "v2"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_writer_leaves_a_partial_of_whole_events_and_dies_by_the_signal(tmp_path, signum, version):
    rng = random.Random(1700 + signum * 10 + version)
    batches = rng.randint(2, 8)
    path = tmp_path / "out.h5"
    process = _start(path, version, "run")
    try:
        for _ in range(batches):
            line = process.stdout.readline()
            assert line, process.stderr.read()
        written = int(line)
        process.send_signal(signum)
        _out, err = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signum, err
    if signum == signal.SIGINT:
        assert "KeyboardInterrupt" in err
    partial = partial_path(path)
    assert not path.exists() and os.path.exists(partial)
    assert not os.path.exists(lock_path(str(path)))  # the files were closed, the lock released
    entries = _entries(partial)
    assert len(entries) >= written and len(entries) % 3 == 0  # whole batches: the one in flight completed
    assert entries == list(range(len(entries)))


@pytest.mark.parametrize("version", [1, 2], ids=["v1", "v2"])
def test_a_kill_during_the_first_batch_leaves_a_readable_empty_file(tmp_path, version):
    path = tmp_path / "out.h5"
    process = _start(path, version, "first")
    try:
        _out, err = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL, err
    partial = partial_path(path)
    assert not path.exists()
    with HDF5Reader(partial, ignore_incomplete=True) as reader:
        assert len(reader) == 0 and "points" in reader.keys
