"""Turning stored compound rows back into objects of the generated types (any layout).

A file layout hands over the rows of one object product for one entry as an
:class:`ObjectRows`; :class:`ObjectDecoder` resolves the class from the stored
``class_name`` (legacy ``"Meta"`` and renamed classes included), applies the
schema's evolution rules (:mod:`spineh5.types.evolution`: renamed, widened and
added fields), reports columns the schema does not know once per class and
column set, and builds generated objects, or plain dicts with
``build_classes=False``. :func:`concatenate_rows` joins the rows of one
product read from several files, whose columns may differ.
"""

from __future__ import annotations

import warnings
from typing import Any

import attrs
import h5py
import numpy as np

from .errors import SpineFileError, UnknownColumnsWarning
from .types.collection import collection_of
from .types.evolution import evolve_rows
from .types.registry import REGISTRY

#: The ``build_classes`` value that returns list-of-objects products as generated collections.
COLLECTION = "collection"
#: Legacy class name of image metadata, resolved to ImageMeta2D or ImageMeta3D.
LEGACY_META = "Meta"


@attrs.frozen
class ObjectRows:
    """The stored rows of one object product for one entry, before decoding.

    Attributes
    ----------
    class_name : str or None
        The dataset's ``class_name`` attribute (None when absent).
    rows : numpy.ndarray or spineh5.views.TableColumns
        Compound rows, every stored column included (V2 entries: a ``TableColumns``
        of the same dtype, each pool field sliced from its pool as the objects are built).
    scalar : bool
        The dataset's ``scalar`` attribute: the product is one object per entry.
    """

    class_name: str | None
    rows: np.ndarray
    scalar: bool


def resolve_class(class_name: str | None, rows: np.ndarray) -> type | None:
    """Return the generated class of stored rows, or None when the schema has none.

    ``"Meta"`` (written by old SPINE releases) is ImageMeta2D or ImageMeta3D
    depending on the length of the ``count`` column; without rows to tell,
    ImageMeta3D, as SPINE does.
    """
    if class_name is None:
        return None
    if class_name != LEGACY_META:
        return REGISTRY.resolve(class_name)
    names = rows.dtype.names or ()
    if "count" not in names:
        return None
    count = rows.dtype.fields["count"][0]
    if count.subdtype is not None:
        dims = count.subdtype[1][0]
    elif len(rows):
        dims = len(rows[0]["count"])
    else:
        dims = 3
    return {2: REGISTRY["ImageMeta2D"], 3: REGISTRY["ImageMeta3D"]}.get(dims)


def spec_class(spec: Any) -> type | None:
    """Return the class of an object product's spec (None for products that hold no objects)."""
    if spec.class_name is None or not spec.kind.holds_objects:
        return None
    return resolve_class(spec.class_name, np.empty(0, spec.dtype))


def _is_str(dtype: np.dtype) -> bool:
    return h5py.check_string_dtype(dtype) is not None or dtype.kind == "S"


def _column_values(rows: np.ndarray, name: str) -> list:
    column = rows[name]
    if _is_str(rows.dtype.fields[name][0]):
        return [value.decode("utf-8") if isinstance(value, (bytes, np.bytes_)) else value for value in column]
    return list(column)


def _records_to_dicts(rows: np.ndarray) -> list[dict[str, Any]]:
    """Return one ``{column: value}`` dict per row, every column included, strings decoded."""
    names = rows.dtype.names or ()
    columns = [_column_values(rows, name) for name in names]
    return [dict(zip(names, values)) for values in zip(*columns)] if names else [{} for _ in range(len(rows))]


def concatenate_rows(parts: list[np.ndarray], cls: type | None) -> np.ndarray:
    """Concatenate the rows of several files; compound rows with different columns get the union of columns.

    A column missing from a file's rows takes the schema default (or zero/None
    when the class or column is unknown to the schema).
    """
    try:
        return np.concatenate(parts)
    except (TypeError, ValueError):
        if any(part.dtype.names is None for part in parts):
            raise
    fields: dict[str, np.dtype] = {}
    for part in parts:
        for name in part.dtype.names:
            dtype = part.dtype.fields[name][0]
            if name not in fields:
                fields[name] = dtype
            elif fields[name] != dtype:
                try:
                    fields[name] = np.result_type(fields[name], dtype)
                except TypeError:
                    fields[name] = np.dtype(object)
    columns = {column.name: column for column in cls.COLUMNS} if cls is not None else {}
    out = np.zeros(sum(len(part) for part in parts), dtype=np.dtype(list(fields.items())))
    start = 0
    for part in parts:
        stop = start + len(part)
        for name, dtype in fields.items():
            if name in part.dtype.names:
                out[name][start:stop] = part[name]
            elif name in columns:
                for row in range(start, stop):
                    out[name][row] = columns[name].make_default()
            elif dtype.kind == "O":
                out[name][start:stop] = None
        start = stop
    return out


