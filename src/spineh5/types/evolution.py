"""Schema evolution on read: how rows stored under an older schema become rows of the current one.

The rules are declared in the schema (``schema/README.md``, "Schema evolution") and
carried by the generated classes (``Column.renamed_from``, ``Column.cast_from``,
``RENAMED_FROM`` of a class, which :mod:`.registry` resolves). Every read path applies
them through this module, once per class and stored compound dtype:

* a column the file lacks (a field **added** later) takes its declared default
  (:meth:`EvolutionPlan.missing`; objects get it from ``from_records``, tables and
  array views from :func:`fill_missing`);
* a stored column the schema does not know (a field **removed**) is kept in
  the rows (``raw``, ``table``) and reported by the decoder, once per class and
  column set;
* a stored column named in a field's ``renamed_from`` is read under the new name;
* a numeric element **widened** (``int32 -> int64``, ``float32 -> float64``,
  ``bool -> int``, ...) is cast; any other dtype change (a narrowing, a change of
  kind, of storage or of fixed length) is refused with
  :class:`~spineh5.errors.SchemaEvolutionError` unless the field lists the file's
  element in ``cast_from`` (then cast, integers checked for range).

A file written by the current schema has an identity plan: its rows are returned
untouched, so reading current files costs nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import h5py
import numpy as np

from ..errors import SchemaEvolutionError
from .columns import Column

__all__ = [
    "EvolutionPlan",
    "evolve_rows",
    "evolve_table",
    "fill_missing",
    "plan_for",
    "read_names",
    "stored_name",
    "widens",
]

#: Element kinds numpy may hold in a stored numeric column.
_NUMERIC_KINDS = "biuf"


def widens(stored: np.dtype, wanted: np.dtype) -> bool:
    """Return whether a stored numeric element widens to the schema's without losing values.

    Widening is within a kind (``int32 -> int64``, ``uint8 -> uint32``,
    ``float16 -> float32``), unsigned to a wider signed integer, or bool to any
    integer. Integer to float, float to integer and narrowing are not widening.
    """
    stored, wanted = np.dtype(stored), np.dtype(wanted)
    if stored.kind not in _NUMERIC_KINDS or wanted.kind not in _NUMERIC_KINDS:
        return False
    if stored.kind == "b":
        return wanted.kind in "biu"
    if stored.kind == wanted.kind or (stored.kind == "u" and wanted.kind == "i"):
        return np.can_cast(stored, wanted, casting="safe")
    return False


@attrs.frozen
class _Shape:
    """What one compound column stores: storage, element (numpy dtype, ``str`` or ``object``), fixed length."""

    storage: str
    element: Any
    length: int | None = None

    def describe(self) -> str:
        name = self.element if isinstance(self.element, str) else self.element.name
        if self.storage == "fixed":
            return f"{name}[{self.length}]"
        return f"vlen<{name}>" if self.storage == "vlen" else name


def _stored_shape(dtype: np.dtype) -> _Shape:
    """Describe a stored compound field's dtype (h5py's string, vlen and enum metadata understood)."""
    if h5py.check_string_dtype(dtype) is not None or dtype.kind in "SU":
        return _Shape("scalar", "str")
    base = h5py.check_vlen_dtype(dtype)
    if base is not None:
        if h5py.check_string_dtype(base) is not None:
            return _Shape("vlen", "str")
        return _Shape("vlen", np.dtype(np.dtype(base).str))
    if dtype.subdtype is not None:
        element, shape = dtype.subdtype
        return _Shape("fixed" if len(shape) == 1 else "array", np.dtype(element.str), int(np.prod(shape)))
    if dtype.kind == "O":
        return _Shape("scalar", "object")
    return _Shape("scalar", np.dtype(dtype.str))


def _schema_shape(column: Column) -> _Shape:
    element = "str" if column.dtype == "str" else column.numpy_dtype
    return _Shape(column.storage, element, column.length)


@attrs.frozen
class EvolutionPlan:
    """How the rows of one stored compound dtype become rows of a schema class.

    Attributes
    ----------
    cls : type
        The generated class.
    renames : dict of str to str
        Stored column name -> schema column name (``renamed_from``).
    casts : dict of str to Column
        Schema column name -> its column, for stored columns cast to the schema's element.
    missing : tuple of Column
        Schema columns the file does not store (they read as their defaults).
    unknown : tuple of str
        Stored columns (after renames) that the schema does not know.
    dtype : numpy.dtype
        The compound dtype of the evolved rows: stored order, new names, schema elements for cast columns.
    """

    cls: type
    renames: dict[str, str]
    casts: dict[str, Column]
    missing: tuple[Column, ...]
    unknown: tuple[str, ...]
    dtype: np.dtype

    @property
    def identity(self) -> bool:
        """Whether stored rows are already rows of the schema (no rename, no cast)."""
        return not self.renames and not self.casts

    @property
    def current(self) -> bool:
        """Whether the stored rows are exactly the schema's columns (nothing renamed, cast, missing or unknown)."""
        return self.identity and not self.missing and not self.unknown


