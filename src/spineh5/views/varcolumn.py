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


def _text(cell: Any) -> str:
    return cell.decode("utf-8") if isinstance(cell, (bytes, np.bytes_)) else str(cell)


def _row_positions(index: Any, count: int) -> np.ndarray:
    """Return the int64 row positions a slice, integer array or boolean mask selects among ``count`` rows."""
    if isinstance(index, slice):
        return np.arange(count, dtype=np.int64)[index]
    index = np.asarray(index)
    if index.dtype == bool:
        if index.shape != (count,):
            raise IndexError(f"a boolean mask of {index.shape} does not fit {count} rows")
        return np.flatnonzero(index)
    if index.size and index.dtype.kind not in "iu":
        raise IndexError(f"rows are selected by integers, slices or boolean masks, not {index.dtype}")
    positions = index.astype(np.int64).reshape(-1)
    positions = np.where(positions < 0, positions + count, positions)
    if len(positions) and (positions.min() < 0 or positions.max() >= count):
        raise IndexError(
            f"row {int(index.reshape(-1)[np.argmax((positions < 0) | (positions >= count))])} "
            f"is out of range for {count} rows"
        )
    return positions


class VarColumn:
    """A variable-length column: flat ``values`` and int64 ``offsets`` of ``rows + 1``.

    A column made by :meth:`from_bounds` over a pool whose rows are not
    contiguous (V2's pools interleave the fields of a row) keeps the pool and
    each row's bounds, and gathers ``values`` on first use: indexing,
    iteration, :meth:`take` and ``offsets`` need no gather.

    Parameters
    ----------
    values : numpy.ndarray
        Every row's values, concatenated (UTF-8 bytes as ``uint8`` for strings).
    offsets : numpy.ndarray
        int64, rows + 1, starting at 0: row ``i`` is ``values[offsets[i]:offsets[i + 1]]``.
    is_string : bool, default False
        Whether rows are UTF-8 strings (``row(i)`` then decodes them).
    """

    __slots__ = ("_cells", "_offsets", "_pending", "_values", "is_string")

    def __init__(self, values: np.ndarray, offsets: np.ndarray, is_string: bool = False) -> None:
        self._values: np.ndarray | None = values
        self._offsets: np.ndarray | None = np.asarray(offsets, dtype=np.int64)
        #: ``(pool, starts, stops)`` of a column whose values are not gathered yet.
        self._pending: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        #: ``(object array of per-row cells, element dtype)`` of a column not concatenated yet.
        self._cells: tuple[np.ndarray, np.dtype] | None = None
        self.is_string = bool(is_string)

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
        """Build a column from a pool and each row's ``[starts[i], stops[i])`` in it (gathered on first use)."""
        starts, stops = np.asarray(starts, np.int64), np.asarray(stops, np.int64)
        if not len(starts):
            return cls(pool[:0], np.zeros(1, np.int64), is_string)
        stops = np.maximum(stops, starts)
        if np.array_equal(starts[1:], stops[:-1]):
            return cls(pool[int(starts[0]) : int(stops[-1])], _bounds(stops - starts), is_string)
        column = cls(pool[:0], np.zeros(1, np.int64), is_string)
        column._values = column._offsets = None
        column._pending = (pool, starts, stops)
        return column

    @classmethod
    def from_ordered_bounds(
        cls, pool: np.ndarray, starts: np.ndarray, stops: np.ndarray, is_string: bool = False
    ) -> VarColumn:
        """Build a column from int64 bounds already known ordered (``stops >= starts``), with no check or copy.

        What :meth:`from_bounds` builds, for bounds a reader has validated:
        the values are gathered on first use (iteration and indexing slice the pool).
        """
        column = cls.__new__(cls)
        column._values = column._offsets = column._cells = None
        column._pending = (pool, starts, stops)
        column.is_string = bool(is_string)
        return column

    @classmethod
    def from_object_column(cls, cells: np.ndarray, dtype: Any, is_string: bool = False) -> VarColumn:
        """Wrap an object array of per-row arrays (``bytes``/``str`` for strings), concatenated on first use.

        Indexing, iteration and :meth:`take` use the cells as they are; ``values``
        and ``offsets`` concatenate them once (:meth:`from_cells`).
        """
        column = cls(np.empty(0, np.uint8 if is_string else dtype), np.zeros(1, np.int64), is_string)
        column._values = column._offsets = None
        column._cells = (np.asarray(cells, dtype=object), np.dtype(np.uint8 if is_string else dtype))
        return column

    def _concatenate_cells(self) -> None:
        cells, dtype = self._cells
        if self.is_string:
            encoded = [cell.encode("utf-8") if isinstance(cell, str) else bytes(cell) for cell in cells.tolist()]
            self._values = np.frombuffer(b"".join(encoded), dtype=np.uint8)
            self._offsets = _bounds(np.fromiter(map(len, encoded), np.int64, len(encoded)))
        else:
            built = VarColumn.from_cells(cells.tolist(), dtype)
            self._values, self._offsets = built.values, built.offsets
        self._cells = None

    @property
    def values(self) -> np.ndarray:
        """Every row's values, concatenated (UTF-8 bytes as ``uint8`` for strings)."""
        if self._cells is not None:
            self._concatenate_cells()
        if self._values is None:
            pool, starts, _ = self._pending
            offsets = self.offsets
            lengths = np.diff(offsets)
            gather = np.repeat(starts - offsets[:-1], lengths) + np.arange(int(offsets[-1]), dtype=np.int64)
            self._values = pool[gather]
        return self._values

    @property
    def offsets(self) -> np.ndarray:
        """int64, rows + 1, starting at 0: row ``i`` is ``values[offsets[i]:offsets[i + 1]]``."""
        if self._cells is not None:
            self._concatenate_cells()
        if self._offsets is None:
            _, starts, stops = self._pending
            self._offsets = _bounds(stops - starts)
        return self._offsets

    @property
    def value_dtype(self) -> np.dtype:
        """The dtype of ``values`` (known without gathering them)."""
        if self._cells is not None:
            return self._cells[1]
        return (self._values if self._pending is None else self._pending[0]).dtype

    @classmethod
    def concatenate(cls, parts: Sequence[VarColumn]) -> VarColumn:
        """Join columns row-wise (one concatenation of values, offsets shifted)."""
        if len(parts) == 1:
            return parts[0]
        values = np.concatenate([part.values for part in parts])
        lengths = np.concatenate([part.lengths for part in parts])
        return cls(values, _bounds(lengths), bool(parts and parts[0].is_string))

    @property
    def lengths(self) -> np.ndarray:
        """int64 number of values of each row."""
        if self._pending is not None:
            return self._pending[2] - self._pending[1]
        return np.diff(self.offsets)

    def __len__(self) -> int:
        if self._cells is not None:
            return len(self._cells[0])
        if self._pending is not None:
            return len(self._pending[1])
        return len(self._offsets) - 1

    def _span(self, index: int) -> tuple[np.ndarray, int, int]:
        if self._pending is not None:
            pool, starts, stops = self._pending
            return pool, int(starts[index]), int(stops[index])
        offsets = self._offsets
        return self._values, int(offsets[index]), int(offsets[index + 1])

    def row(self, index: int) -> Any:
        """Return one row: a view into ``values``, or a ``str`` for a string column."""
        index = range(len(self))[index]
        if self._cells is not None:
            cell = self._cells[0][index]
            return _text(cell) if self.is_string else cell
        values, start, stop = self._span(index)
        piece = values[start:stop]
        return piece.tobytes().decode("utf-8") if self.is_string else piece

    def __getitem__(self, index: Any) -> Any:
        """Return row ``index`` (an integer), or the rows of a slice, integer array or boolean mask as a column."""
        if isinstance(index, (int, np.integer)):
            return self.row(int(index))
        return self.take(_row_positions(index, len(self)))

    def take(self, rows: np.ndarray) -> VarColumn:
        """Return the column of the rows at ``rows`` (int positions, any order, repeats allowed), with no gather."""
        rows = np.asarray(rows, dtype=np.int64)
        if self._cells is not None:
            return VarColumn.from_object_column(self._cells[0][rows], self._cells[1], self.is_string)
        if self._pending is not None:
            pool, starts, stops = self._pending
            return VarColumn.from_bounds(pool, starts[rows], stops[rows], self.is_string)
        offsets = self._offsets
        if len(rows) and np.array_equal(rows, np.arange(int(rows[0]), int(rows[0]) + len(rows))):
            low, high = int(offsets[rows[0]]), int(offsets[rows[-1] + 1])
            return VarColumn(self._values[low:high], offsets[rows[0] : rows[-1] + 2] - low, self.is_string)
        return VarColumn.from_bounds(self._values, offsets[rows], offsets[rows + 1], self.is_string)

    def __iter__(self) -> Iterator[Any]:
        if self._cells is not None:
            cells = self._cells[0]
            return map(_text, cells) if self.is_string else iter(cells)
        if self._pending is not None:
            values, starts, stops = self._pending
        else:
            values, starts, stops = self._values, self._offsets[:-1], self._offsets[1:]
        slices = map(slice, starts.tolist(), stops.tolist())
        if self.is_string:
            raw = values.tobytes()
            return (raw[bounds].decode("utf-8") for bounds in slices)
        return map(values.__getitem__, slices)

    def tolist(self) -> list[Any]:
        """Return the rows as a list (arrays, or ``str`` for a string column)."""
        return list(self)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self.to_arrays()
        return out if dtype is None else out.astype(dtype)

    def __repr__(self) -> str:
        kind = "str" if self.is_string else str(self.value_dtype)
        return f"VarColumn({len(self)} rows of {kind}, {int(self.lengths.sum())} values)"

    def to_arrays(self) -> np.ndarray:
        """Return an object array of per-row arrays (``bytes`` for strings), as :meth:`TableColumns.to_rows` gives."""
        if self._cells is not None:
            cells = self._cells[0]
            if not self.is_string:
                return cells.copy()
            out = np.empty(len(cells), dtype=object)
            out[:] = [cell.encode("utf-8") if isinstance(cell, str) else cell for cell in cells.tolist()]
            return out
        if self._pending is not None:
            values, starts, stops = self._pending
        else:
            values, starts, stops = self._values, self._offsets[:-1], self._offsets[1:]
        out = np.empty(len(self), dtype=object)
        if self.is_string:
            raw = values.tobytes()
            out[:] = [raw[a:b] for a, b in zip(starts.tolist(), stops.tolist())]
        else:
            for i, (a, b) in enumerate(zip(starts.tolist(), stops.tolist())):
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
    """The rows of an object product for many entries: fixed columns in numpy, variable ones as values + offsets.

    What :meth:`~spineh5.reader.HDF5Reader.table` (as its ``rows``) and
    :meth:`~spineh5.reader.HDF5Reader.columns` return. It reads like the
    structured array of rows it stands for: ``len``, ``dtype`` (the compound
    dtype of those rows, variable-length columns as h5py vlen/string dtypes),
    ``table[name]`` (a numpy array for a fixed column, a :class:`VarColumn`
    for a variable-length one), ``table[[names]]``, ``table[i]`` (one row as
    ``numpy.void``), ``table[a:b]``/``table[mask]``/``table[positions]`` (a
    ``TableColumns`` of those rows), iteration and ``numpy.asarray(table)``;
    :meth:`to_rows` builds that structured array (one array per row and
    variable-length column).

    Attributes
    ----------
    names : tuple of str
        The columns, in the order of the stored rows.
    fixed : numpy.ndarray
        Compound rows of the fixed columns.
    variable : dict of str to VarColumn
        The variable-length columns (arrays and strings).
    offsets : numpy.ndarray
        int64, entries + 1: entry ``i`` holds rows ``offsets[i]:offsets[i + 1]``
        (``[0, rows]`` for a selection of rows).
    """

    names: tuple[str, ...]
    fixed: np.ndarray
    variable: dict[str, VarColumn]
    offsets: np.ndarray
    #: The compound dtype of the rows when the reader knows it already (else built from the columns).
    row_dtype: np.dtype | None = None

    @classmethod
    def from_rows(cls, rows: np.ndarray, offsets: np.ndarray | None = None) -> TableColumns:
        """Split compound rows (per-row arrays, ``bytes``/``str`` in object columns) into fixed and pooled columns."""
        import h5py

        names = tuple(rows.dtype.names)
        variable = {}
        for name in names:
            dtype = rows.dtype.fields[name][0]
            if dtype.kind != "O":
                continue
            base = h5py.check_vlen_dtype(dtype)
            is_string = base is str or h5py.check_string_dtype(dtype) is not None
            variable[name] = VarColumn.from_object_column(rows[name], np.uint8 if is_string else base, is_string)
        fixed_names = [name for name in names if name not in variable]
        if offsets is None:
            offsets = np.array([0, len(rows)], dtype=np.int64)
        return cls(names, rows[fixed_names], variable, np.asarray(offsets, dtype=np.int64))

    @property
    def dtype(self) -> np.dtype:
        """The compound dtype of the rows :meth:`to_rows` gives (vlen/string dtypes for the variable columns)."""
        if self.row_dtype is not None:
            return self.row_dtype
        import h5py

        types = []
        for name in self.names:
            column = self.variable.get(name)
            if column is None:
                types.append((name, self.fixed.dtype.fields[name][0]))
            else:
                types.append((name, h5py.string_dtype() if column.is_string else h5py.vlen_dtype(column.value_dtype)))
        return np.dtype(types)

    @property
    def shape(self) -> tuple[int]:
        """``(rows,)``, as the structured array of the rows."""
        return (len(self.fixed),)

    def __len__(self) -> int:
        return len(self.fixed)

    def __getitem__(self, index: Any) -> Any:
        """Return a column (by name), columns (a list of names), one row (an int) or rows (slice, mask, positions)."""
        if isinstance(index, str):
            if index in self.variable:
                return self.variable[index]
            if index not in self.names:
                raise KeyError(f"no column {index!r} (columns: {', '.join(self.names)})")
            return self.fixed[index]
        if isinstance(index, list) and all(isinstance(name, str) for name in index) and index:
            unknown = [name for name in index if name not in self.names]
            if unknown:
                raise KeyError(f"no columns {unknown} (columns: {', '.join(self.names)})")
            fixed = [name for name in index if name not in self.variable]
            variable = {name: self.variable[name] for name in index if name in self.variable}
            return TableColumns(tuple(index), self.fixed[fixed], variable, self.offsets)
        if isinstance(index, (int, np.integer)):
            position = range(len(self))[int(index)]
            return self.take(np.array([position], dtype=np.int64)).to_rows()[0]
        return self.take(_row_positions(index, len(self)))

    def take(self, rows: np.ndarray) -> TableColumns:
        """Return the rows at ``rows`` (int positions, any order, repeats allowed) as one group of rows."""
        rows = np.asarray(rows, dtype=np.int64)
        variable = {name: column.take(rows) for name, column in self.variable.items()}
        offsets = np.array([0, len(rows)], dtype=np.int64)
        return TableColumns(self.names, self.fixed[rows], variable, offsets, self.row_dtype)

    def __iter__(self) -> Iterator[np.void]:
        return iter(self.to_rows())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        rows = self.to_rows()
        return rows if dtype is None else rows.astype(dtype)

    def __repr__(self) -> str:
        variable = len(self.variable)
        return (
            f"TableColumns({len(self)} rows, {len(self.names)} columns: {len(self.names) - variable} fixed, "
            f"{variable} variable-length {list(self.variable)})"
        )

    def to_rows(self) -> np.ndarray:
        """Return compound rows with one array (``bytes`` for strings) per row and variable-length column."""
        rows = np.zeros(len(self.fixed), dtype=self.dtype)
        fixed = [name for name in self.names if name not in self.variable]
        if fixed:
            rows[fixed] = self.fixed[fixed]
        for name, column in self.variable.items():
            rows[name] = column.to_arrays()
        return rows
