"""Turn one product of one batch into typed arrays, validating everything first.

:func:`prepare` is the whole validation of the write path: it raises
:class:`~spineh5.errors.ProductError` (naming the key, the entry and
the field) before anything of the batch touches a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from operator import attrgetter
from typing import Any

import attrs
import numpy as np

from .errors import ProductError
from .h5io_native import NativeRows, pooled_rows
from .products import Kind, ProductSpec, class_of, is_object, is_scalar
from .types.collection import SchemaCollection, collection_of
from .types.columns import ColumnError, cast_array
from .types.value_rules import UNITS, has_meta_columns, has_units, inconsistent_meta

_NDIM = attrgetter("ndim")
_DTYPE = attrgetter("dtype")
#: Characters of a refused string shown in an error message.
_SHOWN_CHARS = 40


@attrs.define
class Payload:
    """Typed arrays of one product for one batch.

    Attributes
    ----------
    spec : ProductSpec
        How the product is stored.
    rows : numpy.ndarray, NativeRows or None
        Rows appended to the product dataset (``elements`` for flat lists);
        ``None`` for jagged lists and for objects prepared as ``columns``;
        for objects given as collections to a V1 file, native rows pointing
        into the collection's pools (:func:`~spineh5.h5io_native.pooled_rows`).
    counts : numpy.ndarray
        Rows of ``rows`` per entry (for flat lists: arrays per entry).
    element_counts : numpy.ndarray or None
        Flat lists: rows of each array in ``rows``, in order.
    parts : list of numpy.ndarray or None
        Jagged lists: the concatenated rows of each list position.
    part_counts : numpy.ndarray or None
        Jagged lists: shape (entries, positions), rows per entry and position.
    columns : SchemaCollection or None
        Objects prepared column by column: instead of ``rows`` (``prepare(..., columnar=True)``), or
        beside the native ``rows`` built from them.
    """

    spec: ProductSpec
    rows: np.ndarray | NativeRows | None
    counts: np.ndarray
    element_counts: np.ndarray | None = None
    parts: list[np.ndarray] | None = None
    part_counts: np.ndarray | None = None
    columns: SchemaCollection | None = None

    def object_field(self, name: str) -> np.ndarray:
        """Return one scalar or fixed field of an object product's rows, whether prepared as rows or columns."""
        return self.columns.column(name) if self.columns is not None else self.rows[name]


def prepare(spec: ProductSpec, value: Any, n_entries: int, lite: bool, columnar: bool = False) -> Payload:
    """Validate and convert one product of a batch.

    Parameters
    ----------
    spec : ProductSpec
        The stored kind and dtype of the product (fixed at file creation).
    value : Any
        The batch value: a global scalar or a sequence with one item per entry.
    n_entries : int
        Number of entries in the batch.
    lite : bool
        Whether object rows leave out the lite columns.
    columnar : bool, default False
        Prepare object products as ``columns`` (a collection, what the V2 layout writes from) rather than
        compound ``rows``. Objects may be given as lists of objects or as collections either way.

    Raises
    ------
    ProductError
        When anything in the value does not fit the product.
    """
    scalar_product = spec.kind in (Kind.GLOBAL_SCALAR, Kind.SCALAR)
    if scalar_product and is_scalar(value):
        # Like SPINE, a scalar product may get one value for the whole batch in any call: it is replicated.
        rows = _cast(spec, np.full(n_entries, value, dtype=object if spec.dtype.kind == "O" else None), None)
        _check_strings(spec, rows, per_entry=False)
        return Payload(spec, rows, np.ones(n_entries, np.int64))
    if is_scalar(value) or not hasattr(value, "__len__"):
        raise ProductError(spec.key, f"expected one value per entry, got {type(value).__name__}")
    if len(value) != n_entries:
        raise ProductError(spec.key, f"has {len(value)} entries, the batch has {n_entries} (see 'index')")
    if spec.kind.holds_objects:
        return _OBJECT_HANDLERS[spec.kind](spec, value, lite, columnar)
    handler = _HANDLERS[Kind.SCALAR if scalar_product else spec.kind]
    return handler(spec, value, lite)


def _check_strings(spec: ProductSpec, rows: np.ndarray, per_entry: bool) -> None:
    """Refuse values of a string product HDF5 cannot store as variable-length strings."""
    if spec.dtype.kind != "O":
        return
    for entry, text in enumerate(rows.tolist()):
        where = entry if per_entry else None
        if not isinstance(text, (str, bytes)):
            raise ProductError(spec.key, f"{type(text).__name__} {text!r} cannot be stored as str", where)
        if ("\x00" if isinstance(text, str) else b"\x00") in text:
            raise ProductError(spec.key, f"string {text!r} contains a NUL character, which HDF5 cannot store", where)
        if isinstance(text, str) and not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise ProductError(
                    spec.key, f"string {text!r} is not encodable as UTF-8 (lone surrogate)", where
                ) from None


