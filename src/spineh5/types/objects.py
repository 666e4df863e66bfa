"""The runtime half of every generated object type: what a class does, given its columns.

The generated modules (``spineh5.generated``) declare, per object type, only
what the schema says: the columns (with :func:`column`), the docstring and the
``DTYPE``/``LITE_DTYPE`` literals. Everything else is here, once:

* :func:`object_type`, the class decorator that turns the declared columns into
  attrs fields (defaults, converters naming the class) and sets ``CLASS_NAME``
  and ``COLUMNS``;
* :class:`SchemaObject`, the base class holding the methods every type shares:
  ``to_records``, ``from_records`` and the NaN-aware ``==``.
"""

from __future__ import annotations

import difflib
import operator
from collections import deque
from collections.abc import Callable, Sequence
from itertools import repeat
from types import MemberDescriptorType
from typing import Any, ClassVar, TypeVar

import attrs
import numpy as np

from ..errors import ColumnError
from .columns import Column, build_column, decode_column, values_equal
from .instance_columns import instance_columns

__all__ = ["SchemaObject", "column", "object_type"]

_T = TypeVar("_T", bound="SchemaObject")


class SchemaObject:
    """Base of the generated object types: records in and out, and comparison, from ``COLUMNS``.

    Attributes
    ----------
    CLASS_NAME : str
        The type's name in the schema and in HDF5's ``class_name`` attribute.
    COLUMNS : tuple of Column
        The columns in on-disk order.
    DTYPE : numpy.dtype
        Compound dtype of a row.
    LITE_DTYPE : numpy.dtype
        Compound dtype of a row in lite files (without the non-lite columns).
    RENAMED_FROM : tuple of str
        Earlier class names: files storing objects under one of them read as this class.
    COLLECTION : type
        The generated :class:`~spineh5.types.collection.SchemaCollection` of this type.
    """

    __slots__ = ()

    CLASS_NAME: ClassVar[str]
    COLUMNS: ClassVar[tuple[Column, ...]]
    DTYPE: ClassVar[np.dtype]
    LITE_DTYPE: ClassVar[np.dtype]
    RENAMED_FROM: ClassVar[tuple[str, ...]] = ()
    #: The generated struct-of-arrays collection of this type (set by ``collection_type``).
    COLLECTION: ClassVar[type]
    #: The names of every column (the keys a dict of this class may have).
    _NAMES: ClassVar[frozenset[str]]
    #: The columns that ``to_records`` fills: lite ones first, then (full records only) the others.
    _LITE_COLUMNS: ClassVar[tuple[Column, ...]]
    _FULL_COLUMNS: ClassVar[tuple[Column, ...]]

    __hash__ = None  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        """Compare every column; arrays by content and NaN equal to NaN."""
        if type(other) is not type(self):
            return NotImplemented
        return all(values_equal(getattr(self, c.name), getattr(other, c.name)) for c in self.COLUMNS)

    @classmethod
    def to_records(cls, objects: Sequence[Any], lite: bool = False) -> np.ndarray:
        """Build the compound rows of ``objects``, one column at a time.

        Parameters
        ----------
        objects : sequence
            Instances of this class, objects with the same attribute names, or dicts
            (a missing key takes the default; a key that is not a field is refused).
        lite : bool, default False
            Leave out the columns that lite files drop.

        Returns
        -------
        numpy.ndarray
            One row per object, of dtype ``LITE_DTYPE`` if ``lite`` else ``DTYPE``.

        Raises
        ------
        ColumnError
            Naming the class, the object position, the field and the problem.
        """
        values = _column_values(objects, cls)
        records = np.zeros(len(objects), dtype=cls.LITE_DTYPE if lite else cls.DTYPE)
        class_name = cls.CLASS_NAME
        wanted = cls._LITE_COLUMNS if lite else cls._FULL_COLUMNS
        read = instance_columns(cls, objects, wanted)
        for column in wanted:
            built = read.get(column.name)
            records[column.name] = build_column(column, values(column), class_name) if built is None else built
        return records

    @classmethod
    def from_records(cls: type[_T], records: np.ndarray) -> list[_T]:
        """Rebuild objects from compound rows.

        Columns missing from ``records`` take their defaults; columns the class
        does not know are ignored (the reader reports them).
        """
        names = set(records.dtype.names or ())
        count = len(records)
        columns = [
            decode_column(column, records[column.name])
            if column.name in names
            else [column.make_default() for _ in range(count)]
            for column in cls.COLUMNS
        ]
        out = list(map(cls.__new__, repeat(cls, count)))
        for setter, values in zip(_slot_setters(cls), columns):  # one column of every object at a time, in C loops
            deque(map(setter, out, values), maxlen=0)
        return out


#: Per class, one setter per column (the slot's own descriptor: no attribute lookup by name per value).
_SETTERS: dict[type, tuple[Callable[[Any, Any], None], ...]] = {}


