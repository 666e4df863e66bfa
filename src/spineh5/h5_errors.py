"""h5py's exceptions on a damaged file, turned into one-line :class:`~spineh5.errors.SpineFileError`.

HDF5 reports damaged metadata through whichever Python exception h5py maps
its error class to: ``RuntimeError`` (``bad symbol table node signature``),
``OSError`` (``ran off end of input buffer``), ``KeyError``, ``ValueError`` or
``TypeError``. :data:`H5_ERRORS` is that set, and :func:`translated` the one
place that turns them into :class:`SpineFileError` naming the file, the
product and the entry.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from .errors import SpineFileError

__all__ = ["H5_ERRORS", "h5_problem", "translated", "translating"]

_Result = TypeVar("_Result")

#: The exceptions h5py raises for a damaged file.
H5_ERRORS = (OSError, RuntimeError, KeyError, ValueError, TypeError)


def h5_problem(err: BaseException) -> str:
    """Return ``cannot be read (<type>: <first line>)`` for one of h5py's exceptions."""
    text = str(err).strip()
    return f"cannot be read ({type(err).__name__}: {text.splitlines()[0] if text else 'no reason given'})"


@contextlib.contextmanager
def translated(path: str | None, key: str | None = None, entry: int | None = None) -> Iterator[None]:
    """Turn h5py's exceptions raised inside the block into :class:`SpineFileError` (spineh5's own pass)."""
    try:
        yield
    except SpineFileError:
        raise
    except H5_ERRORS as err:
        raise SpineFileError(h5_problem(err), path, key, entry) from err


def translating(function: Callable[..., _Result]) -> Callable[..., _Result]:
    """Wrap a function whose first argument is an open h5py file: h5py's exceptions become SpineFileError."""

    @functools.wraps(function)
    def wrapper(h5file: Any, *args: Any, **kwargs: Any) -> _Result:
        with translated(getattr(h5file, "filename", None)):
            return function(h5file, *args, **kwargs)

    return wrapper
