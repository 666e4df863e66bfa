"""The entry points behind :meth:`~spineh5.reader.HDF5Reader.arrays` and :meth:`~spineh5.reader.HDF5Reader.iterate`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .columns import LIBRARIES, columns_for, nbytes, product_columns, select_positions
from .iteration import Chunk, parse_step_size

if TYPE_CHECKING:
    from ..reader import HDF5Reader

__all__ = ["arrays", "iterate"]

#: Entries read to estimate the memory of one entry, for a step size in bytes.
_PROBE_ENTRIES = 100

Columns = Sequence[str] | Mapping[str, Sequence[str]] | None


def _keys(reader: HDF5Reader, keys: str | Sequence[str] | None) -> list[str]:
    if keys is None:
        return list(reader.keys)
    chosen = [keys] if isinstance(keys, str) else list(keys)
    for key in chosen:
        reader._first_file_with(key)  # KeyError naming the product when no file holds it
    return chosen


def _view(reader: HDF5Reader, keys: str | Sequence[str] | None, positions: np.ndarray, columns: Columns, library: str):
    if library not in LIBRARIES:
        raise ValueError(f"library must be one of {', '.join(map(repr, LIBRARIES))}, got {library!r}")
    chosen = _keys(reader, keys)
    if library == "ak":
        from .awkward_view import to_awkward

        return to_awkward(reader, chosen, positions, columns)
    if library == "np":
        return {key: product_columns(reader, key, positions, columns_for(reader, key, columns)) for key in chosen}
    from .pandas_view import to_dataframe

    frames = {key: to_dataframe(reader, key, positions, columns_for(reader, key, columns)) for key in chosen}
    return frames[chosen[0]] if isinstance(keys, str) else frames


def arrays(
    reader: HDF5Reader,
    keys: str | Sequence[str] | None = None,
    entry_start: int | None = None,
    entry_stop: int | None = None,
    columns: Columns = None,
    library: str = "ak",
) -> Any:
    """Return the view of reader positions ``entry_start:entry_stop`` (see :meth:`HDF5Reader.arrays`)."""
    return _view(reader, keys, select_positions(len(reader), entry_start, entry_stop), columns, library)


def _entries_per_step(reader: HDF5Reader, keys: Any, positions: np.ndarray, columns: Columns, size: int) -> int:
    """Return how many entries fit in ``size`` bytes, from the memory of the first entries."""
    probe = positions[:_PROBE_ENTRIES]
    if not len(probe):
        return 1
    chosen = _keys(reader, keys)
    data = {key: product_columns(reader, key, probe, columns_for(reader, key, columns)) for key in chosen}
    per_entry = max(nbytes(data) / len(probe), 1.0)
    return max(int(size // per_entry), 1)


def iterate(
    reader: HDF5Reader,
    keys: str | Sequence[str] | None = None,
    step_size: int | str = 1000,
    library: str = "ak",
    columns: Columns = None,
    entry_start: int | None = None,
    entry_stop: int | None = None,
    progress: bool = False,
) -> Iterator[Chunk]:
    """Yield :class:`Chunk` objects of at most ``step_size`` entries (see :meth:`HDF5Reader.iterate`)."""
    if library not in LIBRARIES:
        raise ValueError(f"library must be one of {', '.join(map(repr, LIBRARIES))}, got {library!r}")
    positions = select_positions(len(reader), entry_start, entry_stop)
    entries, size = parse_step_size(step_size)
    if entries is None:
        assert size is not None
        entries = _entries_per_step(reader, keys, positions, columns, size)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(positions), unit="entry", desc="spineh5")
    try:
        for low in range(0, len(positions), entries):
            chunk = positions[low : low + entries]
            data = _view(reader, keys, chunk, columns, library)
            if bar is not None:
                bar.update(len(chunk))
            yield Chunk(int(chunk[0]), int(chunk[-1]) + 1, data)
    finally:
        if bar is not None:
            bar.close()
