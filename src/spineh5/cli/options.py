"""Options several ``spineh5`` commands share, declared once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ..layouts import REGISTRY as LAYOUTS

__all__ = ["batch_size_option", "format_version_option"]


def _layout_number(_ctx: click.Context, _param: click.Parameter, value: str | None) -> int | None:
    return None if value is None else int(value)


def format_version_option(help_text: str) -> Callable[[Any], Any]:
    """Return ``--format-version/-F``: a layout of :data:`spineh5.layouts.REGISTRY`, as an int (None if absent)."""
    return click.option(
        "--format-version",
        "-F",
        "format_version",
        type=click.Choice([str(version) for version in sorted(LAYOUTS)]),
        callback=_layout_number,
        help=help_text,
    )


def batch_size_option(default: int = 64) -> Callable[[Any], Any]:
    """Return ``--batch-size``: entries per batch, at least 1."""
    return click.option(
        "--batch-size", default=default, show_default=True, type=click.IntRange(min=1), help="Entries per batch."
    )