def _cast(spec: ProductSpec, array: Any, entry: int | None) -> np.ndarray:
    try:
        return cast_array(array, spec.dtype)
    except (TypeError, ValueError, OverflowError) as err:
        raise ProductError(spec.key, f"{err} (stored dtype {_dtype_name(spec.dtype)})", entry) from None


def _dtype_name(dtype: np.dtype) -> str:
    return "str" if dtype.kind == "O" else str(dtype)


def _scalars(spec: ProductSpec, values: Sequence[Any], lite: bool) -> Payload:
    for entry, item in enumerate(values):
        if not is_scalar(item):
            raise ProductError(spec.key, f"expected a scalar, got {type(item).__name__}", entry)
    try:
        rows = cast_array(np.asarray(values, dtype=object if spec.dtype.kind == "O" else None), spec.dtype)
    except (TypeError, ValueError, OverflowError):
        for entry, item in enumerate(values):
            _cast(spec, np.asarray([item]), entry)
        raise
    _check_strings(spec, rows, per_entry=True)
    return Payload(spec, rows, np.ones(len(values), np.int64))


def _check_objects(spec: ProductSpec, objects: Sequence[Any], entry: int) -> None:
    expected = spec.class_name
    # Fast path: the kind and class name of an object follow from its type, so one object per type is
    # classified (plus the per-object ``__len__`` test of is_object); anything else takes the loop below,
    # which names the offending item.
    by_type = dict(zip(map(type, objects), objects))
    if all(
        type(obj) is not dict and is_object(obj) and class_of(obj) == expected for obj in by_type.values()
    ) and not any(map(hasattr, objects, repeat("__len__"))):
        return
    for position, obj in enumerate(objects):
        if isinstance(obj, dict):
            continue
        if not is_object(obj):
            raise ProductError(
                spec.key, f"item {position} is a {type(obj).__name__}, expected a {expected} object", entry
            )
        name = class_of(obj)
        if name != expected:
            raise ProductError(
                spec.key, f"item {position} is a {name}, but this product stores {expected} objects", entry
            )


def _records(spec: ProductSpec, objects: list, counts: np.ndarray, lite: bool) -> np.ndarray:
    """Return the compound rows of ``objects`` (``counts`` per entry), refusing what SPINE's classes refuse."""
    cls = spec.object_type
    try:
        records = cls.to_records(objects, lite=lite)
    except ColumnError as err:
        raise _located(spec, err, counts) from None
    _check_rules(spec, cls, records, counts)
    return records


def _located(spec: ProductSpec, err: ColumnError, counts: np.ndarray, first_entry: int = 0) -> ProductError:
    """Return the ProductError of a column error at a flat object position (``counts`` objects per entry)."""
    entry, position = _locate(counts, err.position)
    if entry is not None:
        entry += first_entry
    where = f"{spec.class_name} #{position}" if position is not None else spec.class_name
    return ProductError(spec.key, f"{where}, field {err.field!r}: {err.problem}", entry, err.field)


def _columns(spec: ProductSpec, entries: Sequence[Any], counts: np.ndarray, lite: bool) -> SchemaCollection:
    """Return the objects of ``entries`` (lists of objects or collections, ``counts`` rows each) as one collection.

    Consecutive lists are read together (one column build per run); collections are taken as they are.
    """
    collection = collection_of(spec.object_type)
    parts: list[SchemaCollection] = []
    run: list[Any] = []
    run_start: int | None = None

    def flush(end: int) -> None:
        nonlocal run, run_start
        if run_start is not None:
            try:
                parts.append(collection.from_objects(run, lite=lite))
            except ColumnError as err:
                raise _located(spec, err, counts[run_start:end], run_start) from None
        run, run_start = [], None

    for entry, objects in enumerate(entries):
        if isinstance(objects, SchemaCollection):
            flush(entry)
            parts.append(objects)
        else:
            run_start = entry if run_start is None else run_start
            run.extend(objects)
    flush(len(entries))
    joined = collection.concat(parts, copy=False)  # V1 points into the parts' values, V2 joins what it uses
    _check_rules(spec, spec.object_type, joined, counts)
    return joined


