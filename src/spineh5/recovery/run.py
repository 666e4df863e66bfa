"""``spineh5.recover``: turn a file left by a killed writer into a complete file of its whole entries.

Which file is read and where the result goes:

* a partial file (``.<name>.partial``, :mod:`spineh5.publishing`) is recovered
  to its final name by default (refused when that exists, unless ``out`` is given);
* a final path whose partial file exists means that partial file;
* any other file needs ``out`` or ``in_place``.

Without ``in_place`` the source is never written: it is copied to a hidden
temporary file beside the output, repaired there, fsynced and renamed to the
output (:func:`spineh5.publishing.publish`). With ``in_place`` the file is
repaired where it is (a partial file is then published under its final name).
"""

from __future__ import annotations

import os
import shutil
import time

import attrs
import h5py

from ..describe import open_file
from ..errors import FileOpenError
from ..file_lock import holder
from ..publishing import final_path, is_partial, partial_path, publish
from .end_of_file import extend_to_file_size
from .plan import RecoveryError, RecoveryPlan, apply_plan, plan_recovery
from .torn_chunks import repair_torn_chunks

__all__ = ["RecoveryReport", "recover"]


@attrs.frozen
class RecoveryReport:
    """What :func:`recover` did.

    Attributes
    ----------
    source : str
        The file read (the partial file when there is one).
    out : str
        The recovered file.
    format_version : int
        Its layout.
    entries_found : int
        Rows of ``events`` in the source.
    entries_kept : int
        Whole entries kept (the first ``entries_kept`` entries written).
    rows_trimmed : dict
        Rows dropped per product (``events`` included), products with none left out.
    was_complete : bool
        The source's ``info.complete``.
    damaged : bool
        Whether damage (references or offsets past their dataset, unreadable
        rows), not only an unfinished batch, limited the entries kept.
    reasons : tuple of str
        Why the next entry is not whole (empty when every entry is kept).
    mended : tuple of str
        What a kill inside a flush left and was mended: torn chunks (a write the
        kill cut between pages) whose intact rows were rewritten with a fresh
        checksum (:mod:`.torn_chunks`), as ``"<dataset> rows a-b"``, and a short
        superblock end-of-allocation address (:mod:`.end_of_file`).
    seconds : float
        Wall time of the recovery.
    """

    source: str
    out: str
    format_version: int
    entries_found: int
    entries_kept: int
    rows_trimmed: dict[str, int]
    was_complete: bool
    damaged: bool
    reasons: tuple[str, ...]
    mended: tuple[str, ...]
    seconds: float

    def summary(self) -> str:
        """Return one line: what was kept, what was dropped, where the result is."""
        dropped = sum(self.rows_trimmed.values())
        return (
            f"recovered {self.entries_kept} of {self.entries_found} entries (V{self.format_version}) from "
            f"{self.source} to {self.out}; trimmed {dropped} partial rows in {len(self.rows_trimmed)} products"
            + (f"; mended {len(self.mended)} torn writes" if self.mended else "")
            + (f" (damaged: {self.reasons[0]})" if self.damaged and self.reasons else "")
        )


def _source_and_out(path: str, out: str | None, in_place: bool) -> tuple[str, str]:
    """Return the file to read and the file to produce (see the module's rules)."""
    if out is not None and in_place:
        raise RecoveryError("give either an output path or in_place, not both")
    source = path
    if not is_partial(path) and os.path.exists(partial_path(path)):
        source = partial_path(path)
    if not os.path.exists(source):
        raise RecoveryError(f"{path}: no such file")
    final = final_path(source) if is_partial(source) else None
    if in_place:
        target = final or source
        if final is not None and os.path.exists(final):
            raise RecoveryError(f"{final} exists; recover {source} with an output path instead")
        return source, target
    if out is None:
        if final is None:
            raise RecoveryError(f"{path}: give an output path (--out) or repair the file in place (--in-place)")
        if os.path.exists(final):
            raise RecoveryError(f"{final} exists; give an output path (--out) for the recovered {source}")
        out = final
    if os.path.exists(out):
        raise RecoveryError(f"{out} exists; give another output path")
    if os.path.abspath(out) == os.path.abspath(source):
        raise RecoveryError(f"{out} is the file recovered; use in_place to repair it where it is")
    return source, out


def _refuse_if_written(source: str) -> None:
    """Refuse a file whose writer is alive (its advisory lock is held)."""
    for candidate in {source, final_path(source) if is_partial(source) else source}:
        pid = holder(candidate)
        if pid is not None:
            raise RecoveryError(f"{source} is open for writing by another process (pid {pid}); retry when it ends")


