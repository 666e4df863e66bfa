"""``spineh5 convert``: rewrite a file in the other layout."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click

from ..describe import (
    FileOpenError,
    open_file,
)
from ..format.common import DEFAULT_FORMAT_VERSION, detect_layout
from ..layouts import REGISTRY as LAYOUTS
from .group import main
from .options import batch_size_option, format_version_option


@main.command("convert")
@click.argument("source", metavar="IN", type=click.Path(dir_okay=False))
@click.argument("target", metavar="OUT", type=click.Path(dir_okay=False))
@format_version_option(
    "Layout of OUT: "
    + " or ".join(f"{version} ({entry.storage})" for version, entry in sorted(LAYOUTS.items()))
    + ". Default: the other layout of IN."
)
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists (only once the conversion succeeded).")
@batch_size_option()
def convert_command(source: str, target: str, format_version: int | None, overwrite: bool, batch_size: int) -> None:
    """Rewrite the SPINE file IN as OUT in the other layout (V1 <-> V2).

    Every entry is read back with spineh5's reader and written again with its
    writer: products, their kinds, the stored index, lite-ness and the
    configuration are kept, so OUT reads back identical to IN. Columns the
    schema does not know (later SPINE releases) are not carried over; they
    are listed. IN must be complete; OUT is written to a temporary file and
    moved into place at the end.
    """
    from ..conversion import convert

    version = format_version if format_version is not None else _other_layout(source)
    result = rewrite("converting", convert, source, target, version, batch_size, overwrite)
    report_rewrite("converted", result, source, target)


def rewrite(
    description: str,
    function: Callable[..., Any],
    source: str,
    target: str,
    version: int | None,
    batch_size: int,
    overwrite: bool,
) -> Any:
    """Run a rewrite of IN as OUT (``convert``, ``upgrade``) under a progress bar; its errors become one line."""
    from ..conversion import ConvertError, OutputExistsError

    with progress_bar(description) as progress:
        try:
            return function(source, target, version, batch_size=batch_size, overwrite=overwrite, progress=progress)
        except OutputExistsError as err:
            raise click.ClickException(f"{err.path} exists; pass --overwrite to replace it") from None
        except ConvertError as err:
            raise click.ClickException(str(err)) from None


def report_rewrite(verb: str, result: Any, source: str, target: str, extra: str = "") -> None:
    """Print what a rewrite did: entries, layouts, lite, time, then its notes."""
    lite = ", lite" if result.lite else ""
    click.echo(
        f"{verb} {result.entries} entries of {source} (V{result.source_version}) to {target} "
        f"(V{result.format_version}{lite}{extra}) in {result.seconds:.1f} s"
    )
    for note in result.notes:
        click.echo(f"note: {note}")


@contextlib.contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """Yield a ``progress(done, total)`` callback drawing a tqdm bar of entries on stderr (closed at the end)."""
    from tqdm import tqdm

    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="entry", desc=description, file=sys.stderr, dynamic_ncols=True)
        bar.update(done - bar.n)

    try:
        yield progress
    finally:
        if bar is not None:
            bar.close()


def _other_layout(path: str) -> int:
    """Return the newest layout IN is not in (2 for a V1 file), or refuse a path that is not an HDF5 file.

    A file of no supported layout counts as V1, the layout SPINE reads it as.
    """
    try:
        with open_file(path) as h5file:
            version, _ = detect_layout(h5file)
    except FileOpenError as err:
        raise click.ClickException(f"{path}: {err}") from None
    if version not in LAYOUTS:
        version = DEFAULT_FORMAT_VERSION
    return max(other for other in LAYOUTS if other != version)


# -- schema ----------------------------------------------------------------------------------------------
