"""Close the files of every writer on SIGTERM and SIGINT, then let the signal do what it would have done.

Batch systems send SIGTERM before SIGKILL at a job's wall-time limit, and a
user stops a job with Ctrl-C (SIGINT). While a writer has output files in
use (:class:`~spineh5.output_files.OutputFiles` calls :func:`watch` and
:func:`unwatch`), this module's handler is installed for both signals:

* outside a batch, it closes every writer's files at once (HDF5 flushes them
  on close; they hold whole events, as after every batch);
* inside a batch or a finalization (:func:`critical`), it waits until that
  work is done (a batch is bounded: validated before its first byte), then
  closes the files;
* a second signal while it waits acts at once, without touching the files:
  ``KeyboardInterrupt`` unwinds the batch in flight, whose append shrinks
  every dataset back (the ``with`` block then closes the files), and a
  default disposition kills the process with the files as last flushed;
* then the previous handlers are restored and the signal is delivered again:
  a previous Python handler is called (Python's default SIGINT handler raises
  ``KeyboardInterrupt``), and a default disposition kills the process by that
  signal, so the job's exit status says what happened.

New files stay under their partial names (``.<name>.partial``), which
``spineh5 recover`` publishes. Handlers are installed from the main thread
only (Python allows no other), never over a signal that is ignored
(``SIG_IGN``, e.g. under ``nohup``), and removed when no writer has files in
use, unless someone installed another handler since.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import weakref
from collections.abc import Iterator
from typing import Any

__all__ = ["SIGNALS", "critical", "installed", "unwatch", "watch"]

#: The signals a writer shuts down on.
SIGNALS = (signal.SIGTERM, signal.SIGINT)

#: Objects with a ``close()`` whose files are in use.
_watched: weakref.WeakSet = weakref.WeakSet()
#: Handlers found when ours were installed, by signal.
_previous: dict[int, Any] = {}
#: Batches and finalizations in flight (nested).
_depth = 0
#: A signal that arrived in flight and waits for the end of the work.
_pending: int | None = None


def installed() -> tuple[int, ...]:
    """Return the signals our handler is installed for now."""
    return tuple(sig for sig in SIGNALS if signal.getsignal(sig) is _handler)


def watch(files: Any) -> None:
    """Shut ``files`` down (``files.close()``) on SIGTERM/SIGINT until :func:`unwatch`; install the handler.

    A watched object that is garbage-collected without :func:`unwatch` stops
    being watched, and the handlers are restored once nothing is.
    """
    if files not in _watched:
        _watched.add(files)
        weakref.finalize(files, _forget)
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in SIGNALS:
        current = signal.getsignal(sig)
        if current is signal.SIG_IGN or current is _handler:
            continue
        signal.signal(sig, _handler)
        _previous[sig] = current


def _forget() -> None:
    """Restore the handlers once the last watched object is gone (run when one is garbage-collected)."""
    if not _watched:
        _restore()


def unwatch(files: Any) -> None:
    """Stop watching ``files``; restore the previous handlers when nothing is watched."""
    _watched.discard(files)
    if not _watched:
        _restore()


def _restore() -> None:
    """Put back the handlers found at installation, where ours is still the one installed."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig, previous in list(_previous.items()):
        if signal.getsignal(sig) is _handler:
            signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
        del _previous[sig]


@contextlib.contextmanager
def critical() -> Iterator[None]:
    """Hold a signal that arrives inside the block until the block ends (a batch, a finalization)."""
    global _depth, _pending
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _pending is not None:
            sig, _pending = _pending, None
            _shut_down(sig)


def _handler(signum: int, frame: Any) -> None:
    global _pending
    if _depth > 0 and _pending is None:
        _pending = signum  # finish the batch in flight first
        return
    _shut_down(signum, frame, close=_depth == 0)


def _shut_down(signum: int, frame: Any = None, close: bool = True) -> None:
    """Close every watched writer's files (``close``), restore the previous handlers, deliver the signal again."""
    global _pending
    _pending = None
    previous = _previous.get(signum, signal.SIG_DFL)
    if close:
        for files in list(_watched):
            with contextlib.suppress(Exception):
                files.close()
        _watched.clear()
    _restore()
    if callable(previous):
        previous(signum, frame)  # Python's default SIGINT handler raises KeyboardInterrupt
        return
    if previous is signal.SIG_IGN:
        return
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
