"""The runtime half of every generated collection: struct-of-arrays columns of one object type.

The generated modules declare, per object type, only its collection class, its
docstring (the columns it holds) and ``OBJECT_TYPE``; :func:`collection_type`
and :class:`SchemaCollection` give it everything else, once:

* ``from_columns`` (numpy arrays in, checked a whole column at a time),
  ``from_objects`` and ``from_records``;
* ``len``, indexing (an object, or a collection for a slice, a mask or
  positions), iteration, ``to_objects`` and ``to_records``;
* column access (``collection.energy_init`` or ``collection.column(name)``),
  ``concat``, ``take`` and the NaN-aware ``==``/:meth:`~SchemaCollection.equals`.

The writer takes a collection wherever it takes a list of objects and writes the
same bytes; ``HDF5Reader(..., build_classes="collection")`` returns them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import numpy as np

from ..errors import ColumnError
from .column_arrays import OFFSET_DTYPE, Vlen, default_column, fixed_column, split_rows, vlen_column, vlen_from_rows
from .columns import Column, build_column, values_equal
from .instance_columns import instance_columns
from .objects import SchemaObject, _column_values

__all__ = ["SchemaCollection", "Vlen", "collection_of", "collection_type"]

_C = TypeVar("_C", bound="SchemaCollection")


class SchemaCollection:
    """Base of the generated collections: one column per field of ``OBJECT_TYPE``, rows as objects.

    A scalar column is a 1-D array (``int64`` for an enumeration, an object array of
    ``str`` for text), a fixed column an ``(N, length)`` array, a variable-length
    column a :class:`~spineh5.types.column_arrays.Vlen` (``values``, ``offsets``).
    Build one with :meth:`from_columns` or :meth:`from_objects`, not the constructor.

    Attributes
    ----------
    OBJECT_TYPE : type
        The generated object type of the rows.
    CLASS_NAME : str
        Its schema class name.
    COLUMNS : tuple of Column
        Its columns, in on-disk order.
    """

    __slots__ = ("_cells", "_data", "_length", "_origin", "_pools")

    OBJECT_TYPE: ClassVar[type[SchemaObject]]
    CLASS_NAME: ClassVar[str]
    COLUMNS: ClassVar[tuple[Column, ...]]
    _BY_NAME: ClassVar[dict[str, Column]]
    _LITE_COLUMNS: ClassVar[tuple[Column, ...]]
    _FULL_COLUMNS: ClassVar[tuple[Column, ...]]

    __hash__ = None  # type: ignore[assignment]

    def __init__(
        self,
        data: dict[str, np.ndarray | Vlen],
        length: int,
        cells: dict[str, np.ndarray] | None = None,
        pools: dict[str, list[Vlen]] | None = None,
    ) -> None:
        """Hold checked columns (every column of the class, ``length`` rows each); see :meth:`from_columns`.

        ``cells`` holds variable-length columns still as one array per row (an object array, as
        :meth:`from_objects` finds them), ``pools`` variable-length columns still as the
        :class:`Vlen` of several collections (as :meth:`concat` leaves them): either is joined
        into one :class:`Vlen` on first use.
        """
        self._data = data
        self._length = length
        self._cells = cells or {}
        self._pools = pools or {}
        #: ``(collection, first row)`` of a view made by :meth:`unflatten`: its columns are read from there on use.
        self._origin: tuple[SchemaCollection, int] | None = None

    # -- building ------------------------------------------------------------------------------------------

    @classmethod
    def from_columns(cls: type[_C], columns: Mapping[str, Any] | None = None, /, **arrays: Any) -> _C:
        """Build a collection from one array per field, checked a whole column at a time.

        Parameters
        ----------
        columns : mapping, optional
            Arrays by field name (merged with ``arrays``).
        **arrays
            A scalar field takes a 1-D array-like (an enumeration also its members
            or their names), a fixed field an ``(N, length)`` array, a variable-length
            field ``(values, offsets)`` (``N + 1`` offsets into ``values``) or one
            array-like per row. A field left out takes its default in every row.

        Raises
        ------
        ColumnError
            Naming the class, the field and the row of the first refused value
            (as the object constructor and the writer would name it), an unknown
            field or columns of different lengths.
        """
        given = {**(columns or {}), **arrays}
        cls._check_names(given)
        name = cls.CLASS_NAME
        data: dict[str, np.ndarray | Vlen] = {}
        length: int | None = None
        first = None
        for column in cls.COLUMNS:
            if column.name not in given:
                continue
            value = given[column.name]
            if column.storage == "vlen":
                built: np.ndarray | Vlen = vlen_column(column, value, name)
                count = len(built.offsets) - 1
            else:
                built = fixed_column(column, value, name)
                count = len(built)
            if length is None:
                length, first = count, column.name
            elif count != length:
                raise ColumnError(name, column.name, f"has {count} rows, field {first!r} has {length}")
            data[column.name] = built
        return cls._with_defaults(data, length or 0)

    @classmethod
    def _check_names(cls, given: Mapping[str, Any]) -> None:
        unknown = [key for key in given if key not in cls._BY_NAME]
        if unknown:
            close = difflib.get_close_matches(str(unknown[0]), cls._BY_NAME, n=1)
            hint = f" (close match: {close[0]!r})" if close else ""
            raise ColumnError(cls.CLASS_NAME, str(unknown[0]), f"is not a field of {cls.CLASS_NAME}{hint}")

    @classmethod
    def _with_defaults(
        cls: type[_C], data: dict[str, np.ndarray | Vlen], length: int, cells: dict[str, np.ndarray] | None = None
    ) -> _C:
        cells = cells or {}
        full = {
            c.name: data[c.name] if c.name in data else default_column(c, length)
            for c in cls.COLUMNS
            if c.name not in cells
        }
        return cls(full, length, cells)

    @classmethod
    def from_objects(cls: type[_C], objects: Sequence[Any], lite: bool = False) -> _C:
        """Build a collection from objects of ``OBJECT_TYPE`` (or dicts, or objects with its attributes).

        Parameters
        ----------
        objects : sequence
            The rows, read as :meth:`SchemaObject.to_records` reads them.
        lite : bool, default False
            Read only the columns lite files keep (the others take their defaults).

        Raises
        ------
        ColumnError
            Naming the class, the object position, the field and the problem.
        """
        values = _column_values(objects, cls.OBJECT_TYPE)
        name = cls.CLASS_NAME
        data: dict[str, np.ndarray | Vlen] = {}
        cells: dict[str, np.ndarray] = {}
        wanted = cls._LITE_COLUMNS if lite else cls._FULL_COLUMNS
        read = instance_columns(cls.OBJECT_TYPE, objects, wanted)
        for column in wanted:
            built = read.get(column.name)
            if built is None:
                built = build_column(column, values(column), name)
            (cells if column.storage == "vlen" else data)[column.name] = built
        return cls._with_defaults(data, len(objects), cells)

    @classmethod
    def from_records(cls: type[_C], records: np.ndarray) -> _C:
        """Build a collection from compound rows as stored (missing columns take their defaults)."""
        names = set(records.dtype.names or ())
        data: dict[str, np.ndarray | Vlen] = {}
        for column in cls.COLUMNS:
            if column.name not in names:
                continue
            stored = records[column.name]
            if column.storage == "vlen":
                target = column.numpy_dtype
                data[column.name] = vlen_from_rows(column, [np.asarray(cell, dtype=target) for cell in stored])
            elif column.dtype == "str":
                out = np.empty(len(stored), dtype=object)
                out[:] = [v.decode("utf-8") if isinstance(v, (bytes, np.bytes_)) else str(v) for v in stored]
                data[column.name] = out
            else:
                array = np.asarray(stored).astype(column.numpy_dtype)
                if column.storage == "fixed" and array.shape[1:] != (column.length,):
                    raise ValueError(
                        f"column {column.name!r} has shape {array.shape[1:]} on disk, expected ({column.length},)"
                    )
                data[column.name] = array
        return cls._with_defaults(data, len(records))

    @classmethod
    def concat(cls: type[_C], collections: Sequence[SchemaCollection], copy: bool = True) -> _C:
        """Return the rows of several collections of this class, in order, as one collection.

        Parameters
        ----------
        collections : sequence of SchemaCollection
            Collections of this class.
        copy : bool, default True
            Join every column now. ``False`` keeps the parts' variable-length values (shared with
            the parts, not copied) until a column is used whole: :meth:`vlen_pools` gives them as
            they are, which is how the V1 writer points into them.
        """
        for other in collections:
            if type(other) is not cls:
                raise TypeError(f"cannot join a {type(other).__name__} to a {cls.__name__}")
        if not collections:
            return cls._with_defaults({}, 0)
        if len(collections) == 1:
            return collections[0]  # type: ignore[return-value]
        whole = _consecutive_views(collections)
        if whole is not None:
            return whole  # type: ignore[return-value]
        data: dict[str, np.ndarray | Vlen] = {}
        cells: dict[str, np.ndarray] = {}
        pools: dict[str, list[Vlen]] = {}
        for column in cls.COLUMNS:
            name = column.name
            if column.storage != "vlen":
                data[name] = np.concatenate([other.column(name) for other in collections])
            elif all(other.has_cells(name) for other in collections):
                # still one array per row everywhere (collections built from objects): join the rows, not the values
                cells[name] = np.concatenate([other._cells[name] for other in collections])
            else:
                pools[name] = [pool for other in collections for pool in other.vlen_pools(name)]
        joined = cls(data, sum(len(other) for other in collections), cells, pools)
        if copy:
            for name in list(pools):
                joined.column(name)
        return joined

    def unflatten(self: _C, counts: Any) -> list[_C]:
        """Return the rows cut into consecutive collections of ``counts[i]`` rows (views: nothing is copied).

        The columnar way to fill a batch: build one collection for all of a batch's
        entries with :meth:`from_columns`, then give the writer
        ``collection.unflatten(rows_per_entry)`` as the product's list (one collection
        per entry), as ``ak.unflatten`` cuts a flat array. A part reads its columns
        from this collection on first use, and the writer joins consecutive parts
        back into this collection's rows without copying them.

        Raises
        ------
        ColumnError
            When ``counts`` is not a 1-D sequence of non-negative integers adding up to ``len(self)``.
        """
        sizes = np.asarray(counts)
        problem = None
        if sizes.ndim != 1 or (len(sizes) and sizes.dtype.kind not in "iu"):
            problem = f"counts must be a 1-D sequence of integers, got {counts!r}"
        elif len(sizes) and int(sizes.min()) < 0:
            problem = f"counts must not be negative, got {int(sizes.min())}"
        elif int(sizes.sum()) != self._length:
            problem = f"counts add up to {int(sizes.sum())}, the collection has {self._length} rows"
        if problem is not None:
            raise ColumnError(self.CLASS_NAME, "unflatten", problem)
        parts = [type(self)({}, size) for size in sizes.tolist()]
        start = 0
        for part in parts:
            part._origin, start = (self, start), start + part._length
        return parts

    def _rows_of(self, name: str, start: int, stop: int) -> np.ndarray | Vlen:
        """Return the rows ``[start, stop)`` of column ``name`` (slices; variable-length offsets rebased)."""
        held = self.column(name)
        if not isinstance(held, Vlen):
            return held[start:stop]
        offsets = held.offsets[start : stop + 1]
        low = offsets[0]
        return Vlen(held.values[low : offsets[-1]], offsets - low if low else offsets)

    def take(self: _C, rows: Any) -> _C:
        """Return the rows at ``rows`` (positions, a boolean mask or a slice) as a new collection."""
        positions = np.arange(self._length)[rows]
        data: dict[str, np.ndarray | Vlen] = {}
        for column in self.COLUMNS:
            held = self.column(column.name)
            if column.storage != "vlen":
                data[column.name] = held[positions]
                continue
            starts, ends = held.offsets[positions], held.offsets[positions + 1]
            lengths = ends - starts
            offsets = np.zeros(len(positions) + 1, dtype=OFFSET_DTYPE)
            np.cumsum(lengths, out=offsets[1:])
            gather = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1], dtype=OFFSET_DTYPE)
            data[column.name] = Vlen(held.values[gather], offsets)
        return type(self)(data, len(positions))

    # -- reading ---------------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._length

    def column(self, name: str) -> np.ndarray | Vlen:
        """Return the column of field ``name`` (an array, or a :class:`Vlen` for a variable-length field)."""
        held = self._data.get(name)
        if held is None:
            if self._origin is not None and name in self._BY_NAME:
                source, start = self._origin
                held = self._data[name] = source._rows_of(name, start, start + self._length)
            elif name in self._pools:
                held = self._data[name] = _concat_vlen(self._pools[name])
                del self._pools[name]  # the joined column replaces them
            elif name in self._cells:
                held = self._data[name] = vlen_from_rows(self._BY_NAME[name], self._cells[name])
            else:
                raise KeyError(f"{self.CLASS_NAME} has no field {name!r}")
        return held

    def vlen_pools(self, name: str) -> list[Vlen]:
        """Return variable-length field ``name`` as one or more :class:`Vlen` whose rows, in order, are its rows.

        A collection joined by ``concat(..., copy=False)`` keeps the pools of its parts until a
        column is used whole; this gives them without joining (the V1 writer points into them).
        """
        pools = self._pools.get(name)
        return pools if pools is not None else [self.column(name)]

    def cells(self, name: str) -> np.ndarray:
        """Return the rows of variable-length field ``name`` as an object array of arrays (views)."""
        cells = self._cells.get(name)
        return cells if cells is not None else split_rows(self.column(name))

    def has_cells(self, name: str) -> bool:
        """Return whether field ``name`` is held as one array per row (not yet joined into values and offsets)."""
        return name in self._cells and name not in self._data

    def __getattr__(self, name: str) -> np.ndarray | Vlen:
        if name in type(self)._BY_NAME:
            return self.column(name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __getitem__(self, index: Any) -> Any:
        """Return the object of row ``index``, a collection of some rows, or a field's column.

        ``index`` is a row (an object), a slice, a boolean mask or positions (a collection), or a field name.
        """
        if isinstance(index, str):
            return self.column(index)
        if isinstance(index, (int, np.integer)):
            position = int(index)
            if not -self._length <= position < self._length:
                raise IndexError(f"row {position} of a {self.CLASS_NAME} collection of {self._length}")
            return self._object(position % self._length if self._length else position)
        return self.take(index)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.to_objects())

    def _object(self, row: int) -> Any:
        obj = self.OBJECT_TYPE.__new__(self.OBJECT_TYPE)
        set_slot = object.__setattr__
        for column in self.COLUMNS:
            held = self.column(column.name)
            if column.storage == "vlen":
                value: Any = held.row(row).copy()
            elif column.storage == "fixed":
                value = held[row].copy()
            else:
                value = _scalar_values(column, held[row : row + 1])[0]
            set_slot(obj, column.name, value)
        return obj

    def to_objects(self) -> list:
        """Return one ``OBJECT_TYPE`` object per row (holding copies of the values)."""
        per_column = []
        for column in self.COLUMNS:
            held = self.column(column.name)
            if column.storage == "vlen":
                cells: Any = split_rows(Vlen(held.values.copy(), held.offsets))
            elif column.storage == "fixed":
                cells = list(held.copy())
            else:
                cells = _scalar_values(column, held)
            per_column.append((column.name, cells))
        cls = self.OBJECT_TYPE
        new, set_slot = cls.__new__, object.__setattr__
        out = []
        for row in range(self._length):
            obj = new(cls)
            for name, cells in per_column:
                set_slot(obj, name, cells[row])
            out.append(obj)
        return out

    def to_records(self, lite: bool = False) -> np.ndarray:
        """Return the compound rows of the collection, as :meth:`SchemaObject.to_records` builds them."""
        cls = self.OBJECT_TYPE
        records = np.zeros(self._length, dtype=cls.LITE_DTYPE if lite else cls.DTYPE)
        for column in self._LITE_COLUMNS if lite else self._FULL_COLUMNS:
            name = column.name
            records[name] = self.cells(name) if column.storage == "vlen" else self.column(name)
        return records

    # -- comparison ------------------------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        """Compare with a collection of the same class, column by column (NaN equal to NaN)."""
        if type(other) is not type(self):
            return NotImplemented
        return self.equals(other)

    def equals(self, other: SchemaCollection | Sequence[Any]) -> bool:
        """Return whether ``other`` (a collection of this class, or a sequence of objects) holds the same rows."""
        if not isinstance(other, SchemaCollection):
            objects = list(other)
            return len(objects) == self._length and all(a == b for a, b in zip(self.to_objects(), objects))
        if type(other) is not type(self) or len(other) != self._length:
            return False
        for column in self.COLUMNS:
            mine, theirs = self.column(column.name), other.column(column.name)
            if column.storage == "vlen":
                if not (values_equal(mine.offsets, theirs.offsets) and values_equal(mine.values, theirs.values)):
                    return False
            elif not values_equal(mine, theirs):
                return False
        return True

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._length} {self.CLASS_NAME}>"


def _consecutive_views(parts: Sequence[SchemaCollection]) -> SchemaCollection | None:
    """Return the rows of parts that are consecutive views of one collection (:meth:`unflatten`), else None."""
    origin = parts[0]._origin
    if origin is None:
        return None
    source, start = origin
    position = start
    for part in parts:
        if part._origin is None or part._origin[0] is not source or part._origin[1] != position:
            return None
        position += part._length
    if start == 0 and position == source._length:
        return source
    view = type(source)({}, position - start)
    view._origin = (source, start)
    return view


def _concat_vlen(parts: list[Vlen]) -> Vlen:
    """Return the rows of several variable-length columns, in order, as one."""
    if len(parts) == 1:
        return parts[0]
    lengths = [len(part.offsets) - 1 for part in parts]
    sizes = np.fromiter([len(part.values) for part in parts], OFFSET_DTYPE, len(parts))
    offsets = np.zeros(sum(lengths) + 1, dtype=OFFSET_DTYPE)
    ends = offsets[1:]
    np.concatenate([part.offsets[1:] for part in parts], out=ends)
    ends += np.repeat(np.cumsum(sizes) - sizes, lengths)  # each part's rows shifted by the values before it
    return Vlen(np.concatenate([part.values for part in parts]), offsets)


def _scalar_values(column: Column, held: np.ndarray) -> list:
    """Return the Python values of a scalar column's rows, as the object constructors hold them."""
    values = held.tolist()
    if column.enum is not None:
        members = {int(member): member for member in column.enum}
        return [members.get(value, value) for value in values]
    return values


def collection_of(object_cls: type[SchemaObject]) -> type[SchemaCollection]:
    """Return the collection of an object type; one is made for types generated before collections existed."""
    found = getattr(object_cls, "COLLECTION", None)
    if found is None:
        body = {"__slots__": (), "__doc__": f"Collection of {object_cls.__name__} objects.", "OBJECT_TYPE": object_cls}
        found = collection_type(type(f"{object_cls.__name__}Collection", (SchemaCollection,), body))
    return found


def collection_type(cls: type[_C]) -> type[_C]:
    """Complete a generated collection class from its ``OBJECT_TYPE`` (and set ``OBJECT_TYPE.COLLECTION``)."""
    if not issubclass(cls, SchemaCollection):
        raise TypeError(f"{cls.__name__} must derive from SchemaCollection")
    object_cls = cls.OBJECT_TYPE
    cls.CLASS_NAME = object_cls.CLASS_NAME
    cls.COLUMNS = object_cls.COLUMNS
    cls._BY_NAME = {column.name: column for column in object_cls.COLUMNS}
    cls._LITE_COLUMNS = object_cls._LITE_COLUMNS
    cls._FULL_COLUMNS = object_cls._FULL_COLUMNS
    object_cls.COLLECTION = cls
    return cls
