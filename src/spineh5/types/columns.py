"""Column descriptions and column builders used by the generated object types.

It holds everything about one column that does not depend on a particular
schema (the object-level methods built on it are in :mod:`.objects`):

* :class:`Column`, the description of one compound column (name, dtype,
  storage, default, units, lite, derived, enum);
* conversion of one value (attrs converters of the generated classes);
* :func:`build_column`, which turns the values of one attribute over many
  objects into one typed numpy array (used by ``to_records``), with errors
  that name the class, the object position, the field and the value;
* :func:`decode_column`, the reverse (used by ``from_records``).
"""

from __future__ import annotations

import enum
import math
import operator
from typing import Any

import attrs
import h5py
import numpy as np

from ..errors import ColumnError
from .elements import ELEMENTS, ENUM_ELEMENT, NUMPY_DTYPES

__all__ = [
    "STR_DTYPE",
    "Column",
    "ColumnError",
    "build_column",
    "cast_array",
    "decode_column",
    "enum_dtype",
    "values_equal",
]

#: h5py's variable-length UTF-8 string dtype.
STR_DTYPE = h5py.string_dtype()
#: numpy dtype of an enumeration column's values.
_ENUM_NUMPY = NUMPY_DTYPES[ENUM_ELEMENT]


def enum_dtype(members: type[enum.IntEnum]) -> np.dtype:
    """Return the HDF5 enumeration dtype of an enum: its members' names and values on ``int64``."""
    return h5py.enum_dtype({member.name: int(member) for member in members}, basetype=_ENUM_NUMPY)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@attrs.frozen
class Column:
    """Description of one compound column of an object type.

    Attributes
    ----------
    name : str
        Column (and attribute) name.
    dtype : str
        Element dtype name (``bool``, ``uint8``, ``int32``, ``int64``,
        ``float32``, ``float64``) or ``str``. Enums are ``int64`` on disk.
    storage : str
        ``scalar``, ``fixed`` (HDF5 ARRAY of ``length``) or ``vlen``.
    length : int or None
        Fixed length, for ``fixed`` storage.
    default : Any
        Declared default: a scalar, a fill value or tuple for ``fixed``, a
        tuple for ``vlen``.
    units : str or None
        Physical units; ``instance`` follows the object's ``units`` field.
    role : str or None
        ``position`` or ``vector`` for a fixed array whose components are the
        axes x, y(, z) (SPINE names their ``scalar_dict`` columns ``_x``, ``_y``,
        ``_z``); None for any other column.
    lite : bool
        Whether the column is kept in lite files.
    derived : bool
        Whether the column is a computed quantity stored for convenience.
    enum : type[enum.IntEnum] or None
        Enumeration of the allowed values.
    doc : str
        One-line description.
    renamed_from : tuple of str
        Earlier names of the column: a file storing one of them reads it under ``name``.
    cast_from : tuple of str
        Stored elements this column may be cast from besides the widening ones
        (a declared narrowing or change of kind, see :mod:`.evolution`).
    """

    name: str
    dtype: str
    storage: str = "scalar"
    length: int | None = None
    default: Any = None
    units: str | None = None
    role: str | None = None
    lite: bool = True
    derived: bool = False
    enum: type[enum.IntEnum] | None = None
    doc: str = ""
    renamed_from: tuple[str, ...] = ()
    cast_from: tuple[str, ...] = ()

    @property
    def numpy_dtype(self) -> np.dtype:
        """Return the numpy dtype of one element (object for strings)."""
        return STR_DTYPE if self.dtype == "str" else NUMPY_DTYPES[self.dtype]

    def h5_dtype(self) -> tuple:
        """Return the ``(name, dtype[, shape])`` entry of the compound dtype."""
        if self.dtype == "str":
            return (self.name, STR_DTYPE)
        base = self.numpy_dtype if self.enum is None else enum_dtype(self.enum)
        if self.storage == "fixed":
            return (self.name, base, (self.length,))
        if self.storage == "vlen":
            return (self.name, h5py.vlen_dtype(base))
        return (self.name, base)

    def make_default(self) -> Any:
        """Return a fresh default value (new arrays each call)."""
        if self.storage == "fixed":
            return np.array(
                self.default if isinstance(self.default, tuple) else [self.default] * self.length,
                dtype=self.numpy_dtype,
            )
        if self.storage == "vlen":
            return np.array(self.default or (), dtype=self.numpy_dtype)
        if self.enum is not None:
            return self.enum(self.default)
        return self.default

    def describe(self) -> str:
        """Return a short human description such as ``float32[3]`` or ``vlen<int32>``."""
        base = self.enum.__name__ if self.enum is not None else self.dtype
        if self.storage == "fixed":
            return f"{base}[{self.length}]"
        if self.storage == "vlen":
            return f"vlen<{base}>"
        return base

    # -- one value ---------------------------------------------------------------------------

    def convert(self, value: Any, class_name: str) -> Any:
        """Convert one value to the column's Python representation, or raise ColumnError."""
        try:
            if self.storage == "scalar":
                return _convert_scalar(self, value)
            array = _cast_array(self, value)
            if array.ndim != 1:
                raise ValueError(f"expected a 1-D array, got shape {array.shape}")
            if self.storage == "fixed" and array.shape[0] != self.length:
                raise ValueError(f"expected {self.length} values, got {array.shape[0]}")
            return array
        except ColumnError:
            raise
        except (ValueError, TypeError, OverflowError) as err:
            raise ColumnError(
                class_name, self.name, f"{err} (value {_short(value)}, expected {self.describe()})"
            ) from None

    def converter(self, class_name: str) -> attrs.Converter:
        """Return the attrs converter of this column for a class."""
        return attrs.Converter(lambda value: self.convert(value, class_name))


