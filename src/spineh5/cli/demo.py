"""``spineh5 demo``: write a synthetic production and describe it."""

from __future__ import annotations

import os
import sys
import time

import click
import h5py

from ..describe import (
    format_summary,
    open_file,
    summarize,
)
from ..errors import SpineFileError
from ..format.common import read_info
from .group import main
from .options import batch_size_option

DEFAULT_DEMO_PATH = "spineh5_demo.h5"


def _refuse_foreign_file(path: str, force: bool) -> None:
    """Refuse to overwrite an existing file that an earlier ``demo`` did not write, unless forced."""
    if force or not os.path.exists(path):
        return
    try:
        with h5py.File(path, "r") as h5file:
            writer = str((read_info(h5file, path) or {}).get("writer", ""))
    except (OSError, SpineFileError):
        writer = ""
    if not writer.startswith("spineh5"):
        raise click.ClickException(f"{path} exists and was not written by spineh5; pass --force to overwrite it")


@main.command()
@click.argument("path", default=DEFAULT_DEMO_PATH, type=click.Path(dir_okay=False))
@click.option("--events", "-n", default=100, show_default=True, type=click.IntRange(min=1), help="Entries to write.")
@batch_size_option(8)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the synthetic production.")
@click.option(
    "--scale",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.0),
    help="Factor on the 20,000 voxels per entry (object counts do not change).",
)
@click.option("--lite", is_flag=True, help="Write a lite file (no voxel index columns).")
@click.option("--force", "-f", is_flag=True, help="Overwrite PATH even if spineh5 did not write it.")
def demo(path: str, events: int, batch_size: int, seed: int, scale: float, lite: bool, force: bool) -> None:
    """Write a realistic synthetic production to PATH, then describe it.

    Each entry holds the benchmark's event mix: 20,000 voxels, 30 reco and 40
    truth particles, 60 reco and truth fragments, 5 reco and truth
    interactions, 40 LArCV particles, 10 flashes, 10 CRT hits, a neutrino and
    a list of cluster index arrays. PATH defaults to ./spineh5_demo.h5.
    """
    try:
        from ..writer import HDF5Writer
    except ImportError as err:  # pragma: no cover - only before the writer exists
        raise click.ClickException(f"the spineh5 writer is not available: {err}") from None
    from tqdm import tqdm

    from ..demo import make_batches

    _refuse_foreign_file(path, force)
    cfg = {"demo": {"events": events, "batch_size": batch_size, "seed": seed, "scale": scale, "lite": lite}}
    started = time.perf_counter()
    with tqdm(total=events, unit="entry", desc="writing", file=sys.stderr, dynamic_ncols=True) as bar:
        with HDF5Writer(file_name=path, overwrite=True, lite=lite) as writer:
            for batch in make_batches(events, batch_size=batch_size, seed=seed, scale=scale):
                writer(batch, cfg)
                bar.update(len(batch["index"]))
    elapsed = time.perf_counter() - started
    click.echo(f"wrote {events} entries to {path} in {elapsed:.1f} s (synthetic data generation included)\n")
    with open_file(path) as h5file:
        click.echo(format_summary(summarize(h5file)))


# -- inspect ---------------------------------------------------------------------------------------------
