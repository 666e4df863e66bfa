"""What SPINE's classes require of object values, written once for ``validate`` and the writer.

SPINE's classes check two things in ``__post_init__``: a ``units`` field is
``'cm'`` or ``'px'``, and an ImageMeta's bounds agree with its pixel size and
count. ``spineh5 validate`` reports stored rows that break them
(:mod:`spineh5.validation.shared`); the writer refuses a batch that would
store them (:mod:`spineh5.payload`).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["META_CLASSES", "META_COLUMNS", "UNITS", "has_meta_columns", "has_units", "inconsistent_meta"]

#: The ``units`` SPINE's classes accept.
UNITS = frozenset({"cm", "px"})
#: The ImageMeta classes and the columns their consistency check needs.
META_CLASSES = ("ImageMeta2D", "ImageMeta3D")
META_COLUMNS = frozenset({"lower", "upper", "size", "count"})


def has_units(cls: type) -> bool:
    """Return whether objects of ``cls`` have a ``units`` field (whose value must be in :data:`UNITS`)."""
    return any(column.name == "units" for column in cls.COLUMNS)


def has_meta_columns(cls: type, names: Iterable[str]) -> bool:
    """Return whether rows of ``cls`` with these columns get SPINE's ImageMeta consistency check."""
    return cls.__name__ in META_CLASSES and META_COLUMNS <= set(names)


def inconsistent_meta(rows: np.ndarray) -> np.ndarray:
    """Return the positions of the ImageMeta rows that are set and have ``upper != lower + size * count``.

    A row is unset (and accepted) when its ``lower`` and ``upper`` are all NaN
    and its ``count`` all -1, as a default ImageMeta is.

    Parameters
    ----------
    rows : numpy.ndarray
        Compound rows with the :data:`META_COLUMNS` fields (2-D per field).
    """
    lower, upper = rows["lower"].astype(np.float64), rows["upper"].astype(np.float64)
    size, count = rows["size"].astype(np.float64), rows["count"].astype(np.float64)
    unset = np.isnan(lower).all(axis=1) & np.isnan(upper).all(axis=1) & (count == -1).all(axis=1)
    with np.errstate(invalid="ignore"):
        close = np.isclose(upper, lower + size * count).all(axis=1)
    return np.flatnonzero(~(unset | close))