def _convert_scalar(column: Column, value: Any) -> Any:
    kind = column.dtype
    if kind == "str":
        if isinstance(value, (bytes, np.bytes_)):
            return _check_text(bytes(value).decode("utf-8"))
        if not isinstance(value, str):
            raise TypeError(f"expected a str, got {type(value).__name__}")
        return _check_text(str(value))
    if isinstance(value, (str, bytes)) and column.enum is None:
        raise TypeError(f"expected a number, got {type(value).__name__}")
    if column.enum is not None:
        if isinstance(value, str):
            try:
                return column.enum[value.upper()]
            except KeyError:
                raise ValueError(f"unknown member name of {column.enum.__name__}") from None
        number = _as_integer(value)
        try:
            return column.enum(number)
        except ValueError:
            members = ", ".join(f"{m.name}={m.value}" for m in column.enum)
            raise ValueError(f"not a value of {column.enum.__name__} ({members})") from None
    if kind == "bool":
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        number = _as_integer(value)
        if number not in (0, 1):
            raise ValueError("expected a bool (or 0/1)")
        return bool(number)
    if ELEMENTS[kind].kind == "float":
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"expected a real number, got {type(value).__name__}")
        return float(value)
    number = _as_integer(value)
    info = np.iinfo(column.numpy_dtype)
    if not info.min <= number <= info.max:
        raise OverflowError(f"out of range for {kind}")
    return number


def _check_text(value: str) -> str:
    """Refuse text that an HDF5 variable-length UTF-8 string cannot hold (h5py fails on write)."""
    if "\x00" in value:
        raise ValueError("HDF5 strings cannot hold NUL characters")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("not encodable as UTF-8 (lone surrogate)") from None
    return value


def _as_integer(value: Any) -> int:
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        return int(value)
    raise TypeError(f"expected an integer, got {type(value).__name__} {value!r}")


_SAFE_KINDS = {
    "b": "b",
    "u": "bui",
    "i": "bui",
    "f": "buif",
}


def _cast_array(column: Column, value: Any) -> np.ndarray:
    """Cast an array-like to the column's element dtype, refusing lossy kinds."""
    return cast_array(value, column.numpy_dtype)


def cast_array(value: Any, target: np.dtype) -> np.ndarray:
    """Cast an array-like to ``target``, refusing lossy conversions.

    Integers may widen or narrow when every value fits; floats may become
    integers only when every value is integral; nothing else changes kind
    (no float to bool, no string to number).

    Raises
    ------
    TypeError
        When the kinds are not compatible.
    OverflowError
        When an integer value does not fit the target.
    """
    array = value if isinstance(value, np.ndarray) else np.asarray(value)
    if array.dtype == target:
        return array
    if target.kind == "O":
        if array.size and not all(isinstance(item, str) for item in array.ravel()):
            raise TypeError(f"cannot store {array.dtype} values as str")
        return array.astype(object)
    if array.size == 0:
        return array.astype(target).reshape(array.shape)
    if array.dtype.kind not in _SAFE_KINDS.get(target.kind, target.kind):
        integral = (
            array.dtype.kind == "f"
            and target.kind in "iu"
            and bool(np.all(np.isfinite(array)))
            and bool(np.all(array == np.round(array)))
        )
        if not integral:
            raise TypeError(f"cannot store {array.dtype} values as {target}")
    if target.kind in "iu" and array.dtype.kind in "iuf":
        info = np.iinfo(target)
        # floats compare against 2**bits (exact), not info.max, which rounds up to it as a float
        too_large = array.max() >= float(info.max + 1) if array.dtype.kind == "f" else array.max() > info.max
        if array.min() < info.min or too_large:
            raise OverflowError(f"values out of range for {target}")
    return array.astype(target)


# -- many values: one column ------------------------------------------------------------------


def build_column(column: Column, values: list, class_name: str) -> np.ndarray:
    """Build the typed array of one column from per-object values.

    The fast path converts the whole column at once; when that fails, the
    values are converted one by one to name the offending object.

    Raises
    ------
    ColumnError
        Naming the class, the object position, the field and the problem.
    """
    try:
        return _build_fast(column, values)
    except (ValueError, TypeError, OverflowError):
        pass
    converted = []
    for position, value in enumerate(values):
        try:
            converted.append(column.convert(value, class_name))
        except ColumnError as err:
            raise ColumnError(class_name, column.name, err.problem, position) from None
    return _assemble(column, converted)


