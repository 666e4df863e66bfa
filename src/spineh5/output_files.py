"""The output files of one :class:`~spineh5.writer.HDF5Writer`: create, reopen, finalize, close.

:class:`OutputFiles` is the only code that opens or creates the files a
writer writes. It

* removes (``overwrite``) or refuses existing files when the writer is made;
* creates a file the first time an entry goes to it (``info``, the products
  and an empty ``events``, through the layout's ``create``), or, when
  appending, checks that the existing file can take the data and reopens it;
* keeps the handles open between batches (``keep_open``) and refuses to use
  them from another process than the one that opened them;
* holds the advisory write lock of each file (:class:`~spineh5.file_lock.WriteLock`)
  from its first use to its finalization or :meth:`OutputFiles.close`, and
  refuses, when the writer is made, a path another writer holds (before
  ``overwrite`` could delete that writer's file);
* writes a new file under its hidden partial name (``.<name>.partial``,
  :mod:`.publishing`) unless ``publish="in_place"``, flushes its structure
  before the first rows, and publishes it (fsync, rename, fsync folder) when
  it is finalized; an append to an existing file writes it in place;
* marks a file complete through the layout's ``mark_complete`` when it is
  finalized, and closes the handles; on SIGTERM/SIGINT
  (:mod:`.signal_guard`) it closes every file, leaving partials whole.

``overwrite=True`` never deletes an existing final file early: the new file
replaces it when it is published (``publish="in_place"`` deletes it when the
writer is made, as before). A partial left by a killed writer is refused
unless ``overwrite=True`` (which discards it): ``spineh5 recover`` publishes
what it holds.

``info.complete`` is written only here: False among the attributes of a new
file (:func:`info_attrs`), False again when an appending writer reopens a
file, True when the file is finalized.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

import h5py

from . import signal_guard
from .errors import FileStateError, LayoutMismatchError, OutputExistsError
from .file_lock import WriteLock, holder
from .file_structure import SPINE_VERSION, WRITER, info_attrs, initialize, record_cfg, schema_differences
from .format.common import EVENTS
from .h5io import allocate_chunk_indexes
from .layouts import file_format_version
from .products import ProductSpec
from .publishing import creating_path, fsync_directory, partial_path, publish

#: How new files are written: under their partial name then published, or in place under the final name.
PUBLISH_MODES = ("atomic", "in_place")

__all__ = ["PUBLISH_MODES", "SPINE_VERSION", "WRITER", "OutputFiles", "info_attrs", "initialize"]


class OutputFiles:
    """The files one writer writes, by file id (position in ``file_names``).

    Parameters
    ----------
    file_names : list of str
        Output paths.
    layout : type
        Layout class of the files (its ``format_version`` is the one written).
    append : bool
        Append to existing files instead of refusing them.
    overwrite : bool
        Replace existing files (when the new one is published; at once with
        ``publish="in_place"``) and discard partials left by killed writers.
    keep_open : bool
        Keep handles open between batches (else open and close at every use).
    publish : {'atomic', 'in_place'}, default 'atomic'
        Write a new file under its partial name and rename it on
        finalization, or write it under its final name from the start (for
        users who watch a file grow).

    Raises
    ------
    OutputExistsError
        When a file exists and neither ``overwrite`` nor ``append`` is set.
    FileStateError
        When another writer holds a file's advisory lock (it is being
        written), or a killed writer left its partial and ``overwrite`` is not set.
    """

    def __init__(
        self,
        file_names: list[str],
        layout: type,
        append: bool,
        overwrite: bool,
        keep_open: bool,
        publish: str = "atomic",
    ) -> None:
        if publish not in PUBLISH_MODES:
            raise ValueError(f"publish must be one of {PUBLISH_MODES}, got {publish!r}")
        self.file_names = file_names
        self.layout = layout
        self.append = append
        self.keep_open = keep_open
        self.publish = publish
        #: Where each created file is written until it is finalized (its partial name, or its final name).
        self.writing: dict[int, str] = {}
        #: Ids of the files created (or checked and reopened, when appending).
        self.created: set[int] = set()
        #: Ids of the files marked complete; they take no more entries.
        self.finalized: set[int] = set()
        #: Open handles by file id (``keep_open``).
        self.handles: dict[int, h5py.File] = {}
        #: Process that opened the cached handles.
        self.handles_pid: int | None = None
        #: Advisory write locks by file id, taken when a file is first used.
        self.locks: dict[int, WriteLock] = {}
        for path in file_names:
            lock = WriteLock(path)
            if holder(path) is not None:
                lock.acquire()  # refuses, naming the holder
            _stale_partial(path, lock, overwrite)
            if os.path.exists(path):
                if overwrite and publish == "atomic":
                    pass  # replaced when the new file is published
                elif overwrite:
                    lock.acquire()  # no writer may hold the file we delete
                    try:
                        os.remove(path)
                    finally:
                        lock.release()
                elif not append:
                    raise OutputExistsError(f"output file {path} exists; pass overwrite=True or append=True")

    def where(self, file_id: int) -> str:
        """Return the path file ``file_id`` is written at now: its partial name until published, else its name."""
        return self.writing.get(file_id, self.file_names[file_id])

    # -- existing files ----------------------------------------------------------------------------

    def stored_spec(self, key: str) -> ProductSpec | None:
        """Return how the first existing output file holding ``key`` stores it, or None (appending writers)."""
        for path in self.file_names:
            if os.path.exists(path):
                with h5py.File(path, "r") as h5file:
                    layout = self.layout(h5file)
                    if key in layout.stored_keys():
                        return layout.stored_spec(key)
        return None

    def entry_count(self, file_id: int) -> int:
        """Return the entries output file ``file_id`` holds now (0 before it exists); used to name file entries."""
        path = self.where(file_id)
        handle = self.handles.get(file_id)
        if handle is not None and handle.id.valid:
            return self.layout(handle).entry_count()
        if (file_id in self.created or self.append) and os.path.exists(path):
            with h5py.File(path, "r") as h5file:
                return self.layout(h5file).entry_count()
        return 0

    def check_appendable(self, file_id: int, specs: dict[str, ProductSpec]) -> None:
        """Refuse an existing file not used yet if it cannot take data of ``specs`` (opened read-only).

        Raises
        ------
        LayoutMismatchError
            When the file is of another layout, has no ``events``, stores
            other products, or stores classes of another schema (the message
            names each class and its columns added, removed or changed).
        """
        path = self.file_names[file_id]
        if file_id in self.created or not (self.append and os.path.exists(path)):
            return
        with h5py.File(path, "r") as h5file:
            found = file_format_version(h5file)
            if found != self.layout.format_version:
                raise LayoutMismatchError(
                    f"cannot append to {path}: it is a format_version={found} file, "
                    f"this writer writes format_version={self.layout.format_version}"
                )
            layout = self.layout(h5file)
            if EVENTS not in h5file:
                raise LayoutMismatchError(f"cannot append to {path}: it has no {EVENTS!r} dataset")
            problems = schema_differences(h5file, specs) or layout.differences(specs)
        if problems:
            raise LayoutMismatchError(f"cannot append to {path}: " + "; ".join(problems))

    def refuse_finalized(self, file_ids: list[int]) -> None:
        """Refuse entries for a file that was finalized.

        Raises
        ------
        FileStateError
            When one of ``file_ids`` was finalized.
        """
        for file_id in file_ids:
            if file_id in self.finalized:
                raise FileStateError(f"{self.file_names[file_id]} was finalized; it cannot take more entries")

    # -- creation and handles ----------------------------------------------------------------------

    def ensure(
        self,
        file_id: int,
        specs: dict[str, ProductSpec],
        create: Callable[[h5py.File], None],
        cfg: dict | None = None,
    ) -> None:
        """Create the file (or check and reopen it, when appending) the first time it is used.

        Parameters
        ----------
        file_id : int
            The file.
        specs : dict
            ``{key: ProductSpec}`` the file must store (checked when appending).
        create : callable
            Fills a new, empty file (the writer's ``initialize_datasets``,
            which calls :func:`initialize`).
        cfg : dict, optional
            The session's configuration. Appending to an existing file whose
            latest configuration differs records it in ``info.cfg_history``.
        """
        if file_id in self.created:
            return
        path = self.file_names[file_id]
        if self.append and os.path.exists(path):
            self.check_appendable(file_id, specs)
            self.lock(file_id)
            handle = self.open(file_id)
            self.layout(handle).mark_complete(False)
            if cfg is not None:
                record_cfg(handle, cfg, self.layout(handle).entry_count())
        else:
            directory = os.path.dirname(path)
            if directory:
                os.makedirs(directory, exist_ok=True)
            self.check_handle_pid()
            self.lock(file_id)
            self.writing[file_id] = partial_path(path) if self.publish == "atomic" else path
            # The structure is made under a hidden name, flushed, then renamed to the name the file is written
            # under: a kill before the rename leaves no file there, a kill after it a readable, empty file.
            creating = creating_path(self.writing[file_id])
            with contextlib.suppress(FileNotFoundError):
                os.remove(creating)  # left by a writer killed while making it (we hold the lock): no data
            with h5py.File(creating, "w") as handle:
                create(handle)
                allocate_chunk_indexes(handle)
            os.replace(creating, self.writing[file_id])
            fsync_directory(os.path.dirname(self.writing[file_id]))
            handle = None
            if self.keep_open:
                handle = self.open(file_id)
        if handle is not None:
            self.release(handle)
        self.created.add(file_id)

    def check_handle_pid(self) -> None:
        """Refuse to use open handles from another process (SPINE's guard: handles are process-local).

        A forked child writing through, or reopening, a file its parent holds
        open would corrupt it. Files without open handles may be used by any
        one process.

        Raises
        ------
        FileStateError
            When the cached handles were opened by another process.
        """
        pid = os.getpid()
        if not self.handles or self.handles_pid is None:
            self.handles_pid = pid
        elif self.handles_pid != pid:
            raise FileStateError(
                f"HDF5Writer file handles are process-local: they were opened by process {self.handles_pid} "
                f"and cannot be used across process boundaries (this is process {pid})"
            )

    def lock(self, file_id: int) -> None:
        """Take the advisory write lock of a file (again, after :meth:`close`).

        Raises
        ------
        FileStateError
            When another writer holds it.
        """
        lock = self.locks.get(file_id)
        if lock is None:
            lock = self.locks[file_id] = WriteLock(self.file_names[file_id])
        lock.acquire()
        signal_guard.watch(self)

    def unlock(self, file_id: int) -> None:
        """Release the advisory write lock of a file, if held."""
        lock = self.locks.pop(file_id, None)
        if lock is not None:
            lock.release()

    def open(self, file_id: int) -> h5py.File:
        """Return an open handle on a created file (cached with ``keep_open``); give it back with :meth:`release`."""
        self.check_handle_pid()
        handle = self.handles.get(file_id)
        if handle is not None and handle.id.valid:
            return handle
        self.lock(file_id)
        handle = h5py.File(self.where(file_id), "a")
        if self.keep_open:
            self.handles[file_id] = handle
            self.handles_pid = os.getpid()
        return handle

    def release(self, handle: h5py.File) -> None:
        """Give back a handle of :meth:`open`: closed unless ``keep_open``."""
        if not self.keep_open:
            handle.close()

    @contextlib.contextmanager
    def opened(self, file_id: int) -> Iterator[h5py.File]:
        """Open a created file for the ``with`` block (:meth:`open`, then :meth:`release`)."""
        handle = self.open(file_id)
        try:
            yield handle
        finally:
            self.release(handle)

    # -- the end -----------------------------------------------------------------------------------

    def unfinished(self) -> list[int]:
        """Return the ids of the files created and not finalized, in order."""
        return sorted(self.created - self.finalized)

    def finalize_file(self, file_id: int) -> None:
        """Mark one file complete (``info.complete = True``), close it and publish it; it takes no more entries.

        A new file written under its partial name is then fsynced and renamed
        to its final name, and its folder fsynced
        (:func:`spineh5.publishing.publish`); it replaces an existing file of
        that name (``overwrite``). The advisory lock is released last. A
        signal arriving meanwhile waits until the file is published.
        """
        with signal_guard.critical():
            handle = self.open(file_id)
            self.layout(handle).mark_complete(True)
            handle.flush()
            handle.close()
            self.handles.pop(file_id, None)
            path, final = self.where(file_id), self.file_names[file_id]
            if path != final:
                publish(path, final)
                self.writing[file_id] = final
            self.finalized.add(file_id)
            self.unlock(file_id)

    def finalize(self) -> None:
        """Mark every file not yet finalized complete, then close every handle."""
        for file_id in self.unfinished():
            self.finalize_file(file_id)
        self.close()

    def flush(self) -> None:
        """Flush every open file to disk."""
        self.check_handle_pid()
        for handle in self.handles.values():
            if handle.id.valid:
                handle.flush()

    def close(self) -> None:
        """Close open files without marking them complete; new files stay under their partial names.

        The same writer reopens them on a later call; ``spineh5 recover``
        publishes what a partial holds. In a process other than the one that
        opened them (a forked child),
        the handles are only dropped: closing them would flush this process's
        copy of the file state into a file the parent still writes. The
        advisory locks are released (a forked child only drops its copies).
        """
        if self.handles_pid is None or self.handles_pid == os.getpid():
            for handle in self.handles.values():
                if handle.id.valid:
                    handle.close()
        self.handles = {}
        self.handles_pid = None
        for file_id in list(self.locks):
            self.unlock(file_id)
        signal_guard.unwatch(self)


def _stale_partial(path: str, lock: WriteLock, overwrite: bool) -> None:
    """Discard (``overwrite``) or refuse the partial a killed writer left for ``path``.

    Raises
    ------
    FileStateError
        When the partial exists and ``overwrite`` is not set.
    """
    partial = partial_path(path)
    if not os.path.exists(partial):
        return
    if not overwrite:
        raise FileStateError(
            f"{partial} is left by a writer of {path} that did not finish: publish what it holds with "
            f"`spineh5 recover {partial} --out {path}`, or pass overwrite=True to discard it"
        )
    lock.acquire()  # no writer may hold the file we delete
    try:
        os.remove(partial)
    finally:
        lock.release()
