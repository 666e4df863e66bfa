"""Which event an entry holds: its run, subrun and event numbers from ``run_info``, and the entry of a triplet.

Both read the ``run_info`` product through the file's read layout
(:func:`~.files.entry_layout`): one entry's rows for the header of an entry,
every entry's triplet (:meth:`~spineh5.layouts.ReadLayout.run_triplets`, the
reader's run map source) to find the entry of a triplet.
"""

from __future__ import annotations

import h5py
import numpy as np

from ..errors import SpineFileError
from ..layouts.base import RUN_FIELDS
from .files import entry_layout

__all__ = ["RUN_INFO", "entries_of_event", "event_text", "has_run_info"]

#: The product holding each entry's run, subrun and event numbers.
RUN_INFO = "run_info"


def has_run_info(h5file: h5py.File) -> bool:
    """Return whether the file has a ``run_info`` object product with run, subrun and event columns."""
    layout = entry_layout(h5file)
    if RUN_INFO not in layout.keys():
        return False
    names = layout.spec(RUN_INFO).dtype.names or ()
    return all(name in names for name in RUN_FIELDS)


def event_text(h5file: h5py.File, entry: int) -> str:
    """Return ``run 1, subrun 0, event 3`` for an entry, or say plainly why the numbers are not known."""
    if not has_run_info(h5file):
        return "run/subrun/event unknown (no run_info in the file)"
    try:
        rows, _ = entry_layout(h5file).read_table(RUN_INFO, np.array([entry], dtype=np.int64), RUN_FIELDS)
    except SpineFileError as err:
        return f"run/subrun/event unknown (run_info cannot be read: {err.problem})"
    if len(rows) != 1:
        return f"run/subrun/event unknown (run_info holds {len(rows)} rows for this entry)"
    return ", ".join(f"{name} {int(rows[0][name])}" for name in RUN_FIELDS)


def entries_of_event(h5file: h5py.File, run: int, subrun: int, event: int) -> list[int]:
    """Return the entries whose ``run_info`` holds this (run, subrun, event), in order (empty when none).

    Raises
    ------
    SpineFileError
        When the file has no usable ``run_info`` product.
    """
    triplets = entry_layout(h5file).run_triplets(RUN_INFO)
    found = (triplets["run"] == run) & (triplets["subrun"] == subrun) & (triplets["event"] == event)
    return np.flatnonzero(found).tolist()
