"""The text of ``spineh5 inspect``: the file summary, tables, byte counts and the schema column table."""

from __future__ import annotations

from typing import TYPE_CHECKING

import h5py
import numpy as np
import yaml

from ..format.common import FORMAT_VERSION
from ..open_problems import human_bytes
from ..types.dtypes import describe_dtype
from ..types.registry import REGISTRY
from .files import first_line
from .product import chunks_text, compression_text, dtype_text

if TYPE_CHECKING:
    from .product import ProductSummary
    from .summary import FileSummary

__all__ = [
    "cfg_outline",
    "column_table",
    "counts_text",
    "dataset_line",
    "disk_text",
    "format_summary",
    "human_bytes",
    "size_text",
    "table_lines",
]


def size_text(product: ProductSummary) -> str:
    """Return a product's bytes on disk in a table cell: ``17.4 kB``, ``~1.2 GB`` when partly estimated."""
    return ("~" if product.vlen_estimated else "") + human_bytes(product.nbytes)


def disk_text(product: ProductSummary) -> str:
    """Return a product's bytes on disk with the part in variable-length data: ``17.4 kB (9.1 kB variable-length)``."""
    if not product.vlen_bytes:
        return size_text(product)
    sampled = ", estimated from a sample of rows" if product.vlen_estimated else ""
    return f"{size_text(product)} ({human_bytes(product.vlen_bytes)} of it variable-length data{sampled})"


def table_lines(rows: list[tuple[str, ...]]) -> list[str]:
    """Return rows of cells as lines of left-aligned columns two spaces apart (the first row is the header)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


def counts_text(counts: np.ndarray, unit: str) -> str:
    """Return the ``per entry`` line of a product: min, mean and max of its rows (or arrays) per entry."""
    return (
        f"per entry     {unit}: min {counts.min()}, mean {counts.mean():.1f}, max {counts.max()} "
        f"over {counts.size} entries"
    )


def dataset_line(name: str, dataset: h5py.Dataset, width: int) -> str:
    """Return one dataset of a product group: name, dtype, shape, chunks and compression."""
    return (
        f"  {name.ljust(width)}  {dtype_text(dataset)} {tuple(dataset.shape)}, chunks {chunks_text(dataset)}, "
        f"{compression_text(dataset)}"
    )


def column_table(dtype: np.dtype, class_name: str | None) -> list[str]:
    """Return the columns of stored object rows next to the schema's (dtype on disk, schema dtype, units)."""
    cls = REGISTRY.get(class_name or "")
    schema = {column.name: column for column in cls.COLUMNS} if cls else {}
    rows = [("column", "on disk", "schema", "units")]
    for name in dtype.names:
        column = schema.get(name)
        rows.append(
            (
                name,
                describe_dtype(dtype[name], brief=True),
                column.describe() if column else "(not in schema)",
                (column.units or "") if column else "",
            )
        )
    lines = table_lines(rows)
    missing = [name for name in schema if name not in dtype.names]
    if missing:
        lines.append(f"schema columns not in the file: {', '.join(missing)}")
    return lines


# -- the file summary ----------------------------------------------------------------------------------


def cfg_outline(cfg: str | None, width: int = 100) -> str:
    """Return a one-line outline of a YAML config: its sections and their keys."""
    if cfg is None:
        return "missing"
    try:
        data = yaml.safe_load(cfg)
    except yaml.YAMLError as err:
        return f"not valid YAML ({first_line(err)})"
    if not data:
        return "empty ({})"
    if not isinstance(data, dict):
        return f"{type(data).__name__}: {str(data)[:width]}"
    parts = []
    for key, value in data.items():
        if isinstance(value, dict) and value:
            parts.append(f"{key} ({', '.join(map(str, value))})")
        else:
            parts.append(str(key))
    text = f"{len(data)} section{'s' if len(data) != 1 else ''}: " + "; ".join(parts)
    return text if len(text) <= width else text[: width - 3] + "..."


def _writer_text(provenance: dict[str, str]) -> str:
    if "writer" in provenance:
        spine = provenance.get("version") or provenance.get("spine_version")
        return f"{provenance['writer']}, writing SPINE {spine} files" if spine else provenance["writer"]
    version = provenance.get("spine_version") or provenance.get("version")
    return f"SPINE {version}" if version else "unknown (no version attribute)"


def _complete_text(complete: bool | None) -> str:
    if complete is None:
        return "not marked (no info.complete)"
    return "yes" if complete else "NO (info.complete is False: the writer was not finalized)"


def format_summary(summary: FileSummary) -> str:
    """Return the text of ``spineh5 inspect PATH``."""
    prov = summary.provenance
    lines = [
        f"file          {summary.path} ({human_bytes(summary.file_size)})",
        f"layout        {summary.layout_title}",
        f"entries       {summary.entries if summary.entries is not None else '? (no events table)'}",
        f"complete      {_complete_text(summary.complete)}",
        f"writer        {_writer_text(prov)}",
    ]
    if "schema_version" in prov:
        lines.append(f"schema        version {prov['schema_version']}")
    if FORMAT_VERSION in prov:
        lines.append(f"format        {prov.get('format', '?')} version {prov[FORMAT_VERSION]}")
    lines.append(f"cfg           {cfg_outline(summary.cfg)}")
    lines.append("")
    lines.extend(_product_table(summary))
    if summary.extra_root:
        lines.append(f"not event products: {', '.join(summary.extra_root)}")
    return "\n".join(lines)


def _product_table(summary: FileSummary) -> list[str]:
    rows = [("product", "kind", "class", "cols", "rows", "per entry", "dtype", "on disk", "compression", "chunks")]
    total = heap = 0
    for product in summary.products:
        per_entry = product.lists if product.lists is not None else product.rows
        total += product.nbytes
        heap += product.vlen_bytes
        rows.append(
            (
                product.key,
                product.kind,
                product.class_name or "-",
                str(product.columns) if product.columns is not None else "-",
                str(product.rows),
                f"{per_entry / summary.entries:.1f}" if summary.entries else "-",
                product.dtype,
                size_text(product),
                product.compression,
                product.chunks,
            )
        )
    lines = table_lines(rows)
    estimated = "~" if any(product.vlen_estimated for product in summary.products) else ""
    vlen = f" ({estimated}{human_bytes(heap)} of it variable-length data)" if heap else ""
    lines.append(
        f"{len(summary.products)} products, {estimated}{human_bytes(total)} on disk{vlen}; "
        f"{human_bytes(max(summary.file_size - total, 0))} in metadata and free space"
    )
    if any(product.lists is not None for product in summary.products):
        lines.append("per entry: rows per entry; for lists, arrays per entry")
    return lines
