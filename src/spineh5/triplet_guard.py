"""The writer's guard against repeated (run, subrun, event) triplets, per output file.

SPINE's run map needs every entry of a file to have its own ``run_info``
triplet (``validate`` calls a repeat an error, rule ``run_info.duplicate``).
:class:`TripletGuard` keeps, per output file, the triplets written so far
(those of an existing file are read once, the first time the writer appends
to it) and refuses a batch whose triplets repeat one of them or each other,
before anything of the batch is written.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import h5py
import numpy as np

from .errors import ProductError
from .layouts import read_layout
from .layouts.base import RUN_DTYPE, RUN_FIELDS
from .output_files import OutputFiles
from .payload import Payload
from .products import Kind

__all__ = ["RUN_INFO_KEY", "TripletGuard"]

#: The product holding each entry's run, subrun and event (SPINE's reader's ``run_info_key`` default).
RUN_INFO_KEY = "run_info"

Triplet = tuple[int, int, int]


class TripletGuard:
    """The triplets of each output file, to refuse a batch that repeats one.

    Parameters
    ----------
    files : OutputFiles
        The writer's output files (existing ones are read for their triplets).
    key : str, default 'run_info'
        The product holding the triplets.
    """

    def __init__(self, files: OutputFiles, key: str = RUN_INFO_KEY) -> None:
        self.files = files
        self.key = key
        #: ``{file id: {triplet: file entry}}`` of the files seen so far.
        self._seen: dict[int, dict[Triplet, int]] = {}

    def applies(self, payloads: dict[str, Payload]) -> bool:
        """Return whether the batch has a one-object-per-entry ``key`` product with run/subrun/event columns."""
        payload = payloads.get(self.key)
        return (
            payload is not None
            and payload.spec.kind is Kind.OBJECT
            and set(RUN_FIELDS) <= set(payload.spec.dtype.names or ())
        )

    def check(self, file_id: int, payloads: dict[str, Payload], rows: np.ndarray) -> list[Triplet]:
        """Return the triplets of the entries ``rows`` going to ``file_id``, refusing any already seen.

        Parameters
        ----------
        file_id : int
            The target file.
        payloads : dict
            The validated payloads of the file's share of the batch.
        rows : numpy.ndarray
            The batch positions of that share (to name the entry in errors).

        Raises
        ------
        ProductError
            Naming ``key``, the batch position and file entry of the first repeat, its triplet and the entry it
            repeats (in the file or in the batch).
        """
        payload = payloads[self.key]
        triplets = list(zip(*(payload.object_field(name).tolist() for name in RUN_FIELDS)))
        seen = self._stored(file_id)
        first = len(seen)
        batch: dict[Triplet, int] = {}
        for position, triplet in enumerate(triplets):
            earlier = seen.get(triplet)
            if earlier is not None:
                where = f"file entry {earlier} of {self.files.file_names[file_id]}"
                self._refuse(rows, position, first + position, triplet, where)
            earlier = batch.setdefault(triplet, position)
            if earlier != position:
                where = f"entry {int(rows[earlier])} of the batch (file entry {first + earlier})"
                self._refuse(rows, position, first + position, triplet, where)
        return triplets

    def commit(self, file_id: int, triplets: Sequence[Triplet]) -> None:
        """Record the triplets of a share of a batch once it is written to ``file_id``."""
        seen = self._stored(file_id)
        first = len(seen)
        seen.update(zip(triplets, range(first, first + len(triplets))))

    def _stored(self, file_id: int) -> dict[Triplet, int]:
        """Return the triplets of ``file_id``, reading an existing file's the first time."""
        seen = self._seen.get(file_id)
        if seen is None:
            stored = _file_triplets(self.files, file_id, self.key)
            triplets = zip(*(stored[name].tolist() for name in RUN_FIELDS))
            seen = self._seen[file_id] = {triplet: entry for entry, triplet in enumerate(triplets)}
        return seen

    def _refuse(self, rows: np.ndarray, position: int, file_entry: int, triplet: Triplet, earlier: str) -> None:
        """Raise the error of the entry at ``position`` of ``rows``, whose triplet repeats ``earlier``."""
        raise ProductError(
            self.key,
            f"(run, subrun, event) {triplet} repeats {earlier}: SPINE's run map requires unique "
            "triplets (pass allow_duplicates=True to write it anyway)",
            int(rows[position]),
            None,
            file_entry,
        )


def _file_triplets(files: OutputFiles, file_id: int, key: str) -> np.ndarray:
    """Return the triplets output file ``file_id`` holds now (none before it exists)."""
    path = files.where(file_id)
    empty = np.empty(0, dtype=RUN_DTYPE)
    handle = files.handles.get(file_id)
    if handle is not None and handle.id.valid:
        return read_layout(handle, path).run_triplets(key) if files.entry_count(file_id) else empty
    if (file_id in files.created or files.append) and os.path.exists(path) and files.entry_count(file_id):
        with h5py.File(path, "r") as h5file:
            return read_layout(h5file, path).run_triplets(key)
    return empty