#: Plans by (class, stored compound dtype): each is worked out once per process.
_PLANS: dict[tuple[type, np.dtype], EvolutionPlan] = {}


def stored_name(column: Column, stored_names: Sequence[str]) -> str | None:
    """Return the name a schema column has among ``stored_names`` (its own or a ``renamed_from``), or None."""
    if column.name in stored_names:
        return column.name
    for old in column.renamed_from:
        if old in stored_names:
            return old
    return None


def plan_for(cls: type, stored: np.dtype, key: str | None = None, path: str | None = None) -> EvolutionPlan:
    """Return (cached) the evolution plan of rows of compound dtype ``stored`` read as ``cls``.

    Raises
    ------
    SchemaEvolutionError
        When a stored column's dtype changes in a way no rule allows, naming the
        class, the field, the file's dtype and the schema's.
    """
    cached = _PLANS.get((cls, stored))
    if cached is not None:
        return cached
    names = tuple(stored.names or ())
    renames: dict[str, str] = {}
    casts: dict[str, Column] = {}
    missing = []
    by_stored: dict[str, Column] = {}
    for column in cls.COLUMNS:
        name = stored_name(column, names)
        if name is None:
            missing.append(column)
            continue
        if name != column.name:
            renames[name] = column.name
        by_stored[name] = column
    fields = []
    for name in names:
        dtype = stored.fields[name][0]
        column = by_stored.get(name)
        if column is not None and _needs_cast(cls, column, name, dtype, key, path):
            casts[column.name] = column
            fields.append((column.name, *column.h5_dtype()[1:]))
        else:
            fields.append((renames.get(name, name), dtype))
    unknown = tuple(name for name in names if name not in by_stored)
    plan = EvolutionPlan(cls, renames, casts, tuple(missing), unknown, np.dtype(fields) if fields else stored)
    _PLANS[(cls, stored)] = plan
    return plan


def _needs_cast(cls: type, column: Column, name: str, dtype: np.dtype, key: str | None, path: str | None) -> bool:
    """Return whether a stored column must be cast to the schema's element; refuse a change no rule allows."""
    have, want = _stored_shape(dtype), _schema_shape(column)
    if have.element == "object":
        return False  # an object column of unknown content: decoded as the schema says, as before
    same_layout = have.storage == want.storage and have.length == want.length
    numeric = same_layout and "str" not in (have.element, want.element)
    if same_layout and have.element == want.element:
        return False
    if numeric and (widens(have.element, want.element) or have.element.name in column.cast_from):
        return True
    if not same_layout:
        what = "a change of storage"
    elif numeric and _narrows(have.element, want.element):
        what = "a narrowing"
    else:
        what = "a change of kind"
    hint = f"; declare `cast_from: [{have.element.name}]` on the field to read it" if numeric else ""
    where = f"{cls.CLASS_NAME}.{column.name}" + (f" (stored as {name!r})" if name != column.name else "")
    raise SchemaEvolutionError(
        f"{where}: the file stores {have.describe()}, the schema declares {want.describe()} "
        f"({what}, which no schema rule allows){hint}",
        path,
        key,
    )


def _narrows(have: Any, want: Any) -> bool:
    return (
        not isinstance(have, str)
        and not isinstance(want, str)
        and (have.kind == want.kind or {have.kind, want.kind} == {"i", "u"})
    )


