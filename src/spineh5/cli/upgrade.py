"""``spineh5 upgrade``: rewrite a file into the current schema (the machinery of ``convert``)."""

from __future__ import annotations

import click

from .convert import report_rewrite, rewrite
from .group import main
from .options import batch_size_option, format_version_option


@main.command("upgrade")
@click.argument("source", metavar="IN", type=click.Path(dir_okay=False))
@click.argument("target", metavar="OUT", type=click.Path(dir_okay=False))
@format_version_option("Layout of OUT. Default: the layout of IN.")
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists (only once the upgrade succeeded).")
@batch_size_option()
def upgrade_command(source: str, target: str, format_version: int | None, overwrite: bool, batch_size: int) -> None:
    """Rewrite the SPINE file IN as OUT in the current schema, keeping its layout.

    Every entry is read with the classes known now and written again, as
    ``spineh5 convert`` does: columns IN lacks take their schema defaults (they
    are listed), and OUT records the schema of the current classes, so it can
    take appends of current data. IN must be complete; OUT is written to a
    temporary file and moved into place at the end.
    """
    from ..conversion import upgrade

    result = rewrite("upgrading", upgrade, source, target, format_version, batch_size, overwrite)
    report_rewrite("upgraded", result, source, target, ", current schema")
