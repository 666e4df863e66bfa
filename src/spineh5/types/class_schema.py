"""What a generated class is, as data: the record a file stores for it, and how two records differ.

:func:`class_record` describes a registered class (its schema version, its columns,
and a self-contained YAML schema document that ``spineh5 generate`` turns back into
the same class); :mod:`spineh5.format.schema` stores the records in a file.
:func:`column_changes` says which columns two records do not share, as an
append refusal or ``spineh5 schema --file`` names them.

The YAML document declares the class with its columns in on-disk order (its
field groups flattened into it: a generated class does not keep its bases) and
the enums its columns use.
"""

from __future__ import annotations

import enum
import functools
import importlib
from typing import Any

import yaml

from .columns import Column
from .dtypes import column_changes_text

__all__ = ["class_record", "class_yaml", "column_changes", "records_of"]


def _package_version(cls: type) -> int | None:
    """Return the ``SCHEMA_VERSION`` of the generated package a class belongs to (None when it has none)."""
    package = cls.__module__.rpartition(".")[0]
    try:
        version = getattr(importlib.import_module(package), "SCHEMA_VERSION", None) if package else None
    except ImportError:
        return None
    return int(version) if isinstance(version, int) else None


def _plain(value: Any) -> Any:
    """Return a default as plain YAML/JSON data (tuples as lists, numpy scalars unwrapped)."""
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, enum.Enum):
        return int(value.value)
    if hasattr(value, "item"):
        return value.item()
    return value


def _column_entry(column: Column) -> dict[str, Any]:
    return {
        "name": column.name,
        "dtype": column.dtype,
        "enum": column.enum.__name__ if column.enum is not None else None,
        "storage": column.storage,
        "length": column.length,
        "default": _plain(column.default),
        "units": column.units,
        "role": column.role,
        "lite": column.lite,
        "derived": column.derived,
    }


def _field_declaration(column: Column) -> dict[str, Any]:
    """Return the YAML field declaration of a column (keys the schema language knows, defaults left out)."""
    field: dict[str, Any] = {"name": column.name, "dtype": column.enum.__name__ if column.enum else column.dtype}
    if column.storage != "scalar":
        field["storage"] = column.storage
    if column.length is not None:
        field["length"] = column.length
    if column.storage != "vlen" or column.default:
        field["default"] = _plain(column.default)
    if column.units:
        field["units"] = column.units
    if column.role:
        field["role"] = column.role
    if not column.lite:
        field["lite"] = False
    if column.derived:
        field["derived"] = True
    if column.doc:
        field["doc"] = column.doc
    return field


def _first_doc_line(cls: type) -> str:
    lines = (cls.__doc__ or "").strip().splitlines()
    return lines[0].strip() if lines else ""


@functools.cache
def class_yaml(cls: type) -> str:
    """Return a self-contained YAML schema document declaring ``cls`` and the enums its columns use.

    Computed once per class (PyYAML takes tens of milliseconds for the larger
    classes, and every new output file stores it).
    """
    enums = {column.enum.__name__: column.enum for column in cls.COLUMNS if column.enum is not None}
    document: dict[str, Any] = {"schema_version": _package_version(cls) or 1}
    if enums:
        document["enums"] = {
            name: {"doc": _first_doc_line(members), "members": {m.name: int(m.value) for m in members}}
            for name, members in sorted(enums.items())
        }
    body: dict[str, Any] = {"doc": _first_doc_line(cls)} if _first_doc_line(cls) else {}
    body["fields"] = [_field_declaration(column) for column in cls.COLUMNS]
    document["types"] = {cls.CLASS_NAME: body}
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=1000)


def class_record(cls: type) -> dict[str, Any]:
    """Return the record a file stores for a generated class.

    Its keys are :data:`spineh5.format.schema.RECORD_KEYS`; ``module`` is the
    generated module of the class, ``columns`` one entry per column in on-disk order.
    """
    return {
        "class_name": cls.CLASS_NAME,
        "schema_version": _package_version(cls),
        "module": cls.__module__,
        "columns": [_column_entry(column) for column in cls.COLUMNS],
        "yaml": class_yaml(cls),
    }


def records_of(class_names: list[str] | set[str]) -> dict[str, dict[str, Any]]:
    """Return the records of the registered classes named (names the registry does not know are left out)."""
    from .registry import REGISTRY

    return {name: class_record(REGISTRY[name]) for name in sorted(class_names) if name in REGISTRY}


def _signature(entry: dict[str, Any]) -> str:
    """Return what a column is on disk, as text (``float32[3]``, ``vlen<int64>``, ``ParticleShape``)."""
    base = entry.get("enum") or entry.get("dtype")
    if entry.get("storage") == "fixed":
        return f"{base}[{entry.get('length')}]"
    if entry.get("storage") == "vlen":
        return f"vlen<{base}>"
    return str(base)


def column_changes(stored: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Return how the columns of ``current`` differ from the ``stored`` record (empty when they are the same).

    Lists the columns added (in ``current`` only), removed (in ``stored`` only) and
    those whose dtype or storage changed, each part as one phrase.
    """
    have = {entry["name"]: _signature(entry) for entry in stored.get("columns", []) if "name" in entry}
    want = {entry["name"]: _signature(entry) for entry in current.get("columns", []) if "name" in entry}
    return column_changes_text(have, want)
