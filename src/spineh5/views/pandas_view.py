"""Object products as pandas DataFrames with SPINE's ``scalar_dict`` column names (the ``library="pd"`` view).

One row per object, indexed by a ``MultiIndex`` ``(entry, subentry)``:
``entry`` is the reader position, ``subentry`` the object's place in its entry
(uproot's convention). Columns follow SPINE's ``DataBase.scalar_dict()``:

* scalar columns keep their name (enums as integer codes, strings as ``str``);
* a fixed array the schema declares a position or a vector (``role:
  position`` or ``role: vector``), such as ``start_point``, becomes
  ``start_point_x``, ``start_point_y``, ``start_point_z``;
* any other fixed array ``foo`` becomes ``foo_0``, ``foo_1``, ...;
* variable-length columns (index lists, pools) are left out.

The roles are the schema's (:attr:`.Column.role`), declared where SPINE
declares its positions and vectors, so the names match SPINE 0.14.1's
``scalar_dict`` for every class (``RecoParticle.momentum``, which SPINE does
not declare a vector, stays ``momentum_0/_1/_2``). Columns of a file read
without a schema class follow the role-less rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .columns import object_columns

if TYPE_CHECKING:
    from ..reader import HDF5Reader

__all__ = ["VECTOR_AXES", "scalar_names", "to_dataframe"]

#: Suffixes of the components of a length-3 fixed array.
VECTOR_AXES = ("x", "y", "z")


def scalar_names(name: str, length: int, role: str | None = None) -> list[str]:
    """Return the ``scalar_dict`` names of the components of a fixed array column.

    Parameters
    ----------
    name : str
        Column name.
    length : int
        Number of components.
    role : str or None
        The column's schema role: a ``position`` or ``vector`` is named by
        axis (``_x``, ``_y``, ``_z``), anything else by index (``_0``, ``_1``, ...).
    """
    if role is not None and length <= len(VECTOR_AXES):
        return [f"{name}_{axis}" for axis in VECTOR_AXES[:length]]
    return [f"{name}_{i}" for i in range(length)]


def _decoded(values: np.ndarray) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = [value.decode("utf-8") if isinstance(value, (bytes, np.bytes_)) else value for value in values]
    return out


def to_dataframe(
    reader: HDF5Reader, key: str, positions: np.ndarray, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Return the objects of one product as a DataFrame indexed by ``(entry, subentry)``."""
    kind = reader.spec(key, reader._first_file_with(key)).kind
    if not kind.holds_objects:
        raise ValueError(f"product {key!r} is not an object product ({kind.value}); use library='ak' or 'np'")
    rows, offsets, cls = object_columns(reader, key, positions, columns)
    known = {column.name: column for column in cls.COLUMNS} if cls is not None else {}
    counts = np.diff(offsets)
    entry = np.repeat(positions, counts)
    subentry = np.arange(len(rows), dtype=np.int64) - np.repeat(offsets[:-1], counts)
    data: dict[str, np.ndarray] = {}
    for name in rows.dtype.names or ():
        values = rows[name]
        column = known.get(name)
        if values.dtype.kind == "O":
            is_str = (
                column.dtype == "str"
                if column is not None
                else bool(len(values)) and isinstance(values[0], (bytes, str))
            )
            if is_str:
                data[name] = _decoded(values)
            continue  # variable-length arrays have no scalar_dict columns
        if values.ndim == 2:
            role = column.role if column is not None else None
            for component, label in enumerate(scalar_names(name, values.shape[1], role)):
                data[label] = values[:, component]
        else:
            data[name] = values
    index = pd.MultiIndex.from_arrays([entry, subentry], names=["entry", "subentry"])
    return pd.DataFrame(data, index=index)
