"""One generator run, shared by ``python -m codegen`` (spineh5's own types) and ``spineh5 generate``.

Load the schema, check its ``schema_version`` against the ledger of its folder
(:mod:`.versions`), render, then either compare with the output folder (``check``)
or write it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import attrs

from .load import load_schema, schema_paths
from .model import Schema
from .render import render, stale_outputs, write_outputs
from .versions import check_version


@attrs.frozen
class Outcome:
    """What a generator run did.

    Attributes
    ----------
    schema : Schema
        The loaded schema.
    outputs : dict of str to str
        The rendered modules, by file name.
    stale : list of str
        With ``check``: the files of the output folder that differ from ``outputs``.
    changed : list of Path
        Without ``check``: the files written or removed.
    recorded : bool
        Whether the schema version was recorded in the ledger (``versions.json``).
    ledger_dir : Path
        The folder of that ledger.
    """

    schema: Schema
    outputs: dict[str, str]
    stale: list[str]
    changed: list[Path]
    recorded: bool
    ledger_dir: Path


def generate(
    source: str | Path | Sequence[str | Path],
    out: Path,
    package: str | None = None,
    library: Schema | None = None,
    check: bool = False,
) -> Outcome:
    """Render the schema of ``source`` into the package folder ``out`` (or check it, with ``check``).

    Parameters
    ----------
    source : str, Path or sequence of them
        A schema folder, or schema files and folders; the ledger is the one of the
        folder (of the first file).
    out : Path
        The package folder the modules are written to.
    package : str, optional
        Import name of a user package (see :func:`.render.render`); None for spineh5's own types.
    library : Schema, optional
        The schema this one builds on (spineh5's own for a user schema).
    check : bool
        Compare instead of writing; an unrecorded schema version is then an error.

    Raises
    ------
    SchemaError
        On an invalid schema or a schema version that does not match its columns.
    FormatterError
        When ruff is missing or refuses the rendered code.
    """
    schema = load_schema(source, library)
    first = Path(source) if isinstance(source, (str, Path)) else Path(source[0])
    ledger_dir = first if first.is_dir() else schema_paths(source)[0].parent
    recorded = check_version(schema, ledger_dir, record=not check)
    outputs = render(schema, ledger_dir.name, package)
    if check:
        return Outcome(schema, outputs, stale_outputs(outputs, out), [], recorded, ledger_dir)
    return Outcome(schema, outputs, [], write_outputs(outputs, out), recorded, ledger_dir)
