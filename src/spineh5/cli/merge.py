"""``spineh5 merge``: concatenate the shards of a production into one file."""

from __future__ import annotations

import sys
from typing import Any

import click

from .group import main
from .options import batch_size_option, format_version_option


@main.command("merge")
@click.argument("target", metavar="OUT", type=click.Path(dir_okay=False))
@click.argument("shards", metavar="SHARDS...", nargs=-1)
@click.option("--manifest", "-m", type=click.Path(exists=True), help="Merge the shards of this production.json.")
@format_version_option("Layout of OUT (default: the first shard's).")
@click.option("--allow-incomplete", is_flag=True, help="Merge incomplete shards too (missing ones are left out).")
@click.option("--allow-mismatch", is_flag=True, help="Merge shards of different products/schemas (common products).")
@click.option("--allow-duplicates", is_flag=True, help="Merge repeated (run, subrun, event) triplets.")
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists (only once the merge succeeded).")
@batch_size_option()
def merge_command(
    target: str,
    shards: tuple[str, ...],
    manifest: str | None,
    format_version: int | None,
    allow_incomplete: bool,
    allow_mismatch: bool,
    allow_duplicates: bool,
    overwrite: bool,
    batch_size: int,
) -> None:
    """Concatenate SHARDS (files or globs, in order) or the shards of --manifest into OUT.

    Entries are read back and written again in OUT's layout, so region
    references or offsets are rewritten for the merged file. Incomplete
    shards, shards of different products or schemas, and repeated (run,
    subrun, event) triplets are refused unless allowed. OUT records its
    shards in info.merged_from.
    """
    from tqdm import tqdm

    from ..conversion import OutputExistsError
    from ..parallel.merging import MergeError, merge

    if bool(shards) == bool(manifest):
        raise click.UsageError("give either SHARDS... or --manifest")
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="entry", desc="merging", file=sys.stderr, dynamic_ncols=True)
        bar.update(done - bar.n)

    try:
        result = merge(
            target,
            list(shards) or None,
            manifest,
            format_version,
            allow_incomplete=allow_incomplete,
            allow_mismatch=allow_mismatch,
            allow_duplicates=allow_duplicates,
            overwrite=overwrite,
            batch_size=batch_size,
            progress=progress,
        )
    except OutputExistsError as err:
        raise click.ClickException(f"{err.path} exists; pass --overwrite to replace it") from None
    except MergeError as err:
        raise click.ClickException(str(err)) from None
    finally:
        if bar is not None:
            bar.close()
    click.echo(
        f"merged {result.entries} entries of {len(result.shards)} shards into {target} "
        f"(V{result.format_version}) in {result.seconds:.1f} s"
    )
    for note in result.notes:
        click.echo(f"note: {note}")
