"""Numpy columns turned into awkward layouts (the ``library="ak"`` view).

Fixed columns become ``NumpyArray`` (scalars) or ``RegularArray`` (fixed
arrays), per-entry lists ``ListOffsetArray`` over the entry offsets, and the
object columns of the rows (variable-length arrays, strings) ``ListOffsetArray``
built from their lengths. The numpy buffers of fixed columns are handed to
awkward as read (no per-entry Python objects are built); variable-length
columns are concatenated once per column. Enumerated columns carry their
names in the ``spineh5_enum`` (class name) and ``spineh5_enum_members``
(``{name: code}``) parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import awkward as ak
import numpy as np

from ..products import Kind
from .columns import OBJECT_KINDS, ListColumns, columns_for, object_columns, product_columns

if TYPE_CHECKING:
    from ..reader import HDF5Reader
    from ..types.columns import Column

__all__ = ["product_layout", "to_awkward"]

_Index = ak.index.Index64
_Content = ak.contents.Content


def _offsets(lengths: np.ndarray) -> _Index:
    bounds = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=bounds[1:])
    return _Index(bounds)


def _strings(values: Sequence[Any]) -> _Content:
    """Return a string layout of ``str``/``bytes`` values."""
    encoded = [value.encode("utf-8") if isinstance(value, str) else bytes(value) for value in values]
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    chars = ak.contents.NumpyArray(data, parameters={"__array__": "char"})
    lengths = np.fromiter((len(value) for value in encoded), dtype=np.int64, count=len(encoded))
    return ak.contents.ListOffsetArray(_offsets(lengths), chars, parameters={"__array__": "string"})


def _numbers(values: np.ndarray, parameters: dict[str, Any] | None = None) -> _Content:
    """Return a layout of a numeric column: ``NumpyArray``, with ``RegularArray`` for each trailing axis."""
    values = np.ascontiguousarray(values)
    content: _Content = ak.contents.NumpyArray(values.reshape(-1), parameters=parameters)
    for size in reversed(values.shape[1:]):
        content = ak.contents.RegularArray(content, size, zeros_length=0)
    return content


def _variable(values: np.ndarray, dtype: np.dtype) -> _Content:
    """Return a ``ListOffsetArray`` of the arrays of an object column (V1 vlen, V2 pool)."""
    arrays = values.tolist()
    if not all(type(array) is np.ndarray and array.ndim == 1 for array in arrays):
        arrays = [np.asarray(value, dtype=dtype).reshape(-1) for value in arrays]
    lengths = np.fromiter((len(array) for array in arrays), dtype=np.int64, count=len(arrays))
    flat = np.concatenate(arrays) if arrays else np.empty(0, dtype=dtype)
    return ak.contents.ListOffsetArray(_offsets(lengths), ak.contents.NumpyArray(flat.astype(dtype, copy=False)))


def _enum_parameters(column: Column | None) -> dict[str, Any] | None:
    if column is None or column.enum is None:
        return None
    members = {member.name: int(member) for member in column.enum}
    return {"spineh5_enum": column.enum.__name__, "spineh5_enum_members": members}


def _field(rows: np.ndarray, name: str, column: Column | None) -> _Content:
    """Return the layout of one compound column of object rows."""
    values = rows[name]
    if values.dtype.kind != "O":
        return _numbers(values, _enum_parameters(column))
    if column is not None:
        is_str = column.dtype == "str"
    else:
        first = next((value for value in values if value is not None), b"")
        is_str = isinstance(first, (bytes, str))
    if is_str:
        return _strings(values)
    dtype = column.numpy_dtype if column is not None else np.asarray(values[0]).dtype if len(values) else np.float64
    return _variable(values, np.dtype(dtype))


def _records(rows: np.ndarray, cls: type | None) -> _Content:
    """Return a ``RecordArray`` of object rows, one field per column."""
    columns = {column.name: column for column in cls.COLUMNS} if cls is not None else {}
    names = list(rows.dtype.names or ())
    contents = [_field(rows, name, columns.get(name)) for name in names]
    parameters = {"__record__": cls.CLASS_NAME} if cls is not None else None
    return ak.contents.RecordArray(contents, names, length=len(rows), parameters=parameters)


def _list_layout(data: ListColumns) -> _Content:
    """Return the layout of a ``flat`` (list of lists) or ``jagged`` (tuple of lists) product."""
    slots = []
    for values, bounds in zip(data.values, data.array_offsets):
        inner = _strings(values) if values.dtype.kind == "O" else _numbers(values)
        slots.append(ak.contents.ListOffsetArray(_Index(bounds), inner))
    if data.kind is Kind.FLAT:
        return ak.contents.ListOffsetArray(_Index(data.entry_offsets), slots[0])
    return ak.contents.RecordArray(slots, None, length=len(data.entry_offsets) - 1)


def product_layout(
    reader: HDF5Reader, key: str, positions: np.ndarray, columns: Sequence[str] | None = None
) -> _Content:
    """Return the awkward layout of one product, one element per position."""
    kind = reader.spec(key, reader._first_file_with(key)).kind
    if kind in OBJECT_KINDS:
        rows, offsets, cls = object_columns(reader, key, positions, columns)
        records = _records(rows, cls)
        return records if kind is Kind.OBJECT else ak.contents.ListOffsetArray(_Index(offsets), records)
    data = product_columns(reader, key, positions)
    if isinstance(data, ListColumns):
        return _list_layout(data)
    rows, offsets = data
    inner = _strings(rows) if rows.dtype.kind == "O" else _numbers(rows)
    if kind is Kind.ARRAY:
        return ak.contents.ListOffsetArray(_Index(offsets), inner)
    return inner


def to_awkward(reader: HDF5Reader, keys: Sequence[str], positions: np.ndarray, columns: Any = None) -> ak.Array:
    """Return an awkward Array of one record per position, one field per product."""
    contents = [product_layout(reader, key, positions, columns_for(reader, key, columns)) for key in keys]
    return ak.Array(ak.contents.RecordArray(contents, list(keys), length=len(positions)))
