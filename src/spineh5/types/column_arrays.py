"""Whole columns as numpy arrays: vectorized checks for :meth:`SchemaCollection.from_columns` and back.

A collection holds, per column, what :func:`.columns.build_column` makes of the
objects' values: a 1-D array per scalar column (``int64`` for enums, an object
array of ``str`` for strings), an ``(N, length)`` array per fixed column, and for a
variable-length column its rows' values concatenated plus ``N + 1`` int64 offsets.

The checks here accept exactly what the object path accepts (the attrs converters
and :func:`.columns.build_column`) and give the same values. When the vectorized
check refuses a column, the column is converted row by row through the object path,
which either accepts it after all or raises the :class:`ColumnError` naming the
class, the field and the row.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..errors import ColumnError
from .columns import Column, build_column, cast_array
from .elements import ELEMENTS, ENUM_ELEMENT, NUMPY_DTYPES

__all__ = ["OFFSET_DTYPE", "Vlen", "default_column", "fixed_column", "split_rows", "vlen_column", "vlen_from_rows"]

#: dtype of a variable-length column's offsets.
OFFSET_DTYPE = np.dtype(np.int64)
_ENUM_NUMPY = NUMPY_DTYPES[ENUM_ELEMENT]
_CONVERSION_ERRORS = (ValueError, TypeError, OverflowError)


class Vlen(NamedTuple):
    """A variable-length column: the rows' values concatenated, and ``N + 1`` offsets.

    Row ``i`` is ``values[offsets[i]:offsets[i + 1]]``; ``offsets[0]`` is 0.
    """

    values: np.ndarray
    offsets: np.ndarray

    def row(self, index: int) -> np.ndarray:
        """Return the values of one row (a view)."""
        return self.values[self.offsets[index] : self.offsets[index + 1]]

    @property
    def lengths(self) -> np.ndarray:
        """Return the number of values of each row."""
        return np.diff(self.offsets)


def _rows(value: Any) -> list:
    """Return the per-row items of a column value, for the row-by-row object path."""
    return list(value)


# -- scalar and fixed columns ---------------------------------------------------------------------------------


def fixed_column(column: Column, value: Any, class_name: str) -> np.ndarray:
    """Return the array of a scalar or fixed column, checked as the object path checks each value.

    Raises
    ------
    ColumnError
        Naming the class, the field and (when a value is refused) the row.
    """
    if isinstance(value, (str, bytes)) or np.ndim(value) == 0:
        raise ColumnError(class_name, column.name, f"expected one value per row, got a scalar {value!r}"[:200])
    array = None
    if isinstance(value, np.ndarray):
        array = value
    elif column.dtype != "str":  # numpy's fixed-width text would drop trailing NULs the object path refuses
        try:
            array = np.asarray(value)
        except _CONVERSION_ERRORS:
            pass
    if array is not None:
        try:
            out = _fast_scalar(column, array) if column.storage == "scalar" else _fast_fixed(column, array)
        except _CONVERSION_ERRORS:
            out = None
        if out is not None:
            return out
    return build_column(column, _rows(value), class_name)


def _fast_scalar(column: Column, array: np.ndarray) -> np.ndarray | None:
    """Return the checked array of a scalar column, or None to take the row-by-row path."""
    if array.ndim != 1:
        return None
    kind = array.dtype.kind
    if column.dtype == "str":
        if kind == "U":
            array = array.astype(object)
        elif kind != "O" or not set(map(type, array)) <= {str}:
            return None
        return build_column(column, array.tolist(), column.name)  # checks NUL and surrogates once per distinct text
    if column.enum is not None:
        if kind == "O" and len(array) and set(map(type, array)) == {column.enum}:
            return array.astype(_ENUM_NUMPY)
        if kind not in "biu":
            return None
        allowed = np.fromiter((int(member) for member in column.enum), dtype=_ENUM_NUMPY)
        if not np.isin(array, allowed).all():
            return None
        return array.astype(_ENUM_NUMPY)
    target = NUMPY_DTYPES[column.dtype]
    if column.dtype == "bool":
        if kind == "b":
            return array
        if kind in "iu" and np.isin(array, (0, 1)).all():
            return array.astype(bool)
        return None
    if ELEMENTS[column.dtype].kind == "float":
        if kind in "iu":
            # the object path holds each value as a Python float first (float64), then stores it
            return array.astype(np.float64).astype(target)
        return array.astype(target) if kind == "f" else None
    return cast_array(array, target) if kind in "biuf" else None


def _fast_fixed(column: Column, array: np.ndarray) -> np.ndarray | None:
    """Return the checked ``(N, length)`` array of a fixed column, or None to take the row-by-row path."""
    if array.ndim != 2 or array.shape[1] != column.length or array.dtype.kind not in "biuf":
        return None
    return cast_array(array, column.numpy_dtype)


def default_column(column: Column, count: int) -> np.ndarray | Vlen:
    """Return ``count`` rows of a column's default value."""
    default = column.make_default()
    if column.storage == "vlen":
        return Vlen(np.tile(default, count), np.arange(count + 1, dtype=OFFSET_DTYPE) * len(default))
    if column.storage == "fixed":
        return np.tile(default, (count, 1))
    if column.dtype == "str":
        out = np.empty(count, dtype=object)
        out[:] = [default] * count
        return out
    return np.full(count, int(default) if column.enum is not None else default, dtype=column.numpy_dtype)