def _check_collection(spec: ProductSpec, collection: Any, entry: int | None) -> None:
    """Refuse a collection of another class than the product's."""
    name = collection.CLASS_NAME
    if name != spec.class_name:
        raise ProductError(
            spec.key, f"is a collection of {name}, but this product stores {spec.class_name} objects", entry
        )


def _locate(counts: np.ndarray, position: int | None) -> tuple[int | None, int | None]:
    """Return the entry of the flat object ``position`` (``counts`` objects per entry) and its position there."""
    if position is None:
        return None, None
    ends = np.cumsum(counts)
    entry = int(np.searchsorted(ends, position, side="right"))
    return entry, position - (int(ends[entry - 1]) if entry else 0)


def _check_rules(spec: ProductSpec, cls: type, records: np.ndarray, counts: np.ndarray) -> None:
    """Refuse rows ``validate`` would call errors: ``units`` outside cm/px, an inconsistent ImageMeta."""
    names = spec.dtype.names
    if "units" in names and has_units(cls):
        units = records["units"].tolist()
        if not UNITS.issuperset(units):
            flat = next(row for row, text in enumerate(units) if text not in UNITS)
            entry, position = _locate(counts, flat)
            text = units[flat]
            size = f" ({len(text)} characters)" if len(text) > _SHOWN_CHARS else ""
            raise ProductError(
                spec.key,
                f"{spec.class_name} #{position}, field 'units': {_shorten(text)}{size} is not a unit SPINE's classes "
                f"accept ({' or '.join(map(repr, sorted(UNITS)))})",
                entry,
                "units",
            )
    if has_meta_columns(cls, names) and len(records):
        bad = inconsistent_meta(records)
        if len(bad):
            entry, position = _locate(counts, int(bad[0]))
            row = int(bad[0])
            values = ", ".join(f"{name} {records[name][row].tolist()}" for name in ("lower", "upper", "size", "count"))
            raise ProductError(
                spec.key,
                f"{spec.class_name} #{position}: upper != lower + size * count ({values}): "
                "SPINE's ImageMeta refuses inconsistent metadata",
                entry,
            )


def _shorten(text: str) -> str:
    """Return the repr of ``text``, cut to about :data:`_SHOWN_CHARS` characters."""
    return repr(text) if len(text) <= _SHOWN_CHARS else repr(text[:_SHOWN_CHARS]) + "..."


def _one_object(spec: ProductSpec, values: Any, lite: bool, columnar: bool) -> Payload:
    """Prepare one object per entry: a sequence of objects, or a collection with one row per entry."""
    counts = np.ones(len(values), np.int64)
    if isinstance(values, SchemaCollection):
        _check_collection(spec, values, None)
        entries: list[Any] = [values]
    else:
        for entry, obj in enumerate(values):
            _check_objects(spec, [obj], entry)
        if not columnar:
            return Payload(spec, _records(spec, list(values), counts, lite), counts)
        entries = [[obj] for obj in values]
    return _objects_payload(spec, entries, counts, lite, columnar)


def _object_lists(spec: ProductSpec, values: Sequence[Any], lite: bool, columnar: bool) -> Payload:
    """Prepare a list of objects (or one collection) per entry."""
    flat: list[Any] = []
    counts = np.empty(len(values), np.int64)
    any_collection = False
    for entry, objects in enumerate(values):
        if isinstance(objects, SchemaCollection):
            _check_collection(spec, objects, entry)
            any_collection = True
        elif not isinstance(objects, (list, tuple)):
            raise ProductError(spec.key, f"expected a list of {spec.class_name}, got {type(objects).__name__}", entry)
        else:
            _check_objects(spec, objects, entry)
            if not any_collection:
                flat.extend(objects)
        counts[entry] = len(objects)
    if not (columnar or any_collection):
        return Payload(spec, _records(spec, flat, counts, lite), counts)
    return _objects_payload(spec, values, counts, lite, columnar)


def _objects_payload(
    spec: ProductSpec, entries: Sequence[Any], counts: np.ndarray, lite: bool, columnar: bool
) -> Payload:
    """Return the payload of objects given as lists and collections: ``columns``, or ``rows`` built from them."""
    columns = _columns(spec, entries, counts, lite)
    if columnar:
        return Payload(spec, None, counts, columns=columns)
    return Payload(spec, _pooled_records(spec, columns, lite), counts, columns=columns)


