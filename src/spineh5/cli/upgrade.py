"""``spineh5 upgrade``: rewrite a file into the current schema (the machinery of ``convert``)."""

from __future__ import annotations

import click

from ..layouts import REGISTRY as LAYOUTS
from .convert import report_rewrite, rewrite
from .group import main


@main.command("upgrade")
@click.argument("source", metavar="IN", type=click.Path(dir_okay=False))
@click.argument("target", metavar="OUT", type=click.Path(dir_okay=False))
@click.option(
    "--format-version",
    "-F",
    "format_version",
    type=click.Choice([str(version) for version in sorted(LAYOUTS)]),
    help="Layout of OUT. Default: the layout of IN.",
)
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists (only once the upgrade succeeded).")
@click.option("--batch-size", default=64, show_default=True, type=click.IntRange(min=1), help="Entries per batch.")
def upgrade_command(source: str, target: str, format_version: str | None, overwrite: bool, batch_size: int) -> None:
    """Rewrite the SPINE file IN as OUT in the current schema, keeping its layout.

    Every entry is read with the classes known now and written again, as
    ``spineh5 convert`` does: columns IN lacks take their schema defaults (they
    are listed), and OUT records the schema of the current classes, so it can
    take appends of current data. IN must be complete; OUT is written to a
    temporary file and moved into place at the end.
    """
    from ..conversion import upgrade

    version = int(format_version) if format_version is not None else None
    result = rewrite("upgrading", upgrade, source, target, version, batch_size, overwrite)
    report_rewrite("upgraded", result, source, target, ", current schema")
