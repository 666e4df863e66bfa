"""``spineh5 generate``: render a user schema into an importable package of object types."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

from .group import main


def _fail(message: str, code: int) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


def _package_name(out: Path, package: str | None) -> str:
    name = package or out.name
    if not all(part.isidentifier() for part in name.split(".")):
        _fail(f"error: package name {name!r} is not a dotted Python identifier; pass --package NAME", 2)
    return name


@main.command("generate")
@click.argument("schema", metavar="[SCHEMA_DIR_OR_FILES...]", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The package folder to write (created; generated *.py files no longer produced are removed).",
)
@click.option("--package", "-p", help="Import name of the package (default: the --out folder's name).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when the package differs from a fresh generation.")
@click.option(
    "--from-file",
    "from_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Instead of a schema: regenerate the classes this file records (its stored schema).",
)
def generate_command(
    schema: tuple[Path, ...], out: Path, package: str | None, check: bool, from_file: Path | None
) -> None:
    """Render the object types of SCHEMA_DIR_OR_FILES (a folder of *.yaml, or files) into the package --out.

    A schema may name spineh5's own enums, field groups and types (``bases:
    [ParticleBase]``, ``dtype: ParticleShape``). Importing the generated package
    registers its types with HDF5Writer and HDF5Reader. Its ``schema_version`` is
    recorded in ``versions.json`` beside the schema; a change of columns needs a new
    version. With --from-file F, the classes F records (not spineh5's own) are
    rendered instead, as podio-dump --dump-edm does. Exit status: 0 done, 1 stale
    (--check), 2 invalid schema, 3 generator dependencies missing (pip install
    'spineh5[codegen]').
    """
    if bool(schema) == (from_file is not None):
        _fail("error: give either SCHEMA_DIR_OR_FILES or --from-file FILE", 2)
    if from_file is not None and check:
        _fail("error: --check compares with a schema folder; it does not combine with --from-file", 2)
    name = _package_name(out, package)
    if from_file is not None:
        _generate_from_file(from_file, out, name)
        return
    try:
        from ..codegen import FormatterError, SchemaError
        from ..codegen.library import load_library
        from ..codegen.run import generate
    except ImportError as err:
        _fail(f"error: spineh5 generate needs the codegen extra ({err}): pip install 'spineh5[codegen]'", 3)
    try:
        outcome = generate(list(schema), out, package=name, library=load_library(), check=check)
    except SchemaError as err:
        _fail(f"schema error: {err}", 2)
    except FormatterError as err:
        _fail(f"error: cannot format the generated code: {err}", 3)
    types = ", ".join(t.name for t in outcome.schema.concrete_types())
    if check:
        if outcome.stale:
            _fail(f"stale generated code in {out}: {', '.join(outcome.stale)}; run spineh5 generate", 1)
        click.echo(f"{out} is up to date ({len(outcome.outputs)} files)")
        return
    click.echo(f"generated package {name} ({types}) into {out}: {len(outcome.changed)} files changed")
    if outcome.recorded:
        click.echo(f"recorded schema_version {outcome.schema.version} in {outcome.ledger_dir / 'versions.json'}")


def _generate_from_file(path: Path, out: Path, name: str) -> None:
    try:
        from ..codegen import FormatterError, SchemaError
        from ..codegen.from_file import generate_from_file
    except ImportError as err:
        _fail(f"error: spineh5 generate needs the codegen extra ({err}): pip install 'spineh5[codegen]'", 3)
    try:
        result = generate_from_file(path, out, package=name)
    except SchemaError as err:
        _fail(f"schema error: {err}", 2)
    except FormatterError as err:
        _fail(f"error: cannot format the generated code: {err}", 3)
    except OSError as err:
        _fail(f"error: cannot read {path}: {err}", 2)
    types = ", ".join(t.name for t in result.outcome.schema.concrete_types())
    click.echo(f"generated package {name} ({types}) from the schema stored in {path} into {out}")
    if result.skipped:
        click.echo(f"spineh5's own classes, read with spineh5's types: {', '.join(result.skipped)}")
