"""``spineh5 export``: one product of a file or production to Parquet or CSV."""

from __future__ import annotations

import sys

import click

from ..errors import SpineH5Error
from .group import main


def _split(columns: str | None) -> list[str] | None:
    if columns is None:
        return None
    return [name.strip() for name in columns.split(",") if name.strip()]


@main.command("export")
@click.argument("files", metavar="FILE...", nargs=-1, required=True)
@click.option("--key", "-k", required=True, help="The product to export, e.g. reco_particles.")
@click.option(
    "--to",
    "to",
    required=True,
    type=click.Path(dir_okay=False),
    help="Output file: .parquet (every product kind) or .csv (object products, SPINE's scalar_dict columns).",
)
@click.option("--columns", "-c", help="Comma-separated stored columns of an object product (default: all).")
@click.option("--entries", "-e", help="Entry range of the production, as 0:100, :100 or 10: (default: all).")
@click.option("--step-size", default=1000, show_default=True, type=click.IntRange(min=1), help="Entries per chunk.")
@click.option("--overwrite", is_flag=True, help="Replace the output if it exists (only once the export succeeded).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar (there is none either when stderr is not a TTY).")
def export_command(
    files: tuple[str, ...],
    key: str,
    to: str,
    columns: str | None,
    entries: str | None,
    step_size: int,
    overwrite: bool,
    quiet: bool,
) -> None:
    """Write the product KEY of FILE... (files or quoted globs, read as one production) to Parquet or CSV.

    Parquet (through awkward/pyarrow) has one row per entry: ``entry`` (the
    position in the production) and the product as ``HDF5Reader.arrays``
    gives it. CSV has one row per object: ``entry``, ``subentry``, then
    SPINE's ``scalar_dict`` columns (``start_point_x``, ...; variable-length
    columns left out). Both are written in chunks of ``--step-size`` entries.
    """
    try:
        from ..views.export import export
    except ImportError as err:
        raise click.ClickException(
            f"export needs the analysis extra ({err}): pip install 'spineh5[analysis]'"
        ) from None
    progress = not quiet and sys.stderr.isatty()
    try:
        written = export(
            list(files),
            key,
            to,
            columns=_split(columns),
            entries=entries,
            progress=progress,
            overwrite=overwrite,
            step_size=step_size,
        )
    except (SpineH5Error, FileNotFoundError, KeyError, ValueError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
        raise click.ClickException(str(message).splitlines()[0] if str(message) else type(err).__name__) from None
    click.echo(f"exported {written} entries of {key!r} to {to}")
