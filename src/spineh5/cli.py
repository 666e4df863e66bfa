"""The ``spineh5`` command: ``demo``, ``inspect``, ``validate``, ``convert`` and ``schema``.

A thin layer over :mod:`spineh5.demo`, :mod:`spineh5.describe`,
:mod:`spineh5.validation`, :mod:`spineh5.conversion` and the generated registry:
options are parsed here, the work is done there.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import click
import h5py

from . import __version__
from .describe import (
    FileOpenError,
    attr_text,
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
from .errors import SpineFileError, SpineH5Error
from .format.common import DEFAULT_FORMAT_VERSION, EVENTS, detect_layout
from .generated import REGISTRY, SCHEMA_VERSION
from .layouts import REGISTRY as LAYOUTS
from .validation import ERROR, RULES, WARNING, Problem, is_sound, validate

__all__ = ["main"]

DEFAULT_DEMO_PATH = "spineh5_demo.h5"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="spineh5")
def main() -> None:
    """Write, inspect and validate SPINE reconstruction HDF5 files."""


# -- demo -----------------------------------------------------------------------------------------------


def _refuse_foreign_file(path: str, force: bool) -> None:
    """Refuse to overwrite an existing file that an earlier ``demo`` did not write, unless forced."""
    if force or not os.path.exists(path):
        return
    try:
        with h5py.File(path, "r") as h5file:
            info = h5file.get("info")
            writer = attr_text(info.attrs.get("writer", "")) if info is not None else ""
    except OSError:
        writer = ""
    if not writer.startswith("spineh5"):
        raise click.ClickException(f"{path} exists and was not written by spineh5; pass --force to overwrite it")


@main.command()
@click.argument("path", default=DEFAULT_DEMO_PATH, type=click.Path(dir_okay=False))
@click.option("--events", "-n", default=100, show_default=True, type=click.IntRange(min=1), help="Entries to write.")
@click.option("--batch-size", default=8, show_default=True, type=click.IntRange(min=1), help="Entries per batch.")
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
        from .writer import HDF5Writer
    except ImportError as err:  # pragma: no cover - only before the writer exists
        raise click.ClickException(f"the spineh5 writer is not available: {err}") from None
    from tqdm import tqdm

    from .demo import make_batches

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
def inspect_command(
    path: str,
    key: str | None,
    entry: int | None,
    run: int | None,
    subrun: int | None,
    event: int | None,
    columns: str | None,
    full: bool,
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
    with _open_or_fail(path) as h5file:
        if run is not None:
            entry = _event_entry(h5file, path, run, subrun, event)
        try:
            click.echo(_inspect_text(h5file, key, entry, columns, full))
        except click.ClickException:
            raise
        except (OSError, KeyError, ValueError, TypeError, IndexError, SpineH5Error) as err:
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


def _verdict(problems: list[Problem], strict: bool) -> str:
    errors = sum(p.severity == ERROR for p in problems)
    warnings = sum(p.severity == WARNING for p in problems)
    if not problems:
        return "sound"
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    label = "NOT SOUND" if not is_sound(problems, strict) else "sound"
    return f"{label}: {', '.join(parts)}"


def _problem_lines(problems: list[Problem]) -> list[str]:
    width = max((len(p.where) for p in problems), default=0)
    return [f"  {p.severity:<7}  {p.where.ljust(width)}  {p.message} [{p.rule}]" for p in problems]


@main.command("validate")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the files that are not sound.")
@click.option("--rules", "list_rules", is_flag=True, help="List the rules checked and exit.")
def validate_command(paths: tuple[str, ...], strict: bool, quiet: bool, list_rules: bool) -> None:
    """Check each file in PATHS against the SPINE V1 or V2 contract and the schema.

    The layout is told from info.format_version. For V2 files the offsets are
    checked (start at 0, never decrease, stay inside their dataset, one more
    than the items they delimit, cover their values and pools exactly) and
    every product must hold as many entries as events.

    Lists every problem found. Errors are what makes SPINE's readers fail or
    return wrong data; warnings are what only SPINE 0.14.1 refuses (columns of
    later releases), what loads with another type, or (V2) what departs from
    the contract without changing what readers return. Exits 0 when every file
    is sound (no errors; with --strict, no warnings either), 1 otherwise.
    """
    if list_rules:
        click.echo("\n".join(_table([(rule, text) for rule, text in RULES.items()])))
        return
    if not paths:
        raise click.UsageError("give at least one file to validate (or --rules)")
    failed = 0
    for path in paths:
        problems = validate(path)
        sound = is_sound(problems, strict)
        failed += not sound
        if quiet and sound:
            continue
        unreadable = [p for p in problems if p.rule == "file.unreadable"]
        if unreadable:
            click.echo(f"{path}: {unreadable[0].message}")
            continue
        click.echo(f"{path}: {_verdict(problems, strict)}")
        for line in _problem_lines(problems):
            click.echo(line)
    if len(paths) > 1 and not quiet:
        click.echo(f"{len(paths) - failed} of {len(paths)} files sound")
    sys.exit(1 if failed else 0)


# -- convert ---------------------------------------------------------------------------------------------


@main.command("convert")
@click.argument("source", metavar="IN", type=click.Path(dir_okay=False))
@click.argument("target", metavar="OUT", type=click.Path(dir_okay=False))
@click.option(
    "--format-version",
    "-F",
    "format_version",
    type=click.Choice([str(version) for version in sorted(LAYOUTS)]),
    help="Layout of OUT: "
    + " or ".join(f"{version} ({entry.storage})" for version, entry in sorted(LAYOUTS.items()))
    + ". Default: the other layout of IN.",
)
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists (only once the conversion succeeded).")
@click.option("--batch-size", default=64, show_default=True, type=click.IntRange(min=1), help="Entries per batch.")
def convert_command(source: str, target: str, format_version: str | None, overwrite: bool, batch_size: int) -> None:
    """Rewrite the SPINE file IN as OUT in the other layout (V1 <-> V2).

    Every entry is read back with spineh5's reader and written again with its
    writer: products, their kinds, the stored index, lite-ness and the
    configuration are kept, so OUT reads back identical to IN. Columns the
    schema does not know (later SPINE releases) are not carried over; they
    are listed. IN must be complete; OUT is written to a temporary file and
    moved into place at the end.
    """
    from tqdm import tqdm

    from .conversion import ConvertError, OutputExistsError, convert

    version = int(format_version) if format_version is not None else _other_layout(source)
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="entry", desc="converting", file=sys.stderr, dynamic_ncols=True)
        bar.update(done - bar.n)

    try:
        result = convert(source, target, version, batch_size=batch_size, overwrite=overwrite, progress=progress)
    except OutputExistsError as err:
        raise click.ClickException(f"{err.path} exists; pass --overwrite to replace it") from None
    except ConvertError as err:
        raise click.ClickException(str(err)) from None
    finally:
        if bar is not None:
            bar.close()
    lite = ", lite" if result.lite else ""
    click.echo(
        f"converted {result.entries} entries of {source} (V{result.source_version}) to {target} "
        f"(V{result.format_version}{lite}) in {result.seconds:.1f} s"
    )
    for note in result.notes:
        click.echo(f"note: {note}")


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


def _first_doc_line(cls: type) -> str:
    return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


def _schema_overview() -> str:
    rows = [("class", "columns", "lite", "derived", "description")]
    for name, cls in REGISTRY.items():
        columns = cls.COLUMNS
        rows.append(
            (
                name,
                str(len(columns)),
                str(sum(c.lite for c in columns)),
                str(sum(c.derived for c in columns)),
                _first_doc_line(cls),
            )
        )
    lines = [f"schema version {SCHEMA_VERSION}: {len(REGISTRY)} object types", ""]
    lines.extend(_table(rows))
    lines.append("")
    lines.append("spineh5 schema CLASS lists the columns of one type.")
    return "\n".join(lines)


def _resolve_class(name: str) -> type:
    if name in REGISTRY:
        return REGISTRY[name]
    by_lower = {key.lower(): cls for key, cls in REGISTRY.items()}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    import difflib

    close = difflib.get_close_matches(name, list(REGISTRY), n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else f" Known: {', '.join(REGISTRY)}."
    raise click.BadParameter(f"no object type {name!r}.{hint}", param_hint="CLASS")


def _schema_of(cls: type) -> str:
    columns = cls.COLUMNS
    lines = [
        f"{cls.__name__}: {_first_doc_line(cls)}",
        f"{len(columns)} columns ({sum(c.lite for c in columns)} in lite files, {sum(c.derived for c in columns)} "
        "derived); schema version " + str(SCHEMA_VERSION),
        "",
    ]
    rows: list[tuple[str, ...]] = [("#", "column", "dtype", "storage", "default", "units", "lite", "derived", "doc")]
    for position, column in enumerate(columns):
        rows.append(
            (
                str(position),
                column.name,
                column.describe(),
                column.storage,
                _default_text(column),
                column.units or "",
                "yes" if column.lite else "no",
                "yes" if column.derived else "",
                column.doc,
            )
        )
    lines.extend(_table(rows))
    enums = {column.enum for column in columns if column.enum is not None}
    if enums:
        lines.append("")
        for enum in sorted(enums, key=lambda e: e.__name__):
            lines.append(f"{enum.__name__}: " + ", ".join(f"{m.name}={m.value}" for m in enum))
    return "\n".join(lines)


def _default_text(column: Any) -> str:
    if column.storage == "vlen":
        return "[]"
    default = column.default
    if column.storage == "fixed" and not isinstance(default, tuple):
        return f"[{default}]x{column.length}"
    return repr(default) if isinstance(default, str) else str(default)


@main.command()
@click.argument("class_name", required=False, metavar="[CLASS]")
def schema(class_name: str | None) -> None:
    """List the object types of the schema, or the columns of one type CLASS."""
    if class_name is None:
        click.echo(_schema_overview())
        return
    click.echo(_schema_of(_resolve_class(class_name)))


# -- compare ---------------------------------------------------------------------------------------------


class _CannotCompare(click.ClickException):
    """Input that cannot be compared (missing, unreadable): exit 2 as ``diff`` does, 1 meaning "they differ"."""

    exit_code = 2


def _sources(text: str) -> list[str]:
    """Split a side given as comma-separated files or globs."""
    return [part for part in text.split(",") if part]


@main.command("compare")
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option("--keys", "-k", multiple=True, help="Compare only these products (repeat, or separate with commas).")
@click.option(
    "--rtol", default=1e-5, show_default=True, type=click.FloatRange(min=0.0), help="Relative tolerance of floats."
)
@click.option(
    "--atol", default=1e-8, show_default=True, type=click.FloatRange(min=0.0), help="Absolute tolerance of floats."
)
@click.option("--exact", is_flag=True, help="Require identical dtypes and bitwise-equal floats (NaN equals NaN).")
@click.option(
    "--max-shown", default=5, show_default=True, type=click.IntRange(min=0), help="Differences listed per product."
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def compare_command(
    a: str, b: str, keys: tuple[str, ...], rtol: float, atol: float, exact: bool, max_shown: int, quiet: bool
) -> None:
    """Compare the SPINE files (or productions) A and B event by event and field by field.

    A and B are each a file, a quoted glob ('prod_*.h5') or comma-separated
    files, read as one sequence of entries, in either layout (V1 against V2
    works). Entry i of A is compared with entry i of B: first the entry counts
    and the run/subrun/event numbers, then every product, object by object and
    field by field. Floats agree within --rtol/--atol (a float32 and a float64
    column of the same values agree); integers, enums and strings must be equal.
    Runtime provenance (index, file_index, file_entry_index, source_file_*) is
    skipped unless named with --keys.

    Prints the first differences per product and a summary table. Exits 0
    when A and B hold the same events, 1 when they differ, 2 when they cannot
    be compared (missing or unreadable file, bad option).
    """
    from tqdm import tqdm

    from .comparison import compare, format_report
    from .errors import CompareError

    wanted = [key for text in keys for key in text.split(",") if key] or None
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            disable = quiet or not sys.stderr.isatty()
            bar = tqdm(
                total=total, unit="entry", desc="comparing", file=sys.stderr, dynamic_ncols=True, disable=disable
            )
        bar.update(done - bar.n)

    try:
        result = compare(
            _sources(a), _sources(b), wanted, rtol=rtol, atol=atol, exact=exact, progress=progress, max_shown=max_shown
        )
    except CompareError as err:
        raise click.BadParameter(str(err), param_hint="--keys") from None
    except (SpineH5Error, OSError, KeyError, ValueError) as err:
        text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
        raise _CannotCompare(text.splitlines()[0] if text else type(err).__name__) from None
    finally:
        if bar is not None:
            bar.close()
    click.echo(format_report(result, max_shown))
    sys.exit(0 if result.identical else 1)


if __name__ == "__main__":  # pragma: no cover
    main()
