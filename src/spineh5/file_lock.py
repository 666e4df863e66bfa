"""Advisory write locks beside output files, and the message a locked file gets.

A writer holds :class:`WriteLock` on each file it writes: ``.<name>.lock`` in
the file's folder, holding the writer's pid, host and start time, locked with
``fcntl.flock`` on a descriptor kept open for the writer's life. The lock
works where HDF5's own file locking is off (``HDF5_USE_FILE_LOCKING=FALSE``,
usual on Lustre and NFS), and the kernel releases it when the process dies
(a SIGKILLed writer leaves a lock file nobody holds, which the next writer
takes). The lock file is removed when the lock is released.

* :class:`WriteLock`: take (:meth:`WriteLock.acquire`) and release one lock;
* :func:`holder`: the pid of the process holding a file's lock, or None;
* :func:`locked_problem`: the one-line reason a reader gives for a file that
  is open for writing elsewhere (HDF5's ``unable to lock file`` or a held
  advisory lock), or None.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import fcntl
import json
import os
import socket

from .errors import FileStateError
from .publishing import final_path, is_partial

__all__ = ["WriteLock", "holder", "lock_path", "locked_problem"]

#: Errors meaning the folder or file system takes no lock file (the writer then goes without one).
_NO_LOCKS = (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS)
#: Locks held by this process, by real path (``flock`` may not refuse a second lock of one process on NFS).
_HELD: set[str] = set()


def lock_path(path: str) -> str:
    """Return the advisory lock file of ``path``: ``.<name>.lock`` in the same folder.

    A partial name (``.<name>.partial``) has the lock of its final name: the
    writer locks the final path while it writes the partial.
    """
    if is_partial(path):
        path = final_path(path)
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{name}.lock")


def _describe(pid: int | None) -> str:
    if pid == os.getpid():
        return f"another writer of this process (pid {pid})"
    return f"another process (pid {pid})" if pid is not None else "another process"


def _read_pid(fd: int) -> int | None:
    """Return the pid recorded in an open lock file, or None."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        record = json.loads(os.read(fd, 4096).decode("utf-8") or "{}")
        pid = record.get("pid")
        return int(pid) if pid is not None else None
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def holder(path: str) -> int | None:
    """Return the pid of the process writing ``path`` (its advisory lock is held), or None.

    A lock file left by a killed writer is held by nobody: None. When the
    holder is known to hold the lock but wrote no pid, ``-1``.
    """
    lock = lock_path(path)
    if os.path.realpath(lock) in _HELD:
        return os.getpid()
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            return pid if pid is not None else -1
        except OSError:
            return None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def locked_problem(path: str, err: BaseException | None = None) -> str | None:
    """Return why ``path`` cannot be read now if another process writes it, else None.

    Parameters
    ----------
    path : str
        The file.
    err : exception, optional
        What opening it raised; HDF5's ``unable to lock file`` means a writer
        holds it even without an advisory lock.

    Returns
    -------
    str or None
        ``open for writing by another process (pid N); retry later, or read
        what is flushed with ignore_incomplete=True``.
    """
    hdf5_locked = err is not None and "unable to lock file" in str(err)
    pid = holder(path)
    if pid == os.getpid():
        pid = None  # this process's own writer: HDF5 lets it read the file
    if pid is None and not hdf5_locked:
        return None
    text = f"open for writing by {_describe(pid if pid != -1 else None)}; retry later, or read what is flushed with "
    text += "ignore_incomplete=True"
    if hdf5_locked:
        text += " (with HDF5_USE_FILE_LOCKING=FALSE: HDF5 locks the file while it is written)"
    return text


class WriteLock:
    """The advisory write lock of one output file, taken by :meth:`acquire`.

    Parameters
    ----------
    path : str
        The output file (the lock is :func:`lock_path` of it).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = lock_path(path)
        self._fd: int | None = None
        self._pid: int | None = None

    @property
    def held(self) -> bool:
        """Whether this process holds the lock (a forked child shares its parent's: ``flock`` locks are)."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock, or refuse: another writer has the file open.

        A folder that takes no lock file (read-only, or a file system
        without ``flock``) leaves the file unlocked.

        Raises
        ------
        FileStateError
            When another writer (in this process or another) holds the lock.
        """
        if self.held:
            return
        real = os.path.realpath(self.lock)
        if real in _HELD:
            raise self._refusal(os.getpid())
        while True:
            try:
                fd = os.open(self.lock, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as err:
                if err.errno in _NO_LOCKS:
                    return
                raise
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid = _read_pid(fd)
                os.close(fd)
                raise self._refusal(pid) from None
            except OSError as err:
                os.close(fd)
                if err.errno in _NO_LOCKS:
                    return
                raise
            if _same_file(fd, self.lock):
                break
            os.close(fd)  # the holder removed the lock file between our open and flock: take the new one
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "file": os.path.abspath(self.path),
        }
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(record).encode("utf-8"))
        self._fd, self._pid = fd, os.getpid()
        _HELD.add(real)

    def release(self) -> None:
        """Remove the lock file and release the lock (a forked child only drops its copy of the descriptor)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if self._pid == os.getpid():
            _HELD.discard(os.path.realpath(self.lock))
            with contextlib.suppress(OSError):
                if _same_file(fd, self.lock):
                    os.remove(self.lock)
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
        with contextlib.suppress(OSError):
            os.close(fd)
        self._pid = None

    def _refusal(self, pid: int | None) -> FileStateError:
        return FileStateError(
            f"{self.path} is open for writing elsewhere, by {_describe(pid)} (lock {self.lock}); "
            "finalize or close that writer first"
        )


def _same_file(fd: int, path: str) -> bool:
    """Return whether the open descriptor ``fd`` is the file at ``path`` now."""
    try:
        here, there = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)
