"""Opening a file to describe it: one-line reasons for paths that are not HDF5, and its read layout."""

from __future__ import annotations

import os
import warnings
import weakref

import h5py

from ..errors import FileOpenError
from ..file_lock import locked_problem
from ..layouts import ReadLayout, read_layout
from ..open_problems import open_problem

__all__ = ["entry_layout", "first_line", "open_file"]

#: The read layout of each open file described (built once per file).
_READ_LAYOUTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def open_file(path: str | os.PathLike) -> h5py.File:
    """Open an HDF5 file read-only, or raise :class:`FileOpenError` with a one-line reason.

    A file HDF5 cannot open is told as truncated (``truncated: 50.0 MB of
    233.8 MB present``) or damaged by :func:`spineh5.open_problems.open_problem`.
    A file another process is writing (its advisory lock is held, or HDF5
    refuses to lock it) is told as ``open for writing by another process
    (pid N); retry later, ...`` (:func:`spineh5.file_lock.locked_problem`),
    whether or not HDF5's own locking lets it open.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileOpenError("no such file")
    if os.path.isdir(path):
        raise FileOpenError("is a directory, not an HDF5 file")
    try:
        signature = h5py.is_hdf5(path)
    except OSError as err:
        raise FileOpenError(f"cannot read: {first_line(err)}") from None
    locked = locked_problem(path)
    if locked is not None:
        raise FileOpenError(locked)
    if not signature:
        size = os.path.getsize(path)
        raise FileOpenError("empty file, not HDF5" if size == 0 else "not an HDF5 file (no HDF5 signature)")
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise FileOpenError(locked_problem(path, err) or open_problem(path, err)) from None


def first_line(err: BaseException) -> str:
    """Return the first line of an exception's message (its type name when it has none)."""
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]


def entry_layout(h5file: h5py.File) -> ReadLayout:
    """Return the read layout that decodes the entries of an open file (:func:`spineh5.layouts.read_layout`).

    Built once per open file. Members the read layout leaves out (groups
    under ``products`` that are not V2 products) are not warned about: the
    summary shows them.

    Raises
    ------
    SpineFileError
        When the file's layout is not supported or its entries cannot be read.
    """
    layout = _READ_LAYOUTS.get(h5file)
    if layout is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layout = _READ_LAYOUTS[h5file] = read_layout(h5file, h5file.filename)
    return layout
