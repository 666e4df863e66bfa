"""What a comparison found, and its text: the first differences per product, then a summary table.

:class:`CompareResult` holds the verdict of :func:`spineh5.compare`: entry
counts, run/subrun/event agreement, one :class:`ProductComparison` per product
(with its first :class:`Difference` items) and the products skipped.
:func:`format_report` writes it the way ``spineh5 compare`` prints it.
"""

from __future__ import annotations

import attrs

__all__ = ["CompareResult", "Difference", "ProductComparison", "format_report"]

#: (run, subrun, event) of an entry, or None when a side has no run info.
Triplet = tuple[int, int, int] | None


@attrs.frozen
class Difference:
    """One difference: a product of an entry, possibly one object (or row, or list item) and one field.

    Attributes
    ----------
    key : str
        Product.
    entry : int or None
        Entry position (the same in both sides), None for a difference of the whole product.
    event : tuple of int or None
        (run, subrun, event) of the entry in A, when A has run info.
    event_b : tuple of int or None
        The same in B when it differs from A's.
    item : str or None
        ``object 3``, ``row 12`` or ``item 0``: where in the entry, None for the whole entry.
    field : str or None
        Object field (column), None for arrays and scalars.
    a, b : str
        The two values as text.
    """

    key: str
    entry: int | None
    event: Triplet
    event_b: Triplet
    item: str | None
    field: str | None
    a: str
    b: str

    def line(self) -> str:
        """Return the one-line text of this difference."""
        where = [self.key]
        if self.entry is not None:
            entry = f"entry {self.entry}"
            if self.event is not None:
                entry += " (run {} subrun {} event {})".format(*self.event)
            if self.event_b is not None:
                entry += " (B: run {} subrun {} event {})".format(*self.event_b)
            where.append(entry)
        if self.item is not None:
            where.append(self.item)
        if self.field is not None:
            where.append(f"field {self.field}")
        return f"{', '.join(where)}: {self.a} vs {self.b}"


@attrs.define
class ProductComparison:
    """How one product compares.

    Attributes
    ----------
    key : str
        Product.
    kind : str
        Storage kind in A (or B when only B has it).
    entries : int
        Entries compared.
    differing_entries : int
        Entries in which the product differs.
    count : int
        Differences found (one per differing value, field of an object, or entry).
    max_abs, max_rel : float
        Largest absolute and relative differences of the numbers compared.
    notes : list of str
        Differences of the whole product (only in one side, kind, class, columns, dtypes).
    shown : list of Difference
        The first differences, in entry order.
    """

    key: str
    kind: str
    entries: int = 0
    differing_entries: int = 0
    count: int = 0
    max_abs: float = 0.0
    max_rel: float = 0.0
    notes: list[str] = attrs.Factory(list)
    shown: list[Difference] = attrs.Factory(list)

    @property
    def identical(self) -> bool:
        """Return whether nothing differs in this product."""
        return not self.notes and self.count == 0

    def note(self, text: str) -> None:
        """Record a difference of the whole product, once."""
        if text not in self.notes:
            self.notes.append(text)


