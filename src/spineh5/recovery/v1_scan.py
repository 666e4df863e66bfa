"""The whole entries of a V1 file: every region reference of the ``events`` row non-null and inside its dataset.

The bounds of each reference are taken from its selection
(:meth:`spineh5.layouts.v1_read.V1ReadLayout.bounds` and
:meth:`~spineh5.layouts.v1_read.V1ReadLayout.part_ends`), so no product row
is read through a possibly damaged reference; only ``events`` and list
``index`` rows are read. An entry is whole when every product of it and of
every earlier entry is; each dataset keeps the rows the whole entries reach.
"""

from __future__ import annotations

import h5py
import numpy as np

from ..errors import SpineFileError
from ..format.common import EVENTS
from ..format.v1 import events_problem, inspect_product
from ..layouts.v1_read import V1ReadLayout
from ..products import Kind
from .plan import Reach, RecoveryError, reach, readable_prefix

__all__ = ["scan"]


def scan(h5file: h5py.File, path: str, show_progress: bool = False) -> tuple[int, int, list[Reach], list[str], bool]:
    """Return the ``events`` rows, the whole entries, what each dataset keeps per entry, why the next is not whole.

    And whether damage (not only null references) limits the whole entries.

    Raises
    ------
    RecoveryError
        When ``events`` is unusable or a product's dataset or group is.
    """
    events = h5file.get(EVENTS)
    problem = events_problem(events)
    if problem is not None:
        raise RecoveryError(f"{path}: {problem}")
    entries = int(events.shape[0])
    keys = list(events.dtype.names)
    for key in keys:
        product = inspect_product(h5file.get(key)) if key in h5file else None
        if product is None or product.problems:
            raise RecoveryError(f"{path}: product {key!r}: {'missing' if product is None else product.problems[0]}")
    layout = V1ReadLayout(h5file, path)
    kept = len(readable_prefix(events))
    reasons = [] if kept == entries else [f"{EVENTS}: rows from {kept} cannot be read"]
    damaged = kept < entries
    for key in _progress(keys, show_progress):
        whole, reason = _whole_entries(layout, key, kept)
        if reason is not None and not reason.startswith(f"{key}: null region reference"):
            damaged = True
        if whole < kept:
            kept, reasons = whole, [reason]
    reaches = [reach(EVENTS, events, np.arange(1, kept + 1))]
    for key in keys:
        reaches.extend(_reaches(layout, h5file, key, kept))
    return entries, kept, reaches, reasons, damaged


def _progress(keys: list[str], show: bool) -> list[str]:
    if not show:
        return keys
    from tqdm import tqdm

    return tqdm(keys, desc="checking references", unit="product", leave=False)


def _whole_entries(layout: V1ReadLayout, key: str, limit: int) -> tuple[int, str | None]:
    """Return how many leading entries (up to ``limit``) of ``key`` are fully on disk, and why the next is not."""
    try:
        starts, stops = layout.bounds(key, np.arange(limit))
    except SpineFileError as err:
        whole = err.entry if err.entry is not None else 0
        return min(whole, limit), f"{key}: {err.problem}"
    if layout.spec(key).kind not in (Kind.FLAT, Kind.JAGGED) or limit == 0:
        return limit, None
    try:
        layout.part_ends(key, 0, int(stops.max()))
        return limit, None
    except SpineFileError:
        pass
    for entry in range(limit):  # the slow path finds the first entry whose element references fail
        try:
            layout.part_ends(key, int(starts[entry]), int(stops[entry]), entry)
        except SpineFileError as err:
            return entry, f"{key}: {err.problem}"
    return limit, None


def _reaches(layout: V1ReadLayout, h5file: h5py.File, key: str, kept: int) -> list[Reach]:
    """Return the rows each dataset of ``key`` keeps for each count of kept entries up to ``kept``."""
    product = inspect_product(h5file[key])
    _, stops = layout.bounds(key, np.arange(kept))
    target = reach(key, product.target, stops)
    reaches = [target]
    if product.kind in (Kind.FLAT, Kind.JAGGED):
        rows = int(target[2][-1])
        ends = layout.part_ends(key, 0, rows)
        index_ends = target[2]
        for part in product.parts:
            by_row = reach(key, part, ends[part.name])[2]  # by_row[r]: rows kept when r index rows are
            reaches.append((key, part, by_row[index_ends]))
    return reaches
