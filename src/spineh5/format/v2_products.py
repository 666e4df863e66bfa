"""SPINE's V2 layout on disk, product level: the names of groups, datasets and attributes, kinds, product groups.

Reference: ``docs/format/spine-v2-format.md``: section 0 (the layout at a
glance), 1.4 (``products``), 2.1-2.6 (one product group per kind) and 2.8
(typed products). Re-exported by :mod:`spineh5.format.v2`, the module to
import from; the split of object rows into ``fixed`` and pools lives there.
"""

from __future__ import annotations

from typing import Any

import h5py
import numpy as np

from ..products import Kind, ProductSpec
from .common import SCALAR, attr_string, truthy

#: Root group holding one group per product (V2 spec section 1.4).
PRODUCTS = "products"
#: Attribute of every product group and pool naming its kind.
KIND = "kind"
#: The V2 ``kind`` attribute values (V2 spec sections 2.2-2.6).
ARRAY, STRING, OBJECTS, LIST, MULTI_LIST = "array", "string", "objects", "list", "multi_list"
V2_KINDS = (ARRAY, STRING, OBJECTS, LIST, MULTI_LIST)
#: Datasets and groups inside product groups.
VALUES, EVENT_OFFSETS, ELEMENT_OFFSETS, FIXED, VARIABLES = (
    "values",
    "event_offsets",
    "element_offsets",
    "fixed",
    "variables",
)
#: Attribute of a pool listing the object fields it stores (a YAML list).
FIELDS = "fields"
#: Prefix of the helper columns of ``fixed`` that index the pools.
VAR_OFFSETS = "_var_offsets_"
#: Attribute SPINE's later releases put on typed products (TensorData, IndexData, ...), V2 spec section 2.8.
PRODUCT_METADATA = "product_metadata"
OFFSET_DTYPE = np.dtype(np.int64)
BYTES_DTYPE = np.dtype(np.uint8)

#: (V2 kind, scalar) of each spineh5 kind (V2 spec section 0).
_KIND_OF: dict[Kind, tuple[str, bool]] = {
    Kind.OBJECT: (OBJECTS, True),
    Kind.OBJECTS: (OBJECTS, False),
    Kind.ARRAY: (ARRAY, False),
    Kind.FLAT: (LIST, False),
    Kind.JAGGED: (MULTI_LIST, False),
}
#: spineh5 kind of each V2 kind: (when scalar is False, when scalar is True).
_SPINEH5_KINDS: dict[str, tuple[Kind, Kind]] = {
    OBJECTS: (Kind.OBJECTS, Kind.OBJECT),
    ARRAY: (Kind.ARRAY, Kind.SCALAR),
    STRING: (Kind.SCALAR, Kind.SCALAR),
    LIST: (Kind.FLAT, Kind.FLAT),
    MULTI_LIST: (Kind.JAGGED, Kind.JAGGED),
}


# -- kinds -----------------------------------------------------------------------------------------------


def v2_kind(spec: ProductSpec) -> tuple[str, bool]:
    """Return the V2 ``kind`` and ``scalar`` attributes a product spec is written with."""
    if spec.kind in (Kind.GLOBAL_SCALAR, Kind.SCALAR):
        return (STRING if spec.dtype.kind == "O" else ARRAY), True
    return _KIND_OF[spec.kind]


def spineh5_kind(kind: str | None, scalar: bool) -> Kind | None:
    """Return the spineh5 kind of a V2 ``kind`` and ``scalar`` attribute pair (None for an unknown kind)."""
    pair = _SPINEH5_KINDS.get(kind or "")
    return pair[bool(scalar)] if pair else None


def kind_of(node: Any) -> str | None:
    """Return the ``kind`` attribute of a V2 product group, None for anything else."""
    if not isinstance(node, h5py.Group):
        return None
    return attr_string(node.attrs.get(KIND))


def product_kind(group: h5py.Group) -> Kind | None:
    """Return the spineh5 kind of a V2 product group from its ``kind`` and ``scalar`` attributes."""
    return spineh5_kind(kind_of(group), truthy(group.attrs.get(SCALAR, False)))


#: numpy dtypes of variable-length string attributes, by HDF5 character set (no type conversion per read).
_VLEN_STRINGS = {h5py.h5t.CSET_UTF8: h5py.string_dtype("utf-8"), h5py.h5t.CSET_ASCII: h5py.string_dtype("ascii")}


def member_kind(products: h5py.Group, name: str) -> str | None:
    """Return :func:`kind_of` of one member of ``products``, reading ``kind`` with the low-level API.

    ``group.attrs`` costs about 0.2 ms per attribute, which made opening a
    file with many products cost milliseconds. The low-level path, by name
    from ``products`` (no object opened, no dtype built from the attribute's
    type), decides the common cases (a group whose ``kind`` is a scalar
    variable-length string, a group without ``kind``, a member that is not a
    group); anything else goes through :func:`kind_of` unchanged.
    """
    try:
        encoded = name.encode("utf-8")
        if h5py.h5g.get_objinfo(products.id, encoded).type != h5py.h5g.GROUP:
            return None
        if not h5py.h5a.exists(products.id, KIND.encode(), obj_name=encoded):
            return None
        attr = h5py.h5a.open(products.id, KIND.encode(), obj_name=encoded)
        attr_type = attr.get_type()
        if attr.shape == () and attr_type.get_class() == h5py.h5t.STRING and attr_type.is_variable_str():
            dtype = _VLEN_STRINGS.get(attr_type.get_cset())
            if dtype is not None:
                value = np.empty((), dtype=dtype)
                attr.read(value)
                value = value[()]
                if isinstance(value, bytes):
                    return value.decode("utf-8")
                if isinstance(value, str):
                    return value
    except (KeyError, OSError, RuntimeError, TypeError, ValueError, UnicodeDecodeError):
        pass
    return kind_of(products.get(name))


def product_groups(products: h5py.Group) -> tuple[list[str], list[str]]:
    """Return the members of ``products`` that are V2 product groups (a known ``kind``) and the others, sorted."""
    keys, others = [], []
    for name in products:
        (keys if member_kind(products, name) in V2_KINDS else others).append(name)
    return sorted(keys), sorted(others)


def element_names(group: h5py.Group) -> list[str]:
    """Return the ``element_<j>`` children of a multi_list group, ordered by ``j`` (gaps allowed; V2 spec 2.6)."""
    names = []
    for name in group:
        if name.startswith("element_"):
            try:
                names.append((int(name.rsplit("_", 1)[-1]), name))
            except ValueError:
                continue
    return [name for _, name in sorted(names)]
