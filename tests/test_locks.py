"""Concurrent access (issue 17 item 8): one writer per output file, and readers told that a file is being written.

A writer takes an advisory lock beside its file (``.<name>.lock``) when it
first writes to it. A second writer, in this process or another,
``overwrite=True`` included, is refused with a message naming the file, with
HDF5's own locking on or off. The lock goes with ``finalize``/``close`` and
with the process (SIGKILL included). Readers, ``validate`` and ``inspect`` of
a file being written say so instead of calling it damaged. Every subprocess
is bounded by a timeout.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from spineh5 import HDF5Reader, HDF5Writer
from spineh5.cli import main
from spineh5.errors import FileStateError, SpineFileError
from spineh5.file_lock import holder, lock_path
from spineh5.publishing import partial_path

TIMEOUT = 60
SRC = str(Path(__file__).resolve().parents[1] / "src")

#: Writes one batch of 3 entries to argv[1], says READY, waits for stdin to close, writes 3 more and finalizes.
HOLDER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from spineh5 import HDF5Writer

    def batch(start):
        return {"index": list(range(start, start + 3)), "points": [np.full((2, 3), i, np.float32) for i in range(3)]}

    writer = HDF5Writer(sys.argv[1], overwrite=True, flush_frequency=1)
    writer(batch(0))
    print("READY", flush=True)
    sys.stdin.read()
    writer(batch(3))
    writer.finalize()
    print("DONE", flush=True)
    """
)

#: Tries to write argv[1] with the options of argv[2] (overwrite or append); prints REFUSED: <message> or WROTE.
SECOND = textwrap.dedent(
    """
    import sys
    import numpy as np
    from spineh5 import HDF5Writer
    from spineh5.errors import SpineH5Error

    try:
        writer = HDF5Writer(sys.argv[1], **{sys.argv[2]: True})
        writer({"index": [0], "points": [np.zeros((1, 3), np.float32)]})
        writer.finalize()
    except SpineH5Error as err:
        print("REFUSED:", err, flush=True)
    else:
        print("WROTE", flush=True)
    """
)


def _env(hdf5_locking: bool) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("HDF5_USE_FILE_LOCKING", None)
    if not hdf5_locking:
        env["HDF5_USE_FILE_LOCKING"] = "FALSE"
    return env


def _start_holder(path: Path, hdf5_locking: bool = True) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(hdf5_locking),
    )
    line = process.stdout.readline()  # bounded: the holder writes 3 entries, then says READY
    assert line.strip() == "READY", (line, process.stderr.read() if process.poll() is not None else "")
    return process


def _finish(process: subprocess.Popen) -> str:
    out, err = process.communicate("", timeout=TIMEOUT)
    assert process.returncode == 0, err
    return out


def _second(path: Path, option: str, hdf5_locking: bool) -> str:
    result = subprocess.run(
        [sys.executable, "-c", SECOND, str(path), option],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=_env(hdf5_locking),
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _batch(start: int, n: int = 3) -> dict:
    return {"index": list(range(start, start + n)), "points": [np.full((2, 3), i, np.float32) for i in range(n)]}


def _entries(path: Path) -> list[int]:
    with HDF5Reader(str(path)) as reader:
        return [int(reader.raw(i, "index")) for i in range(len(reader))]


@pytest.mark.parametrize("hdf5_locking", [True, False], ids=["hdf5-locking", "HDF5_USE_FILE_LOCKING=FALSE"])
def test_a_second_writer_in_another_process_is_refused(tmp_path: Path, hdf5_locking: bool) -> None:
    path = tmp_path / "out.h5"
    process = _start_holder(path, hdf5_locking)
    try:
        for option in ("overwrite", "append"):
            answer = _second(path, option, hdf5_locking)
            assert answer.startswith("REFUSED:"), answer
            assert str(path) in answer and "open for writing elsewhere" in answer
            assert f"pid {process.pid}" in answer
    finally:
        out = _finish(process)
    assert "DONE" in out
    assert _entries(path) == list(range(6))  # the first writer's file is intact
    assert _second(path, "append", hdf5_locking) == "WROTE"  # and free once finalized
    assert len(_entries(path)) == 7


def test_a_second_writer_in_this_process_is_refused_and_the_first_file_kept(tmp_path: Path) -> None:
    path = tmp_path / "out.h5"
    first = HDF5Writer(str(path))
    first(_batch(0))
    with pytest.raises(FileStateError, match="open for writing elsewhere") as refusal:
        HDF5Writer(str(path), overwrite=True)
    assert str(path) in str(refusal.value) and "this process" in str(refusal.value)
    assert os.path.exists(partial_path(path))
    with pytest.raises(FileStateError, match="open for writing elsewhere"):
        HDF5Writer(str(path), append=True)
    first(_batch(3))
    first.finalize()
    assert _entries(path) == list(range(6))


def test_the_lock_goes_with_finalize_and_close(tmp_path: Path) -> None:
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path))
    writer(_batch(0))
    assert os.path.exists(lock_path(str(path))) and holder(str(path)) == os.getpid()
    writer.finalize()
    assert not os.path.exists(lock_path(str(path))) and holder(str(path)) is None
    appender = HDF5Writer(str(path), append=True, keep_open=False)
    appender(_batch(3))
    assert holder(str(path)) == os.getpid()
    appender.close()
    assert holder(str(path)) is None
    with HDF5Writer(str(path), overwrite=True) as writer:
        writer(_batch(0, 2))
    assert _entries(path) == [0, 1]


def test_a_killed_writer_does_not_block_the_next(tmp_path: Path) -> None:
    path = tmp_path / "out.h5"
    process = _start_holder(path)
    assert holder(str(path)) == process.pid
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=TIMEOUT)
    assert os.path.exists(lock_path(str(path)))  # left behind, held by nobody
    assert holder(str(path)) is None
    with HDF5Writer(str(path), overwrite=True) as writer:
        writer(_batch(0, 2))
    assert _entries(path) == [0, 1]
    assert not os.path.exists(lock_path(str(path)))


def _cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return result.output


@pytest.mark.parametrize("hdf5_locking", [True, False], ids=["hdf5-locking", "HDF5_USE_FILE_LOCKING=FALSE"])
def test_readers_say_a_file_is_being_written(tmp_path: Path, hdf5_locking: bool) -> None:
    path = tmp_path / "out.h5"
    process = _start_holder(path, hdf5_locking)
    expected = f"open for writing by another process (pid {process.pid}); retry later"
    partial = partial_path(path)  # where the file is written until it is finalized
    try:
        for command in ("validate", "inspect"):
            output = _cli(command, partial)
            assert expected in output and "damaged" not in output, output
        if hdf5_locking:  # HDF5 refuses to open it: the reader says why
            with pytest.raises(SpineFileError, match=r"open for writing by another process \(pid \d+\)") as err:
                HDF5Reader(partial)
            assert "ignore_incomplete=True" in str(err.value) and "damaged" not in str(err.value)
        else:  # what is flushed can be read
            with HDF5Reader(partial, ignore_incomplete=True) as reader:
                assert len(reader) == 3
    finally:
        _finish(process)
    assert _entries(path) == list(range(6))