class ObjectDecoder:
    """Rebuilds objects from :class:`ObjectRows`, with the reader's options.

    Parameters
    ----------
    build_classes : bool or "collection"
        Build generated objects (else plain dicts of every column); ``"collection"`` returns
        a list-of-objects product's entry as one generated collection (one-object products
        stay objects).
    skip_unknown_attrs : bool
        Leave out, with one warning per class and column set, the columns the
        schema does not know (else refuse them with :class:`SpineFileError`).
    """

    def __init__(self, build_classes: bool | str = True, skip_unknown_attrs: bool = True) -> None:
        if build_classes not in (True, False, COLLECTION):
            raise ValueError(f"build_classes must be True, False or {COLLECTION!r}, got {build_classes!r}")
        self.build_classes = build_classes
        self.skip_unknown_attrs = skip_unknown_attrs
        self._reported: set[tuple[str, tuple[str, ...]]] = set()
        self._known: dict[type, frozenset[str]] = {}

    def unknown_columns(self, cls: type, dtype: np.dtype) -> tuple[str, ...]:
        """Return the stored columns of ``dtype`` that ``cls`` has no column for."""
        known = self._known.get(cls)
        if known is None:
            known = self._known[cls] = frozenset(column.name for column in cls.COLUMNS)
        return tuple(name for name in dtype.names or () if name not in known)

    def object_class(self, product: ObjectRows, key: str, path: str | None = None) -> type:
        """Return the generated class of a product's rows, or raise :class:`SpineFileError`."""
        if product.class_name is None:
            raise SpineFileError("object dataset has no 'class_name' attribute", path, key)
        cls = resolve_class(product.class_name, product.rows)
        if cls is None:
            raise SpineFileError(
                f"unknown class_name {product.class_name!r}: the schema has no such class "
                f"(known: {', '.join(sorted(REGISTRY))}); read it with build_classes=False or leave it out with keys=",
                path,
                key,
            )
        return cls

    def check_columns(self, cls: type, dtype: np.dtype, key: str, path: str | None = None) -> None:
        """Report (once) or refuse the columns of ``dtype`` that ``cls`` does not know."""
        unknown = self.unknown_columns(cls, dtype)
        if not unknown:
            return
        if not self.skip_unknown_attrs:
            raise SpineFileError(
                f"{cls.CLASS_NAME} rows have columns the schema does not know: {', '.join(unknown)} "
                "(pass skip_unknown_attrs=True to leave them out)",
                path,
                key,
            )
        self.report_unknown(cls, dtype, key, stacklevel=5)

    def report_unknown(self, cls: type, dtype: np.dtype, key: str, stacklevel: int = 4) -> None:
        """Warn (:class:`UnknownColumnsWarning`), once per class and column set, of columns ``cls`` does not know."""
        unknown = self.unknown_columns(cls, dtype)
        report = (cls.CLASS_NAME, unknown)
        if not unknown or report in self._reported:
            return
        self._reported.add(report)
        warnings.warn(
            f"{cls.CLASS_NAME} rows of product {key!r} carry columns unknown to the schema (removed from it, "
            f"or written by a later release), left out of the objects: {', '.join(unknown)} (they stay "
            "readable with reader.raw(), reader.table() or build_classes=False)",
            UnknownColumnsWarning,
            stacklevel=stacklevel,
        )

    def decode(self, product: ObjectRows, key: str, path: str | None = None) -> Any:
        """Return the objects (or dicts) of one entry: a list, or one object for scalar products."""
        rows = product.rows
        if product.scalar:
            if len(rows) == 0:
                raise SpineFileError("one object per entry is expected, the entry has none", path, key)
            rows = rows[:1]
        if not self.build_classes:
            cls = resolve_class(product.class_name, rows)
            values: list = _records_to_dicts(rows if cls is None else evolve_rows(cls, rows, key, path))
        else:
            cls = self.object_class(product, key, path)
            rows = evolve_rows(cls, rows, key, path)
            self.check_columns(cls, rows.dtype, key, path)
            try:
                if self.build_classes == COLLECTION and not product.scalar:
                    return collection_of(cls).from_records(rows)
                values = cls.from_records(rows)
            except (ValueError, TypeError) as err:
                raise SpineFileError(f"cannot rebuild {cls.CLASS_NAME} objects: {err}", path, key) from None
        return values[0] if product.scalar else values
