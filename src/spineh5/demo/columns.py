"""Column-value helpers shared by the object builders."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np


@functools.cache
def column_names(cls: type) -> frozenset[str]:
    """Return the column names of a generated class."""
    return frozenset(column.name for column in cls.COLUMNS)


def f32(values: Any) -> np.ndarray:
    """Return ``values`` as a float32 array."""
    return np.asarray(values, dtype=np.float32)


def i32(values: Any) -> np.ndarray:
    """Return ``values`` as an int32 array."""
    return np.asarray(values, dtype=np.int32)
