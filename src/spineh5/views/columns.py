"""Every product of many entries as numpy columns plus entry offsets (the ``library="np"`` view).

Object, scalar and array products come from :meth:`spineh5.reader.HDF5Reader.table`
(one read per dataset per file, file boundaries handled there). Lists of arrays
(``flat`` and ``jagged`` products), which ``table`` refuses, are gathered here
from the per-entry reads of each file's layout into :class:`ListColumns`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from ..decode import resolve_class
from ..products import Kind

if TYPE_CHECKING:
    from ..reader import HDF5Reader

__all__ = [
    "LIBRARIES",
    "ListColumns",
    "columns_for",
    "enum_names",
    "nbytes",
    "object_columns",
    "product_columns",
    "product_kind",
    "schema_names",
    "select_positions",
]

#: The values of ``library=`` :meth:`~spineh5.reader.HDF5Reader.arrays` accepts.
LIBRARIES = ("ak", "np", "pd")

#: Product kinds stored as compound rows.
#: Product kinds that are lists of arrays.
LIST_KINDS = (Kind.FLAT, Kind.JAGGED)


@attrs.frozen
class ListColumns:
    """The arrays of a list-of-arrays product (``flat`` or ``jagged``) for many entries.

    Attributes
    ----------
    kind : Kind
        ``Kind.FLAT`` (a variable number of same-width arrays per entry) or
        ``Kind.JAGGED`` (one array per list position, each position its own width).
    widths : tuple of int
        Column count of the arrays (0 for 1-D): one width for ``flat``, one per position for ``jagged``.
    values : tuple of numpy.ndarray
        The arrays concatenated along their first axis: one for ``flat``, one per position for ``jagged``.
    array_offsets : tuple of numpy.ndarray
        int64 bounds of each array in ``values``: array ``k`` of position ``j`` is
        ``values[j][array_offsets[j][k]:array_offsets[j][k + 1]]``.
    entry_offsets : numpy.ndarray
        int64, entries + 1: entry ``i`` holds arrays ``entry_offsets[i]:entry_offsets[i + 1]``
        (for ``jagged``, the same array index at every position: one array per entry).
    """

    kind: Kind
    widths: tuple[int, ...]
    values: tuple[np.ndarray, ...]
    array_offsets: tuple[np.ndarray, ...]
    entry_offsets: np.ndarray


def select_positions(count: int, entry_start: int | None, entry_stop: int | None) -> np.ndarray:
    """Return the reader positions ``entry_start:entry_stop`` (clipped and negative-aware, as a Python slice)."""
    start, stop, _ = slice(entry_start, entry_stop).indices(count)
    return np.arange(start, max(start, stop), dtype=np.int64)


def product_kind(reader: HDF5Reader, key: str) -> Kind:
    """Return the kind of a product in the first file holding it (a V2 object product's pools stay unread)."""
    from ..layouts.v2_read import V2ReadLayout

    layout = reader._open_file(reader._first_file_with(key))
    if isinstance(layout, V2ReadLayout):
        return layout.kind(key)
    return layout.spec(key).kind


def schema_names(stored: Sequence[str], cls: type | None, columns: Sequence[str] | None) -> list[str]:
    """Return the stored columns a view shows: the schema's, in schema order (or ``columns``' order).

    Columns the schema does not know are left out, as the per-entry reader
    leaves them out of the objects; without a schema class every stored column is kept.
    """
    if cls is None:
        return list(stored)
    names = [column.name for column in cls.COLUMNS if column.name in stored]
    if columns is not None:
        names = [name for name in columns if name in names]
    return names


def object_class(reader: HDF5Reader, key: str) -> type | None:
    """Return the generated class of an object product (None when the schema has none)."""
    spec = reader.spec(key, reader._first_file_with(key))
    return resolve_class(spec.class_name, np.empty(0, spec.dtype))


def columns_for(
    reader: HDF5Reader, key: str, columns: Sequence[str] | Mapping[str, Sequence[str]] | None
) -> list[str] | None:
    """Return the columns asked for one product.

    A sequence applies to every object product, a mapping per key; products
    that are not object products take None.
    """
    if columns is None or not product_kind(reader, key).holds_objects:
        return None
    if isinstance(columns, Mapping):
        chosen = columns.get(key)
        return None if chosen is None else list(chosen)
    if isinstance(columns, str):
        return [columns]
    return list(columns)


def object_columns(
    reader: HDF5Reader, key: str, positions: np.ndarray, columns: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray, type | None]:
    """Return the rows of an object product (the schema's columns, in schema order), offsets and class.

    The rows follow the schema's evolution rules (added fields at their defaults,
    renamed and widened ones under the schema's name and dtype; see
    :mod:`spineh5.types.evolution`). Columns the schema does not know are left
    out, as the per-entry reader leaves them out of the objects (reported once
    per class and column set); they stay readable through
    :meth:`~spineh5.reader.HDF5Reader.table`. When the class is unknown to
    the schema every stored column is kept.
    """
    rows, offsets = reader._table_rows(key, positions, columns)
    cls = object_class(reader, key)
    stored = rows.dtype.names or ()
    names = schema_names(stored, cls, columns)
    if list(stored) != names:
        if cls is not None and columns is None:
            reader._decoder.report_unknown(cls, rows.dtype, key)
        rows = rows[names]
    return rows, offsets, cls


def _list_columns(reader: HDF5Reader, key: str, positions: np.ndarray) -> ListColumns:
    """Gather a ``flat`` or ``jagged`` product from per-entry reads of each file's layout."""
    spec = reader.spec(key, reader._first_file_with(key))
    file_ids, file_entries = reader._locations(positions)
    entries: list[list[np.ndarray]] = []
    for file_id, entry in zip(file_ids.tolist(), file_entries.tolist()):
        entries.append(list(reader._open_file(file_id).read_entry(entry, (key,))[key]))
    slots = len(spec.widths) if spec.kind is Kind.JAGGED else 1
    values, array_offsets = [], []
    for slot in range(slots):
        width = spec.widths[slot]
        if spec.kind is Kind.JAGGED:
            arrays = [entry[slot] for entry in entries]
        else:
            arrays = [array for entry in entries for array in entry]
        empty = np.empty((0, width) if width else (0,), dtype=spec.dtype)
        values.append(np.concatenate([empty, *arrays]) if arrays else empty)
        bounds = np.zeros(len(arrays) + 1, dtype=np.int64)
        np.cumsum([len(array) for array in arrays], out=bounds[1:])
        array_offsets.append(bounds)
    entry_offsets = np.zeros(len(entries) + 1, dtype=np.int64)
    if spec.kind is Kind.JAGGED:
        entry_offsets[1:] = np.arange(1, len(entries) + 1)
    else:
        np.cumsum([len(entry) for entry in entries], out=entry_offsets[1:])
    return ListColumns(spec.kind, tuple(spec.widths), tuple(values), tuple(array_offsets), entry_offsets)


def product_columns(
    reader: HDF5Reader, key: str, positions: np.ndarray, columns: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray] | ListColumns:
    """Return one product of many entries as numpy columns.

    Returns
    -------
    (rows, offsets) or ListColumns
        ``(rows, offsets)`` for object, scalar and array products (object
        rows restricted to the schema's columns, see :func:`object_columns`);
        :class:`ListColumns` for ``flat`` and ``jagged`` products.
    """
    kind = product_kind(reader, key)
    if kind in LIST_KINDS:
        if columns is not None:
            raise ValueError(f"product {key!r} is a list of arrays; columns= applies to object products only")
        return _list_columns(reader, key, positions)
    if kind.holds_objects:
        rows, offsets, _ = object_columns(reader, key, positions, columns)
        return rows, offsets
    return reader._table_rows(key, positions)


def enum_names(reader: HDF5Reader, key: str, field: str) -> dict[int, str]:
    """Return ``{code: name}`` of an enumerated column of an object product (empty when not an enum)."""
    cls = object_class(reader, key)
    if cls is None:
        raise KeyError(f"product {key!r} has no schema class to take enumerations from")
    for column in cls.COLUMNS:
        if column.name == field:
            return {} if column.enum is None else {int(member): member.name for member in column.enum}
    raise KeyError(f"{cls.CLASS_NAME} has no column {field!r}")


def nbytes(data: Any) -> int:
    """Return the approximate memory size of a view's data (arrays inside object columns included)."""
    if isinstance(data, ListColumns):
        return sum(values.nbytes for values in data.values) + data.entry_offsets.nbytes
    if isinstance(data, tuple):
        return sum(nbytes(part) for part in data)
    if isinstance(data, Mapping):
        return sum(nbytes(part) for part in data.values())
    if isinstance(data, np.ndarray):
        size = data.nbytes
        names = data.dtype.names or ()
        for name in names:
            if data.dtype.fields[name][0].kind == "O":
                size += sum(_object_size(value) for value in data[name])
        if not names and data.dtype.kind == "O":
            size += sum(_object_size(value) for value in data)
        return size
    return 0


def _object_size(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    return len(value) if isinstance(value, (bytes, str)) else 8
