"""``spineh5 recover``: make a file left by a killed writer complete, keeping its whole entries."""

from __future__ import annotations

import click

from .group import main


@main.command("recover")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--out", "-o", type=click.Path(dir_okay=False), help="Write the recovered file here (must not exist).")
@click.option("--in-place", is_flag=True, help="Repair PATH itself instead of a copy.")
@click.option("--progress/--no-progress", default=False, help="Show a progress bar while products are checked.")
def recover_command(path: str, out: str | None, in_place: bool, progress: bool) -> None:
    """Recover PATH, a file left by a killed or unfinished writer.

    Keeps the entries whose every product is fully on disk (V1: region
    references inside their datasets; V2: offsets inside their datasets),
    trims the partial rows after them, marks the file complete and records in
    info.recovered what was kept and dropped.

    PATH may be a final file, its hidden partial file (.NAME.partial) or a
    final path whose partial file exists (the partial file is recovered). A
    partial file is recovered to its final name unless --out is given; any
    other file needs --out or --in-place. Without --in-place PATH is never
    written: the work is done on a copy.
    """
    from ..recovery import RecoveryError, recover

    try:
        report = recover(path, out=out, in_place=in_place, progress=progress)
    except RecoveryError as err:
        raise click.ClickException(str(err)) from None
    click.echo(report.summary())
