"""Columns of many instances of one generated class, read several columns at a time.

An instance of a generated class holds only values its converters checked (attrs
runs them on construction and on every assignment): Python floats, ints and
bools, enumeration members, and 1-D arrays of the column's dtype and length.
Their columns need no per-value checks, so they are read a group at a time:

* every numeric scalar column in one pass (one ``attrgetter`` over all their
  names, and one conversion of the rows to a structured array);
* each fixed-length column by joining its arrays' bytes in one call;
* each variable-length column as its arrays, as they are.

What converters cannot vouch for is still checked a whole column at a time:
enumeration members (objects rebuilt from a file hold unknown values as plain
ints), the arrays' dtypes and the total size of a fixed column. A column that
fails is left out of the result, and the caller builds it with
:func:`.columns.build_column`, which names the object and the problem; string
columns (checked for NUL characters) are always left to it.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from .columns import Column
from .elements import ENUM_ELEMENT, NUMPY_DTYPES

__all__ = ["instance_columns"]

_ENUM_NUMPY = NUMPY_DTYPES[ENUM_ELEMENT]
_DTYPE = operator.attrgetter("dtype")
_CONVERSION_ERRORS = (ValueError, TypeError, OverflowError)
#: Widest range of enumeration values checked through a lookup table.
_TABLE_SPAN = 4096


class _Plan:
    """How the columns of one class (one tuple of columns) are read: which go together, with what."""

    __slots__ = ("allowed", "fixed", "scalar_dtype", "scalar_getter", "scalars", "vlen")

    def __init__(self, columns: tuple[Column, ...]) -> None:
        self.scalars = tuple(c for c in columns if c.storage == "scalar" and c.dtype != "str")
        names = [c.name for c in self.scalars]
        self.scalar_getter = operator.attrgetter(*names) if len(names) > 1 else None
        self.scalar_dtype = np.dtype(
            [(c.name, _ENUM_NUMPY if c.enum is not None else c.numpy_dtype) for c in self.scalars]
        )
        self.allowed = {c.name: _members_table(c) for c in self.scalars if c.enum is not None}
        self.fixed = tuple((c, operator.attrgetter(c.name)) for c in columns if c.storage == "fixed")
        self.vlen = tuple((c, operator.attrgetter(c.name)) for c in columns if c.storage == "vlen")


#: Plans by the identity of the columns tuple (a class's ``_LITE_COLUMNS`` or ``_FULL_COLUMNS``).
_PLANS: dict[int, tuple[tuple[Column, ...], _Plan]] = {}


def _plan(columns: tuple[Column, ...]) -> _Plan:
    entry = _PLANS.get(id(columns))
    if entry is None or entry[0] is not columns:
        if len(_PLANS) > 1024:
            _PLANS.clear()
        entry = _PLANS[id(columns)] = (columns, _Plan(columns))
    return entry[1]


def instance_columns(cls: type, objects: Sequence[Any], columns: tuple[Column, ...]) -> dict[str, np.ndarray]:
    """Return the arrays of the ``columns`` of ``objects`` that can be read in groups, by name.

    Parameters
    ----------
    cls : type
        The generated class.
    objects : sequence
        The rows. Unless every one is an instance of exactly ``cls``, nothing is read (an empty dict).
    columns : tuple of Column
        The columns wanted (``cls._FULL_COLUMNS`` or ``cls._LITE_COLUMNS``).

    Returns
    -------
    dict
        Scalar columns as 1-D arrays (``int64`` for enumerations), fixed columns as
        ``(N, length)`` arrays, variable-length columns as object arrays of the rows'
        arrays; the columns left out must be built one column at a time.
    """
    count = len(objects)
    if not count or set(map(type, objects)) != {cls}:
        return {}
    plan = _plan(columns)
    out: dict[str, np.ndarray] = {}
    if plan.scalar_getter is not None:
        out.update(_scalars(plan, objects))
    for column, getter in plan.fixed:
        built = _fixed(column, list(map(getter, objects)))
        if built is not None:
            out[column.name] = built
    for column, getter in plan.vlen:
        values = list(map(getter, objects))
        try:
            ready = set(map(_DTYPE, values)) <= {column.numpy_dtype}
        except AttributeError:
            ready = False
        if ready:
            out[column.name] = np.fromiter(values, dtype=object, count=count)
    return out


def _scalars(plan: _Plan, objects: Sequence[Any]) -> dict[str, np.ndarray]:
    """Return every numeric scalar column, from one structured array of the objects' values."""
    try:
        rows = np.array(list(map(plan.scalar_getter, objects)), dtype=plan.scalar_dtype)
    except _CONVERSION_ERRORS:
        return {}
    out = {}
    for column in plan.scalars:
        values = rows[column.name]
        allowed = plan.allowed.get(column.name)
        if allowed is not None and not _all_members(values, *allowed):
            continue  # an unknown value: build_column names it
        out[column.name] = values
    return out


def _members_table(column: Column) -> tuple[int, np.ndarray]:
    """Return the smallest member value of an enumeration and a table of which values from it on are members.

    Members spread over more than :data:`_TABLE_SPAN` values get the members themselves (checked with ``isin``).
    """
    values = np.fromiter((int(member) for member in column.enum), dtype=_ENUM_NUMPY)
    low = int(values.min())
    if int(values.max()) - low >= _TABLE_SPAN:
        return low, values
    table = np.zeros(int(values.max()) - low + 1, dtype=bool)
    table[values - low] = True
    return low, table


def _all_members(values: np.ndarray, low: int, table: np.ndarray) -> bool:
    """Return whether every value is a member (``numpy.isin`` costs ~30x more on a batch's few hundred rows)."""
    if not len(values):
        return True
    if table.dtype != bool:
        return bool(np.isin(values, table).all())
    shifted = values - low
    return bool(shifted.min() >= 0 and shifted.max() < len(table) and table[shifted].all())


def _fixed(column: Column, values: list) -> np.ndarray | None:
    """Return the ``(N, length)`` array of a fixed column's 1-D arrays, or None when they are not all of its dtype."""
    target = column.numpy_dtype
    try:
        if not set(map(_DTYPE, values)) <= {target}:
            return None
        data = bytearray().join(values)  # a writable buffer; refuses arrays that are not contiguous
    except (AttributeError, TypeError, BufferError):
        return None
    if len(data) != len(values) * column.length * target.itemsize:
        return None
    return np.frombuffer(data, dtype=target).reshape(len(values), column.length)
