"""The whole entries of a V2 file: every offset inside its dataset, never decreasing, one boundary per entry.

Each product group (and each child product group nested in one) is checked
from its offsets alone: ``event_offsets`` against the rows they index,
``element_offsets`` against ``values``, and the ``_var_offsets_<i>`` columns
of ``fixed`` against their pools. ``events`` must hold ``0..K-1``. The
whole entries are those every product holds whole; each dataset keeps the
rows they reach.
"""

from __future__ import annotations

from typing import Any

import h5py
import numpy as np

from ..format.common import EVENTS
from ..format.v2 import (
    ARRAY,
    ELEMENT_OFFSETS,
    EVENT_OFFSETS,
    FIXED,
    LIST,
    MULTI_LIST,
    OBJECTS,
    PRODUCTS,
    STRING,
    V2_KINDS,
    VALUES,
    VARIABLES,
    element_names,
    inspect_objects,
    kind_of,
    product_groups,
)
from .plan import Reach, RecoveryError, past_end, reach, readable_prefix, whole_items

__all__ = ["scan"]


class _Product:
    """The offsets of one product group, read once, and the datasets they index."""

    def __init__(self, key: str, group: h5py.Group, kind: str) -> None:
        self.key, self.group, self.kind = key, group, kind
        self.parts: list[tuple[h5py.Dataset, h5py.Dataset]] = []  # (values or fixed, event_offsets)
        if kind in (ARRAY, STRING, LIST, OBJECTS):
            target = FIXED if kind == OBJECTS else VALUES
            self.parts.append((_dataset(group, target, key), _dataset(group, EVENT_OFFSETS, key)))
        elif kind == MULTI_LIST:
            for name in element_names(group):
                values = _dataset(group, f"{name}/{VALUES}", key)
                self.parts.append((values, _dataset(group, f"{name}/{EVENT_OFFSETS}", key)))
        self.offsets = [readable_prefix(offsets).astype(np.int64) for _, offsets in self.parts]
        #: Whether an offset past its dataset or an unreadable chunk (not an unfinished append) was found.
        self.damaged = any(len(read) < offsets.shape[0] for read, (_, offsets) in zip(self.offsets, self.parts))

    def whole(self) -> tuple[int, str | None]:
        """Return how many leading entries of the product are whole, and the first part that limits them."""
        best, reason = None, None
        for (target, offsets_set), offsets in zip(self.parts, self.offsets):
            rows = self._whole_rows(target)
            whole = whole_items(offsets, rows)
            self.damaged |= past_end(offsets, rows)
            if best is None or whole < best:
                best, reason = whole, f"{offsets_set.name} ends its whole entries at {whole} ({rows} whole rows)"
        return (best if best is not None else 0), reason

    def _whole_rows(self, target: h5py.Dataset) -> int:
        """Return the leading rows of ``target`` fully on disk (a list's elements, an object's pools)."""
        if self.kind == LIST:
            elements = readable_prefix(_dataset(self.group, ELEMENT_OFFSETS, self.key)).astype(np.int64)
            self.damaged |= past_end(elements, target.shape[0])
            return whole_items(elements, target.shape[0])
        if self.kind == OBJECTS:
            return self._whole_objects(target)
        return int(target.shape[0])

    def _pools(self) -> list[tuple[str, h5py.Dataset]]:
        report = inspect_objects(self.group)
        if report.plan is None or report.pools is None or report.pools.first_fatal():
            problem = (report.pools.first_fatal() if report.pools else None) or "; ".join(report.problems)
            raise RecoveryError(f"product {self.key!r}: {problem}")
        return [(pool.column, values) for pool, values in report.pools.pools]

    def _whole_objects(self, fixed: h5py.Dataset) -> int:
        pools = self._pools()
        if not pools:
            return int(fixed.shape[0])
        columns = readable_prefix(fixed, [column for column, _ in pools])
        whole = len(columns)
        self.damaged |= whole < fixed.shape[0]
        for column, values in pools:
            width = max(1, int(np.prod(fixed.dtype.fields[column][0].shape)))
            bounds = np.asarray(columns[column], dtype=np.int64).reshape(len(columns), width)
            flat = bounds.reshape(-1)
            self.damaged |= past_end(flat, values.shape[0])
            whole = min(whole, (whole_items(flat, values.shape[0]) + 1) // bounds.shape[1])
        return whole

    def reaches(self, kept: int) -> list[Reach]:
        """Return the rows each dataset of the product keeps for each count of kept entries up to ``kept``."""
        reaches = []
        for (target, offsets_set), offsets in zip(self.parts, self.offsets):
            ends = offsets[1 : kept + 1]
            reaches.append(reach(self.key, offsets_set, np.arange(2, kept + 2), base=1))
            if self.kind == LIST:
                elements = readable_prefix(_dataset(self.group, ELEMENT_OFFSETS, self.key)).astype(np.int64)
                reaches.append(reach(self.key, _dataset(self.group, ELEMENT_OFFSETS, self.key), ends + 1, base=1))
                reaches.append(reach(self.key, target, elements[ends]))
            else:
                reaches.append(reach(self.key, target, ends))
            if self.kind == OBJECTS:
                reaches.extend(self._pool_reaches(target, reaches[-1][2]))
        return reaches

    def _pool_reaches(self, fixed: h5py.Dataset, row_ends: np.ndarray) -> list[Reach]:
        """Return the reach of each pool; ``row_ends[k]`` is the ``fixed`` rows kept with ``k`` entries."""
        reaches = []
        for column, values in self._pools():
            rows = int(row_ends[-1]) if len(row_ends) else 0
            last = np.asarray(fixed.fields(column)[:rows], dtype=np.int64).reshape(rows, -1)[:, -1] if rows else []
            by_row = reach(self.key, values, last)[2]  # by_row[r]: pool values kept when r rows are
            reaches.append((self.key, values, by_row[row_ends]))
        return reaches


def _dataset(group: h5py.Group, name: str, key: str) -> h5py.Dataset:
    node = group.get(name)
    if not isinstance(node, h5py.Dataset) or node.ndim not in (1, 2):
        raise RecoveryError(f"product {key!r}: {group.name}/{name} is missing or not a 1-D or 2-D dataset")
    return node


def _products(products: h5py.Group) -> list[_Product]:
    """Return every product group under ``products`` and the child product groups nested in them."""
    keys, _ = product_groups(products)
    found = []
    pending = [(key, products[key]) for key in keys]
    while pending:
        key, group = pending.pop(0)
        found.append(_Product(key, group, kind_of(group)))
        pending.extend(
            (f"{key}/{name}", node)
            for name, node in sorted(group.items())
            if name not in (VARIABLES,) and kind_of(node) in V2_KINDS
        )
    return found


def scan(h5file: h5py.File, path: str, show_progress: bool = False) -> tuple[int, int, list[Reach], list[str], bool]:
    """Return the ``events`` rows, the whole entries, what each dataset keeps per entry, why the next is not whole.

    And whether damage (offsets past their dataset, unreadable offsets) was found.

    Raises
    ------
    RecoveryError
        When ``events`` or ``products`` is missing, or a product group lacks a dataset.
    """
    events = h5file.get(EVENTS)
    products = h5file.get(PRODUCTS)
    if not isinstance(events, h5py.Dataset) or not isinstance(products, h5py.Group):
        missing = EVENTS if not isinstance(events, h5py.Dataset) else PRODUCTS
        raise RecoveryError(f"{path}: no {missing!r}: not a SPINE V2 output file spineh5 can recover")
    entries = int(events.shape[0])
    values = readable_prefix(events).astype(np.int64).reshape(-1)
    wrong = np.flatnonzero(values != np.arange(len(values)))
    kept = int(wrong[0]) if len(wrong) else len(values)
    reasons = [] if kept == entries else [f"{EVENTS}: row {kept} is not {kept} (never written)"]
    try:
        found = _products(products)
    except RecoveryError as err:
        raise RecoveryError(f"{path}: {err}") from err
    checked: Any = found
    if show_progress:
        from tqdm import tqdm

        checked = tqdm(found, desc="checking products", unit="product", leave=False)
    for product in checked:
        whole, reason = product.whole()
        if whole < kept:
            kept, reasons = whole, [f"{product.key}: {reason}"]
    reaches = [reach(EVENTS, events, np.arange(1, kept + 1))]
    for product in found:
        reaches.extend(product.reaches(kept))
    return entries, kept, reaches, reasons, any(product.damaged for product in found)
