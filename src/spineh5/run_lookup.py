"""Entries looked up by their (run, subrun, event) numbers: :meth:`HDF5Reader.find`'s sorted map.

:class:`RunLookup` sorts the triplets of the selected entries once and finds
an entry's position by binary search. Triplets that appear twice make numbers
ambiguous and are refused when the map is built.
"""

from __future__ import annotations

import numpy as np

from .layouts.base import RUN_DTYPE

__all__ = ["RunLookup"]


class RunLookup:
    """The selected entries' (run, subrun, event) triplets, sorted, with the position of each.

    Parameters
    ----------
    triplets : numpy.ndarray
        One ``RUN_DTYPE`` row per selected entry, in reader order.

    Raises
    ------
    ValueError
        When a triplet appears more than once (naming it and two of its positions).
    """

    def __init__(self, triplets: np.ndarray) -> None:
        order = np.lexsort((triplets["event"], triplets["subrun"], triplets["run"]))
        ordered = triplets[order]
        same = (
            (ordered["run"][1:] == ordered["run"][:-1])
            & (ordered["subrun"][1:] == ordered["subrun"][:-1])
            & (ordered["event"][1:] == ordered["event"][:-1])
        )
        if np.any(same):
            first = int(np.flatnonzero(same)[0])
            positions = sorted(order[first : first + 2].tolist())
            raise ValueError(
                f"(run, subrun, event) = {ordered[first].item()} appears more than once (positions {positions}); "
                "events cannot be looked up by number"
            )
        self._sorted, self._order = ordered, order

    def find(self, run: int, subrun: int, event: int) -> int | None:
        """Return the position of the entry with these numbers, or None."""
        wanted = np.array((run, subrun, event), dtype=RUN_DTYPE)
        at = int(np.searchsorted(self._sorted, wanted))
        if at < len(self._sorted) and self._sorted[at].item() == wanted.item():
            return int(self._order[at])
        return None
