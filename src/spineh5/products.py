"""What a product is: its kind, element dtype, class and widths, decided from data or a hint.

SPINE's writer decides the storage of a key from the first entry it sees
(``docs/format/spine-v1-format.md`` section 2.4, cases A-G). This module makes the same decision from the
*first non-empty* entry of the first batch, from a SPINE ``ObjectList``
default, or from a ``types`` hint, and never guesses an object dtype from
values: object dtypes come from the generated types.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from .errors import UnknownProductError, UnsupportedValueError
from .types.collection import SchemaCollection
from .types.columns import STR_DTYPE
from .types.registry import REGISTRY


class Kind(str, enum.Enum):
    """Storage kind of a product (the cases of ``docs/format/spine-v1-format.md`` section 2.4)."""

    GLOBAL_SCALAR = "global_scalar"  # A: one value for the whole batch, replicated per entry
    SCALAR = "scalar"  # B: one scalar per entry
    OBJECT = "object"  # C: one object per entry
    OBJECTS = "objects"  # D: a list of objects per entry
    ARRAY = "array"  # E: one 1-D or 2-D array per entry
    FLAT = "flat"  # F: a list of same-width arrays per entry
    JAGGED = "jagged"  # G: a fixed-length list of arrays of different widths per entry

    @property
    def holds_objects(self) -> bool:
        """Return whether products of this kind hold data objects (one per entry, or a list per entry)."""
        return self in (Kind.OBJECT, Kind.OBJECTS)

    @property
    def is_scalar(self) -> bool:
        """Return the value of the ``scalar`` attribute SPINE writes for this kind."""
        return self in (Kind.GLOBAL_SCALAR, Kind.SCALAR, Kind.OBJECT)


@attrs.frozen
class ProductSpec:
    """How one product is stored.

    Attributes
    ----------
    key : str
        Product name (root object name in the file).
    kind : Kind
        Storage kind.
    dtype : numpy.dtype
        Element dtype: the compound ``DTYPE``/``LITE_DTYPE`` of the class for
        objects, the array or scalar dtype otherwise.
    class_name : str or None
        Object type, for ``object`` and ``objects``.
    widths : tuple of int
        Column count of 2-D arrays (0 for 1-D); one width per list position
        for ``jagged``; a single width otherwise.
    """

    key: str
    kind: Kind
    dtype: np.dtype
    class_name: str | None = None
    widths: tuple[int, ...] = (0,)

    @property
    def object_type(self) -> type | None:
        """Return the generated class of an object product."""
        return REGISTRY[self.class_name] if self.class_name else None


def _scalar_dtype(value: Any) -> np.dtype:
    """Return the on-disk dtype of a Python or numpy scalar (SPINE's ``type(value)`` rule)."""
    if isinstance(value, (str, bytes, np.str_, np.bytes_)):
        return STR_DTYPE
    if isinstance(value, (bool, np.bool_)):
        return np.dtype(bool)
    if isinstance(value, int):
        return np.dtype(np.int64)
    if isinstance(value, float):
        return np.dtype(np.float64)
    if isinstance(value, np.generic):
        return value.dtype
    raise TypeError(f"unsupported scalar type {type(value).__name__}")


def is_scalar(value: Any) -> bool:
    """Return whether a value is a scalar in SPINE's sense (numbers, bools, strings)."""
    return isinstance(value, (str, bytes)) or np.isscalar(value)


def is_object(value: Any) -> bool:
    """Return whether a value is a data object (no length, not a scalar, not an array)."""
    return (
        not is_scalar(value)
        and not isinstance(value, (np.ndarray, list, tuple, dict))
        and not hasattr(value, "__len__")
    )


def class_of(value: Any) -> str:
    """Return the class name a data object is stored under."""
    return type(value).__name__


def _hinted(key: str, hint: Any, lite: bool) -> ProductSpec:
    """Return the spec of a list product whose entries are all empty, from a ``types`` hint."""
    if isinstance(hint, type) and hasattr(hint, "CLASS_NAME"):
        hint = hint.CLASS_NAME
    if isinstance(hint, str) and hint in REGISTRY:
        cls = REGISTRY[hint]
        return ProductSpec(key, Kind.OBJECTS, cls.LITE_DTYPE if lite else cls.DTYPE, hint)
    if isinstance(hint, np.ndarray):  # an example array: its dtype and width (e.g. np.empty((0, 2), np.int32))
        return ProductSpec(key, Kind.FLAT, hint.dtype, None, (_array_width(hint),))
    try:
        dtype = np.dtype(hint)
    except TypeError:
        raise UnknownProductError(
            f"type hint {hint!r} is neither a known class ({', '.join(sorted(REGISTRY))}), "
            "a numpy dtype nor an example array"
        ) from None
    return ProductSpec(key, Kind.FLAT, dtype, None, (0,))


def object_spec(key: str, kind: Kind, class_name: str, lite: bool) -> ProductSpec:
    """Return the spec of an object product of a known class."""
    if class_name not in REGISTRY:
        raise UnknownProductError(
            f"objects of class {class_name!r} have no schema; known classes: {', '.join(sorted(REGISTRY))}"
        )
    cls = REGISTRY[class_name]
    return ProductSpec(key, kind, cls.LITE_DTYPE if lite else cls.DTYPE, class_name)


def _array_width(array: np.ndarray) -> int:
    """Return the column count of a 2-D array, 0 for a 1-D array."""
    if array.ndim == 1:
        return 0
    if array.ndim == 2:
        return int(array.shape[1])
    raise UnsupportedValueError(f"arrays of {array.ndim} dimensions are not supported (1 or 2)")


#: numpy kinds an array product can hold: booleans, integers and floats.
_ARRAY_KINDS = frozenset("biuf")


def _array_dtype(array: np.ndarray) -> np.dtype:
    """Return the element dtype of an array product; refuse text, bytes, object and other non-numeric arrays."""
    if array.dtype.kind not in _ARRAY_KINDS:
        raise UnsupportedValueError(
            f"arrays of {array.dtype} cannot be stored as an array product (booleans, integers and floats only); "
            "store text as one str per entry or as a str field of a data object"
        )
    return array.dtype


def decide(key: str, value: Any, hint: Any = None, lite: bool = False) -> ProductSpec:
    """Decide how a product is stored from its batch value.

    Parameters
    ----------
    key : str
        Product name.
    value : Any
        A scalar (global to the batch) or a sequence with one item per entry.
    hint : Any, optional
        A class name, generated class or dtype used when every entry is empty.
    lite : bool
        Whether object products use their lite dtype.

    Raises
    ------
    UnknownProductError
        When the data does not say what the product is and no hint does either.
    """
    if is_scalar(value):
        return ProductSpec(key, Kind.GLOBAL_SCALAR, _scalar_dtype(value))
    entries: Sequence[Any] = value
    if len(entries) == 0:
        raise UnknownProductError("the batch has no entries")
    first = entries[0]
    if is_scalar(first):
        return ProductSpec(key, Kind.SCALAR, _scalar_dtype(first))
    if isinstance(first, dict):
        spec = _hinted(key, hint, lite) if hint is not None else None
        if spec is None or spec.kind is not Kind.OBJECTS:
            raise UnknownProductError(
                f"one dict per entry is stored as an object only with a class hint: pass types={{{key!r}: 'ClassName'}}"
            )
        return ProductSpec(key, Kind.OBJECT, spec.dtype, spec.class_name)
    if is_object(first):
        return object_spec(key, Kind.OBJECT, class_of(first), lite)
    if isinstance(first, np.ndarray) and first.dtype != object:
        return ProductSpec(key, Kind.ARRAY, _array_dtype(first), None, (_array_width(first),))
    return _decide_list(key, entries, hint, lite)


def _decide_list(key: str, entries: Sequence[Any], hint: Any, lite: bool) -> ProductSpec:
    """Decide a product whose entries are lists (of objects or of arrays)."""
    for entry in entries:
        if isinstance(entry, SchemaCollection):  # a collection knows its class, even when empty
            return object_spec(key, Kind.OBJECTS, entry.CLASS_NAME, lite)
        if not isinstance(entry, (list, tuple, np.ndarray)):
            raise UnknownProductError(f"entries mix lists and {type(entry).__name__}; every entry must be a list")
        if len(entry) == 0:
            continue
        item = entry[0]
        if isinstance(item, dict):
            if hint is None:
                raise UnknownProductError("lists of dicts need a types hint naming their class")
            spec = _hinted(key, hint, lite)
            return spec
        if is_object(item):
            return object_spec(key, Kind.OBJECTS, class_of(item), lite)
        if isinstance(item, np.ndarray):
            arrays = [np.asarray(a) for a in entry]
            widths = tuple(_array_width(a) for a in arrays)
            if len(set(widths)) == 1:
                return ProductSpec(key, Kind.FLAT, _array_dtype(arrays[0]), None, (widths[0],))
            return ProductSpec(key, Kind.JAGGED, _array_dtype(arrays[0]), None, widths)
        raise UnknownProductError(
            f"a list of {type(item).__name__} values cannot be stored; "
            "store a numpy array, a list of numpy arrays or a list of data objects"
        )
    default = getattr(entries[0], "default", None)
    if default is not None:
        if isinstance(default, np.ndarray):
            return ProductSpec(key, Kind.FLAT, _array_dtype(default), None, (_array_width(default),))
        if is_object(default):
            return object_spec(key, Kind.OBJECTS, class_of(default), lite)
    if hint is not None:
        return _hinted(key, hint, lite)
    raise UnknownProductError(
        "every entry of the first batch is empty, so its type is unknown; "
        f"pass types={{{key!r}: 'ClassName'}} (or a dtype for lists of arrays) to HDF5Writer"
    )
