"""One ``validate`` run: open the file, tell its layout, check ``info``, then run the layout's checks."""

from __future__ import annotations

import os
from collections.abc import Callable

import h5py

from ..describe import open_file
from ..errors import FileOpenError
from ..format.common import DEFAULT_FORMAT_VERSION
from ..layouts import REGISTRY
from . import v1, v2
from .context import Context
from .info import check_info
from .layout import checked_layout
from .problems import ERROR, Problem
from .rules import rule
from .unfinished import finding, trimmed_copy, unfinished_batch

__all__ = ["LAYOUT_CHECKS", "validate"]

FILE_UNREADABLE = rule("file.unreadable", "the path is not a readable HDF5 file (missing, not HDF5, truncated)")

#: The checks of each layout of :data:`spineh5.layouts.REGISTRY`, by ``format_version``.
LAYOUT_CHECKS: dict[int, Callable[[Context], None]] = {1: v1.check_file, 2: v2.check_file}


def validate(path: str | os.PathLike) -> list[Problem]:
    """Check one file; return every problem found (empty for a sound file).

    The leftovers of an unfinished batch (:mod:`.unfinished`) are one
    ``file.unfinished_batch`` finding; the other checks then run on a
    temporary trimmed copy (the file is copied once).

    Parameters
    ----------
    path : str or path-like
        The file to check.

    Returns
    -------
    list of Problem
        Errors and warnings, in the order the checks ran.
    """
    try:
        h5file = open_file(path)
    except FileOpenError as err:
        return [Problem(ERROR, "file", FILE_UNREADABLE.id, str(err))]
    with h5file:
        plan = unfinished_batch(h5file, os.fspath(path))
        if plan is None:
            return _check(h5file)
    try:
        with trimmed_copy(os.fspath(path), plan) as copy:
            return [finding(os.fspath(path), plan), *validate(copy)]
    except (OSError, RuntimeError, ValueError, KeyError):  # the copy cannot be trimmed: check the file as it is
        with open_file(path) as h5file:
            return _check(h5file)


def _check(h5file: h5py.File) -> list[Problem]:
    """Run the checks of ``info`` and of the file's layout."""
    ctx = Context(h5file)
    layout = ctx.guarded("/info", checked_layout)
    if layout is not None:
        ctx.guarded("/info", check_info, layout)
    # what a layout's checks do not guard themselves (a group that cannot be listed) is one read.failed
    ctx.guarded("file", LAYOUT_CHECKS[(layout or REGISTRY[DEFAULT_FORMAT_VERSION]).version])
    return ctx.problems
