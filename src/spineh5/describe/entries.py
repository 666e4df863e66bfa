"""The content of one entry: one product in full (:func:`format_entry`) or one line per product.

Entries of both layouts are decoded by the file's read layout
(:func:`spineh5.layouts.read_layout`, built once per open file by
:func:`~.files.entry_layout`), which checks the region references or offsets
it follows: the values shown are the values the reader returns.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import h5py
import numpy as np

from ..format.common import attr_text
from ..generated import REGISTRY
from ..products import Kind
from .files import entry_layout
from .product import kind_text
from .views import product_keys

__all__ = ["format_entry", "format_entry_overview", "read_entry"]


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


def _array_text(value: np.ndarray, indent: str = "") -> str:
    head = f"{value.dtype} {tuple(value.shape)}"
    if value.size == 0:
        return f"{head} []"
    body = np.array2string(value, threshold=12, edgeitems=3, max_line_width=100, precision=4, separator=" ")
    if "\n" in body:
        body = body.replace("\n", "\n" + indent + "  ")
        return f"{head}\n{indent}  {body}"
    return f"{head} {body}"


def _scalar_text(value: Any, enum: type | None = None) -> str:
    if isinstance(value, (bytes, np.bytes_)):
        return repr(bytes(value).decode("utf-8", "replace"))
    if isinstance(value, str):
        return repr(value)
    if enum is not None:
        try:
            return f"{enum(int(value)).name} ({int(value)})"
        except ValueError:
            return f"{int(value)} (not a {enum.__name__} value)"
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _value_text(value: Any, enum: type | None = None, indent: str = "") -> str:
    if isinstance(value, np.ndarray):
        return _array_text(value, indent)
    return _scalar_text(value, enum)


def _object_lines(key: str, rows: np.ndarray, class_name: str) -> Iterator[str]:
    cls = REGISTRY.get(class_name)
    columns = {column.name: column for column in cls.COLUMNS} if cls else {}
    width = max(len(name) for name in rows.dtype.names)
    for position, row in enumerate(rows):
        yield f"{key}[{position}]  {class_name}"
        instance_units = attr_text(row["units"]) if "units" in rows.dtype.names else ""
        for name in rows.dtype.names:
            column = columns.get(name)
            text = _value_text(row[name], column.enum if column else None, indent="  " + " " * (width + 2))
            units = (instance_units if column.units == "instance" else column.units) if column else None
            if units and "\n" not in text:
                text += f"  {units}"
            yield f"  {name.ljust(width)}  {text}"


def format_entry(h5file: h5py.File, key: str, entry: int) -> str:
    """Return the readable content of one product of one entry (``--entry N --key K``)."""
    value = read_entry(h5file, key, entry)
    kind, class_name = _kind_and_class(h5file, key)
    header = f"{key}  entry {entry}  ({kind_text(kind)})"
    if kind in (Kind.OBJECT, Kind.OBJECTS):
        rows = np.atleast_1d(value)
        header += f"  {len(rows)} {class_name}"
        return "\n".join([header, *_object_lines(key, rows, class_name)])
    if kind in (Kind.FLAT, Kind.JAGGED):
        lines = [f"{header}  {len(value)} arrays"]
        lines.extend(f"  [{i}] {_array_text(array, '    ')}" for i, array in enumerate(value))
        return "\n".join(lines)
    return f"{header}\n  {_value_text(value, indent='  ')}"


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
        return _scalar_text(value)
    return f"{value.dtype} {tuple(value.shape)}"


def format_entry_overview(h5file: h5py.File, entry: int) -> str:
    """Return one line per product of one entry (``--entry N`` without ``--key``)."""
    keys = sorted(product_keys(h5file))
    lines = [f"entry {entry} of {entry_layout(h5file).entry_count()}"]
    width = max((len(key) for key in keys), default=0)
    for key in keys:
        kind, _ = _kind_and_class(h5file, key)
        lines.append(f"  {key.ljust(width)}  {kind_text(kind).ljust(11)}  {_entry_line(h5file, key, entry)}")
    return "\n".join(lines)
