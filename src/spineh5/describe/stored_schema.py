"""The text of ``spineh5 schema --file``: the schema a file records for its classes (``info/schema``).

Each class is shown with its schema version, the module it was generated in and
how it compares with the class of that name known now (same columns, or the
columns added, removed or changed since). With a class name, its columns are
listed as ``spineh5 schema CLASS`` lists the current ones.
"""

from __future__ import annotations

import json
from typing import Any

from ..types.class_schema import column_changes, records_of
from .text import table_lines

__all__ = ["records_json", "records_text", "records_yaml"]


def _against_current(name: str, record: dict[str, Any]) -> str:
    current = records_of({name}).get(name)
    if current is None:
        return "unknown here (spineh5 generate --from-file rebuilds it)"
    changes = column_changes(record, current)
    return "same columns as now" if not changes else "now: " + "; ".join(changes)


def _column_rows(record: dict[str, Any]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [("#", "column", "dtype", "storage", "default", "units", "lite", "derived")]
    for position, column in enumerate(record.get("columns", [])):
        base = column.get("enum") or column.get("dtype")
        dtype = f"{base}[{column.get('length')}]" if column.get("storage") == "fixed" else str(base)
        rows.append(
            (
                str(position),
                str(column.get("name")),
                dtype,
                str(column.get("storage")),
                json.dumps(column.get("default")),
                column.get("units") or "",
                "yes" if column.get("lite") else "no",
                "yes" if column.get("derived") else "",
            )
        )
    return rows


def records_text(path: str, records: dict[str, dict[str, Any]], class_name: str | None = None) -> str:
    """Return the human-readable text of a file's stored schema (every class, or the columns of one)."""
    if not records:
        return f"{path} records no schema (written by SPINE or by spineh5 before it stored schemas)"
    if class_name is not None:
        record = records[class_name]
        lines = [
            f"{class_name} in {path}: schema version {record.get('schema_version')}, from {record.get('module')}",
            f"{len(record.get('columns', []))} columns; {_against_current(class_name, record)}",
            "",
        ]
        return "\n".join(lines + table_lines(_column_rows(record)))
    rows = [("class", "version", "columns", "generated in", "compared with this spineh5")]
    for name, record in records.items():
        rows.append(
            (
                name,
                str(record.get("schema_version")),
                str(len(record.get("columns", []))),
                str(record.get("module")),
                _against_current(name, record),
            )
        )
    lines = [f"{path}: the stored schema of {len(records)} classes", "", *table_lines(rows), ""]
    lines.append("spineh5 schema --file F CLASS lists the stored columns of one class; --yaml prints the YAML.")
    return "\n".join(lines)


def records_yaml(records: dict[str, dict[str, Any]]) -> str:
    """Return the stored YAML schema documents, one per class, separated by ``---``."""
    return "---\n".join(str(record.get("yaml", "")) for record in records.values())


def records_json(records: dict[str, dict[str, Any]]) -> str:
    """Return the stored records as indented JSON."""
    return json.dumps(records, indent=2)
