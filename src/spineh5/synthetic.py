"""The synthetic production under its first name: :mod:`spineh5.demo`'s public names, re-exported."""

from __future__ import annotations

from .demo import (
    EVENT_MIX,
    PRODUCT_KEYS,
    VOXELS_PER_ENTRY,
    entry_rng,
    make_batches,
    make_entry,
    plain_class,
    to_plain,
)

__all__ = [
    "EVENT_MIX",
    "PRODUCT_KEYS",
    "VOXELS_PER_ENTRY",
    "entry_rng",
    "make_batches",
    "make_entry",
    "plain_class",
    "to_plain",
]