def _openable(path: str) -> None:
    """Refuse a file HDF5 cannot open, in one line."""
    try:
        open_file(path).close()
    except FileOpenError as err:
        raise RecoveryError(f"{path}: cannot be recovered: {err}") from None


def _plan(path: str, show_progress: bool, shown: str | None = None) -> RecoveryPlan:
    """Return the recovery plan of ``path`` (named ``shown`` in messages: the source, for a working copy)."""
    shown = shown or path
    try:
        h5file = open_file(path)
    except FileOpenError as err:
        raise RecoveryError(f"{shown}: cannot be recovered: {err}") from None
    with h5file:
        return plan_recovery(h5file, shown, show_progress)


def _mend(path: str, shown: str) -> list[str]:
    """Mend what a kill inside a flush leaves in the working file; return what was mended.

    A superblock whose end-of-allocation address is short of the data the flush
    wrote (:mod:`.end_of_file`) and the torn tail chunks (:mod:`.torn_chunks`).
    """
    mended = []
    short_end = extend_to_file_size(path)
    if short_end is not None:
        mended.append(f"superblock end of allocation {short_end} -> {os.path.getsize(path)}")
    try:
        with h5py.File(path, "r+") as h5file:
            return mended + repair_torn_chunks(h5file)
    except (OSError, RuntimeError, ValueError, KeyError) as err:
        raise RecoveryError(f"{shown}: cannot be recovered: {str(err).splitlines()[0]}") from err


def _repair(path: str, plan: RecoveryPlan, shown: str, mended: list[str]) -> None:
    from .. import __version__

    try:
        with h5py.File(path, "r+") as h5file:
            apply_plan(h5file, plan, {"tool": f"spineh5 {__version__} recover", "mended": mended})
    except (OSError, RuntimeError, ValueError, KeyError) as err:  # e.g. a damaged chunk HDF5 must rewrite to shrink
        raise RecoveryError(f"{shown}: cannot be repaired ({str(err).splitlines()[0]})") from err


def recover(
    path: str | os.PathLike, out: str | os.PathLike | None = None, in_place: bool = False, progress: bool = False
) -> RecoveryReport:
    """Recover a file left by a killed writer: keep its whole entries, trim partial rows, mark it complete.

    An entry is whole when every product of it is fully on disk (V1: every
    region reference of its ``events`` row non-null and inside its dataset;
    V2: every offset inside its dataset and never decreasing); the first
    ``K`` whole entries are kept, every dataset is shrunk to the rows they
    reach, ``info.complete`` is set True and ``info.recovered`` records (JSON)
    the entries kept, the rows trimmed per product, the tool and the time.

    Parameters
    ----------
    path : str or path-like
        The file: a final path, a partial path (``.<name>.partial``) or a final
        path whose partial file exists (then the partial file is recovered).
    out : str or path-like, optional
        Where to write the recovered file (must not exist). Default: the final
        name of a partial file; required for other files unless ``in_place``.
    in_place : bool, default False
        Repair the file where it is (a partial file is then renamed to its final name). A
        repair HDF5 refuses midway (a damaged chunk it must rewrite to shrink a dataset)
        leaves the file with some datasets trimmed and still marked incomplete.
    progress : bool, default False
        Show a progress bar while products are checked.

    Returns
    -------
    RecoveryReport

    Raises
    ------
    RecoveryError
        When the file cannot be recovered (not HDF5, no ``events``, unusable
        product groups), is being written, or the output is not allowed; the
        message is one line.
    """
    started = time.perf_counter()
    source, target = _source_and_out(os.fspath(path), None if out is None else os.fspath(out), in_place)
    _refuse_if_written(source)
    _openable(source)  # refuses what HDF5 cannot open before anything is copied or written
    if in_place:
        mended = _mend(source, source)
        plan = _plan(source, progress)
        _repair(source, plan, source, mended)
        if target != source:
            publish(source, target)
    else:
        folder, name = os.path.split(os.path.abspath(target))
        scratch = os.path.join(folder, f".{name}.recovering")
        try:
            shutil.copyfile(source, scratch)
            mended = _mend(scratch, source)
            plan = _plan(scratch, progress, source)
            _repair(scratch, plan, source, mended)
            publish(scratch, target)
        finally:
            if os.path.exists(scratch):
                os.remove(scratch)
    return RecoveryReport(
        source,
        target,
        plan.format_version,
        plan.entries,
        plan.kept,
        plan.dropped_by_product(),
        plan.complete,
        plan.damaged,
        plan.reasons,
        tuple(mended),
        time.perf_counter() - started,
    )
