"""The objects of one product of one entry: a table of one row per object, or one block per object (``--full``).

The table (the default) shows the chosen columns, arrays as their first
values and length, enums by name, a units row under the names; it is cut
into panels of at most :data:`TABLE_WIDTH` characters, each repeating the
object position, so a wide class stays readable. The blocks show every value
of every chosen column, arrays in full. Both write numbers with
:mod:`.numbers`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from ..format.common import attr_text
from ..types.registry import REGISTRY
from .numbers import cell_text, value_text

__all__ = ["TABLE_WIDTH", "object_blocks", "object_table"]

#: Widest line of an object table panel.
TABLE_WIDTH = 120
#: Name of the column holding a row's own units (``units == "instance"`` in the schema).
_UNITS = "units"


def _schema_columns(class_name: str) -> dict:
    cls = REGISTRY.get(class_name)
    return {column.name: column for column in cls.COLUMNS} if cls else {}


def _units(column, rows: np.ndarray) -> str:
    """Return the units of a column (a row's own ``units`` for instance units; the shared one in a table)."""
    if column is None or not column.units:
        return ""
    if column.units != "instance":
        return column.units
    if _UNITS not in (rows.dtype.names or ()):
        return ""
    found = {attr_text(value) for value in rows[_UNITS]}
    return found.pop() if len(found) == 1 else "instance"


def object_table(rows: np.ndarray, class_name: str, names: Sequence[str]) -> list[str]:
    """Return the objects as a table of the columns ``names``, one row per object, in panels."""
    schema = _schema_columns(class_name)
    columns = []
    for name in names:
        column = schema.get(name)
        enum = column.enum if column else None
        cells = [cell_text(row[name], enum) for row in rows]
        columns.append([name, _units(column, rows), *cells])
    position = ["#", "", *map(str, range(len(rows)))]
    lines: list[str] = []
    for panel in _panels(columns, len(max(position, key=len))):
        if lines:
            lines.append("")
        lines.extend(_panel_lines([position, *panel], with_units=any(column[1] for column in panel)))
    return lines


def _panel_lines(table: list[list[str]], with_units: bool) -> list[str]:
    """Return the lines of one panel: names, units (when a column has some), one line per object."""
    widths = [max(map(len, column)) for column in table]
    lines = []
    for line in range(len(table[0])):
        if line == 1 and not with_units:
            continue
        cells = [
            column[line].rjust(width) if place and line > 1 and _numeric(column[line]) else column[line].ljust(width)
            for place, (column, width) in enumerate(zip(table, widths))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def _numeric(text: str) -> bool:
    return text[:1].isdigit() or (text[:1] == "-" and text[1:2].isdigit()) or text in ("nan", "inf", "-inf")


def _panels(columns: list[list[str]], first_width: int) -> Iterator[list[list[str]]]:
    """Split columns into panels whose lines stay within :data:`TABLE_WIDTH` (one column at least per panel)."""
    panel: list[list[str]] = []
    width = first_width
    for column in columns:
        column_width = max(map(len, column)) + 2
        if panel and width + column_width > TABLE_WIDTH:
            yield panel
            panel, width = [], first_width
        panel.append(column)
        width += column_width
    if panel:
        yield panel


def object_blocks(key: str, rows: np.ndarray, class_name: str, names: Sequence[str]) -> Iterator[str]:
    """Yield one block per object: ``key[i]  Class`` and one line per column, every value in full."""
    schema = _schema_columns(class_name)
    width = max((len(name) for name in names), default=0)
    indent = "  " + " " * (width + 2)
    for position, row in enumerate(rows):
        yield f"{key}[{position}]  {class_name}"
        for name in names:
            column = schema.get(name)
            text = value_text(row[name], column.enum if column else None, indent=indent, full=True)
            units = _units(column, rows[position : position + 1])
            if units and "\n" not in text:
                text += f"  {units}"
            yield f"  {name.ljust(width)}  {text}"
