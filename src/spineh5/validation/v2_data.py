"""The datasets of V2 product groups: presence, rank and dtype, and the offsets that delimit entries and elements.

V2 spec (``docs/format/spine-v2-format.md``) sections 2.1-2.6 (the datasets
of each kind) and 4.8 (how a reader slices them with the offsets).
"""

from __future__ import annotations

import attrs
import h5py
import numpy as np

from ..format.v2 import OFFSET_DTYPE, STRING, VALUES
from .context import Context
from .rules import Rule, rule
from .text import rows_text

__all__ = [
    "OFFSETS_COUNT",
    "VALUES_TYPE",
    "OffsetScan",
    "Offsets",
    "check_offsets",
    "check_scalar_rows",
    "check_utf8",
    "dataset",
    "report_offsets",
    "report_unreached",
    "values_dataset",
]

DATASET_MISSING = rule(
    "v2.dataset.missing", "V2: a product group lacks a dataset its kind needs (values, event_offsets, fixed...)"
)
VALUES_TYPE = rule("v2.values.type", "V2: a values/fixed dataset has the wrong rank or dtype for its kind")
OFFSETS_TYPE = rule("v2.offsets.type", "V2: an offsets dataset is not 1-D int64")
EVENTS_COUNT = rule(
    "v2.events.count", "V2: a product's event_offsets does not have one row more than the entries (len(events) + 1)"
)
OFFSETS_COUNT = rule(
    "v2.offsets.count",
    "V2: element_offsets does not have one boundary more than the list elements the entries hold",
)
OFFSETS_START = rule("v2.offsets.start", "V2: offsets do not start at 0")
OFFSETS_ORDER = rule("v2.offsets.order", "V2: offsets decrease")
OFFSETS_RANGE = rule("v2.offsets.range", "V2: offsets point outside the dataset they index")
OFFSETS_COVER = rule("v2.offsets.cover", "V2: the last offset is not the length of its dataset (rows no entry reaches)")
SCALAR_ROWS = rule("v2.scalar.rows", "V2: a scalar=True product has an entry without exactly one row")
STRING_UTF8 = rule("v2.string.utf8", "V2: string bytes are not UTF-8, or a boundary cuts a character")


def dataset(ctx: Context, group: h5py.Group, name: str, where: str) -> h5py.Dataset | None:
    """Return the dataset ``name`` of a product group; report it missing (or a group) and return None."""
    node = group.get(name)
    if isinstance(node, h5py.Dataset):
        return node
    found = "missing" if node is None else "a group"
    ctx.error(where, DATASET_MISSING, f"'{name}' is {found}: SPINE's reader raises KeyError reading the product")
    return None


def values_dataset(ctx: Context, group: h5py.Group, where: str, kind: str) -> h5py.Dataset | None:
    """Return the ``values`` dataset of an array/string/list product if its rank and dtype fit the kind."""
    values = dataset(ctx, group, VALUES, where)
    if values is None:
        return None
    if kind == STRING:
        if values.ndim != 1 or values.dtype.itemsize != 1 or values.dtype.kind not in "iuS":
            ctx.error(
                where,
                VALUES_TYPE,
                f"string values are a {values.ndim}-D {values.dtype} dataset: they must be 1-D UTF-8 bytes (uint8)",
            )
            return None
        return values
    if values.ndim not in (1, 2) or values.dtype.kind not in "biuf":
        ctx.error(
            where,
            VALUES_TYPE,
            f"values is a {values.ndim}-D {values.dtype} dataset: {kind} values are 1-D or 2-D numbers "
            "(no variable-length or string types)",
        )
        return None
    return values


@attrs.define
class Offsets:
    """The offsets of one dataset, read and checked."""

    values: np.ndarray
    usable: bool


def check_offsets(
    ctx: Context,
    where: str,
    offsets: h5py.Dataset | None,
    target: int,
    target_name: str,
    items: int | None = None,
    items_rule: Rule = EVENTS_COUNT,
    items_text: str = "entries",
) -> Offsets | None:
    """Check one offsets dataset: dtype, one boundary more than ``items``, start, order, range and cover.

    ``target`` is the length of the dataset the offsets index. Returns the
    offsets (``usable`` when they are ordered and in range), None when they
    cannot be read as offsets.
    """
    if offsets is None:
        return None
    name = offsets.name.rsplit("/", 1)[-1]
    if offsets.ndim != 1 or offsets.dtype.kind not in "iuf":
        ctx.error(where, OFFSETS_TYPE, f"{name} is a {offsets.ndim}-D {offsets.dtype} dataset, not 1-D int64")
        return None
    if offsets.dtype != OFFSET_DTYPE:
        ctx.warning(where, OFFSETS_TYPE, f"{name} is {offsets.dtype}: SPINE writes int64 offsets")
    values = np.asarray(offsets[()], dtype=np.int64)
    if items is not None and len(values) != items + 1:
        if items_rule is OFFSETS_COUNT:
            consequence = "elements no entry holds, or entries whose elements are missing"
        elif len(values) < items + 1:
            consequence = "the last entries cannot be read (SPINE: 'not enough values to unpack')"
        else:
            consequence = "boundaries past the last entry: a misaligned or half-written append"
        ctx.error(
            where,
            items_rule,
            f"{name} has {len(values)} rows for {items} {items_text}: exactly {items + 1} are needed; {consequence}",
        )
    scan = OffsetScan(target)
    scan.feed(values)
    return Offsets(values, report_offsets(ctx, where, name, scan, target_name, "boundary"))


