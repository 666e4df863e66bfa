"""``spineh5 inspect``: what a file holds, one product, one entry."""

from __future__ import annotations

import click
import h5py

from ..describe import (
    FileOpenError,
    entries_of_event,
    format_entry,
    format_entry_overview,
    format_product,
    format_summary,
    object_columns,
    open_file,
    product_keys,
    summarize,
)
from ..errors import SpineFileError, SpineH5Error
from ..format.common import EVENTS
from ..h5_errors import H5_ERRORS
from ..sandbox import DEFAULT_TIMEOUT, run_bounded
from .group import main


def _open_or_fail(path: str) -> h5py.File:
    try:
        return open_file(path)
    except FileOpenError as err:
        raise click.ClickException(f"{path}: {err}") from None


def _entry_position(h5file: h5py.File, entry: int) -> int:
    count = h5file[EVENTS].shape[0]
    position = entry + count if entry < 0 else entry
    if not 0 <= position < count:
        raise click.BadParameter(f"entry {entry} is out of range: the file has {count} entries", param_hint="--entry")
    return position


def _check_key(h5file: h5py.File, key: str) -> None:
    keys = product_keys(h5file)
    if key not in keys:
        raise click.BadParameter(f"no product {key!r}; products: {', '.join(sorted(keys))}", param_hint="--key")


class _OptionError(click.ClickException):
    """An option value the file cannot serve (unknown columns): one line, exit 2 as click's usage errors."""

    exit_code = 2


def _event_entry(h5file: h5py.File, path: str, run: int, subrun: int, event: int) -> int:
    """Return the entry holding (run, subrun, event), or fail in one line naming the triplet."""
    triplet = f"run {run}, subrun {subrun}, event {event}"
    try:
        found = entries_of_event(h5file, run, subrun, event)
    except SpineFileError as err:
        raise click.ClickException(f"{path}: cannot look up {triplet}: {err.problem}") from None
    if not found:
        raise click.ClickException(f"{path}: no entry holds {triplet}")
    if len(found) > 1:
        raise click.ClickException(
            f"{path}: {triplet} is held by entries {', '.join(map(str, found))}; pick one with --entry"
        )
    return found[0]


def _chosen_columns(h5file: h5py.File, key: str, text: str) -> list[str]:
    """Return the columns named by ``--columns a,b,c``, or fail in one line listing the available ones."""
    available = object_columns(h5file, key)
    if available is None:
        raise _OptionError(f"--columns: {key!r} holds no objects; it has no columns to choose")
    wanted = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in available]
    if unknown or not wanted:
        named = f"no column {', '.join(map(repr, unknown))} in {key!r}" if unknown else "no column named"
        raise _OptionError(f"--columns: {named}; columns: {', '.join(available)}")
    return wanted


@main.command("inspect")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--key", "-k", help="Describe this product (with --entry: show its content in that entry).")
@click.option("--entry", "-e", type=int, help="Show this entry (negative counts from the end).")
@click.option("--run", type=int, help="With --subrun and --event: show the entry of this event (from run_info).")
@click.option("--subrun", type=int, help="Subrun of the event to show (with --run and --event).")
@click.option("--event", type=int, help="Event number of the event to show (with --run and --subrun).")
@click.option("--columns", "-c", help="With --entry and --key of an object product: show only these columns (a,b,c).")
@click.option("--full", is_flag=True, help="With --entry and --key: one block per object, every value in full.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds given to reading the file, in a worker process (HDF5 can loop on damaged files); 0: in-process.",
)
def inspect_command(
    path: str,
    key: str | None,
    entry: int | None,
    run: int | None,
    subrun: int | None,
    event: int | None,
    columns: str | None,
    full: bool,
    timeout: float,
) -> None:
    """Describe the SPINE HDF5 file PATH (V1 or V2 layout).

    Without options: entries, completeness, writer, configuration and one line
    per product (kind, class, columns, rows, bytes on disk with variable-length
    data, compression). With --key: one product in detail (V2: its datasets,
    offsets and pools). With --entry (or --run, --subrun and --event): every
    product of one entry, under its run, subrun and event numbers. With both:
    the content of one product of one entry; objects as a table of one row per
    object (arrays as their first values and length), or with --full one block
    per object with every value.

    The file is read in a worker process given --timeout seconds: a damaged
    file HDF5 loops on is reported in one line (exit 1) instead of hanging.
    """
    triplet = (run, subrun, event)
    if any(number is not None for number in triplet):
        if None in triplet:
            raise click.UsageError("give --run, --subrun and --event together to pick an event")
        if entry is not None:
            raise click.UsageError("pick the entry with --entry or with --run/--subrun/--event, not both")
    picks_entry = entry is not None or run is not None
    if (columns is not None or full) and (key is None or not picks_entry):
        raise click.UsageError("--columns and --full need --key and an entry (--entry, or --run/--subrun/--event)")
    try:
        click.echo(run_bounded(_describe, path, key, entry, triplet, columns, full, timeout=timeout, path=path))
    except SpineFileError as err:  # the worker's time budget, or its death
        raise click.ClickException(str(err)) from None


def _describe(
    path: str,
    key: str | None,
    entry: int | None,
    triplet: tuple[int | None, int | None, int | None],
    columns: str | None,
    full: bool,
) -> str:
    """Return the text ``inspect`` prints, or raise a one-line :class:`click.ClickException`."""
    with _open_or_fail(path) as h5file:
        try:
            if triplet[0] is not None:
                entry = _event_entry(h5file, path, *triplet)
            return _inspect_text(h5file, key, entry, columns, full)
        except click.ClickException:
            raise
        except (*H5_ERRORS, IndexError, SpineH5Error) as err:
            raise click.ClickException(
                f"{path}: cannot be described ({str(err).splitlines()[0] if str(err) else type(err).__name__}); "
                f"run `spineh5 validate {path}`"
            ) from None


def _inspect_text(h5file: h5py.File, key: str | None, entry: int | None, columns: str | None, full: bool) -> str:
    if key is None and entry is None:
        return format_summary(summarize(h5file))
    if key is not None:
        _check_key(h5file, key)
    if entry is None:
        return format_product(h5file, key)
    position = _entry_position(h5file, entry)
    if key is None:
        return format_entry_overview(h5file, position)
    chosen = _chosen_columns(h5file, key, columns) if columns is not None else None
    return format_entry(h5file, key, position, chosen, full)


# -- validate --------------------------------------------------------------------------------------------