def _pooled_records(spec: ProductSpec, columns: SchemaCollection, lite: bool) -> np.ndarray | NativeRows:
    """Return the V1 rows of a collection: native rows pointing into its own pools, else compound records.

    The native rows are built column by column (no per-row cells, :func:`~spineh5.h5io_native.pooled_rows`);
    where the native path is off or refused, the records h5py's conversions write, with the same bytes.
    """
    cls = spec.object_type
    dtype = cls.LITE_DTYPE if lite else cls.DTYPE
    variable = {column.name for column in columns.COLUMNS if column.storage == "vlen"}
    held = {
        name: columns.cells(name)
        if columns.has_cells(name)
        else columns.vlen_pools(name)
        if name in variable
        else columns.column(name)
        for name in dtype.names
    }
    native = pooled_rows(dtype, held, len(columns))
    return native if native is not None else columns.to_records(lite)


def _check_array(spec: ProductSpec, array: Any, width: int, entry: int, what: str) -> np.ndarray:
    if not isinstance(array, np.ndarray):
        raise ProductError(spec.key, f"{what} is a {type(array).__name__}, expected a numpy array", entry)
    ndim = 1 if width == 0 else 2
    if array.ndim != ndim or (width and array.shape[1] != width):
        expected = "(N,)" if width == 0 else f"(N, {width})"
        raise ProductError(spec.key, f"{what} has shape {array.shape}, expected {expected}", entry)
    return _cast(spec, array, entry)


def _ready_arrays(items: Any, dtype: np.dtype, width: int) -> bool:
    """Return whether every item is a plain ndarray of the stored dtype and shape (nothing to check or cast)."""
    if dtype.kind == "O" or not set(map(type, items)) <= {np.ndarray}:
        return False
    if not set(map(_NDIM, items)) <= {2 if width else 1}:
        return False
    if width and not {array.shape[1] for array in items} <= {width}:
        return False
    return set(map(_DTYPE, items)) <= {dtype}


def _arrays(spec: ProductSpec, values: Sequence[Any], lite: bool) -> Payload:
    width = spec.widths[0]
    arrays = [_check_array(spec, array, width, entry, "the array") for entry, array in enumerate(values)]
    counts = np.fromiter((len(a) for a in arrays), np.int64, len(arrays))
    rows = np.concatenate(arrays) if arrays else np.empty((0, width) if width else 0, spec.dtype)
    return Payload(spec, rows, counts)


def _flat_lists(spec: ProductSpec, values: Sequence[Any], lite: bool) -> Payload:
    width = spec.widths[0]
    arrays: list[np.ndarray] = []
    counts = np.empty(len(values), np.int64)
    for entry, items in enumerate(values):
        if not isinstance(items, (list, tuple, np.ndarray)):
            raise ProductError(spec.key, f"expected a list of arrays, got {type(items).__name__}", entry)
        if _ready_arrays(items, spec.dtype, width):
            arrays.extend(items)  # what _check_array would return: the arrays themselves
        else:
            for position, array in enumerate(items):
                arrays.append(_check_array(spec, array, width, entry, f"array {position}"))
        counts[entry] = len(items)
    element_counts = np.fromiter((len(a) for a in arrays), np.int64, len(arrays))
    empty = np.empty((0, width) if width else 0, spec.dtype)
    rows = np.concatenate(arrays) if arrays else empty
    return Payload(spec, rows, counts, element_counts=element_counts)


def _jagged_lists(spec: ProductSpec, values: Sequence[Any], lite: bool) -> Payload:
    positions = len(spec.widths)
    per_position: list[list[np.ndarray]] = [[] for _ in range(positions)]
    part_counts = np.empty((len(values), positions), np.int64)
    for entry, items in enumerate(values):
        if not isinstance(items, (list, tuple, np.ndarray)) or len(items) != positions:
            got = len(items) if hasattr(items, "__len__") else type(items).__name__
            raise ProductError(spec.key, f"expected a list of {positions} arrays, got {got}", entry)
        for position, (array, width) in enumerate(zip(items, spec.widths)):
            checked = _check_array(spec, array, width, entry, f"array {position}")
            per_position[position].append(checked)
            part_counts[entry, position] = len(checked)
    parts = [
        np.concatenate(arrays) if arrays else np.empty((0, w) if w else 0, spec.dtype)
        for arrays, w in zip(per_position, spec.widths)
    ]
    return Payload(spec, None, np.ones(len(values), np.int64), parts=parts, part_counts=part_counts)


_OBJECT_HANDLERS = {Kind.OBJECT: _one_object, Kind.OBJECTS: _object_lists}
_HANDLERS = {
    Kind.SCALAR: _scalars,
    Kind.ARRAY: _arrays,
    Kind.FLAT: _flat_lists,
    Kind.JAGGED: _jagged_lists,
}
