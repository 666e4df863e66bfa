"""Running a check of a possibly hostile file in a worker process with a time budget.

HDF5 itself can loop forever on some damaged files (a corrupted region
reference, a variable-length string whose global heap entry was
overwritten), at 100% CPU inside C code that no Python-level timeout can
interrupt. ``spineh5 inspect`` and ``spineh5 validate`` therefore run their
checks through :func:`run_bounded`: in a forked child process that is killed
when it does not answer within the budget, the hang becoming one
:class:`CheckTimeoutError` (and a child killed by a signal, a segfault in
HDF5, one :class:`CheckCrashError`) instead of a stuck or dead command.

A budget of 0 (or None) runs the check in the calling process, which is also
what happens where ``os.fork`` is not available (Windows).
"""

from __future__ import annotations

import faulthandler
import os
import pickle
import select
import signal
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import SpineFileError

__all__ = ["DEFAULT_TIMEOUT", "CheckCrashError", "CheckTimeoutError", "run_bounded"]

#: Seconds ``inspect`` and ``validate`` give the checks of one file by default (a sound file of
#: several GB is checked within it; HDF5's loops on damaged metadata never end).
DEFAULT_TIMEOUT = 300.0

_Result = TypeVar("_Result")


class CheckTimeoutError(SpineFileError):
    """The checks of a file did not finish within their time budget (HDF5 looping on damaged metadata)."""


class CheckCrashError(SpineFileError):
    """The process checking a file died (HDF5 crashed on damaged metadata)."""


def _child(write_end: int, check: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """Run the check in the forked child, send its outcome through the pipe, and leave without cleanup."""
    code = 0
    try:
        faulthandler.disable()  # a crash is the parent's finding (CheckCrashError), not a dump on stderr
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            outcome: tuple[str, Any] = ("ok", check(*args))
        except BaseException as err:  # noqa: BLE001 - every outcome goes back to the parent, which re-raises it
            outcome = ("raised", err)
        try:
            data = pickle.dumps(outcome)
        except Exception as err:  # noqa: BLE001 - an unpicklable result or exception: send its text
            data = pickle.dumps(("raised", SpineFileError(f"{type(err).__name__}: {err}")))
        with os.fdopen(write_end, "wb") as stream:
            stream.write(data)
    except BaseException:  # noqa: BLE001 - the child must never return into the parent's code
        code = 1
    finally:
        os._exit(code)


def _receive(read_end: int, timeout: float) -> bytes | None:
    """Return every byte the child sent, or None when it sends nothing more within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([read_end], [], [], left)[0]:
            return None
        chunk = os.read(read_end, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def run_bounded(check: Callable[..., _Result], *args: Any, timeout: float | None, path: str | None = None) -> _Result:
    """Return ``check(*args)``, computed in a forked child given ``timeout`` seconds.

    Whatever ``check`` raises is raised here (its exceptions must pickle,
    as spineh5's and click's do). The child is forked with ``os.fork`` (it
    also works inside daemonic worker processes) and writes its pickled
    outcome to a pipe.

    Parameters
    ----------
    check : callable
        The work (it may open files and print nothing: its result is returned).
    *args
        Its arguments.
    timeout : float or None
        Seconds; 0 or None runs ``check`` in this process.
    path : str, optional
        The file checked, for the messages.

    Raises
    ------
    CheckTimeoutError
        When the child gives no answer within ``timeout`` (it is killed).
    CheckCrashError
        When the child dies without answering.
    """
    if not timeout or not hasattr(os, "fork"):
        return check(*args)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        _child(write_end, check, args)
    os.close(write_end)
    try:
        data = _receive(read_end, timeout)
    finally:
        os.close(read_end)
        if data is None or not data:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _, status = os.waitpid(pid, 0)
    if data:
        kind, value = pickle.loads(data)
        if kind == "ok":
            return value
        raise value
    if data is None:
        raise CheckTimeoutError(
            f"checks did not finish within {timeout:g} s and were stopped: HDF5 loops on damaged metadata "
            "(a corrupted reference or string heap); raise --timeout if the file is sound but huge",
            path,
        )
    signal_number = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    cause = f"killed by signal {signal_number}" if signal_number else f"exit code {os.waitstatus_to_exitcode(status)}"
    raise CheckCrashError(f"the process checking the file died ({cause}): HDF5 crashed on damaged metadata", path)
