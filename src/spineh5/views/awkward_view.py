"""Numpy columns turned into awkward layouts (the ``library="ak"`` view).

Fixed columns become ``NumpyArray`` (scalars) or ``RegularArray`` (fixed
arrays), per-entry lists ``ListOffsetArray`` over the entry offsets, and the
object columns of the rows (variable-length arrays, strings) ``ListOffsetArray``
built from their lengths. The numpy buffers of fixed columns are handed to
awkward as read (no per-entry Python objects are built). On V2 files the
variable fields of object products are ``ListArray`` over the pool slice read
once and each row's bounds, zero copy (:meth:`~spineh5.layouts.v2_read.V2ReadLayout.read_columns`),
with no per-row arrays; elsewhere they are concatenated once per column. Enumerated columns carry their
names in the ``spineh5_enum`` (class name) and ``spineh5_enum_members``
(``{name: code}``) parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import awkward as ak
import numpy as np

from ..decode import resolve_class
from ..products import Kind
from ..types import evolution
from .columns import (
    ListColumns,
    columns_for,
    object_columns,
    product_columns,
    product_kind,
    schema_names,
)

if TYPE_CHECKING:
    from ..layouts.v2_objects import ObjectColumns, PoolField
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


def _pool_list(
    field: PoolField, values: np.ndarray, inner: dict[str, Any] | None, outer: dict[str, Any] | None
) -> _Content:
    """Return a ``ListArray`` of the rows' spans in the pool slice ``values`` (zero copy).

    Each row's ``[start, stop)`` bounds index the pool slice as read, whether
    the field is alone in its pool or shares it (``index`` and ``orig_index``
    of a particle, interleaved row by row): compacting shared pools into
    ``ListOffsetArray`` contents cost a copy of the whole pool per field (about
    9 ms of a 25 ms read of 64 entries). The layout is the same for every
    selection of entries or columns, so a product's form does not depend on
    its data; awkward compacts the lists itself where an export needs offsets
    (``to_parquet``, ``to_arrow``).
    """
    starts = _Index(np.ascontiguousarray(field.starts, dtype=np.int64))
    stops = _Index(np.ascontiguousarray(field.stops, dtype=np.int64))
    content = ak.contents.NumpyArray(values, parameters=inner)
    return ak.contents.ListArray(starts, stops, content, parameters=outer)


def _pool_field(field: PoolField, column: Column | None) -> _Content:
    """Return the layout of one pool field (strings as awkward strings, arrays in the schema's dtype)."""
    if field.is_string:
        return _pool_list(field, field.values.view(np.uint8), {"__array__": "char"}, {"__array__": "string"})
    values = field.values.reshape(-1)
    if column is not None:
        values = values.astype(column.numpy_dtype, copy=False)
    return _pool_list(field, values, None, None)


def _pool_records(data: ObjectColumns, columns: Sequence[str] | None) -> _Content:
    """Return a ``RecordArray`` of object rows read by ``read_columns``, in the order :func:`_records` has."""
    cls = resolve_class(data.class_name, np.empty(0, data.fixed.dtype))
    by_name = {column.name: column for column in cls.COLUMNS} if cls is not None else {}
    names = schema_names(data.names, cls, columns)
    contents = []
    for name in names:
        pool_field = data.variable.get(name)
        if pool_field is not None:
            contents.append(_pool_field(pool_field, by_name.get(name)))
        else:
            contents.append(_numbers(data.fixed[name], _enum_parameters(by_name.get(name))))
    parameters = {"__record__": cls.CLASS_NAME} if cls is not None else None
    return ak.contents.RecordArray(contents, names, length=len(data.fixed), parameters=parameters)


def _evolves(layout: Any, key: str, columns: Sequence[str] | None) -> bool:
    """Return whether a V2 object product's rows need the schema's evolution rules (renamed, cast or added columns).

    Asked for fixed columns only, the pools stay unparsed.
    """
    cls = resolve_class(layout.stored_class(key), np.empty(0))
    if cls is None:
        return False
    stored = layout.stored_dtype(key, columns)
    if columns is not None:
        stored = np.dtype([(name, stored.fields[name][0]) for name in columns if name in stored.names])
        if len(stored.names or ()) < len(columns):
            return True  # a column asked for is stored under an older name, or not stored (the table decides)
    plan = evolution.plan_for(cls, stored, key, layout.path)
    return not plan.identity or (columns is None and bool(plan.missing))


def _v2_objects(
    reader: HDF5Reader, key: str, kind: Kind, positions: np.ndarray, columns: Sequence[str] | None
) -> _Content | None:
    """Return the layout of an object product read from pools, or None when a file is not V2.

    The positions are read per run of consecutive positions in one file; runs are concatenated.
    """
    from ..layouts.v2_read import V2ReadLayout

    file_ids, file_entries = reader._locations(positions)
    cuts = np.flatnonzero(np.diff(file_ids)) + 1
    runs = list(zip(np.split(file_ids, cuts), np.split(file_entries, cuts))) if len(positions) else []
    if not runs:
        runs = [(np.array([reader._first_file_with(key)]), np.empty(0, dtype=np.int64))]
    parts = []
    for ids, entries in runs:
        layout = reader._open_file(int(ids[0]))
        if not isinstance(layout, V2ReadLayout):
            return None
        if not layout.has_product(key):
            raise KeyError(f"{reader.file_paths[int(ids[0])]}: no product {key!r}")
        if _evolves(layout, key, columns):
            return None  # an older schema's rows: read through the table, which applies the evolution rules
        parts.append(layout.read_columns(key, entries, columns))
    layouts = []
    for data in parts:
        records = _pool_records(data, columns)
        layouts.append(records if kind is Kind.OBJECT else ak.contents.ListOffsetArray(_Index(data.offsets), records))
    if len(layouts) == 1:
        return layouts[0]
    return ak.concatenate([ak.Array(part) for part in layouts], axis=0, highlevel=False)


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
    kind = product_kind(reader, key)
    if kind.holds_objects:
        layout = _v2_objects(reader, key, kind, positions, columns)
        if layout is not None:
            return layout
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
