"""Checks both layouts run: ``events`` presence, the ``scalar`` attribute, row values, run triplets.

The row-value checks follow what SPINE's classes check in ``__post_init__``
(units, ImageMeta consistency); the run triplets what SPINE's run map needs.
V1 spec sections 2.4 and 3.5, V2 spec sections 2.4 and 4.8.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import h5py
import numpy as np

from ..format.common import SCALAR
from ..layouts.base import RUN_FIELDS
from ..types.value_rules import UNITS, has_meta_columns, inconsistent_meta
from .context import CHUNK_ROWS, Context
from .rules import rule
from .text import SHOWN, as_int, describe_value, rows_text

__all__ = [
    "EVENTS_MISSING",
    "report_missing_events",
    "ROOT_EXTRA",
    "UNITS",
    "check_meta",
    "check_run_triplets",
    "check_scalar_attr",
    "has_meta_columns",
    "report_units",
]

EVENTS_MISSING = rule("events.missing", "there is no root 'events' dataset")
ROOT_EXTRA = rule("root.extra", "a root object is not an event product (nor info/events)")
SCALAR_MISSING = rule(
    "product.scalar.missing", "a product (V1 dataset; V2 array, string or objects group) has no 'scalar' attribute"
)
SCALAR_TYPE = rule("product.scalar.type", "a 'scalar' attribute is not a bool or 0/1")
VALUE_UNITS = rule("value.units", "a 'units' value is neither 'cm' nor 'px'")
VALUE_META = rule("value.meta", "an ImageMeta row has upper != lower + size * count")
RUN_COLUMNS = rule("run_info.columns", "run_info lacks the run/subrun/event columns the run map needs")
RUN_ROWS = rule("run_info.rows", "run_info does not hold exactly one row per entry")
RUN_DUPLICATE = rule("run_info.duplicate", "(run, subrun, event) triplets repeat")


def report_missing_events(ctx: Context) -> None:
    """Report that the file has no ``events`` dataset."""
    ctx.error("/events", EVENTS_MISSING, "no 'events' dataset: SPINE's reader asserts it exists")


def check_scalar_attr(ctx: Context, where: str, node: Any) -> bool | None:
    """Check a product's ``scalar`` attribute; return its value (None when missing or not a bool)."""
    if SCALAR not in node.attrs:
        ctx.error(
            where,
            SCALAR_MISSING,
            "no 'scalar' attribute: SPINE's reader reads it for every dataset (KeyError)",
        )
        return None
    value = node.attrs[SCALAR]
    number = as_int(value)
    if number not in (0, 1):
        ctx.error(where, SCALAR_TYPE, f"scalar is {describe_value(value)}, not a bool (or 0/1)")
        return None
    return bool(number)


def report_units(ctx: Context, where: str, texts: Iterable[tuple[int, str]], note: str) -> None:
    """Report the rows whose ``units`` text is not one SPINE's classes accept."""
    bad: list[int] = []
    seen: set[str] = set()
    for row, text in texts:
        if text not in UNITS:
            bad.append(row)
            seen.add(text)
    if bad:
        ctx.error(
            where,
            VALUE_UNITS,
            f"units {', '.join(map(repr, sorted(seen)))} in {rows_text(bad)}: SPINE's classes accept 'cm' or 'px'"
            + note,
        )


def check_meta(ctx: Context, where: str, dataset: h5py.Dataset) -> None:
    """Check that every set ImageMeta row has ``upper == lower + size * count``."""
    bad: list[int] = []
    for start in range(0, dataset.shape[0], CHUNK_ROWS):
        bad.extend((start + inconsistent_meta(dataset[start : start + CHUNK_ROWS])).tolist())
    if bad:
        ctx.error(
            where,
            VALUE_META,
            f"upper != lower + size * count in {rows_text(bad)}: SPINE's ImageMeta refuses inconsistent metadata",
        )


def check_run_triplets(ctx: Context, where: str, dataset: Any, rows: int, one_per_entry: bool = True) -> None:
    """Check the run/subrun/event columns SPINE's run map reads: present, one row per entry, unique."""
    if (
        not isinstance(dataset, h5py.Dataset)
        or not dataset.dtype.names
        or not set(RUN_FIELDS) <= set(dataset.dtype.names)
    ):
        ctx.warning(
            where,
            RUN_COLUMNS,
            "run_info is not a compound dataset with run, subrun and event columns: SPINE's run map cannot use it",
        )
        return
    if rows != ctx.entries or not one_per_entry:
        ctx.error(
            where,
            RUN_ROWS,
            f"run_info has {rows} rows for {ctx.entries} entries"
            + ("" if one_per_entry else ", not one per entry")
            + ": SPINE's run map needs exactly one per entry, in entry order",
        )
    values = np.stack([dataset.fields(name)[:].astype(np.int64) for name in RUN_FIELDS], axis=1)
    if not len(values):
        return
    unique, inverse, counts = np.unique(values, axis=0, return_inverse=True, return_counts=True)
    repeated = np.flatnonzero(counts[inverse.reshape(-1)] > 1).tolist()
    if repeated:
        shown = ", ".join(str(tuple(int(v) for v in values[row])) for row in repeated[:SHOWN])
        ctx.error(
            where,
            RUN_DUPLICATE,
            f"{len(repeated)} rows share a (run, subrun, event) triplet, e.g. {shown}: "
            "SPINE's run map requires unique triplets",
        )