def _slot_setters(cls: type) -> tuple[Callable[[Any, Any], None], ...]:
    """Return the setters of the columns of ``cls``, in ``COLUMNS`` order, bypassing ``frozen`` as attrs does."""
    setters = _SETTERS.get(cls)
    if setters is None:
        found = []
        for column in cls.COLUMNS:
            slot = getattr(cls, column.name, None)
            if isinstance(slot, MemberDescriptorType):
                found.append(slot.__set__)
            else:
                found.append(lambda obj, value, name=column.name: object.__setattr__(obj, name, value))
        setters = _SETTERS[cls] = tuple(found)
    return setters


@attrs.frozen
class _DeclaredColumn:
    """A column declared in a class body, waiting for :func:`object_type` to give it its name."""

    dtype: str
    options: dict[str, Any]


def column(dtype: str, **options: Any) -> Any:
    """Declare a column in the body of an :func:`object_type` class; the attribute name is the column name.

    Parameters
    ----------
    dtype : str
        Element dtype name (see :mod:`.elements`); ``int64`` for an enum.
    **options
        The other fields of :class:`Column` (``storage``, ``length``, ``default``,
        ``units``, ``role``, ``lite``, ``derived``, ``enum``, ``doc``, ``renamed_from``, ``cast_from``).
    """
    return _DeclaredColumn(dtype, options)


def object_type(cls: type[_T]) -> type[_T]:
    """Make an attrs class of a :class:`SchemaObject` subclass from the columns declared in its body.

    Each ``name: hint = column(...)`` becomes a keyword-only attrs field with the
    column's default and converter (whose errors name the class), carrying the
    :class:`Column` in its metadata. ``CLASS_NAME`` is the class name and
    ``COLUMNS`` the columns in declaration order, which is the on-disk order.
    """
    if not issubclass(cls, SchemaObject):
        raise TypeError(f"{cls.__name__} must derive from SchemaObject")
    columns = []
    for name, declared in list(vars(cls).items()):
        if isinstance(declared, _DeclaredColumn):
            built = Column(name, declared.dtype, **declared.options)
            columns.append(built)
            setattr(cls, name, _column_field(built, cls.__name__))
    cls.CLASS_NAME = cls.__name__
    cls.COLUMNS = tuple(columns)
    cls._NAMES = frozenset(c.name for c in columns)
    cls._LITE_COLUMNS = tuple(c for c in columns if c.lite)
    cls._FULL_COLUMNS = cls._LITE_COLUMNS + tuple(c for c in columns if not c.lite)
    return attrs.define(kw_only=True, eq=False)(cls)


def _column_field(column: Column, class_name: str) -> Any:
    """Return the attrs field of a column: its default and its converter."""
    converter = column.converter(class_name)
    metadata = {"column": column}
    if column.storage in ("fixed", "vlen"):
        return attrs.field(factory=column.make_default, converter=converter, metadata=metadata)
    return attrs.field(default=column.make_default(), converter=converter, metadata=metadata)


def _column_values(objects: Sequence[Any], cls: type[SchemaObject]) -> Callable[[Column], list]:
    """Return a function giving the values of one column over ``objects``.

    Objects are read by attribute; plain dicts by key, a missing key giving the
    column's default. A dict with a key that is not a column of ``cls``, or an
    object without the attribute, raises :class:`ColumnError` at its position.
    """
    has_dicts = any(map(isinstance, objects, repeat(dict)))
    if has_dicts:
        _check_dict_keys(objects, cls)

    def values(column: Column) -> list:
        name = column.name
        if not has_dicts:
            try:
                return list(map(operator.attrgetter(name), objects))
            except AttributeError:
                pass
        out = []
        for position, obj in enumerate(objects):
            if isinstance(obj, dict):
                out.append(obj[name] if name in obj else column.make_default())
            else:
                try:
                    out.append(getattr(obj, name))
                except AttributeError:
                    raise ColumnError(type(obj).__name__, name, "object has no such attribute", position) from None
        return out

    return values


def _check_dict_keys(objects: Sequence[Any], cls: type[SchemaObject]) -> None:
    """Refuse a dict with keys that are not columns of ``cls``, naming them and their close matches."""
    names = cls._NAMES
    for position, obj in enumerate(objects):
        if isinstance(obj, dict) and not names.issuperset(obj):
            unknown = [key for key in obj if key not in names]
            shown = ", ".join(repr(key) for key in unknown)
            matches = [
                f"{key!r} -> {close[0]!r}"
                for key in unknown
                if isinstance(key, str) and (close := difflib.get_close_matches(key, names, n=1))
            ]
            hint = f"; close matches: {', '.join(matches)}" if matches else ""
            verb = "are not fields" if len(unknown) > 1 else "is not a field"
            problem = f"key{'s' if len(unknown) > 1 else ''} {shown} {verb} of {cls.CLASS_NAME}{hint}"
            raise ColumnError(cls.CLASS_NAME, str(unknown[0]), problem, position)
