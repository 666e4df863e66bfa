"""The V1 layout as ``inspect`` shows it: a root dataset or group per product, named by the ``events`` fields.

The kinds are told by :func:`spineh5.format.v1.inspect_product`; the rows of
each entry are located by the V1 read layout (:meth:`V1ReadLayout.bounds`).
"""

from __future__ import annotations

import h5py
import numpy as np

from ..errors import SpineFileError
from ..format.common import EVENTS, INFO, attr_text
from ..format.v1 import INDEX, event_keys, inspect_product
from ..products import Kind
from .files import entry_layout
from .product import (
    ProductSummary,
    chunks_text,
    compression_text,
    dtype_text,
    has_vlen,
    heap_size,
    kind_text,
    storage_size,
    values_dataset,
)
from .text import column_table, counts_text, disk_text

__all__ = ["format_product", "product_keys", "summarize_product", "summarize_products"]


def product_keys(h5file: h5py.File) -> list[str]:
    """Return the products of a V1 file: the fields of its ``events`` table."""
    return event_keys(h5file)


def summarize_product(key: str, node: h5py.Group | h5py.Dataset) -> ProductSummary:
    """Return the summary of the root dataset or group of a V1 product."""
    product = inspect_product(node)
    values = values_dataset(node)
    heap = heap_size(node)
    index = node.get(INDEX) if isinstance(node, h5py.Group) else None
    lists = None
    if isinstance(index, h5py.Dataset):
        lists = int(index.shape[0] * (index.shape[1] if index.ndim == 2 else 1))
    if product.kind is Kind.JAGGED:
        rows = sum(int(part.shape[0]) for part in product.parts)
    else:
        rows = int(values.shape[0]) if values is not None else 0
    return ProductSummary(
        key=key,
        kind=kind_text(product.kind),
        class_name=product.class_name,
        columns=len(values.dtype.names) if values is not None and values.dtype.names else None,
        rows=rows,
        lists=lists,
        dtype=dtype_text(values),
        nbytes=storage_size(node) + heap.nbytes,
        compression=compression_text(values),
        chunks=chunks_text(values),
        vlen=has_vlen(values),
        vlen_bytes=heap.nbytes,
        vlen_estimated=heap.estimated,
    )


def summarize_products(h5file: h5py.File) -> tuple[list[ProductSummary], list[str]]:
    """Return the summaries of the products of a V1 file (by key) and its other root objects."""
    keys = event_keys(h5file)
    products = [summarize_product(key, h5file[key]) for key in sorted(keys) if key in h5file]
    return products, sorted(set(h5file) - {INFO, EVENTS} - set(keys))


def _entry_counts_line(h5file: h5py.File, key: str, unit: str) -> str | None:
    """Return the ``per entry`` line of a product from the rows each entry references (None without entries)."""
    try:
        layout = entry_layout(h5file)
        starts, stops = layout.bounds(key, np.arange(layout.entry_count()))
    except SpineFileError as err:
        where = f"entry {err.entry}: " if err.entry is not None else ""
        return f"per entry     cannot be read ({where}{err.problem})"
    counts = stops - starts
    return counts_text(counts, unit) if counts.size else None


def format_product(h5file: h5py.File, key: str) -> str:
    """Return the detailed description of one product of a V1 file (``spineh5 inspect PATH --key K``)."""
    node = h5file[key]
    product = summarize_product(key, node)
    lines = [
        f"product       {key}",
        f"kind          {product.kind}",
    ]
    if product.class_name:
        lines.append(f"class         {product.class_name}")
    attrs_text = ", ".join(f"{name}={attr_text(value)}" for name, value in node.attrs.items())
    lines.append(f"attributes    {attrs_text or '-'}")
    lines.append(f"rows          {product.rows}" + (f" in {product.lists} arrays" if product.lists is not None else ""))
    if key in event_keys(h5file):
        line = _entry_counts_line(h5file, key, "arrays" if product.lists is not None else "rows")
        if line is not None:
            lines.append(line)
    lines.append(f"on disk       {disk_text(product)}")
    lines.append(f"compression   {product.compression}; chunks {product.chunks}")
    if isinstance(node, h5py.Group):
        for name, child in node.items():
            lines.append(f"  {name:12s}{dtype_text(child)} {tuple(child.shape)}")
    values = values_dataset(node)
    if values is not None and values.dtype.names:
        lines.append("")
        lines.extend(column_table(values.dtype, product.class_name))
    elif values is not None:
        lines.append(f"dtype         {dtype_text(values)}, shape {tuple(values.shape)}")
    return "\n".join(lines)
