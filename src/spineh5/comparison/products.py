"""Comparing one product of two readers, one chunk of entries at a time.

Object, array and scalar products are read in bulk with
:meth:`spineh5.HDF5Reader.table` (stored rows and per-entry offsets, in both
layouts): rows of entries holding as many rows on both sides are aligned and
compared column by column with numpy (:mod:`.values`), and only the differing
rows are located. Lists of arrays (kinds ``flat`` and ``jagged``, which
``table`` does not read) are read per entry with :meth:`spineh5.HDF5Reader.raw`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..products import Kind, ProductSpec
from ..reader import HDF5Reader
from ..types.registry import REGISTRY
from .result import Difference, ProductComparison, Triplet
from .values import ColumnDiff, Tolerance, compare_arrays, compare_column, format_value

__all__ = ["EventNumbers", "ProductComparer"]

_OBJECT_KINDS = (Kind.OBJECT, Kind.OBJECTS)
_TABLE_KINDS = (Kind.SCALAR, Kind.ARRAY)
_LIST_KINDS = (Kind.FLAT, Kind.JAGGED)


def _group(kind: Kind) -> tuple[Kind, ...]:
    for group in (_OBJECT_KINDS, _TABLE_KINDS, _LIST_KINDS):
        if kind in group:
            return group
    return (kind,)


class EventNumbers:
    """The (run, subrun, event) of every entry of each side, to name entries in differences.

    Parameters
    ----------
    a, b : numpy.ndarray or None
        Triplets of each side (structured rows with ``run``, ``subrun``, ``event``), None without run info.
    """

    def __init__(self, a: np.ndarray | None, b: np.ndarray | None) -> None:
        self.a, self.b = a, b

    @staticmethod
    def at(triplets: np.ndarray | None, entry: int) -> Triplet:
        """Return the triplet of an entry as a tuple, None when unknown."""
        if triplets is None or entry >= len(triplets):
            return None
        row = triplets[entry]
        return int(row["run"]), int(row["subrun"]), int(row["event"])

    def of(self, entry: int) -> tuple[Triplet, Triplet]:
        """Return A's triplet of an entry, and B's when it differs from A's."""
        a, b = self.at(self.a, entry), self.at(self.b, entry)
        return a, (b if b != a else None)


