"""The leftovers of an unfinished batch (a killed writer), told as one finding naming the fix.

A writer killed inside a batch leaves rows past its last whole entry: V1
product rows past the last ``events`` row and null ``events`` references,
V2 offsets past the last entry, with ``info.complete`` False. Instead of one
error per dataset, :func:`validate <spineh5.validation.validate>` reports one
``file.unfinished_batch`` finding naming ``spineh5 recover``, and runs the
other checks on a trimmed copy (what ``recover`` would leave), so that
they report only what is wrong with the whole entries.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator

import h5py

from ..format.common import COMPLETE, INFO, truthy
from ..recovery.plan import RecoveryError, RecoveryPlan, apply_plan, plan_recovery
from .problems import ERROR, Problem
from .rules import rule

__all__ = ["UNFINISHED_BATCH", "finding", "trimmed_copy", "unfinished_batch"]

UNFINISHED_BATCH = rule(
    "file.unfinished_batch",
    "info.complete is False and rows past the last whole entry are left (a killed writer): run spineh5 recover",
)


def unfinished_batch(h5file: h5py.File, path: str) -> RecoveryPlan | None:
    """Return the recovery plan of an unfinished file with leftover rows, None for any other file.

    A file whose whole entries are limited by damage (references or offsets past
    their dataset, unreadable rows) is left to the other checks, which name it.
    """
    info = h5file.get(INFO)
    if info is None or truthy(info.attrs.get(COMPLETE, True)):
        return None
    try:
        plan = plan_recovery(h5file, path)
    except RecoveryError:
        return None
    return plan if plan.leftovers and not plan.damaged else None


def finding(path: str, plan: RecoveryPlan) -> Problem:
    """Return the one finding of an unfinished batch."""
    dropped = plan.dropped_by_product()
    return Problem(
        ERROR,
        "file",
        UNFINISHED_BATCH.id,
        f"unfinished batch of a killed writer: {plan.kept} whole entries, then {sum(dropped.values())} leftover rows "
        f"in {len(dropped)} products, "
        f"info.complete False; `spineh5 recover {path} --out FIXED.h5` keeps the {plan.kept} whole entries "
        "(the checks below ran on them)",
    )


@contextlib.contextmanager
def trimmed_copy(path: str, plan: RecoveryPlan) -> Iterator[str]:
    """Yield the path of a temporary copy of ``path`` trimmed to its whole entries and marked complete."""
    with tempfile.TemporaryDirectory(prefix="spineh5-validate-") as folder:
        copy = os.path.join(folder, os.path.basename(path))
        shutil.copyfile(path, copy)
        with h5py.File(copy, "r+") as h5file:
            apply_plan(h5file, plan)
        yield copy