@attrs.define
class OffsetScan:
    """Offsets checked block by block: where they decrease or leave ``[0, target]``, their first and last value.

    Positions are counted in offsets and reported in ``unit`` (offsets per
    reported item: 1 for event and element offsets, ``len(fields) + 1`` per row
    for a pool's helper column).
    """

    target: int
    unit: int = 1
    first: int | None = None
    last: int | None = None
    count: int = 0
    decreasing: list[int] = attrs.Factory(list)
    outside: list[int] = attrs.Factory(list)

    def feed(self, block: np.ndarray) -> None:
        """Scan the next block of offsets."""
        block = np.asarray(block, dtype=np.int64).reshape(-1)
        if not len(block):
            return
        run = block if self.last is None else np.concatenate(([self.last], block))
        base = self.count - (0 if self.last is None else 1)
        for position in (np.flatnonzero(np.diff(run) < 0) + 1 + base).tolist():
            self._note(self.decreasing, position)
        for position in (np.flatnonzero((block < 0) | (block > self.target)) + self.count).tolist():
            self._note(self.outside, position)
        if self.first is None:
            self.first = int(block[0])
        self.last = int(block[-1])
        self.count += len(block)

    def _note(self, found: list[int], position: int) -> None:
        item = position // self.unit
        if (not found or found[-1] != item) and len(found) <= 1000:
            found.append(item)


def report_offsets(ctx: Context, where: str, name: str, scan: OffsetScan, target_name: str, noun: str) -> bool:
    """Report start, order, range and cover of scanned offsets; return whether they are ordered and in range.

    ``target_name`` names the items the offsets index (``rows of values``,
    ``list elements``...); ``noun`` the positions reported (``boundary``, ``row``).
    """
    if scan.first is None:
        ctx.error(where, OFFSETS_COUNT, f"{name} is empty: offsets hold at least the boundary 0")
        return False
    if scan.decreasing:
        ctx.error(
            where,
            OFFSETS_ORDER,
            f"{name} decreases at {rows_text(scan.decreasing, noun)}: SPINE's reader returns wrong or empty values",
        )
    if scan.outside:
        ctx.error(
            where,
            OFFSETS_RANGE,
            f"{name} points past the {scan.target} {target_name} at {rows_text(scan.outside, noun)}: "
            "reading them fails",
        )
    usable = not scan.decreasing and not scan.outside
    if usable and scan.first != 0:
        ctx.warning(
            where,
            OFFSETS_START,
            f"{name} starts at {scan.first}, not 0: the first {scan.first} {target_name} are reached by no entry "
            "(SPINE's writer starts every offsets array at 0)",
        )
    if usable and scan.last != scan.target:
        unreached = scan.target - scan.last
        ctx.warning(
            where,
            OFFSETS_COVER,
            f"{name} ends at {scan.last}, but there are {scan.target} {target_name}: the last {unreached} are "
            "reached by no entry (left over by an interrupted write?)",
        )
    return usable


def report_unreached(ctx: Context, where: str, text: str) -> None:
    """Report values that no offset can reach (a pool whose objects have no rows)."""
    ctx.warning(where, OFFSETS_COVER, text)


def check_scalar_rows(ctx: Context, where: str, offsets: Offsets | None) -> None:
    """Check that a scalar=True product has one row per entry (none fails in SPINE's reader, more are ignored)."""
    if offsets is None or not offsets.usable or ctx.entries is None or len(offsets.values) != ctx.entries + 1:
        return
    counts = np.diff(offsets.values)
    empty = np.flatnonzero(counts == 0).tolist()
    if empty:
        ctx.error(
            where,
            SCALAR_ROWS,
            f"scalar=True but no row in {rows_text(empty, 'entry')}: SPINE's reader raises IndexError",
        )
    several = np.flatnonzero(counts > 1).tolist()
    if several:
        ctx.warning(
            where,
            SCALAR_ROWS,
            f"scalar=True but several rows in {rows_text(several, 'entry')}: readers return only the first",
        )


def check_utf8(ctx: Context, where: str, data: np.ndarray, bounds: np.ndarray, name: str) -> None:
    """Check that bytes decode as UTF-8 and that no string boundary falls inside a character."""
    try:
        data.tobytes().decode("utf-8")
    except UnicodeDecodeError as err:
        ctx.error(
            where,
            STRING_UTF8,
            f"{name} bytes are not UTF-8 (byte {err.start}: {err.reason}): SPINE's reader raises UnicodeDecodeError",
        )
        return
    inner = np.unique(bounds[(bounds > 0) & (bounds < len(data))])
    cut = inner[(data[inner] & 0xC0) == 0x80] if len(inner) else inner
    if len(cut):
        ctx.error(
            where,
            STRING_UTF8,
            f"string boundaries cut a UTF-8 character at {rows_text(cut.tolist(), 'byte')} of {name}: "
            "SPINE's reader raises UnicodeDecodeError",
        )
