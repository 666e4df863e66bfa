"""Exceptions raised by the spineh5 runtime."""

from __future__ import annotations


class SpineH5Error(Exception):
    """Base class of every error spineh5 raises on purpose."""


class ProductError(SpineH5Error, ValueError):
    """A product of a batch cannot be written; nothing of that batch was written.

    Attributes
    ----------
    key : str
        The product (data key).
    entry : int or None
        Position of the entry in the batch, when the problem is in one entry.
    field : str or None
        The object field, when the problem is in one column.
    """

    def __init__(self, key: str, problem: str, entry: int | None = None, field: str | None = None) -> None:
        self.key = key
        self.entry = entry
        self.field = field
        self.problem = problem
        where = f"product {key!r}"
        if entry is not None:
            where += f", entry {entry}"
        super().__init__(f"{where}: {problem}")


class LayoutMismatchError(SpineH5Error, ValueError):
    """An existing file does not hold the products, kinds or dtypes of the incoming data."""


class FileStateError(SpineH5Error, RuntimeError):
    """The writer was asked to do something its files' state does not allow."""
