"""The base class of every generated enumeration.

:class:`SchemaEnum` is an :class:`enum.IntEnum` whose members also carry the
numpy ``dtype`` they are stored with (``int64``, as every enum column on
disk). Array libraries that resolve a scalar's dtype from its ``dtype``
attribute (awkward's ufunc dispatch does) then take a member as the integer
it is, so ``particles.pid == ParticlePID.MUON`` works on an awkward array
as it does on a numpy one.
"""

from __future__ import annotations

import enum

import numpy as np

__all__ = ["ENUM_DTYPE", "SchemaEnum"]

#: The dtype of every enum value on disk.
ENUM_DTYPE = np.dtype(np.int64)


class SchemaEnum(enum.IntEnum):
    """An integer enumeration declared in a schema (members compare equal to their codes)."""

    @property
    def dtype(self) -> np.dtype:
        """Return the dtype of the member's code, ``int64``."""
        return ENUM_DTYPE