_NDIM = operator.attrgetter("ndim")
_DTYPE = operator.attrgetter("dtype")


def _build_fast(column: Column, values: list) -> np.ndarray:
    count = len(values)
    if column.storage == "vlen":
        target = column.numpy_dtype
        if (
            target.kind != "O"
            and set(map(type, values)) <= {np.ndarray}
            and set(map(_NDIM, values)) <= {1}
            and set(map(_DTYPE, values)) <= {target}
        ):
            # Already 1-D arrays of the element dtype (what the generated converters produce): no copies.
            return np.fromiter(values, dtype=object, count=count)
        out = np.empty(count, dtype=object)
        for position, value in enumerate(values):
            array = _cast_array(column, value)
            if array.ndim != 1:
                raise ValueError("not 1-D")
            out[position] = array
        return out
    if column.dtype == "str":
        if not set(map(type, values)) <= {str}:
            raise TypeError("not all str")
        for value in set(values):
            _check_text(value)
        out = np.empty(count, dtype=object)
        out[:] = values
        return out
    if column.storage == "fixed":
        if count == 0:
            return np.empty((0, column.length), dtype=column.numpy_dtype)
        array = _cast_array(column, np.asarray(values) if not isinstance(values, np.ndarray) else values)
        if array.shape != (count, column.length):
            raise ValueError("wrong shape")
        return array
    if count == 0:
        return np.empty(0, dtype=column.numpy_dtype)
    if column.enum is not None and set(map(type, values)) == {column.enum}:
        # Members of the column's own enum are valid by construction.
        return np.fromiter(values, dtype=_ENUM_NUMPY, count=count)
    array = np.asarray(values)
    if array.ndim != 1 or array.dtype.kind not in "buif":
        raise TypeError("not numeric")
    if column.enum is not None:
        if array.dtype.kind not in "biu":
            raise TypeError("not integer")
        allowed = np.fromiter((int(m) for m in column.enum), dtype=_ENUM_NUMPY)
        if not np.isin(array, allowed).all():
            raise ValueError("not a member")
        return array.astype(_ENUM_NUMPY)
    if ELEMENTS[column.dtype].kind == "float" and array.dtype.kind == "b":
        raise TypeError("bool for float")
    return _cast_array(column, array)


def _assemble(column: Column, converted: list) -> np.ndarray:
    """Build the column array from values already converted one by one by :meth:`Column.convert`."""
    if column.storage == "vlen" or column.dtype == "str":
        out = np.empty(len(converted), dtype=object)
        for position, value in enumerate(converted):
            out[position] = value
        return out
    if column.storage == "fixed":
        if not converted:
            return np.empty((0, column.length), dtype=column.numpy_dtype)
        return np.stack(converted).astype(column.numpy_dtype)
    if column.enum is not None:
        return np.asarray([int(value) for value in converted], dtype=_ENUM_NUMPY)
    return np.asarray(converted, dtype=column.numpy_dtype)


# -- from records -----------------------------------------------------------------------------


#: ``{code: member}`` of each enumeration, for :func:`decode_column`.
_ENUM_MEMBERS: dict[type, dict[int, Any]] = {}


def decode_column(column: Column, data: np.ndarray) -> list:
    """Turn one compound column read from a file into per-row Python values.

    Strings are decoded to ``str``, enums become enum members (unknown values
    stay plain ints), fixed and vlen columns become arrays of the declared dtype.
    """
    if column.dtype == "str":
        if getattr(data, "is_string", False):  # a VarColumn of strings: its rows are already str
            return list(data)
        return [value.decode("utf-8") if isinstance(value, (bytes, np.bytes_)) else str(value) for value in data]
    if column.storage == "vlen":
        target = column.numpy_dtype
        if getattr(data, "value_dtype", None) == target:  # a VarColumn of the schema's element: its rows as they are
            return list(data)
        return [np.asarray(value, dtype=target) for value in data]
    if column.storage == "fixed":
        array = np.asarray(data)
        if array.ndim != 2 or array.shape[1] != column.length:
            raise ValueError(f"column {column.name!r} has shape {array.shape[1:]} on disk, expected ({column.length},)")
        return list(array.astype(column.numpy_dtype))
    if column.enum is not None:
        members = _ENUM_MEMBERS.get(column.enum)
        if members is None:
            members = _ENUM_MEMBERS[column.enum] = {int(member): member for member in column.enum}
        return [members.get(value, value) for value in np.asarray(data, dtype=_ENUM_NUMPY).tolist()]
    return np.asarray(data).astype(column.numpy_dtype).tolist()


def values_equal(left: Any, right: Any) -> bool:
    """Compare two attribute values, arrays by content, NaN equal to NaN."""
    if isinstance(left, np.ndarray) or isinstance(right, np.ndarray):
        left_array, right_array = np.asarray(left), np.asarray(right)
        if left_array.shape != right_array.shape:
            return False
        if left_array.dtype.kind == "f" or right_array.dtype.kind == "f":
            return bool(np.array_equal(left_array, right_array, equal_nan=True))
        return bool(np.array_equal(left_array, right_array))
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left) and math.isnan(right):
        return True
    return bool(left == right)
