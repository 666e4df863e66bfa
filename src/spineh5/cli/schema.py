"""``spineh5 schema``: the object types and their columns."""

from __future__ import annotations

from typing import Any

import click

from ..describe.text import table_lines
from ..generated import REGISTRY, SCHEMA_VERSION
from .group import main


def _first_doc_line(cls: type) -> str:
    return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""


def _schema_overview() -> str:
    rows = [("class", "columns", "lite", "derived", "description")]
    for name, cls in REGISTRY.items():
        columns = cls.COLUMNS
        rows.append(
            (
                name,
                str(len(columns)),
                str(sum(c.lite for c in columns)),
                str(sum(c.derived for c in columns)),
                _first_doc_line(cls),
            )
        )
    lines = [f"schema version {SCHEMA_VERSION}: {len(REGISTRY)} object types", ""]
    lines.extend(table_lines(rows))
    lines.append("")
    lines.append("spineh5 schema CLASS lists the columns of one type.")
    return "\n".join(lines)


def _resolve_class(name: str) -> type:
    if name in REGISTRY:
        return REGISTRY[name]
    by_lower = {key.lower(): cls for key, cls in REGISTRY.items()}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    import difflib

    close = difflib.get_close_matches(name, list(REGISTRY), n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else f" Known: {', '.join(REGISTRY)}."
    raise click.BadParameter(f"no object type {name!r}.{hint}", param_hint="CLASS")


def _schema_of(cls: type) -> str:
    columns = cls.COLUMNS
    lines = [
        f"{cls.__name__}: {_first_doc_line(cls)}",
        f"{len(columns)} columns ({sum(c.lite for c in columns)} in lite files, {sum(c.derived for c in columns)} "
        "derived); schema version " + str(SCHEMA_VERSION),
        "",
    ]
    rows: list[tuple[str, ...]] = [("#", "column", "dtype", "storage", "default", "units", "lite", "derived", "doc")]
    for position, column in enumerate(columns):
        rows.append(
            (
                str(position),
                column.name,
                column.describe(),
                column.storage,
                _default_text(column),
                column.units or "",
                "yes" if column.lite else "no",
                "yes" if column.derived else "",
                column.doc,
            )
        )
    lines.extend(table_lines(rows))
    enums = {column.enum for column in columns if column.enum is not None}
    if enums:
        lines.append("")
        for enum in sorted(enums, key=lambda e: e.__name__):
            lines.append(f"{enum.__name__}: " + ", ".join(f"{m.name}={m.value}" for m in enum))
    return "\n".join(lines)


def _default_text(column: Any) -> str:
    if column.storage == "vlen":
        return "[]"
    default = column.default
    if column.storage == "fixed" and not isinstance(default, tuple):
        return f"[{default}]x{column.length}"
    return repr(default) if isinstance(default, str) else str(default)


@main.command()
@click.argument("class_name", required=False, metavar="[CLASS]")
@click.option(
    "--file",
    "-f",
    "path",
    type=click.Path(dir_okay=False),
    help="Show the schema this file records for its classes instead of the current one.",
)
@click.option("--yaml", "as_yaml", is_flag=True, help="With --file: print the stored YAML schema documents.")
@click.option("--json", "as_json", is_flag=True, help="With --file: print the stored records as JSON.")
def schema(class_name: str | None, path: str | None, as_yaml: bool, as_json: bool) -> None:
    """List the object types of the schema, or the columns of one type CLASS (with --file: as a file stores them)."""
    if path is not None:
        click.echo(_stored_schema(path, class_name, as_yaml, as_json))
        return
    if as_yaml or as_json:
        raise click.UsageError("--yaml and --json need --file")
    if class_name is None:
        click.echo(_schema_overview())
        return
    click.echo(_schema_of(_resolve_class(class_name)))


def _stored_schema(path: str, class_name: str | None, as_yaml: bool, as_json: bool) -> str:
    """Return the schema a file records, as text, YAML or JSON (one class with ``class_name``)."""
    from ..describe import FileOpenError, open_file
    from ..describe.stored_schema import records_json, records_text, records_yaml
    from ..format.schema import read_class_schemas

    if as_yaml and as_json:
        raise click.UsageError("pass --yaml or --json, not both")
    try:
        with open_file(path) as h5file:
            records = read_class_schemas(h5file)
    except FileOpenError as err:
        raise click.ClickException(f"{path}: {err}") from None
    if class_name is not None:
        if class_name not in records:
            known = ", ".join(records) or "none"
            raise click.BadParameter(f"{path} records no class {class_name!r} (recorded: {known})", param_hint="CLASS")
        records = {class_name: records[class_name]}
    if as_yaml:
        return records_yaml(records).rstrip("\n")
    if as_json:
        return records_json(records)
    return records_text(path, records, class_name)
