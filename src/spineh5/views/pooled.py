"""An object product of many entries with its variable-length columns pooled (:meth:`HDF5Reader.columns`).

V2 files give each variable field straight from its pool (one read per pool,
:meth:`~spineh5.layouts.v2_read.V2ReadLayout.read_columns`, and at most one
gather); V1 files read the compound rows once (:meth:`read_table`) and
concatenate each variable-length column once. Runs of consecutive entries of
one file are read together, so any entry order and file mix works.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import h5py
import numpy as np

from ..decode import concatenate_rows
from .columns import object_class, product_kind
from .varcolumn import TableColumns, VarColumn

if TYPE_CHECKING:
    from ..layouts import ReadLayout
    from ..reader import HDF5Reader

__all__ = ["pooled_columns"]


def _is_variable(dtype: np.dtype) -> bool:
    return dtype.kind == "O"


def _fixed_only(layout: ReadLayout, key: str) -> list[str]:
    stored = layout.spec(key).dtype
    return [name for name in stored.names if not _is_variable(stored.fields[name][0])]


def _file_columns(
    layout: ReadLayout, key: str, entries: np.ndarray, columns: Sequence[str] | None, fixed_only: bool
) -> TableColumns:
    """Return one file's columns of ``entries`` (entries of that file)."""
    read_columns = getattr(layout, "read_columns", None)
    if read_columns is not None:  # V2: pool fields without per-row arrays
        if fixed_only and columns is None:
            columns = _fixed_only(layout, key)
        read = read_columns(key, entries, columns)
        variable = {
            name: VarColumn.from_bounds(field.values, field.starts, field.stops, field.is_string)
            for name, field in read.variable.items()
            if name in read.names  # a pool's other fields come along with the asked ones
        }
        fixed_names = [name for name in read.names if name not in variable]
        return TableColumns(read.names, read.fixed[fixed_names], variable, read.offsets)
    if fixed_only and columns is None:
        columns = _fixed_only(layout, key)
    rows, offsets = layout.read_table(key, entries, columns)
    names = tuple(rows.dtype.names)
    variable = {}
    for name in names:
        dtype = rows.dtype.fields[name][0]
        if not _is_variable(dtype):
            continue
        base = h5py.check_vlen_dtype(dtype)
        if base is str or h5py.check_string_dtype(dtype) is not None:
            column = VarColumn.from_cells(rows[name].tolist())
            variable[name] = column if len(rows) else VarColumn(np.empty(0, np.uint8), column.offsets, True)
        else:
            variable[name] = VarColumn.from_cells(rows[name].tolist(), base)
    fixed_names = [name for name in names if name not in variable]
    return TableColumns(names, rows[fixed_names], variable, offsets)


def pooled_columns(
    reader: HDF5Reader,
    key: str,
    positions: np.ndarray,
    columns: Sequence[str] | None = None,
    fixed_only: bool = False,
) -> TableColumns:
    """Return an object product of the reader ``positions`` as :class:`TableColumns` (see :meth:`HDF5Reader.columns`).

    Raises
    ------
    ValueError
        When ``key`` is not an object product.
    KeyError
        When a file lacks the product or a column.
    """
    if not product_kind(reader, key).holds_objects:
        raise ValueError(f"product {key!r} is not an object product; columns() reads object products only")
    file_ids, file_entries = reader._locations(positions)
    if not len(positions):
        layout = reader._open_file(reader._first_file_with(key))
        return _file_columns(layout, key, np.empty(0, np.int64), columns, fixed_only)
    breaks = np.flatnonzero(np.diff(file_ids)) + 1
    parts = []
    for run_start, run_stop in zip(np.r_[0, breaks].tolist(), np.r_[breaks, len(file_ids)].tolist()):
        file_id = int(file_ids[run_start])
        layout = reader._open_file(file_id)
        if not layout.has_product(key):
            raise KeyError(f"{reader.file_paths[file_id]}: no product {key!r}")
        parts.append(_file_columns(layout, key, file_entries[run_start:run_stop], columns, fixed_only))
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    fixed = concatenate_rows([part.fixed for part in parts], object_class(reader, key))
    variable = {name: VarColumn.concatenate([part.variable[name] for part in parts]) for name in first.variable}
    lengths = np.concatenate([np.diff(part.offsets) for part in parts])
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return TableColumns(first.names, fixed, variable, offsets)
