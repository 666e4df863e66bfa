"""Step sizes and the chunks of :meth:`spineh5.reader.HDF5Reader.iterate`."""

from __future__ import annotations

import re
from typing import Any

import attrs

__all__ = ["Chunk", "parse_step_size"]

_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*$")


@attrs.frozen
class Chunk:
    """One chunk of :meth:`~spineh5.reader.HDF5Reader.iterate`.

    Attributes
    ----------
    entry_start : int
        First reader position of the chunk.
    entry_stop : int
        One past its last position (``entry_stop - entry_start`` entries).
    data : Any
        The view of those entries, as :meth:`~spineh5.reader.HDF5Reader.arrays` returns it.
    """

    entry_start: int
    entry_stop: int
    data: Any

    def __len__(self) -> int:
        return self.entry_stop - self.entry_start


def parse_step_size(step_size: int | str) -> tuple[int | None, int | None]:
    """Return ``(entries, bytes)`` of a step size: an entry count, or a memory size such as ``"100 MB"``.

    Sizes take the units B, kB, MB, GB, TB (powers of 1000) and KiB, MiB,
    GiB, TiB (powers of 1024), case-insensitive; a bare number is bytes.
    """
    if isinstance(step_size, bool):
        raise TypeError("step_size must be an entry count or a size such as '100 MB'")
    if isinstance(step_size, int):
        if step_size < 1:
            raise ValueError(f"step_size must be at least 1 entry, got {step_size}")
        return step_size, None
    if not isinstance(step_size, str):
        raise TypeError(f"step_size must be an entry count or a size such as '100 MB', got {step_size!r}")
    match = _SIZE.match(step_size)
    unit = match.group(2).lower() if match else ""
    if match is None or (unit and unit not in _UNITS):
        raise ValueError(f"step_size {step_size!r} is not a size such as '100 MB' (units: B, kB, MB, GB, MiB, ...)")
    size = int(float(match.group(1)) * _UNITS[unit or "b"])
    if size < 1:
        raise ValueError(f"step_size {step_size!r} is less than one byte")
    return None, size