@attrs.define
class CompareResult:
    """The outcome of comparing two files or productions.

    Attributes
    ----------
    paths_a, paths_b : list of str
        The files of each side, in reading order.
    format_versions : tuple of int
        Layout of the first file of each side.
    entries_a, entries_b : int
        Entries of each side; the first ``min`` of them are compared.
    event_mismatches : int
        Entries whose (run, subrun, event) differ (0 when a side has no run info).
    first_event_mismatch : Difference or None
        The first of them.
    run_info : bool
        Whether both sides have run info, so that events were checked.
    products : dict
        :class:`ProductComparison` by product, in name order.
    skipped : list of str
        Runtime provenance products not compared (pass them as ``keys`` to compare them).
    tolerance : tuple
        ``(rtol, atol, exact)`` used.
    """

    paths_a: list[str]
    paths_b: list[str]
    format_versions: tuple[int, int]
    entries_a: int
    entries_b: int
    event_mismatches: int = 0
    first_event_mismatch: Difference | None = None
    run_info: bool = False
    products: dict[str, ProductComparison] = attrs.Factory(dict)
    skipped: list[str] = attrs.Factory(list)
    tolerance: tuple[float, float, bool] = (1e-5, 1e-8, False)

    @property
    def entries(self) -> int:
        """Return the entries compared."""
        return min(self.entries_a, self.entries_b)

    @property
    def identical(self) -> bool:
        """Return whether both sides hold the same events and products (skipped ones aside)."""
        return (
            self.entries_a == self.entries_b
            and self.event_mismatches == 0
            and all(product.identical for product in self.products.values())
        )

    @property
    def differing(self) -> list[ProductComparison]:
        """Return the products that differ."""
        return [product for product in self.products.values() if not product.identical]

    def __bool__(self) -> bool:
        return self.identical


def _side(name: str, paths: list[str], version: int, entries: int) -> str:
    files = paths[0] if len(paths) == 1 else f"{paths[0]} ... {paths[-1]} ({len(paths)} files)"
    return f"{name}: {files} (V{version}, {entries} entries)"


def _number(value: float) -> str:
    return "0" if value == 0 else f"{value:.3g}"


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


def format_report(result: CompareResult, max_shown: int = 5) -> str:
    """Return the text ``spineh5 compare`` prints.

    Parameters
    ----------
    result : CompareResult
        What :func:`spineh5.compare` returned.
    max_shown : int, default 5
        Differences listed per product (the result may hold fewer).
    """
    lines = [
        _side("A", result.paths_a, result.format_versions[0], result.entries_a),
        _side("B", result.paths_b, result.format_versions[1], result.entries_b),
    ]
    if result.entries_a != result.entries_b:
        lines.append(
            f"entries differ: A has {result.entries_a}, B has {result.entries_b}; the first {result.entries} compared"
        )
    if result.event_mismatches:
        first = result.first_event_mismatch
        lines.append(
            f"run/subrun/event differ in {result.event_mismatches} of {result.entries} entries"
            + (f" (first: entry {first.entry}, {first.a} vs {first.b})" if first is not None else "")
        )
    shown = [(product, product.shown[:max_shown]) for product in result.products.values()]
    if any(product.notes or items for product, items in shown):
        lines.append("")
        lines.append(f"differences (first {max_shown} per product):")
        for product, items in shown:
            lines.extend(f"  {product.key}: {note}" for note in product.notes)
            lines.extend(f"  {item.line()}" for item in items)
            hidden = product.count - len(items)
            if hidden > 0:
                lines.append(f"  {product.key}: {hidden} more difference{'s' if hidden != 1 else ''}")
    rows = [("product", "kind", "entries", "differing", "max abs diff", "max rel diff", "")]
    for product in result.products.values():
        status = "ok" if product.identical else "DIFFERENT"
        rows.append(
            (
                product.key,
                product.kind,
                str(product.entries),
                str(product.differing_entries),
                _number(product.max_abs),
                _number(product.max_rel),
                status,
            )
        )
    lines.append("")
    lines.extend(_table(rows))
    if result.skipped:
        lines.append(f"skipped (runtime provenance; name them with --keys to compare): {', '.join(result.skipped)}")
    rtol, atol, exact = result.tolerance
    rule = "exact (same dtypes, bitwise floats)" if exact else f"floats within rtol={rtol:g}, atol={atol:g}"
    lines.append("")
    if result.identical:
        lines.append(f"identical: {len(result.products)} products over {result.entries} entries ({rule})")
    else:
        lines.append(
            f"DIFFERENT: {len(result.differing)} of {len(result.products)} products differ"
            + ("" if result.entries_a == result.entries_b else ", entry counts differ")
            + (f", {result.event_mismatches} events differ" if result.event_mismatches else "")
            + f" ({rule})"
        )
    return "\n".join(lines)
