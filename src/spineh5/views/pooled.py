"""An object product of many entries with its variable-length columns pooled (:meth:`HDF5Reader.table`).

What :meth:`~spineh5.reader.HDF5Reader.table` returns for an object product
(and :meth:`~spineh5.reader.HDF5Reader.columns`): a
:class:`~spineh5.views.varcolumn.TableColumns`. V2 files give each variable
field straight from its pool (one read per pool,
:meth:`~spineh5.layouts.v2_read.V2ReadLayout.read_columns`, and at most one
gather) when the stored columns are the schema's (no evolution rule to
apply); other files and products read the compound rows once, under the
schema's evolution rules (:meth:`HDF5Reader._file_table`), and concatenate
each variable-length column once. Runs of consecutive entries of one file are
read together, so any entry order and file mix works.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..decode import LEGACY_META, concatenate_rows, resolve_class
from ..types import evolution
from .columns import object_class, product_kind
from .varcolumn import TableColumns, VarColumn

if TYPE_CHECKING:
    from ..layouts import ReadLayout
    from ..reader import HDF5Reader

__all__ = ["object_table", "pooled_columns"]


def _from_pools(layout: ReadLayout, key: str, entries: np.ndarray, columns: Sequence[str] | None) -> TableColumns:
    """Return one V2 file's columns of ``entries``, the variable fields as slices of their pools."""
    read = layout.read_columns(key, entries, columns)
    variable = {
        name: VarColumn.from_bounds(field.values, field.starts, field.stops, field.is_string)
        for name, field in read.variable.items()
        if name in read.names  # a pool's other fields come along with the asked ones
    }
    fixed_names = [name for name in read.names if name not in variable]
    return TableColumns(read.names, read.fixed[fixed_names], variable, read.offsets)


def _schema_current(reader: HDF5Reader, layout: ReadLayout, file_id: int, key: str) -> bool:
    """Return whether a V2 product's stored columns need no evolution rule (so its pools can be read as they are)."""
    if getattr(layout, "read_columns", None) is None:
        return False
    class_name = layout.stored_class(key)
    if class_name == LEGACY_META:
        return False
    cls = resolve_class(class_name, None)
    if cls is None:
        return True  # read as stored, as _file_table does
    return evolution.plan_for(cls, layout.spec(key).dtype, key, reader.file_paths[file_id]).current


def _file_part(
    reader: HDF5Reader, file_id: int, key: str, entries: np.ndarray, columns: Sequence[str] | None, fixed_only: bool
) -> TableColumns:
    """Return one file's table of ``entries`` (entries of that file)."""
    layout = reader._open_file(file_id)
    if not layout.has_product(key):
        raise KeyError(f"{reader.file_paths[file_id]}: no product {key!r}")
    if not fixed_only and _schema_current(reader, layout, file_id, key):
        return _from_pools(layout, key, entries, columns)
    rows, offsets = reader._file_table(file_id, key, entries, columns)
    return TableColumns.from_rows(rows, offsets)


def _joined(parts: list[TableColumns], reader: HDF5Reader, key: str) -> TableColumns:
    """Join the parts of several runs row-wise; parts with different columns get the union (schema defaults)."""
    if len(parts) == 1:
        return parts[0]  # the product's class (its whole spec, V2 pools included) is not needed
    cls = object_class(reader, key)
    lengths = np.concatenate([np.diff(part.offsets) for part in parts])
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    first = parts[0]
    if all(part.names == first.names and part.dtype == first.dtype for part in parts):
        fixed = concatenate_rows([part.fixed for part in parts], cls)
        variable = {name: VarColumn.concatenate([part.variable[name] for part in parts]) for name in first.variable}
        return TableColumns(first.names, fixed, variable, offsets)
    rows = concatenate_rows([part.to_rows() for part in parts], cls)
    return TableColumns.from_rows(rows, offsets)


def object_table(
    reader: HDF5Reader,
    key: str,
    positions: np.ndarray,
    columns: Sequence[str] | None = None,
    fixed_only: bool = False,
) -> TableColumns:
    """Return an object product of the reader ``positions`` as :class:`TableColumns` (see :meth:`HDF5Reader.table`).

    ``offsets`` of the result are the entries' (``len(positions) + 1``).

    Raises
    ------
    KeyError
        When a file lacks the product or a column.
    """
    file_ids, file_entries = reader._locations(positions)
    first_file = int(file_ids[0]) if len(positions) else reader._first_file_with(key)
    if fixed_only and columns is None:
        columns = reader._fixed_columns(key, first_file)
    if not len(positions):
        return _file_part(reader, first_file, key, np.empty(0, np.int64), columns, fixed_only)
    breaks = np.flatnonzero(np.diff(file_ids)) + 1
    parts = [
        _file_part(reader, int(file_ids[low]), key, file_entries[low:high], columns, fixed_only)
        for low, high in zip(np.r_[0, breaks].tolist(), np.r_[breaks, len(file_ids)].tolist())
    ]
    return _joined(parts, reader, key)


def pooled_columns(
    reader: HDF5Reader,
    key: str,
    positions: np.ndarray,
    columns: Sequence[str] | None = None,
    fixed_only: bool = False,
) -> TableColumns:
    """Return :func:`object_table` of an object product (see :meth:`HDF5Reader.columns`).

    Raises
    ------
    ValueError
        When ``key`` is not an object product.
    KeyError
        When a file lacks the product or a column.
    """
    if not product_kind(reader, key).holds_objects:
        raise ValueError(f"product {key!r} is not an object product; columns() reads object products only")
    return object_table(reader, key, positions, columns, fixed_only)
