"""The content of one entry: one product in full (:func:`format_entry`) or one line per product.

Entries of both layouts are decoded by the file's read layout
(:func:`spineh5.layouts.read_layout`, built once per open file by
:func:`~.files.entry_layout`), which checks the region references or offsets
it follows: the values shown are the values the reader returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import h5py
import numpy as np

from ..products import Kind
from .files import entry_layout
from .numbers import array_text, value_text
from .objects import object_blocks, object_table
from .product import kind_text
from .runs import event_text
from .views import product_keys

__all__ = ["format_entry", "format_entry_overview", "object_columns", "read_entry"]


def read_entry(h5file: h5py.File, key: str, entry: int) -> Any:
    """Decode one product of one entry with the file's read layout.

    Returns
    -------
    Any
        A scalar, an array, a structured array of object rows (V2: the fixed
        columns and the pool fields; one row, not an array, for single-object
        products), or a list of arrays (flat and jagged lists), as stored.
    """
    layout = entry_layout(h5file)
    value = layout.read_raw(entry, key)
    return value[0] if layout.spec(key).kind is Kind.OBJECT else value


def _kind_and_class(h5file: h5py.File, key: str) -> tuple[Kind, str]:
    spec = entry_layout(h5file).spec(key)
    return spec.kind, spec.class_name or "?"


def object_columns(h5file: h5py.File, key: str) -> tuple[str, ...] | None:
    """Return the columns of the objects of a product as decoded (None for a product that holds no objects)."""
    layout = entry_layout(h5file)
    spec = layout.spec(key)
    if not spec.kind.holds_objects:
        return None
    rows = read_entry(h5file, key, 0) if layout.entry_count() else None
    dtype = rows.dtype if rows is not None else spec.dtype
    return tuple(dtype.names or ())


def format_entry(
    h5file: h5py.File, key: str, entry: int, columns: Sequence[str] | None = None, full: bool = False
) -> str:
    """Return the readable content of one product of one entry (``--entry N --key K``).

    Objects are shown as a table of one row per object (:func:`.objects.object_table`),
    or with ``full`` one block per object with every value; ``columns`` limits
    the columns shown (every column when None). The header names the entry's
    run, subrun and event (:func:`.runs.event_text`).
    """
    value = read_entry(h5file, key, entry)
    kind, class_name = _kind_and_class(h5file, key)
    header = f"{key}  entry {entry}  ({kind_text(kind)})"
    event = event_text(h5file, entry)
    if kind.holds_objects:
        rows = np.atleast_1d(value)
        names = list(columns) if columns is not None else list(rows.dtype.names)
        lines = [f"{header}  {len(rows)} {class_name}  ({event})"]
        if full:
            lines.extend(object_blocks(key, rows, class_name, names))
        elif len(rows):
            lines.extend("  " + line if line else line for line in object_table(rows, class_name, names))
        return "\n".join(lines)
    if kind in (Kind.FLAT, Kind.JAGGED):
        lines = [f"{header}  {len(value)} arrays  ({event})"]
        lines.extend(f"  [{i}] {array_text(array, '    ', full)}" for i, array in enumerate(value))
        return "\n".join(lines)
    return f"{header}  ({event})\n  {value_text(value, indent='  ', full=full)}"


def _entry_line(h5file: h5py.File, key: str, entry: int) -> str:
    value = read_entry(h5file, key, entry)
    kind, class_name = _kind_and_class(h5file, key)
    if kind is Kind.OBJECT:
        return f"1 {class_name}"
    if kind is Kind.OBJECTS:
        return f"{len(value)} {class_name}"
    if kind in (Kind.FLAT, Kind.JAGGED):
        sizes = [len(array) for array in value]
        return f"{len(value)} arrays, {sum(sizes)} values"
    if kind is Kind.SCALAR:
        return value_text(value)
    return f"{value.dtype} {tuple(value.shape)}"


def format_entry_overview(h5file: h5py.File, entry: int) -> str:
    """Return one line per product of one entry (``--entry N`` without ``--key``)."""
    keys = sorted(product_keys(h5file))
    lines = [f"entry {entry} of {entry_layout(h5file).entry_count()}  ({event_text(h5file, entry)})"]
    width = max((len(key) for key in keys), default=0)
    for key in keys:
        kind, _ = _kind_and_class(h5file, key)
        lines.append(f"  {key.ljust(width)}  {kind_text(kind).ljust(11)}  {_entry_line(h5file, key, entry)}")
    return "\n".join(lines)
