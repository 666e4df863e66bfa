"""The state one ``validate`` run shares between its checks: the open file, what was learnt, the problems."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import h5py
import numpy as np

from .problems import ERROR, WARNING, Problem
from .rules import Rule, registered, rule

__all__ = ["CHUNK_ROWS", "Context"]

#: Rows read at once when a check scans a whole dataset.
CHUNK_ROWS = 65536

READ_FAILED = rule("read.failed", "part of the file cannot be read (damaged data)")


@attrs.define
class Context:
    """The open file and the problems found so far.

    Attributes
    ----------
    file : h5py.File
        The file checked.
    problems : list of Problem
        Every problem reported, in order.
    entries : int or None
        The entry count, once ``events`` was read.
    keys : list of str
        V1: the ``events`` fields that are region references (the products).
    fields : tuple of str
        V1: every ``events`` field.
    rows : numpy.ndarray or None
        V1: the ``events`` rows of :attr:`keys`.
    """

    file: h5py.File
    problems: list[Problem] = attrs.Factory(list)
    entries: int | None = None
    keys: list[str] = attrs.Factory(list)
    fields: tuple[str, ...] = ()
    rows: np.ndarray | None = None

    def error(self, where: str, broken: Rule, message: str) -> None:
        """Report an error; ``broken`` must be a rule declared with :func:`~spineh5.validation.rules.rule`."""
        self.problems.append(Problem(ERROR, where, registered(broken).id, message))

    def warning(self, where: str, broken: Rule, message: str) -> None:
        """Report a warning; ``broken`` must be a rule declared with :func:`~spineh5.validation.rules.rule`."""
        self.problems.append(Problem(WARNING, where, registered(broken).id, message))

    def report(self, severity: str, where: str, broken: Rule, message: str) -> None:
        """Report a problem of either severity."""
        (self.error if severity == ERROR else self.warning)(where, broken, message)

    def guarded(self, where: str, check: Callable[..., Any], *args: Any) -> Any:
        """Run one check; a read failure becomes a ``read.failed`` problem instead of a traceback."""
        try:
            return check(self, *args)
        except (OSError, KeyError, ValueError, TypeError, RuntimeError, IndexError) as err:
            text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            self.error(where, READ_FAILED, f"cannot be read: {text}")
            return None