class ProductComparer:
    """Compare one product of two readers, chunk of entries by chunk.

    Parameters
    ----------
    key : str
        Product, stored by both readers.
    readers : tuple of HDF5Reader
        Sides A and B.
    events : EventNumbers
        Run/subrun/event of the entries, for the differences' text.
    tolerance : Tolerance
        How close numbers must be.
    max_shown : int
        Differences kept in :attr:`result` (the rest are only counted).
    """

    def __init__(
        self,
        key: str,
        readers: tuple[HDF5Reader, HDF5Reader],
        events: EventNumbers,
        tolerance: Tolerance,
        max_shown: int,
    ) -> None:
        self.key = key
        self.readers = readers
        self.events = events
        self.tolerance = tolerance
        self.max_shown = max_shown
        specs: tuple[ProductSpec, ProductSpec] = (readers[0].spec(key), readers[1].spec(key))
        self.kinds = (specs[0].kind, specs[1].kind)  # the reader reports stored kinds (no global scalar)
        self.result = ProductComparison(key, self.kinds[0].value)
        if self.kinds[0] is not self.kinds[1]:
            self.result.note(f"stored as {self.kinds[0].value} in A, {self.kinds[1].value} in B")
        if specs[0].class_name != specs[1].class_name:
            self.result.note(f"{specs[0].class_name} objects in A, {specs[1].class_name} in B")
        self.comparable = _group(self.kinds[0]) == _group(self.kinds[1])
        cls = REGISTRY.get(specs[0].class_name or "")
        self._enums = {column.name: column.enum for column in cls.COLUMNS} if cls is not None else {}

    def compare(self, positions: np.ndarray) -> None:
        """Compare the product in the entries at ``positions`` (consecutive, increasing)."""
        if not self.comparable or not len(positions):
            return
        self.result.entries += len(positions)
        differs = np.zeros(len(positions), dtype=bool)
        if self.kinds[0] in _LIST_KINDS:
            self._compare_lists(positions, differs)
        else:
            self._compare_table(positions, differs)
        self.result.differing_entries += int(differs.sum())

    # -- bulk rows ----------------------------------------------------------------------------------

    def _compare_table(self, positions: np.ndarray, differs: np.ndarray) -> None:
        rows_a, offsets_a = self.readers[0]._table_rows(self.key, positions)
        rows_b, offsets_b = self.readers[1]._table_rows(self.key, positions)
        counts_a, counts_b = np.diff(offsets_a), np.diff(offsets_b)
        objects = self.kinds[0] in _OBJECT_KINDS
        noun = "object" if objects else "row"
        candidates: list[tuple[tuple[int, int, int], Difference]] = []
        for local in np.flatnonzero(counts_a != counts_b).tolist():
            differs[local] = True
            self.result.count += 1
            entry = int(positions[local])
            text_a, text_b = _count(counts_a[local], noun), _count(counts_b[local], noun)
            candidates.append(((entry, -1, -1), self._difference(entry, None, None, text_a, text_b)))
        at_a, at_b, locals_, items = _aligned_rows(offsets_a, offsets_b, counts_a == counts_b)
        scalar = self.kinds[0] is Kind.SCALAR
        if rows_a.dtype.names is None or rows_b.dtype.names is None:
            columns: list[tuple[str | None, Any, Any]] = [(None, rows_a, rows_b)]
        else:
            columns = self._columns(rows_a, rows_b)
        for order, (name, column_a, column_b) in enumerate(columns):
            if len(at_a) == len(column_a) == len(column_b):  # every row aligned, in order: compare without copies
                found = compare_column(column_a, column_b, self.tolerance)
            else:
                found = compare_column(column_a[at_a], column_b[at_b], self.tolerance)
            self._account(found, name)
            rows = np.flatnonzero(found.rows)
            differs[locals_[rows]] = True
            for row in rows[: self.max_shown].tolist():
                entry = int(positions[locals_[row]])
                item = None if scalar else f"{noun} {items[row]}"
                members = self._enums.get(name) if name is not None else None
                text_a = format_value(column_a[at_a[row]], members)
                text_b = format_value(column_b[at_b[row]], members)
                candidates.append(
                    ((entry, int(items[row]), order), self._difference(entry, item, name, text_a, text_b))
                )
        self._keep(candidates)

    def _columns(self, rows_a: np.ndarray, rows_b: np.ndarray) -> list[tuple[str | None, Any, Any]]:
        """Return the columns both sides store, in A's order; note the columns only one side stores."""
        names_a, names_b = rows_a.dtype.names, rows_b.dtype.names
        for side, names, others in (("A", names_a, names_b), ("B", names_b, names_a)):
            alone = [name for name in names if name not in others]
            if alone:
                self.result.note(f"field{'s' if len(alone) > 1 else ''} only in {side}: {', '.join(alone)}")
        return [(name, rows_a[name], rows_b[name]) for name in names_a if name in names_b]

    # -- lists of arrays ----------------------------------------------------------------------------

    def _compare_lists(self, positions: np.ndarray, differs: np.ndarray) -> None:
        candidates: list[tuple[tuple[int, int, int], Difference]] = []
        lefts: list[np.ndarray] = []
        rights: list[np.ndarray] = []
        where: list[tuple[int, int]] = []
        for local, position in enumerate(positions.tolist()):
            list_a, list_b = self.readers[0].raw(position, self.key), self.readers[1].raw(position, self.key)
            if len(list_a) != len(list_b):
                differs[local] = True
                self.result.count += 1
                text_a, text_b = _count(len(list_a), "array"), _count(len(list_b), "array")
                candidates.append(((position, -1, -1), self._difference(position, None, None, text_a, text_b)))
                continue
            lefts.extend(list_a)
            rights.extend(list_b)
            where.extend((local, item) for item in range(len(list_a)))
        if where:
            found = compare_arrays(lefts, rights, self.tolerance)
            self._account(found, None)
            for shown, row in enumerate(np.flatnonzero(found.rows).tolist()):
                local, item = where[row]
                differs[local] = True
                entry = int(positions[local])
                if shown < self.max_shown:
                    text_a, text_b = format_value(lefts[row]), format_value(rights[row])
                    candidates.append(((entry, item, 0), self._difference(entry, f"item {item}", None, text_a, text_b)))
        self._keep(candidates)

    # -- bookkeeping --------------------------------------------------------------------------------

    def _account(self, found: ColumnDiff, name: str | None) -> None:
        if found.note is not None:
            self.result.note(f"field {name}: {found.note}" if name is not None else found.note)
        self.result.count += int(found.rows.sum())
        self.result.max_abs = max(self.result.max_abs, found.max_abs)
        self.result.max_rel = max(self.result.max_rel, found.max_rel)

    def _difference(self, entry: int, item: str | None, field: str | None, a: str, b: str) -> Difference:
        event, event_b = self.events.of(entry)
        return Difference(self.key, entry, event, event_b, item, field, a, b)

    def _keep(self, candidates: list[tuple[tuple[int, int, int], Difference]]) -> None:
        room = self.max_shown - len(self.result.shown)
        if room > 0 and candidates:
            candidates.sort(key=lambda candidate: candidate[0])
            self.result.shown.extend(difference for _, difference in candidates[:room])


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' if number != 1 else ''}"


def _aligned_rows(
    offsets_a: np.ndarray, offsets_b: np.ndarray, same: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return the rows of A and of B to compare pairwise (entries with as many rows on both sides).

    Returns
    -------
    at_a, at_b : numpy.ndarray
        Row positions in each side's rows.
    entries : numpy.ndarray
        Position of each row's entry in the chunk.
    items : numpy.ndarray
        Position of each row in its entry.
    """
    counts = np.diff(offsets_a)[same]
    entries = np.repeat(np.flatnonzero(same), counts)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])) if len(counts) else np.zeros(0, np.int64)
    items = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(starts, counts)
    at_a = np.repeat(offsets_a[:-1][same], counts) + items
    at_b = np.repeat(offsets_b[:-1][same], counts) + items
    return at_a, at_b, entries, items
