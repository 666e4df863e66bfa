"""The V2 layout as ``inspect`` shows it: a group per product under ``products``, flat values and int64 offsets.

Kinds, element groups, pools and the logical row dtype of object products
come from :mod:`spineh5.format.v2`; they are read leniently, so damaged
product groups are still shown.
"""

from __future__ import annotations

import h5py
import numpy as np

from ..format.common import CLASS_NAME, EVENTS, INFO, attr_string, attr_text, element_name
from ..format.v2 import (
    ELEMENT_OFFSETS,
    EVENT_OFFSETS,
    KIND,
    LIST,
    MULTI_LIST,
    OBJECTS,
    PRODUCTS,
    STRING,
    VALUES,
    VARIABLES,
    StoredPool,
    element_names,
    inspect_objects,
    kind_of,
    product_kind,
)
from .product import (
    KIND_TEXT,
    ProductSummary,
    chunks_text,
    compression_text,
    dtype_text,
    heap_size,
    storage_size,
    values_dataset,
)
from .text import column_table, counts_text, dataset_line, disk_text

__all__ = ["format_product", "product_keys", "summarize_product", "summarize_products"]

#: What the ``per entry`` line of each V2 kind counts (rows for the others).
_ENTRY_UNITS = {LIST: "arrays", MULTI_LIST: f"rows of {element_name(0)}", STRING: "bytes"}


def product_keys(h5file: h5py.File) -> list[str]:
    """Return the products of a V2 file: the groups under ``products``, sorted."""
    group = h5file.get(PRODUCTS)
    if not isinstance(group, h5py.Group):
        return []
    return sorted(name for name, node in group.items() if isinstance(node, h5py.Group))


def _kind_text(group: h5py.Group) -> str:
    """Return how the kind of a product group is shown: a spineh5 kind, else its ``kind`` attribute as stored."""
    kind = product_kind(group)
    return KIND_TEXT[kind] if kind is not None else attr_text(group.attrs.get(KIND, "?"))


def _element_groups(group: h5py.Group) -> list[h5py.Group]:
    """Return the ``element_<j>`` groups of a multi_list group, by position."""
    nodes = [group[name] for name in element_names(group)]
    return [node for node in nodes if isinstance(node, h5py.Group)]


def _rows(node: h5py.Group, name: str) -> int | None:
    dataset = node.get(name)
    return int(dataset.shape[0]) if isinstance(dataset, h5py.Dataset) else None


def summarize_product(key: str, group: h5py.Group) -> ProductSummary:
    """Return the summary of a V2 product group."""
    kind = kind_of(group)
    values = values_dataset(group)
    heap = heap_size(group)
    lists = None
    dtype = dtype_text(values)
    rows = int(values.shape[0]) if values is not None else 0
    columns = None
    if kind == OBJECTS:
        logical = inspect_objects(group).logical_dtype()
        columns = len(logical.names) if logical is not None else None
    elif kind == LIST and _rows(group, ELEMENT_OFFSETS) is not None:
        lists = max(_rows(group, ELEMENT_OFFSETS) - 1, 0)
    elif kind == MULTI_LIST:
        elements = _element_groups(group)
        rows = sum(_rows(element, VALUES) or 0 for element in elements)
        offsets = [_rows(element, EVENT_OFFSETS) for element in elements]
        lists = sum(max(count - 1, 0) for count in offsets if count is not None)
        values = elements[0].get(VALUES) if elements else None
        dtype = dtype_text(values) if values is not None else "-"
    elif kind == STRING:
        offsets = _rows(group, EVENT_OFFSETS)
        rows = max(offsets - 1, 0) if offsets is not None else 0
        dtype = "str"
    return ProductSummary(
        key=key,
        kind=_kind_text(group),
        class_name=attr_string(group.attrs.get(CLASS_NAME)),
        columns=columns,
        rows=rows,
        lists=lists,
        dtype=dtype,
        nbytes=storage_size(group) + heap.nbytes,
        compression=compression_text(values),
        chunks=chunks_text(values),
        vlen=heap.nbytes > 0,
        vlen_bytes=heap.nbytes,
        vlen_estimated=heap.estimated,
    )


def summarize_products(h5file: h5py.File) -> tuple[list[ProductSummary], list[str]]:
    """Return the summaries of the product groups of a V2 file (by key) and the other objects found."""
    group = h5file.get(PRODUCTS)
    extra = sorted(set(h5file) - {INFO, EVENTS, PRODUCTS})
    if not isinstance(group, h5py.Group):
        return [], extra
    products = [summarize_product(key, group[key]) for key in sorted(group) if isinstance(group[key], h5py.Group)]
    extra += [f"{PRODUCTS}/{key}" for key in sorted(group) if not isinstance(group[key], h5py.Group)]
    return products, extra


def _attribute_text(group: h5py.Group) -> str:
    return ", ".join(
        f"{name}={attr_text(value)!r}" if isinstance(value, (str, bytes)) else f"{name}={attr_text(value)}"
        for name, value in sorted(group.attrs.items())
    )


def _pool_lines(group: h5py.Group, members: tuple[StoredPool, ...]) -> list[str]:
    """Return one line per pool group of ``variables``: kind, values dtype and count, fields."""
    variables = group[VARIABLES]
    lines = []
    for member in members:
        if not isinstance(variables.get(member.name), h5py.Group):
            continue
        kind = member.kind if member.kind is not None else "?"
        values = member.values
        base = "utf-8" if kind == STRING else (str(values.dtype) if values is not None else "?")
        count = values.shape[0] if values is not None else 0
        lines.append(f"  {member.name}  {kind} {base}, {count} values: {', '.join(member.fields or ())}")
    return lines


def format_product(h5file: h5py.File, key: str) -> str:
    """Return the detailed description of one product group of a V2 file (``spineh5 inspect PATH --key K``)."""
    group = h5file[PRODUCTS][key]
    product = summarize_product(key, group)
    kind = kind_of(group)
    lines = [
        f"product       {key}  (/{PRODUCTS}/{key})",
        f"kind          {product.kind} (V2 kind={attr_text(group.attrs.get(KIND, '?'))})",
    ]
    if product.class_name:
        lines.append(f"class         {product.class_name}")
    lines.append(f"attributes    {_attribute_text(group) or '-'}")
    lines.append(f"rows          {product.rows}" + (f" in {product.lists} arrays" if kind == LIST else ""))
    offsets = group.get(EVENT_OFFSETS)
    if kind == MULTI_LIST:
        elements = _element_groups(group)
        offsets = elements[0].get(EVENT_OFFSETS) if elements else None
    if isinstance(offsets, h5py.Dataset) and offsets.ndim == 1 and offsets.shape[0] > 1:
        lines.append(counts_text(np.diff(offsets[()].astype(np.int64)), _ENTRY_UNITS.get(kind, "rows")))
    lines.append(f"on disk       {disk_text(product)}")
    datasets: list[tuple[str, h5py.Dataset]] = []
    group.visititems(lambda name, node: datasets.append((name, node)) if isinstance(node, h5py.Dataset) else None)
    width = max((len(name) for name, _ in datasets), default=0)
    lines.append("datasets")
    lines.extend(dataset_line(name, dataset, width) for name, dataset in datasets)
    objects = inspect_objects(group)
    pools = _pool_lines(group, objects.pools.members) if objects.pools is not None else []
    if pools:
        lines.append("pools")
        lines.extend(pools)
    logical = objects.logical_dtype() if kind == OBJECTS else None
    if logical is not None:
        lines.append("")
        lines.extend(column_table(logical, product.class_name))
    return "\n".join(lines)