# -- variable-length columns -----------------------------------------------------------------------------------


def vlen_column(column: Column, value: Any, class_name: str) -> Vlen:
    """Return a variable-length column from ``(values, offsets)`` or from one array-like per row.

    Offsets need not start at 0: the values they point at are kept, shifted to 0.

    Raises
    ------
    ColumnError
        Naming the class, the field and, for a refused value or offset, the row.
    """
    if isinstance(value, Vlen) or (isinstance(value, tuple) and len(value) == 2 and not _looks_like_rows(value)):
        return _from_pool(column, value[0], value[1], class_name)
    return vlen_from_rows(column, build_column(column, _rows(value), class_name))


def _looks_like_rows(value: tuple) -> bool:
    """Return whether a 2-tuple is two rows of values rather than ``(values, offsets)``."""
    offsets = np.asarray(value[1]) if not isinstance(value[1], np.ndarray) else value[1]
    return offsets.ndim != 1 or offsets.dtype.kind not in "iu" or len(offsets) == 0


def vlen_from_rows(column: Column, cells: Any) -> Vlen:
    """Return the :class:`Vlen` of per-row arrays already of the column's element dtype."""
    lengths = np.fromiter(map(len, cells), OFFSET_DTYPE, len(cells))
    offsets = np.zeros(len(cells) + 1, dtype=OFFSET_DTYPE)
    np.cumsum(lengths, out=offsets[1:])
    values = np.concatenate(list(cells)) if len(cells) else np.empty(0, column.numpy_dtype)
    return Vlen(values.astype(column.numpy_dtype, copy=False), offsets)


def _from_pool(column: Column, values: Any, offsets: Any, class_name: str) -> Vlen:
    offsets = np.asarray(offsets)
    name = column.name
    if offsets.ndim != 1 or offsets.dtype.kind not in "iu" or len(offsets) == 0:
        raise ColumnError(class_name, name, f"offsets must be a non-empty 1-D integer array, got {offsets!r}"[:200])
    offsets = offsets.astype(OFFSET_DTYPE)
    values = np.asarray(values)
    if values.ndim != 1:
        raise ColumnError(class_name, name, f"values must be 1-D, got shape {values.shape}")
    steps = np.diff(offsets)
    if len(steps) and steps.min() < 0:
        row = int(np.flatnonzero(steps < 0)[0])
        raise ColumnError(class_name, name, "offsets decrease (row ends before it starts)", row)
    if offsets[0] < 0 or offsets[-1] > len(values):
        raise ColumnError(class_name, name, f"offsets span [{offsets[0]}, {offsets[-1]}], values hold {len(values)}")
    used = values[offsets[0] : offsets[-1]]
    offsets = offsets - offsets[0]
    try:
        if used.dtype.kind not in "biuf":
            raise TypeError("not numeric")
        return Vlen(cast_array(used, column.numpy_dtype), offsets)
    except _CONVERSION_ERRORS:
        rows = split_rows(Vlen(used, offsets))
        return vlen_from_rows(column, build_column(column, list(rows), class_name))


def split_rows(column: Vlen) -> np.ndarray:
    """Return an object array of each row's values (views), as compound rows hold them."""
    count = len(column.offsets) - 1
    out = np.empty(count, dtype=object)
    if count:
        for row, part in enumerate(np.split(column.values, column.offsets[1:-1])):
            out[row] = part
    return out
