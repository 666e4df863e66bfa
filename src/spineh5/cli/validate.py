"""``spineh5 validate``: check files against the SPINE contract and the schema."""

from __future__ import annotations

import sys

import click

from ..describe.text import table_lines
from ..errors import SpineFileError
from ..sandbox import DEFAULT_TIMEOUT, run_bounded
from ..validation import ERROR, RULES, WARNING, Problem, is_sound, validate
from .group import main


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
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds given to the checks of each file, in a worker process (HDF5 can loop on damaged files); "
    "0: in-process.",
)
def validate_command(paths: tuple[str, ...], strict: bool, quiet: bool, list_rules: bool, timeout: float) -> None:
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

    Each file is checked in a worker process given --timeout seconds: a
    damaged file HDF5 loops on (or crashes on) is one line, not a hang.
    """
    if list_rules:
        click.echo("\n".join(table_lines([(rule, text) for rule, text in RULES.items()])))
        return
    if not paths:
        raise click.UsageError("give at least one file to validate (or --rules)")
    failed = 0
    for path in paths:
        try:
            problems = run_bounded(validate, path, timeout=timeout, path=path)
        except SpineFileError as err:  # the worker's time budget, or its death
            failed += 1
            click.echo(str(err))
            continue
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
