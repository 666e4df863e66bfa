"""``spineh5 status``: which shards of a production are complete, and the inputs to resubmit."""

from __future__ import annotations

import os

import click

from .group import main


@main.command("status")
@click.argument("source", metavar="MANIFEST_OR_DIR", type=click.Path(exists=True))
@click.option("--resubmit", is_flag=True, help="Print only the inputs of the shards to redo, one per line.")
@click.option("--no-checksum", is_flag=True, help="Check complete shards by size only (no sha256 of every file).")
def status_command(source: str, resubmit: bool, no_checksum: bool) -> None:
    """Show the complete, missing, incomplete and invalid shards of a production.

    MANIFEST_OR_DIR is a production.json or a folder of shards (judged from
    its files when it holds no manifest). The exit code is 0 when every shard
    is complete and 1 otherwise, so a script can wait on it. With --resubmit,
    the inputs of every shard that is not complete are printed one per line,
    ready for a job array (exit 0; nothing is printed when the production is
    complete).
    """
    from ..parallel.manifest import ProductionError
    from ..parallel.status import production_status

    try:
        status = production_status(source, verify=not no_checksum)
    except ProductionError as err:
        raise click.ClickException(str(err)) from None
    if resubmit:
        for item in status.resubmit():
            click.echo(item)
        return
    counts = status.counts()
    summary = ", ".join(f"{count} {state}" for state, count in counts.items())
    kind = "manifest" if status.has_manifest else "folder, no manifest"
    click.echo(f"{status.source} ({kind}): {len(status.shards)} shards: {summary}")
    click.echo(f"entries in complete shards: {status.entries}")
    for shard in status.shards:
        if shard.state != "complete":
            inputs = f" [inputs: {', '.join(shard.inputs)}]" if status.has_manifest and shard.inputs else ""
            click.echo(f"{shard.state:<10}  {os.path.basename(shard.path)}: {shard.reason}{inputs}")
    if any(shard.state != "complete" for shard in status.shards):
        raise SystemExit(1)
