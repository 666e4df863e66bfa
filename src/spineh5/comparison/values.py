"""Comparing aligned columns of values with numpy: numbers within a tolerance, text exactly, arrays by shape.

Both sides of a comparison are arrays of the same length, one item per row
(an object, an array row, a scalar entry or a list item). An item is a
number, a fixed-length array (a trailing axis), a string (``bytes`` or
``str`` in an object array) or a variable-length array (in an object array).
:func:`compare_column` returns which rows differ and the largest absolute and
relative differences of the numbers compared; nothing here knows files.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

__all__ = ["ColumnDiff", "Tolerance", "compare_arrays", "compare_column", "format_value"]

#: numpy dtype kinds by family: a difference inside a family (int32 vs int64) only widens.
_FAMILIES = {"f": "float", "i": "integer", "u": "integer", "b": "bool", "O": "object", "U": "text", "S": "text"}
#: Unsigned integer dtypes of each float size, to compare floats bit by bit.
_BITS = {2: np.uint16, 4: np.uint32, 8: np.uint64}


@attrs.frozen
class Tolerance:
    """How close two numbers must be.

    Attributes
    ----------
    rtol, atol : float
        Relative and absolute tolerance of floats (``numpy.isclose``).
    exact : bool
        Require identical dtypes and bitwise-equal floats (any NaN equals any NaN).
    """

    rtol: float = 1e-5
    atol: float = 1e-8
    exact: bool = False


@attrs.define
class ColumnDiff:
    """What differs between two aligned columns.

    Attributes
    ----------
    rows : numpy.ndarray
        bool, one per row: whether the row's items differ.
    max_abs, max_rel : float
        Largest absolute and relative difference of the finite numbers compared (0 when none).
    note : str or None
        A difference of the whole column (dtype family, fixed length, or dtype with ``exact``).
    """

    rows: np.ndarray
    max_abs: float = 0.0
    max_rel: float = 0.0
    note: str | None = None


def family(dtype: np.dtype) -> str:
    """Return the family of a dtype: ``float``, ``integer``, ``bool``, ``text`` or ``object``."""
    return _FAMILIES.get(dtype.kind, dtype.kind)


def _dtype_text(dtype: np.dtype) -> str:
    if dtype.subdtype is not None:
        base, shape = dtype.subdtype
        return f"{base}[{','.join(str(n) for n in shape)}]"
    return str(dtype)


def compare_column(left: np.ndarray, right: np.ndarray, tolerance: Tolerance) -> ColumnDiff:
    """Compare two aligned columns row by row.

    Parameters
    ----------
    left, right : numpy.ndarray
        Same length; numbers (with trailing axes for fixed-length arrays) or
        object arrays of strings or of arrays.
    tolerance : Tolerance
        How close floats must be, and whether dtypes must match.

    Returns
    -------
    ColumnDiff
        The differing rows and the largest differences.
    """
    count = len(left)
    if left.dtype.kind == "O" or right.dtype.kind == "O":
        if left.dtype.kind != right.dtype.kind:
            note = f"dtype {_dtype_text(left.dtype)} vs {_dtype_text(right.dtype)}"
            return ColumnDiff(np.ones(count, dtype=bool), note=note)
        return _compare_objects(left, right, tolerance)
    if left.shape[1:] != right.shape[1:]:
        note = f"shape {left.shape[1:]} vs {right.shape[1:]}"
        return ColumnDiff(np.ones(count, dtype=bool), note=note)
    same, max_abs, max_rel, note = _compare_numbers(left, right, tolerance)
    rows = ~same.reshape(count, -1).all(axis=1) if same.ndim > 1 and count else ~same.reshape(count)
    return ColumnDiff(rows, max_abs, max_rel, note)


def _compare_numbers(
    left: np.ndarray, right: np.ndarray, tolerance: Tolerance
) -> tuple[np.ndarray, float, float, str | None]:
    """Return the elementwise agreement of two same-shape numeric arrays, the largest differences and a dtype note.

    Equal values are found first with one ``==``; tolerances and the largest
    differences are computed on the remaining values only.
    """
    left_family, right_family = family(left.dtype), family(right.dtype)
    if left_family != right_family:
        return np.zeros(left.shape, dtype=bool), 0.0, 0.0, f"dtype {left.dtype} vs {right.dtype}"
    note = f"dtype {left.dtype} vs {right.dtype}" if left.dtype != right.dtype and tolerance.exact else None
    if left_family not in ("float", "integer", "bool"):
        return np.asarray(left.astype(object) == right.astype(object), dtype=bool), 0.0, 0.0, note
    same = np.asarray(left == right)
    if left_family == "float" and tolerance.exact and left.dtype == right.dtype:
        bits = _BITS[left.dtype.itemsize]
        same = left.view(bits) == right.view(bits)  # -0.0 and 0.0 differ, and NaNs of different payloads
    if same.all():
        return same, 0.0, 0.0, note
    rest = ~same
    a, b = left[rest], right[rest]
    if left_family == "float":
        same[rest] = _floats_agree(a, b, tolerance)
    max_abs, max_rel = _largest_differences(a, b) if left_family != "bool" else (0.0, 0.0)
    return same, max_abs, max_rel, note


def _floats_agree(left: np.ndarray, right: np.ndarray, tolerance: Tolerance) -> np.ndarray:
    """Return which floats agree (any NaN equals any NaN; within the tolerance unless exact)."""
    both_nan = np.isnan(left) & np.isnan(right)
    if tolerance.exact:  # the values not equal (bitwise, for one dtype) agree only as NaNs
        return both_nan
    with np.errstate(invalid="ignore", over="ignore"):
        return both_nan | np.isclose(left, right, rtol=tolerance.rtol, atol=tolerance.atol)


def _largest_differences(left: np.ndarray, right: np.ndarray) -> tuple[float, float]:
    """Return the largest absolute and relative difference over the pairs of finite numbers."""
    a = np.asarray(left, dtype=np.float64).ravel()
    b = np.asarray(right, dtype=np.float64).ravel()
    finite = np.isfinite(a) & np.isfinite(b)
    if not finite.any():
        return 0.0, 0.0
    a, b = a[finite], b[finite]
    delta = np.abs(a - b)
    scale = np.maximum(np.abs(a), np.abs(b))
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = np.where(scale > 0, delta / scale, 0.0)
    return float(delta.max()), float(relative.max())


def _is_text(item: Any) -> bool:
    return isinstance(item, (bytes, str, np.bytes_, np.str_))


def _decoded(item: Any) -> Any:
    return bytes(item).decode("utf-8", "replace") if isinstance(item, (bytes, np.bytes_)) else item


def _as_text(column: np.ndarray) -> np.ndarray:
    """Return an object column of strings with ``bytes`` decoded (UTF-8)."""
    out = np.empty(len(column), dtype=object)
    out[:] = [_decoded(item) for item in column]
    return out


def _compare_objects(left: np.ndarray, right: np.ndarray, tolerance: Tolerance) -> ColumnDiff:
    """Compare object columns: strings exactly, arrays by shape, dtype family and values.

    A column holds one kind of item (an h5py string or vlen column), told by its first row.
    """
    count = len(left)
    if count == 0:
        return ColumnDiff(np.zeros(0, dtype=bool))
    text_left, text_right = _is_text(left[0]), _is_text(right[0])
    if text_left != text_right:
        kinds = ("string" if text else "array" for text in (text_left, text_right))
        return ColumnDiff(np.ones(count, dtype=bool), note="{} vs {}".format(*kinds))
    if text_left:
        if type(left[0]) is not type(right[0]):
            left, right = _as_text(left), _as_text(right)
        return ColumnDiff(np.asarray(left != right, dtype=bool))
    lefts, rights = list(left), list(right)
    if np.ndim(lefts[0]) == 1 and np.ndim(rights[0]) == 1:  # h5py vlen columns: 1-D arrays
        sizes = np.fromiter(map(len, lefts), dtype=np.int64, count=count)
        same_shape = sizes == np.fromiter(map(len, rights), dtype=np.int64, count=count)
        return _compare_flat(lefts, rights, same_shape, tolerance, sizes)
    same_shape = np.array([np.shape(a) == np.shape(b) for a, b in zip(lefts, rights)], dtype=bool)
    return _compare_flat(lefts, rights, same_shape, tolerance)


def compare_arrays(lefts: Sequence[Any], rights: Sequence[Any], tolerance: Tolerance) -> ColumnDiff:
    """Compare two lists of arrays pairwise: pairs of different shapes differ, the others are compared in one go.

    Parameters
    ----------
    lefts, rights : sequence of array-like
        As many on each side.
    tolerance : Tolerance
        How close floats must be, and whether dtypes must match.

    Returns
    -------
    ColumnDiff
        One row per pair.
    """
    lefts = [np.asarray(item) for item in lefts]
    rights = [np.asarray(item) for item in rights]
    same_shape = np.array([a.shape == b.shape for a, b in zip(lefts, rights)], dtype=bool)
    return _compare_flat(lefts, rights, same_shape, tolerance)


def _compare_flat(
    lefts: list[np.ndarray],
    rights: list[np.ndarray],
    same_shape: np.ndarray,
    tolerance: Tolerance,
    sizes_1d: np.ndarray | None = None,
) -> ColumnDiff:
    """Compare the values of the pairs of the same shape, concatenated; pairs of other shapes differ.

    ``sizes_1d`` gives the lengths of the arrays when they are all 1-D (no flattening needed).
    """
    rows = ~same_shape
    if not same_shape.any():
        return ColumnDiff(rows)
    if sizes_1d is not None and same_shape.all():
        left_flat, right_flat, sizes = np.concatenate(lefts), np.concatenate(rights), sizes_1d
        keep: Any = slice(None)
    else:
        keep = np.flatnonzero(same_shape).tolist()
        left_flat = np.concatenate([np.ravel(lefts[i]) for i in keep])
        right_flat = np.concatenate([np.ravel(rights[i]) for i in keep])
        sizes = np.fromiter((np.size(lefts[i]) for i in keep), dtype=np.int64, count=len(keep))
    same, max_abs, max_rel, note = _compare_numbers(left_flat, right_flat, tolerance)
    differs = np.zeros(len(sizes), dtype=bool)
    nonempty = sizes > 0
    if nonempty.any() and not same.all():
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))[nonempty]
        differs[nonempty] = ~np.logical_and.reduceat(same, starts)
    rows[keep] = differs
    return ColumnDiff(rows, max_abs, max_rel, note)


def format_value(value: Any, members: type[enum.IntEnum] | None = None, limit: int = 8) -> str:
    """Return a short text of one value: numbers shortest, strings quoted, enums by name, long arrays cut."""
    if _is_text(value):
        return repr(_decoded(value))
    if isinstance(value, np.ndarray) and value.dtype.kind != "O":
        with np.printoptions(threshold=limit, edgeitems=3, linewidth=10_000):
            text = np.array2string(value, separator=", ")
        return f"{text} ({value.dtype}, shape {value.shape})" if value.size > limit else text
    if isinstance(value, (list, tuple)):
        return f"[{', '.join(format_value(item, members, limit) for item in value)}]"
    if members is not None and isinstance(value, (int, np.integer)):
        try:
            return f"{members(int(value)).name} ({int(value)})"
        except ValueError:
            return str(int(value))
    if isinstance(value, np.generic):
        return str(value)
    return repr(value)
