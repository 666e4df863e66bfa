"""V1 region references: resolve each one and report the null, dangling, misdirected and out-of-range ones.

V1 spec sections 2.3 (``events``) and 2.4 (list ``index`` datasets).
"""

from __future__ import annotations

import attrs
import h5py
import numpy as np

from ..format.common import EVENTS
from ..format.global_heap import GlobalHeaps, raw_references
from .context import Context
from .rules import rule
from .text import rows_text

__all__ = ["check_event_refs", "check_index_refs"]

REF_NULL = rule("ref.null", "a region reference is null")
REF_UNRESOLVED = rule("ref.unresolved", "a region reference cannot be resolved")
REF_TARGET = rule("ref.target", "a region reference points into another dataset")
REF_OUTSIDE = rule("ref.outside", "a region reference selects rows past the end of its dataset")
REF_SCALAR_EMPTY = rule("ref.scalar_empty", "an entry of a scalar=True product selects no row")


@attrs.define
class _RefScan:
    """Outcome of resolving many region references that should point into one dataset."""

    counts: np.ndarray
    null: list[int] = attrs.Factory(list)
    unresolved: list[int] = attrs.Factory(list)
    elsewhere: dict[str, list[int]] = attrs.Factory(dict)
    outside: list[int] = attrs.Factory(list)


def _scan_refs(h5file: h5py.File, refs: np.ndarray, target: h5py.Dataset, raw: np.ndarray) -> _RefScan:
    """Resolve each reference: its dataset must be ``target`` and its rows within ``target``'s extent.

    ``raw`` holds the references as stored (:func:`~spineh5.format.global_heap.raw_references`): one naming
    a damaged global heap collection is unresolved, never given to HDF5 (which can loop on it).
    """
    scan = _RefScan(counts=np.zeros(len(refs), dtype=np.int64))
    unsafe = GlobalHeaps(h5file.filename).unreadable(raw)
    extent = target.shape[0]
    width = target.shape[1] if target.ndim == 2 else 1
    expected = target.name
    for position, ref in enumerate(refs):
        if not ref:
            scan.null.append(position)
            continue
        if unsafe[position] is not None:
            scan.unresolved.append(position)
            continue
        try:
            name = h5py.h5r.get_name(ref, h5file.id)
            space = h5py.h5r.get_region(ref, h5file.id)
        except (OSError, ValueError, KeyError, RuntimeError):
            name = None
        if name is None:
            scan.unresolved.append(position)
            continue
        name = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
        if name != expected:
            scan.elsewhere.setdefault(name, []).append(position)
            continue
        points = space.get_select_npoints()
        scan.counts[position] = points // max(width, 1)
        if points and space.get_select_type() != h5py.h5s.SEL_NONE:
            bounds = space.get_select_bounds()
            if bounds is not None and bounds[1][0] >= extent:
                scan.outside.append(position)
    return scan


def _report_scan(ctx: Context, where: str, scan: _RefScan, target: str, noun: str) -> None:
    if scan.null:
        ctx.error(where, REF_NULL, f"null region references in {rows_text(scan.null, noun)}")
    if scan.unresolved:
        ctx.error(where, REF_UNRESOLVED, f"unresolvable region references in {rows_text(scan.unresolved, noun)}")
    for name, positions in scan.elsewhere.items():
        ctx.error(where, REF_TARGET, f"references into {name} instead of {target} in {rows_text(positions, noun)}")
    if scan.outside:
        ctx.error(
            where,
            REF_OUTSIDE,
            f"references past the end of {target} in {rows_text(scan.outside, noun)}: "
            "the dataset is shorter than its references say",
        )


def check_event_refs(ctx: Context, key: str, target: h5py.Dataset, scalar: bool, name: str | None = None) -> None:
    """Check the ``events`` field of ``key``: every entry references rows of ``target``."""
    scan = _scan_refs(ctx.file, ctx.rows[key], target, raw_references(ctx.file[EVENTS], key, 0, len(ctx.rows)))
    _report_scan(ctx, f"/{key}", scan, name or f"/{key}", "entry")
    if scalar:
        resolved = set(scan.null) | set(scan.unresolved) | {p for ps in scan.elsewhere.values() for p in ps}
        empty = [position for position in np.flatnonzero(scan.counts == 0).tolist() if position not in resolved]
        if empty:
            ctx.error(
                f"/{key}",
                REF_SCALAR_EMPTY,
                f"scalar=True but no row in {rows_text(empty, 'entry')}: SPINE's reader returns the first row "
                "and raises IndexError",
            )


def check_index_refs(ctx: Context, group: h5py.Group, index: h5py.Dataset, names: list[str]) -> None:
    """Check that each ``index`` reference of a list group points into its ``elements``/``element_<i>``."""
    rows = index[:]
    raw = raw_references(index, None, 0, len(rows))
    for position, name in enumerate(names):
        refs = rows if index.ndim == 1 else rows[:, position]
        scan = _scan_refs(ctx.file, refs, group[name], raw if index.ndim == 1 else raw[:, position])
        _report_scan(ctx, f"{group.name}/index", scan, f"{group.name}/{name}", "index row")
