"""What recovering a file left by a killed writer means: the entries kept and the rows each dataset keeps.

:func:`plan_recovery` looks at an open file (read-only) and returns a
:class:`RecoveryPlan`: how many leading entries are whole (every product of
the entry fully on disk) and, for every dataset, how many rows those entries
reach. The layout scans live in :mod:`.v1_scan` and :mod:`.v2_scan`; applying
a plan is :func:`apply_plan`. ``validate`` uses the plan too, to tell the
leftovers of an unfinished batch from damage.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import attrs
import h5py
import numpy as np

from ..errors import SpineH5Error
from ..format.common import COMPLETE, INFO, detect_layout, truthy
from ..h5_errors import H5_ERRORS
from ..layouts import layout_problem

__all__ = [
    "RECOVERED",
    "RecoveryError",
    "RecoveryPlan",
    "Trim",
    "apply_plan",
    "plan_recovery",
    "Reach",
    "reach",
    "readable_prefix",
    "past_end",
    "readable_rows",
    "whole_items",
]

#: ``info`` attribute (spineh5's; SPINE's readers ignore it) recording what ``spineh5 recover`` kept and dropped (JSON).
RECOVERED = "recovered"


class RecoveryError(SpineH5Error):
    """A file cannot be recovered (or the recovery was refused); the message is one line."""


@attrs.frozen
class Trim:
    """The rows one dataset keeps.

    Attributes
    ----------
    product : str
        The product the dataset belongs to (``events`` for the events table).
    dataset : str
        HDF5 path of the dataset.
    rows : int
        Rows on disk now.
    keep : int
        Rows the kept entries reach.
    """

    product: str
    dataset: str
    rows: int
    keep: int

    @property
    def dropped(self) -> int:
        """Return the rows past what the kept entries reach."""
        return self.rows - self.keep


@attrs.frozen
class RecoveryPlan:
    """What recovering a file keeps.

    Attributes
    ----------
    format_version : int
        The file's layout.
    entries : int
        Rows of ``events`` on disk.
    kept : int
        Leading entries whose every product is fully on disk.
    trims : tuple of Trim
        Every dataset of the file with the rows it keeps.
    complete : bool
        The file's ``info.complete`` as found.
    reasons : tuple of str
        Why entry ``kept`` is not whole (per product, first problem), empty when every entry is.
    damaged : bool
        Whether something other than the leftovers of an unfinished batch limits the
        whole entries: references or offsets past their dataset, unreadable rows
        (leftovers are rows past the whole entries, null references, offsets of 0).
    """

    format_version: int
    entries: int
    kept: int
    trims: tuple[Trim, ...]
    complete: bool
    reasons: tuple[str, ...] = ()
    damaged: bool = False

    @property
    def leftovers(self) -> bool:
        """Return whether the file holds rows past its whole entries (partial entries or partial rows)."""
        return self.kept < self.entries or any(trim.dropped for trim in self.trims)

    def dropped_by_product(self) -> dict[str, int]:
        """Return the rows dropped per product (summed over its datasets), products with none left out."""
        dropped: dict[str, int] = {}
        for trim in self.trims:
            if trim.dropped:
                dropped[trim.product] = dropped.get(trim.product, 0) + trim.dropped
        return dropped

    def summary(self) -> str:
        """Return the dropped rows as short text (``events 2, run_info 3 rows``)."""
        dropped = self.dropped_by_product()
        if not dropped:
            return "no rows"
        return ", ".join(f"{product} {rows}" for product, rows in sorted(dropped.items())) + " rows"


def readable_prefix(dataset: h5py.Dataset, fields: list[str] | None = None) -> np.ndarray:
    """Return the leading rows of a dataset that can be read (a damaged chunk, e.g. a checksum error, ends them).

    Read whole, or chunk by chunk when the whole read fails.
    """
    view = dataset.fields(fields) if fields else dataset
    try:
        return np.asarray(view[:])
    except H5_ERRORS:
        pass
    step = (dataset.chunks or (1024,))[0]
    parts = []
    for start in range(0, dataset.shape[0], step):
        try:
            parts.append(np.asarray(view[start : start + step]))
        except H5_ERRORS:
            break
    if not parts:
        return np.asarray(view[:0])
    return np.concatenate(parts)


def whole_items(offsets: np.ndarray, size: int) -> int:
    """Return how many leading items an offsets array delimits whole inside a dataset of ``size`` rows.

    Item ``i`` is whole when ``offsets[0..i+1]`` start inside the dataset, never
    decrease and end inside it.
    """
    offsets = np.asarray(offsets, dtype=np.int64).reshape(-1)
    if len(offsets) == 0 or not 0 <= offsets[0] <= size:
        return 0
    bad = np.flatnonzero((np.diff(offsets) < 0) | (offsets[1:] > size))
    return int(bad[0]) if len(bad) else len(offsets) - 1


def past_end(offsets: np.ndarray, size: int) -> bool:
    """Return whether the first bad boundary of an offsets array (:func:`whole_items`) lies past ``size``.

    Boundaries that go back (to the 0 a resize fills in) are what an unfinished
    append leaves; a boundary past its dataset is damage.
    """
    offsets = np.asarray(offsets, dtype=np.int64).reshape(-1)
    whole = whole_items(offsets, size)
    return whole < len(offsets) - 1 and bool(offsets[whole + 1] > size) or (len(offsets) > 0 and offsets[0] > size)


#: A dataset of a product and the rows it keeps when k entries are kept: ``ends[k]`` (non-decreasing).
Reach = tuple[str, h5py.Dataset, np.ndarray]


def reach(product: str, dataset: h5py.Dataset, ends: np.ndarray, base: int = 0) -> Reach:
    """Return the :data:`Reach` of a dataset whose entry ``e`` ends at row ``ends[e]`` (``base`` rows for none)."""
    ends = np.maximum.accumulate(np.asarray(ends, dtype=np.int64).reshape(-1)) if len(ends) else ends
    return product, dataset, np.concatenate([np.array([base], np.int64), np.maximum(ends, base)])


def readable_rows(dataset: h5py.Dataset, stop: int) -> int:
    """Return how many of the first ``stop`` rows of a dataset can be read (a damaged chunk ends them).

    Rows are read with plain slices, chunk by chunk, so a checksum (Fletcher-32)
    or decompression failure is found at the chunk it damages.
    """
    step = (dataset.chunks or (65536,))[0]
    for start in range(0, stop, step):
        try:
            dataset[start : min(start + step, stop)]
        except H5_ERRORS:
            return start
    return stop


def _verified(reaches: list[Reach], kept: int, show_progress: bool) -> tuple[int, list[str]]:
    """Return the entries whose rows can all be read (at most ``kept``) and why the next cannot."""
    reasons = []
    items = reaches
    if show_progress:
        from tqdm import tqdm

        items = tqdm(reaches, desc="reading kept rows", unit="dataset", leave=False)
    for product, dataset, ends in items:
        need = int(ends[kept])
        readable = readable_rows(dataset, need)
        if readable < need:
            kept = int(np.searchsorted(ends[: kept + 1], readable, side="right")) - 1
            reasons = [f"{product}: {dataset.name} cannot be read from row {readable} (damaged chunk)"]
    return max(kept, 0), reasons


def plan_recovery(h5file: h5py.File, path: str, show_progress: bool = False, verify: bool = True) -> RecoveryPlan:
    """Return what recovering an open file keeps (the file is only read).

    Parameters
    ----------
    h5file : h5py.File
        The open file.
    path : str
        Its path, for messages.
    show_progress : bool, default False
        Show progress bars.
    verify : bool, default True
        Also read every row the whole entries reach (chunk by chunk, plain
        slices): an entry with a row in a damaged chunk (a checksum failure)
        is not whole.

    Raises
    ------
    RecoveryError
        When the file has no ``info`` group, its layout is not supported, or
        the layout's structure (``events``, product groups) is unusable.
    """
    from . import v1_scan, v2_scan

    if not isinstance(h5file.get(INFO), (h5py.Group, h5py.Dataset)):
        raise RecoveryError(f"{path}: no {INFO!r} group: not a SPINE output file spineh5 can recover")
    detection = detect_layout(h5file)
    problem = layout_problem(detection)
    if problem is not None:
        raise RecoveryError(f"{path}: {problem}")
    complete = truthy(h5file[INFO].attrs.get(COMPLETE, True))
    scan = v1_scan.scan if detection.version == 1 else v2_scan.scan
    try:
        entries, kept, reaches, reasons, damaged = scan(h5file, path, show_progress)
        if verify:
            verified, unreadable = _verified(reaches, kept, show_progress)
            if verified < kept or unreadable:
                kept, reasons, damaged = verified, unreadable, True
    except RecoveryError:
        raise
    except (SpineH5Error, *H5_ERRORS) as err:
        raise RecoveryError(f"{path}: cannot be recovered ({str(err).splitlines()[0] if str(err) else err!r})") from err
    trims = tuple(Trim(product, data.name, int(data.shape[0]), int(ends[kept])) for product, data, ends in reaches)
    return RecoveryPlan(detection.version, entries, kept, trims, complete, tuple(reasons), damaged)


def apply_plan(h5file: h5py.File, plan: RecoveryPlan, record: dict[str, Any] | None = None) -> None:
    """Shrink every dataset of a file open for writing to the rows it keeps; mark it complete.

    Parameters
    ----------
    h5file : h5py.File
        The file the plan was made from, open in mode ``r+``.
    plan : RecoveryPlan
        What to keep.
    record : dict, optional
        Extra items of the ``info.recovered`` record (tool, time); no record is
        written when None.
    """
    for trim in plan.trims:
        if trim.dropped > 0:
            h5file[trim.dataset].resize(trim.keep, axis=0)
    info = h5file[INFO]
    info.attrs[COMPLETE] = np.bool_(True)
    if record is not None:
        entry = {
            "entries_found": plan.entries,
            "entries_kept": plan.kept,
            "rows_trimmed": plan.dropped_by_product(),
            "was_complete": plan.complete,
            "damaged": plan.damaged,
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            **record,
        }
        info.attrs[RECOVERED] = json.dumps(entry, sort_keys=True)