def evolve_rows(cls: type, rows: np.ndarray, key: str | None = None, path: str | None = None) -> np.ndarray:
    """Return stored compound rows under the schema's names and elements (unknown columns kept, none added).

    Rows of the current schema come back as they are (the same array).
    """
    if rows.dtype.names is None:
        return rows
    plan = plan_for(cls, rows.dtype, key, path)
    if plan.identity:
        return rows
    out = np.empty(len(rows), dtype=plan.dtype)
    for name in rows.dtype.names:
        new = plan.renames.get(name, name)
        column = plan.casts.get(new)
        if column is None:
            out[new] = rows[name]
        else:
            out[new] = _cast(column, rows[name], cls, key, path)
    return out


def _cast(column: Column, values: np.ndarray, cls: type, key: str | None, path: str | None) -> np.ndarray:
    """Cast one stored column to the schema's element; integers out of range are refused."""
    target = column.numpy_dtype
    if column.storage == "vlen":
        arrays = [_checked(np.asarray(value), target, column, cls, key, path) for value in values]
        out = np.empty(len(arrays), dtype=object)
        out[:] = arrays
        return out
    return _checked(np.asarray(values), target, column, cls, key, path)


def _checked(
    values: np.ndarray, target: np.dtype, column: Column, cls: type, key: str | None, path: str | None
) -> np.ndarray:
    if target.kind in "iu" and values.size and values.dtype.kind in "iuf" and not widens(values.dtype, target):
        info = np.iinfo(target)
        finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
        if finite.size != values.size or (finite.size and (finite.min() < info.min or finite.max() > info.max)):
            raise SchemaEvolutionError(
                f"{cls.CLASS_NAME}.{column.name}: a stored {values.dtype.name} value does not fit the schema's "
                f"{target.name} (cast_from allows the cast, not a value out of range)",
                path,
                key,
            )
    return values.astype(target)


def fill_missing(plan: EvolutionPlan, rows: np.ndarray, columns: Sequence[str] | None = None) -> np.ndarray:
    """Return evolved rows with the schema columns the file lacks, at their defaults.

    Without ``columns`` the missing columns follow the stored ones in schema order;
    with ``columns`` the rows hold exactly those columns, in that order.
    """
    wanted = plan.missing if columns is None else [c for c in plan.missing if c.name in columns]
    if not wanted:
        return rows if columns is None else rows[list(columns)]
    fields = [(name, rows.dtype.fields[name][0]) for name in rows.dtype.names or ()]
    fields += [(column.name, *column.h5_dtype()[1:]) for column in wanted]
    if columns is not None:
        order = {name: position for position, name in enumerate(columns)}
        fields.sort(key=lambda field: order.get(field[0], len(order)))
    out = np.zeros(len(rows), dtype=np.dtype(fields))
    for name in rows.dtype.names or ():
        out[name] = rows[name]
    for column in wanted:
        target = out[column.name]
        if column.storage == "vlen":
            for row in range(len(rows)):
                target[row] = column.make_default()
        else:
            target[...] = column.make_default()
    return out


def read_names(cls: type, requested: Sequence[str] | None, stored_names: Sequence[str]) -> list[str] | None:
    """Return the stored columns to read for the schema columns ``requested`` (None: all).

    A renamed column is read under its stored name; a column the file lacks is not
    read (:func:`evolve_table` adds it); a name the schema does not know is passed on
    as it is (a removed column, or a typo the layout then refuses).
    """
    if requested is None:
        return None
    columns = {column.name: column for column in cls.COLUMNS}
    names = []
    for name in requested:
        column = columns.get(name)
        stored = stored_name(column, stored_names) if column is not None else name
        if stored is not None:
            names.append(stored)
    return names


def evolve_table(
    cls: type, rows: np.ndarray, requested: Sequence[str] | None, key: str | None = None, path: str | None = None
) -> np.ndarray:
    """Return table rows (as read by :func:`read_names`' columns) under the schema, added columns at their defaults.

    Unknown (removed) columns are kept. Rows of the current schema come back as they are.
    """
    if rows.dtype.names is None:
        return rows
    plan = plan_for(cls, rows.dtype, key, path)
    if requested is None and plan.current:
        return rows
    evolved = evolve_rows(cls, rows, key, path)
    if requested is not None and list(evolved.dtype.names) == list(requested):
        return evolved
    return fill_missing(plan, evolved, requested)
