"""Variable-length columns as one flat array of values plus row offsets, and the table they belong to.

:class:`VarColumn` holds a variable-length column of many rows the way
awkward's ``ListOffsetArray`` does (``values`` and ``offsets``): row ``i`` is
``values[offsets[i]:offsets[i + 1]]``, with no per-row arrays. Strings are
UTF-8 bytes (``uint8`` values). :class:`TableColumns` is what
:meth:`~spineh5.reader.HDF5Reader.columns` returns: the fixed columns as
numpy, the variable ones as :class:`VarColumn`, and the entry offsets.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import attrs
import numpy as np

__all__ = ["TableColumns", "VarColumn"]


def _bounds(lengths: np.ndarray) -> np.ndarray:
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets


@attrs.frozen(eq=False)
class VarColumn:
    """A variable-length column: flat ``values`` and int64 ``offsets`` of ``rows + 1``.

    Attributes
    ----------
    values : numpy.ndarray
        Every row's values, concatenated (UTF-8 bytes as ``uint8`` for strings).
    offsets : numpy.ndarray
        int64, rows + 1, starting at 0: row ``i`` is ``values[offsets[i]:offsets[i + 1]]``.
    is_string : bool
        Whether rows are UTF-8 strings (``row(i)`` then decodes them).
    """

    values: np.ndarray
    offsets: np.ndarray
    is_string: bool = False

    @classmethod
    def from_cells(cls, cells: Sequence[Any], dtype: Any = None) -> VarColumn:
        """Build a column from per-row arrays (or ``str``/``bytes`` for a string column), one concatenation."""
        cells = list(cells)
        if cells and all(isinstance(cell, (str, bytes)) for cell in cells):
            encoded = [cell.encode("utf-8") if isinstance(cell, str) else cell for cell in cells]
            values = np.frombuffer(b"".join(encoded), dtype=np.uint8)
            return cls(values, _bounds(np.fromiter(map(len, encoded), np.int64, len(encoded))), True)
        lengths = np.fromiter(map(len, cells), np.int64, len(cells))
        values = np.concatenate(cells) if cells else np.empty(0, dtype=dtype or np.float64)
        if dtype is not None:
            values = values.astype(dtype, copy=False)
        return cls(values, _bounds(lengths))

    @classmethod
    def from_bounds(cls, pool: np.ndarray, starts: np.ndarray, stops: np.ndarray, is_string: bool = False) -> VarColumn:
        """Build a column from a pool and each row's ``[starts[i], stops[i])`` in it (one gather, if any)."""
        starts, stops = np.asarray(starts, np.int64), np.asarray(stops, np.int64)
        lengths = np.maximum(stops - starts, 0)
        offsets = _bounds(lengths)
        if not len(starts):
            return cls(pool[:0], offsets, is_string)
        if np.array_equal(starts[1:], stops[:-1]):
            return cls(pool[int(starts[0]) : int(stops[-1])], offsets, is_string)
        gather = np.repeat(starts - offsets[:-1], lengths) + np.arange(int(offsets[-1]), dtype=np.int64)
        return cls(pool[gather], offsets, is_string)

    @classmethod
    def concatenate(cls, parts: Sequence[VarColumn]) -> VarColumn:
        """Join columns row-wise (one concatenation of values, offsets shifted)."""
        if len(parts) == 1:
            return parts[0]
        values = np.concatenate([part.values for part in parts])
        lengths = np.concatenate([np.diff(part.offsets) for part in parts])
        return cls(values, _bounds(lengths), bool(parts and parts[0].is_string))

    @property
    def lengths(self) -> np.ndarray:
        """int64 number of values of each row."""
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def row(self, index: int) -> Any:
        """Return one row: a view into ``values``, or a ``str`` for a string column."""
        index = range(len(self))[index]
        piece = self.values[self.offsets[index] : self.offsets[index + 1]]
        return piece.tobytes().decode("utf-8") if self.is_string else piece

    __getitem__ = row

    def __iter__(self) -> Iterator[Any]:
        return (self.row(index) for index in range(len(self)))

    def to_arrays(self) -> np.ndarray:
        """Return an object array of per-row arrays (``bytes`` for strings), as :meth:`HDF5Reader.table` gives."""
        bounds = self.offsets.tolist()
        out = np.empty(len(self), dtype=object)
        if self.is_string:
            raw = self.values.tobytes()
            out[:] = [raw[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        else:
            values = self.values
            for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
                out[i] = values[a:b]
        return out

    def to_awkward(self) -> Any:
        """Return an ``awkward.Array`` of the rows (zero-copy over ``values`` and ``offsets``)."""
        import awkward as ak

        content = ak.contents.NumpyArray(self.values, parameters={"__array__": "char"} if self.is_string else None)
        layout = ak.contents.ListOffsetArray(
            ak.index.Index64(self.offsets), content, parameters={"__array__": "string"} if self.is_string else None
        )
        return ak.Array(layout)


@attrs.frozen(eq=False)
class TableColumns:
    """The columns of an object product for many entries: fixed columns in numpy, variable ones pooled.

    Attributes
    ----------
    names : tuple of str
        The columns, in the order :meth:`~spineh5.reader.HDF5Reader.table` returns them.
    fixed : numpy.ndarray
        Compound rows of the fixed columns.
    variable : dict of str to VarColumn
        The variable-length columns (arrays and strings).
    offsets : numpy.ndarray
        int64, entries + 1: entry ``i`` holds rows ``offsets[i]:offsets[i + 1]``.
    """

    names: tuple[str, ...]
    fixed: np.ndarray
    variable: dict[str, VarColumn]
    offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.fixed)

    def __getitem__(self, name: str) -> np.ndarray | VarColumn:
        """Return one column: a numpy array (fixed) or a :class:`VarColumn`."""
        if name in self.variable:
            return self.variable[name]
        if name not in self.names:
            raise KeyError(f"no column {name!r} (columns: {', '.join(self.names)})")
        return self.fixed[name]

    def to_rows(self) -> np.ndarray:
        """Return compound rows with per-row arrays, the form :meth:`~spineh5.reader.HDF5Reader.table` returns."""
        import h5py

        types = {}
        for name in self.names:
            column = self.variable.get(name)
            if column is None:
                types[name] = self.fixed.dtype.fields[name][0]
            else:
                types[name] = h5py.string_dtype() if column.is_string else h5py.vlen_dtype(column.values.dtype)
        rows = np.zeros(len(self.fixed), dtype=np.dtype([(name, types[name]) for name in self.names]))
        fixed = [name for name in self.names if name not in self.variable]
        if fixed:
            rows[fixed] = self.fixed[fixed]
        for name, column in self.variable.items():
            rows[name] = column.to_arrays()
        return rows
