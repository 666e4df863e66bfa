"""Columns of many instances of one generated class, read several columns at a time.

An instance of a generated class holds only values its converters checked (attrs
runs them on construction and on every assignment): Python floats, ints and
bools, enumeration members, and 1-D arrays of the column's dtype and length.
Their columns need no per-value checks, so they are read a group at a time:

* the numeric scalar columns in two passes (one ``attrgetter`` over the names of
  the float columns and one ``fromiter`` to float64; the same for the others, to int64);
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
from itertools import chain
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

    __slots__ = ("allowed", "fixed", "floats", "integers", "vlen")

    def __init__(self, columns: tuple[Column, ...]) -> None:
        numeric = [c for c in columns if c.storage == "scalar" and c.dtype != "str"]
        #: Float columns, read as float64 (what their Python floats are), and the other numeric ones as int64.
        self.floats = _Scalars([c for c in numeric if c.numpy_dtype.kind == "f"], np.dtype(np.float64))
        self.integers = _Scalars([c for c in numeric if c.numpy_dtype.kind != "f"], _ENUM_NUMPY)
        self.allowed = {c.name: _members_table(c) for c in numeric if c.enum is not None}
        self.fixed = tuple((c, operator.attrgetter(c.name)) for c in columns if c.storage == "fixed")
        self.vlen = tuple((c, operator.attrgetter(c.name)) for c in columns if c.storage == "vlen")


class _Scalars:
    """Numeric scalar columns read together: one ``attrgetter`` over their names, one ``fromiter`` of one dtype."""

    __slots__ = ("columns", "dtype", "getter")

    def __init__(self, columns: list[Column], dtype: np.dtype) -> None:
        self.columns = tuple(columns)
        self.dtype = dtype
        self.getter = operator.attrgetter(*(c.name for c in columns)) if columns else None

    def read(self, objects: Sequence[Any]) -> np.ndarray | None:
        """Return the ``(N, columns)`` values, or None when one is not a number of the group's kind."""
        count, width = len(objects), len(self.columns)
        values = map(self.getter, objects)
        try:
            if width == 1:
                return np.fromiter(values, self.dtype, count).reshape(count, 1)
            return np.fromiter(chain.from_iterable(values), self.dtype, count * width).reshape(count, width)
        except _CONVERSION_ERRORS:
            return None


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
    """Return the numeric scalar columns: floats from one float64 read, the others from one int64 read.

    Converters vouch for the values' kinds and ranges; enumeration members (an unknown value read from
    a file stays a plain int), bools and narrower integers are still checked, a whole column at a time.
    """
    out = {}
    for group in (plan.floats, plan.integers):
        if not group.columns:
            continue
        rows = group.read(objects)
        if rows is None:
            continue
        for position, column in enumerate(group.columns):
            values = rows[:, position]
            target = column.numpy_dtype if column.enum is None else _ENUM_NUMPY
            allowed = plan.allowed.get(column.name)
            if allowed is not None and not _all_members(values, *allowed):
                continue  # an unknown value: build_column names it
            if target != values.dtype:
                if target.kind in "biu" and len(values) and not _fits(values, target):
                    continue  # out of range: build_column names it
                values = values.astype(target)
            out[column.name] = values
    return out


def _fits(values: np.ndarray, target: np.dtype) -> bool:
    """Return whether int64 values fit an integer (or, as 0 and 1, a bool) dtype."""
    low, high = (0, 1) if target.kind == "b" else (np.iinfo(target).min, np.iinfo(target).max)
    return bool(values.min() >= low and values.max() <= high)


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
