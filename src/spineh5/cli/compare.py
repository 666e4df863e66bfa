"""``spineh5 compare``: do two files or productions hold the same events?"""

from __future__ import annotations

import sys
from typing import Any

import click

from ..errors import SpineH5Error
from .group import main


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

    from ..comparison import compare, format_report
    from ..errors import CompareError

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
