"""What a SPINE HDF5 file holds, read with h5py alone: the logic behind ``spineh5 inspect``.

Three views, each a plain function returning text:

* :func:`format_summary` of :func:`summarize`: entries, completeness, writer,
  config and one line per product (kind, class, columns, rows, bytes on disk,
  compression, chunks);
* :func:`format_product`: one product in detail (its columns on disk next to
  the schema's, rows per entry);
* :func:`format_entry` / :func:`format_entry_overview`: the content of one
  product (or every product) of one entry, decoded from the V1 region
  references or the V2 offsets.

Both layouts are described: V1 (a root dataset or group per product, an
``events`` table of region references) and V2 (a group per product under
``products``, flat values and int64 offsets). Summaries and product details
read h5py alone, so they also work on files neither the writer nor the reader
would accept; V2 entry content is decoded with the V2 read layout of
:mod:`spineh5.layouts`, which checks the offsets it uses.
"""

from __future__ import annotations

import os
import warnings
import weakref
from collections.abc import Iterator
from typing import Any

import attrs
import h5py
import numpy as np
import yaml

from ..errors import FileOpenError
from ..generated import REGISTRY

__all__ = [
    "ARRAY",
    "FLAT",
    "JAGGED",
    "OBJECT",
    "OBJECTS",
    "SCALAR",
    "FileOpenError",
    "FileSummary",
    "ProductSummary",
    "format_entry",
    "format_entry_overview",
    "format_product",
    "format_summary",
    "layout_of",
    "open_file",
    "product_keys",
    "product_kind",
    "read_entry",
    "summarize",
]

#: Product kinds (spec section 2.4: B, E, C, D, F, G).
SCALAR = "scalar"
ARRAY = "array"
OBJECT = "object"
OBJECTS = "objects"
FLAT = "flat list"
JAGGED = "jagged list"
UNKNOWN = "?"

#: Attributes of ``info`` shown as the file's provenance, in this order.
PROVENANCE_ATTRS = ("writer", "version", "spine_version", "format", "format_version", "schema_version")


def open_file(path: str | os.PathLike) -> h5py.File:
    """Open an HDF5 file read-only, or raise :class:`FileOpenError` with a one-line reason."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileOpenError("no such file")
    if os.path.isdir(path):
        raise FileOpenError("is a directory, not an HDF5 file")
    try:
        signature = h5py.is_hdf5(path)
    except OSError as err:
        raise FileOpenError(f"cannot read: {_first_line(err)}") from None
    if not signature:
        size = os.path.getsize(path)
        raise FileOpenError("empty file, not HDF5" if size == 0 else "not an HDF5 file (no HDF5 signature)")
    try:
        return h5py.File(path, "r")
    except OSError as err:
        message = _first_line(err)
        if "truncated" in message.lower() or "eof" in message.lower():
            raise FileOpenError(f"truncated HDF5 file ({message})") from None
        raise FileOpenError(f"damaged HDF5 file ({message})") from None


def _first_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]


# -- kinds and small readers -----------------------------------------------------------------------


def truthy(value: Any) -> bool:
    """Return the truth of an HDF5 attribute value (bool, int or bool-like enum)."""
    try:
        return bool(np.asarray(value).item())
    except (TypeError, ValueError):
        return False


def product_kind(obj: h5py.Group | h5py.Dataset) -> str:
    """Return the kind of a V1 root product: scalar, array, object, objects, flat list, jagged list."""
    if isinstance(obj, h5py.Group):
        index = obj.get("index")
        if not isinstance(index, h5py.Dataset):
            return UNKNOWN
        return JAGGED if index.ndim == 2 else FLAT
    scalar = truthy(obj.attrs.get("scalar", False))
    if obj.dtype.names:
        return OBJECT if scalar else OBJECTS
    return SCALAR if scalar else ARRAY


def layout_of(h5file: h5py.File) -> str:
    """Return ``"V1"``, ``"V2"`` or ``"unknown"`` from ``info.format_version`` and the root objects."""
    info = h5file.get("info")
    version = info.attrs.get("format_version", None) if info is not None else None
    if version is not None and truthy(np.asarray(version) == 2):
        return "V2"
    if "products" in h5file and isinstance(h5file["products"], h5py.Group) and version is not None:
        return "V2"
    events = h5file.get("events")
    if isinstance(events, h5py.Dataset) and events.dtype.names:
        return "V1"
    return "unknown"


def attr_text(value: Any) -> str:
    """Return an attribute value as short text (bytes decoded)."""
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def human_bytes(count: int) -> str:
    """Return a byte count as ``812 B``, ``4.2 kB``, ``13.5 MB``..."""
    size = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"  # pragma: no cover


def storage_size(obj: h5py.Group | h5py.Dataset) -> int:
    """Return the bytes a dataset (or every dataset under a group) occupies on disk."""
    if isinstance(obj, h5py.Dataset):
        return int(obj.id.get_storage_size())
    return sum(storage_size(child) for child in obj.values())


def _main_dataset(obj: h5py.Group | h5py.Dataset) -> h5py.Dataset | None:
    """Return the dataset holding a product's values (``elements``/``element_0`` of a group)."""
    if isinstance(obj, h5py.Dataset):
        return obj
    for name in ("elements", "element_0", "fixed", "values"):
        child = obj.get(name)
        if isinstance(child, h5py.Dataset):
            return child
    return None


def compression_text(dataset: h5py.Dataset | None) -> str:
    """Return ``none``, ``gzip(4)``, ``lzf+shuffle``..."""
    if dataset is None or dataset.compression is None:
        return "none"
    text = dataset.compression
    if dataset.compression_opts is not None:
        text += f"({dataset.compression_opts})"
    if dataset.shuffle:
        text += "+shuffle"
    return text


def chunks_text(dataset: h5py.Dataset | None) -> str:
    """Return the chunk shape as ``1024`` or ``512x3``, or ``contiguous``."""
    if dataset is None:
        return "-"
    if dataset.chunks is None:
        return "contiguous"
    return "x".join(str(size) for size in dataset.chunks)


def has_vlen(dataset: h5py.Dataset | None) -> bool:
    """Return whether a dataset stores variable-length data (kept in the global heap)."""
    if dataset is None:
        return False
    dtypes = [dataset.dtype[name] for name in dataset.dtype.names] if dataset.dtype.names else [dataset.dtype]
    return any(h5py.check_vlen_dtype(dt) is not None or h5py.check_string_dtype(dt) is not None for dt in dtypes)


# -- summary ---------------------------------------------------------------------------------------


@attrs.define
class ProductSummary:
    """One product of a file.

    Attributes
    ----------
    key : str
        Root object name.
    kind : str
        One of the kinds of this module.
    class_name : str or None
        Object class, for object products.
    columns : int or None
        Compound columns, for object products.
    rows : int
        Rows of the values dataset (objects, array rows, list elements).
    lists : int or None
        Arrays stored, for flat and jagged lists (index rows).
    dtype : str
        Element dtype and width, e.g. ``float32 x3``.
    nbytes : int
        Bytes on disk (vlen payloads excluded: they live in the global heap).
    compression : str
        Compression of the values dataset.
    chunks : str
        Chunk shape of the values dataset.
    vlen : bool
        Whether the product has variable-length data (strings, vlen columns).
    """

    key: str
    kind: str
    class_name: str | None
    columns: int | None
    rows: int
    lists: int | None
    dtype: str
    nbytes: int
    compression: str
    chunks: str
    vlen: bool


@attrs.define
class FileSummary:
    """What :func:`summarize` reports about a file.

    Attributes
    ----------
    path : str
        File path.
    file_size : int
        File size in bytes.
    layout : str
        ``V1``, ``V2`` or ``unknown``.
    entries : int or None
        Rows of ``events``.
    complete : bool or None
        ``info.complete`` (None when absent).
    provenance : dict
        Writer-related ``info`` attributes as text.
    cfg : str or None
        The stored YAML configuration.
    products : list of ProductSummary
        One per product, sorted by key.
    extra_root : list of str
        Root objects that are neither ``info``, ``events`` nor an event product.
    """

    path: str
    file_size: int
    layout: str
    entries: int | None
    complete: bool | None
    provenance: dict[str, str]
    cfg: str | None
    products: list[ProductSummary]
    extra_root: list[str]


def _dtype_text(dataset: h5py.Dataset | None) -> str:
    if dataset is None:
        return "-"
    if dataset.dtype.names:
        return f"compound({len(dataset.dtype.names)})"
    base = "str" if h5py.check_string_dtype(dataset.dtype) is not None else str(dataset.dtype)
    if h5py.check_ref_dtype(dataset.dtype) is not None:
        base = "regionref"
    return f"{base} x{dataset.shape[1]}" if dataset.ndim == 2 else base


def _summarize_v1(key: str, obj: h5py.Group | h5py.Dataset) -> ProductSummary:
    kind = product_kind(obj)
    values = _main_dataset(obj)
    class_name = obj.attrs.get("class_name") if isinstance(obj, h5py.Dataset) else None
    lists = None
    if isinstance(obj, h5py.Group) and isinstance(obj.get("index"), h5py.Dataset):
        index = obj["index"]
        lists = int(index.shape[0] * (index.shape[1] if index.ndim == 2 else 1))
    if kind == JAGGED:
        rows = sum(ds.shape[0] for name, ds in obj.items() if name.startswith("element_"))
    else:
        rows = int(values.shape[0]) if values is not None else 0
    return ProductSummary(
        key=key,
        kind=kind,
        class_name=attr_text(class_name) if class_name is not None else None,
        columns=len(values.dtype.names) if values is not None and values.dtype.names else None,
        rows=rows,
        lists=lists,
        dtype=_dtype_text(values),
        nbytes=storage_size(obj),
        compression=compression_text(values),
        chunks=chunks_text(values),
        vlen=has_vlen(values),
    )


#: spineh5 kind of each V2 ``kind`` attribute: (kind when scalar=False, kind when scalar=True).
V2_KINDS = {
    "objects": (OBJECTS, OBJECT),
    "array": (ARRAY, SCALAR),
    "string": (SCALAR, SCALAR),
    "list": (FLAT, FLAT),
    "multi_list": (JAGGED, JAGGED),
}
#: Prefix of the helper columns of a V2 ``fixed`` dataset that index its pools.
VAR_OFFSETS = "_var_offsets_"


def v2_kind(group: h5py.Group) -> str:
    """Return the kind of a V2 product group (scalar, array, object, objects, flat list, jagged list)."""
    kind = attr_text(group.attrs.get("kind", UNKNOWN))
    scalar = truthy(group.attrs.get("scalar", False))
    pair = V2_KINDS.get(kind)
    return pair[scalar] if pair else kind


def _elements(group: h5py.Group) -> list[h5py.Group]:
    """Return the ``element_<j>`` subgroups of a V2 multi_list group, by position."""
    found = []
    for name, node in group.items():
        if name.startswith("element_") and isinstance(node, h5py.Group):
            try:
                found.append((int(name.rsplit("_", 1)[-1]), node))
            except ValueError:
                continue
    return [node for _, node in sorted(found, key=lambda item: item[0])]


def _pools(group: h5py.Group) -> list[tuple[str, str, list[str], h5py.Dataset | None]]:
    """Return ``(name, kind, fields, values)`` of each pool of a V2 objects group (unreadable fields: [])."""
    variables = group.get("variables")
    out = []
    if not isinstance(variables, h5py.Group):
        return out
    for name, node in sorted(variables.items()):
        if not isinstance(node, h5py.Group):
            continue
        try:
            fields = yaml.safe_load(attr_text(node.attrs.get("fields", "[]")))
        except yaml.YAMLError:
            fields = []
        values = node.get("values")
        out.append(
            (
                name,
                attr_text(node.attrs.get("kind", "?")),
                [str(field) for field in fields] if isinstance(fields, list) else [],
                values if isinstance(values, h5py.Dataset) else None,
            )
        )
    return out


def v2_columns(group: h5py.Group) -> np.dtype | None:
    """Return the logical compound of a V2 objects group: its fixed columns, then the pool fields (str/vlen)."""
    fixed = group.get("fixed")
    if not isinstance(fixed, h5py.Dataset) or not fixed.dtype.names:
        return None
    columns: dict[str, Any] = {
        name: fixed.dtype[name] for name in fixed.dtype.names if not name.startswith(VAR_OFFSETS)
    }
    for _, kind, fields, values in _pools(group):
        for field in fields:
            if kind == "string":
                columns.setdefault(field, h5py.string_dtype())
            elif values is not None:
                columns.setdefault(field, h5py.vlen_dtype(values.dtype))
    return np.dtype(list(columns.items()))


def _summarize_v2(key: str, group: h5py.Group) -> ProductSummary:
    kind_attr = attr_text(group.attrs.get("kind", "?"))
    kind = v2_kind(group)
    values = _main_dataset(group)
    class_name = group.attrs.get("class_name")
    lists = None
    dtype = _dtype_text(values)
    rows = int(values.shape[0]) if values is not None else 0
    columns = None
    if kind_attr == "objects":
        logical = v2_columns(group)
        columns = len(logical.names) if logical is not None else None
    elif kind_attr == "list" and isinstance(group.get("element_offsets"), h5py.Dataset):
        lists = max(int(group["element_offsets"].shape[0]) - 1, 0)
    elif kind_attr == "multi_list":
        elements = _elements(group)
        rows = sum(int(element["values"].shape[0]) for element in elements if "values" in element)
        entries = [element["event_offsets"].shape[0] - 1 for element in elements if "event_offsets" in element]
        lists = int(sum(max(count, 0) for count in entries))
        values = elements[0].get("values") if elements else None
        dtype = _dtype_text(values) if values is not None else "-"
    elif kind_attr == "string":
        offsets = group.get("event_offsets")
        rows = max(int(offsets.shape[0]) - 1, 0) if isinstance(offsets, h5py.Dataset) else 0
        dtype = "str"
    return ProductSummary(
        key=key,
        kind=kind,
        class_name=attr_text(class_name) if class_name is not None else None,
        columns=columns,
        rows=rows,
        lists=lists,
        dtype=dtype,
        nbytes=storage_size(group),
        compression=compression_text(values),
        chunks=chunks_text(values),
        vlen=False,
    )


def product_keys(h5file: h5py.File) -> list[str]:
    """Return the products of a file: V1 ``events`` fields, or the product groups under V2 ``products``."""
    if layout_of(h5file) == "V2":
        group = h5file.get("products")
        if not isinstance(group, h5py.Group):
            return []
        return sorted(name for name, node in group.items() if isinstance(node, h5py.Group))
    return event_keys(h5file)


def event_keys(h5file: h5py.File) -> list[str]:
    """Return the field names of the V1 ``events`` table (empty if there is none)."""
    events = h5file.get("events")
    if isinstance(events, h5py.Dataset) and events.dtype.names:
        return list(events.dtype.names)
    return []


def summarize(h5file: h5py.File) -> FileSummary:
    """Describe an open file: entries, completeness, provenance, config and products."""
    layout = layout_of(h5file)
    info = h5file.get("info")
    info_attrs = dict(info.attrs) if info is not None else {}
    events = h5file.get("events")
    entries = int(events.shape[0]) if isinstance(events, h5py.Dataset) and events.ndim >= 1 else None
    complete = truthy(info_attrs["complete"]) if "complete" in info_attrs else None
    cfg = info_attrs.get("cfg")
    products: list[ProductSummary] = []
    extra: list[str] = []
    if layout == "V2":
        group = h5file.get("products")
        extra = sorted(set(h5file) - {"info", "events", "products"})
        if isinstance(group, h5py.Group):
            products = [_summarize_v2(key, group[key]) for key in sorted(group) if isinstance(group[key], h5py.Group)]
            extra += [f"products/{key}" for key in sorted(group) if not isinstance(group[key], h5py.Group)]
    else:
        keys = event_keys(h5file)
        products = [_summarize_v1(key, h5file[key]) for key in sorted(keys) if key in h5file]
        extra = sorted(set(h5file) - {"info", "events"} - set(keys))
    return FileSummary(
        path=h5file.filename,
        file_size=os.path.getsize(h5file.filename),
        layout=layout,
        entries=entries,
        complete=complete,
        provenance={name: attr_text(info_attrs[name]) for name in PROVENANCE_ATTRS if name in info_attrs},
        cfg=attr_text(cfg) if cfg is not None else None,
        products=products,
        extra_root=extra,
    )


def cfg_outline(cfg: str | None, width: int = 100) -> str:
    """Return a one-line outline of a YAML config: its sections and their keys."""
    if cfg is None:
        return "missing"
    try:
        data = yaml.safe_load(cfg)
    except yaml.YAMLError as err:
        return f"not valid YAML ({_first_line(err)})"
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
    layout = {"V1": "SPINE V1 (region references)", "V2": "SPINE V2 (offset tables)"}.get(
        summary.layout, "unknown (no V1 events table)"
    )
    lines = [
        f"file          {summary.path} ({human_bytes(summary.file_size)})",
        f"layout        {layout}",
        f"entries       {summary.entries if summary.entries is not None else '? (no events table)'}",
        f"complete      {_complete_text(summary.complete)}",
        f"writer        {_writer_text(prov)}",
    ]
    if "schema_version" in prov:
        lines.append(f"schema        version {prov['schema_version']}")
    if "format_version" in prov:
        lines.append(f"format        {prov.get('format', '?')} version {prov['format_version']}")
    lines.append(f"cfg           {cfg_outline(summary.cfg)}")
    lines.append("")
    lines.extend(_product_table(summary))
    if summary.extra_root:
        lines.append(f"not event products: {', '.join(summary.extra_root)}")
    return "\n".join(lines)


def _product_table(summary: FileSummary) -> list[str]:
    header = ("product", "kind", "class", "cols", "rows", "per entry", "dtype", "on disk", "compression", "chunks")
    rows = [header]
    total = 0
    for product in summary.products:
        per_entry = product.lists if product.lists is not None else product.rows
        total += product.nbytes
        rows.append(
            (
                product.key,
                product.kind,
                product.class_name or "-",
                str(product.columns) if product.columns is not None else "-",
                str(product.rows),
                f"{per_entry / summary.entries:.1f}" if summary.entries else "-",
                product.dtype,
                human_bytes(product.nbytes),
                product.compression,
                product.chunks,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.append(
        f"{len(summary.products)} products, {human_bytes(total)} in datasets; "
        f"{human_bytes(max(summary.file_size - total, 0))} in variable-length data and metadata"
    )
    lists = [p.key for p in summary.products if p.lists is not None]
    if lists:
        lines.append("per entry: rows per entry; for lists, arrays per entry")
    return lines


# -- one product ------------------------------------------------------------------------------------


def entry_row_counts(h5file: h5py.File, key: str) -> np.ndarray:
    """Return the rows each entry of a V1 file holds in ``key`` (index rows for lists)."""
    events = h5file["events"]
    refs = events.fields(key)[:] if events.shape[0] else np.empty(0, dtype=object)
    counts = np.zeros(len(refs), dtype=np.int64)
    for position, ref in enumerate(refs):
        if not ref:
            continue
        space = h5py.h5r.get_region(ref, h5file.id)
        count = space.get_select_npoints()
        width = space.shape[1] if len(space.shape) == 2 else 1
        counts[position] = count // max(width, 1)
    return counts


def _dtype_describe(dt: np.dtype) -> str:
    """Return a short description of one compound member dtype."""
    enum = h5py.check_enum_dtype(dt)
    if enum is not None:
        return f"enum<{dt}>"
    if h5py.check_string_dtype(dt) is not None:
        info = h5py.check_string_dtype(dt)
        return "str" if info.length is None else f"str[{info.length}]"
    vlen = h5py.check_vlen_dtype(dt)
    if vlen is not None:
        return f"vlen<{vlen}>"
    if dt.subdtype is not None:
        base, shape = dt.subdtype
        return f"{base}[{','.join(map(str, shape))}]"
    return str(dt)


def format_product(h5file: h5py.File, key: str) -> str:
    """Return the detailed description of one product (``spineh5 inspect PATH --key K``)."""
    if layout_of(h5file) == "V2":
        return _format_product_v2(h5file, key)
    obj = h5file[key]
    product = _summarize_v1(key, obj)
    lines = [
        f"product       {key}",
        f"kind          {product.kind}",
    ]
    if product.class_name:
        lines.append(f"class         {product.class_name}")
    attrs_text = ", ".join(f"{name}={attr_text(value)}" for name, value in obj.attrs.items())
    lines.append(f"attributes    {attrs_text or '-'}")
    lines.append(f"rows          {product.rows}" + (f" in {product.lists} arrays" if product.lists is not None else ""))
    if key in event_keys(h5file):
        counts = entry_row_counts(h5file, key)
        if counts.size:
            unit = "arrays" if product.lists is not None else "rows"
            lines.append(
                f"per entry     {unit}: min {counts.min()}, mean {counts.mean():.1f}, max {counts.max()}"
                f" over {counts.size} entries"
            )
    lines.append(f"on disk       {human_bytes(product.nbytes)}")
    lines.append(f"compression   {product.compression}; chunks {product.chunks}")
    if isinstance(obj, h5py.Group):
        for name, child in obj.items():
            lines.append(f"  {name:12s}{_dtype_text(child)} {tuple(child.shape)}")
    values = _main_dataset(obj)
    if values is not None and values.dtype.names:
        lines.append("")
        lines.extend(_column_table(values.dtype, product.class_name))
    elif values is not None:
        lines.append(f"dtype         {_dtype_text(values)}, shape {tuple(values.shape)}")
    return "\n".join(lines)


def _column_table(dtype: np.dtype, class_name: str | None) -> list[str]:
    cls = REGISTRY.get(class_name or "")
    schema = {column.name: column for column in cls.COLUMNS} if cls else {}
    rows = [("column", "on disk", "schema", "units")]
    for name in dtype.names:
        column = schema.get(name)
        rows.append(
            (
                name,
                _dtype_describe(dtype[name]),
                column.describe() if column else "(not in schema)",
                (column.units or "") if column else "",
            )
        )
    missing = [name for name in schema if name not in dtype.names]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    if missing:
        lines.append(f"schema columns not in the file: {', '.join(missing)}")
    return lines


def _counts_text(counts: np.ndarray, unit: str) -> str:
    return (
        f"per entry     {unit}: min {counts.min()}, mean {counts.mean():.1f}, max {counts.max()} "
        f"over {counts.size} entries"
    )


def _dataset_line(name: str, dataset: h5py.Dataset, width: int) -> str:
    return (
        f"  {name.ljust(width)}  {_dtype_text(dataset)} {tuple(dataset.shape)}, chunks {chunks_text(dataset)}, "
        f"{compression_text(dataset)}"
    )


def _format_product_v2(h5file: h5py.File, key: str) -> str:
    group = h5file["products"][key]
    product = _summarize_v2(key, group)
    kind_attr = attr_text(group.attrs.get("kind", "?"))
    lines = [
        f"product       {key}  (/products/{key})",
        f"kind          {product.kind} (V2 kind={kind_attr})",
    ]
    if product.class_name:
        lines.append(f"class         {product.class_name}")
    attrs_text = ", ".join(
        f"{name}={attr_text(value)!r}" if isinstance(value, (str, bytes)) else f"{name}={attr_text(value)}"
        for name, value in sorted(group.attrs.items())
    )
    lines.append(f"attributes    {attrs_text or '-'}")
    unit = {FLAT: "arrays", JAGGED: "rows of element_0"}.get(product.kind, "bytes" if kind_attr == "string" else "rows")
    lines.append(f"rows          {product.rows}" + (f" in {product.lists} arrays" if kind_attr == "list" else ""))
    offsets = group.get("event_offsets")
    if kind_attr == "multi_list":
        elements = _elements(group)
        offsets = elements[0].get("event_offsets") if elements else None
    if isinstance(offsets, h5py.Dataset) and offsets.ndim == 1 and offsets.shape[0] > 1:
        lines.append(_counts_text(np.diff(offsets[()].astype(np.int64)), unit))
    lines.append(f"on disk       {human_bytes(product.nbytes)}")
    datasets: list[tuple[str, h5py.Dataset]] = []
    group.visititems(lambda name, node: datasets.append((name, node)) if isinstance(node, h5py.Dataset) else None)
    width = max((len(name) for name, _ in datasets), default=0)
    lines.append("datasets")
    lines.extend(_dataset_line(name, dataset, width) for name, dataset in datasets)
    pools = _pools(group)
    if pools:
        lines.append("pools")
        for name, kind, fields, values in pools:
            base = "utf-8" if kind == "string" else (str(values.dtype) if values is not None else "?")
            count = values.shape[0] if values is not None else 0
            lines.append(f"  {name}  {kind} {base}, {count} values: {', '.join(fields)}")
    logical = v2_columns(group) if kind_attr == "objects" else None
    if logical is not None:
        lines.append("")
        lines.extend(_column_table(logical, product.class_name))
    return "\n".join(lines)


# -- one entry --------------------------------------------------------------------------------------


#: The V2 read layout of each open file inspected (built once per file).
_V2_LAYOUTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _v2_layout(h5file: h5py.File) -> Any:
    layout = _V2_LAYOUTS.get(h5file)
    if layout is None:
        from ..layouts.v2_read import V2ReadLayout

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # members that are not products are shown by the summary
            layout = _V2_LAYOUTS[h5file] = V2ReadLayout(h5file, h5file.filename)
    return layout


def read_entry(h5file: h5py.File, key: str, entry: int) -> Any:
    """Decode one product of one entry, through its V1 region reference or its V2 offsets.

    Returns
    -------
    Any
        A scalar, an array, a structured array of object rows (V2: the fixed
        columns and the pool fields), or a list of arrays (flat and jagged
        lists), as SPINE's reader would see them.
    """
    if layout_of(h5file) == "V2":
        value = _v2_layout(h5file).read_raw(entry, key)
        if kind_of(h5file, key) == OBJECT:
            return value[0]
        return value
    ref = h5file["events"][entry][key]
    obj = h5file[key]
    if isinstance(obj, h5py.Group):
        index = obj["index"]
        refs = index[ref]
        if index.ndim == 2:
            refs = refs.reshape(-1)
            return [_read_region(obj[f"element_{i}"], r) for i, r in enumerate(refs)]
        return [_read_region(obj["elements"], r) for r in refs.reshape(-1)]
    values = _read_region(obj, ref)
    if truthy(obj.attrs.get("scalar", False)):
        return values[0]
    return values


def _read_region(dataset: h5py.Dataset, ref: Any) -> np.ndarray:
    values = dataset[ref]
    if dataset.ndim == 2:
        values = values.reshape(-1, dataset.shape[1])
    return values


def _array_text(value: np.ndarray, indent: str = "") -> str:
    head = f"{value.dtype} {tuple(value.shape)}"
    if value.size == 0:
        return f"{head} []"
    body = np.array2string(value, threshold=12, edgeitems=3, max_line_width=100, precision=4, separator=" ")
    if "\n" in body:
        body = body.replace("\n", "\n" + indent + "  ")
        return f"{head}\n{indent}  {body}"
    return f"{head} {body}"


def _scalar_text(value: Any, enum: type | None = None) -> str:
    if isinstance(value, (bytes, np.bytes_)):
        return repr(bytes(value).decode("utf-8", "replace"))
    if isinstance(value, str):
        return repr(value)
    if enum is not None:
        try:
            return f"{enum(int(value)).name} ({int(value)})"
        except ValueError:
            return f"{int(value)} (not a {enum.__name__} value)"
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _value_text(value: Any, enum: type | None = None, indent: str = "") -> str:
    if isinstance(value, np.ndarray):
        return _array_text(value, indent)
    return _scalar_text(value, enum)


def _object_lines(key: str, rows: np.ndarray, class_name: str) -> Iterator[str]:
    cls = REGISTRY.get(class_name)
    columns = {column.name: column for column in cls.COLUMNS} if cls else {}
    width = max(len(name) for name in rows.dtype.names)
    for position, row in enumerate(rows):
        yield f"{key}[{position}]  {class_name}"
        instance_units = attr_text(row["units"]) if "units" in rows.dtype.names else ""
        for name in rows.dtype.names:
            column = columns.get(name)
            text = _value_text(row[name], column.enum if column else None, indent="  " + " " * (width + 2))
            units = (instance_units if column.units == "instance" else column.units) if column else None
            if units and "\n" not in text:
                text += f"  {units}"
            yield f"  {name.ljust(width)}  {text}"


def _product_node(h5file: h5py.File, key: str) -> h5py.Group | h5py.Dataset:
    return h5file["products"][key] if layout_of(h5file) == "V2" else h5file[key]


def kind_of(h5file: h5py.File, key: str) -> str:
    """Return the kind of a product of either layout."""
    node = _product_node(h5file, key)
    return v2_kind(node) if layout_of(h5file) == "V2" else product_kind(node)


def _class_of(h5file: h5py.File, key: str) -> str:
    return attr_text(_product_node(h5file, key).attrs.get("class_name", "?"))


def format_entry(h5file: h5py.File, key: str, entry: int) -> str:
    """Return the readable content of one product of one entry (``--entry N --key K``)."""
    value = read_entry(h5file, key, entry)
    kind = kind_of(h5file, key)
    header = f"{key}  entry {entry}  ({kind})"
    if kind in (OBJECT, OBJECTS):
        class_name = _class_of(h5file, key)
        rows = np.atleast_1d(value)
        header += f"  {len(rows)} {class_name}"
        return "\n".join([header, *_object_lines(key, rows, class_name)])
    if kind in (FLAT, JAGGED):
        lines = [f"{header}  {len(value)} arrays"]
        lines.extend(f"  [{i}] {_array_text(array, '    ')}" for i, array in enumerate(value))
        return "\n".join(lines)
    return f"{header}\n  {_value_text(value, indent='  ')}"


def _entry_line(h5file: h5py.File, key: str, entry: int) -> str:
    value = read_entry(h5file, key, entry)
    kind = kind_of(h5file, key)
    if kind == OBJECT:
        return f"1 {_class_of(h5file, key)}"
    if kind == OBJECTS:
        return f"{len(value)} {_class_of(h5file, key)}"
    if kind in (FLAT, JAGGED):
        sizes = [len(array) for array in value]
        return f"{len(value)} arrays, {sum(sizes)} values"
    if kind == SCALAR:
        return _scalar_text(value)
    return f"{value.dtype} {tuple(value.shape)}"


def format_entry_overview(h5file: h5py.File, entry: int) -> str:
    """Return one line per product of one entry (``--entry N`` without ``--key``)."""
    keys = sorted(product_keys(h5file))
    lines = [f"entry {entry} of {h5file['events'].shape[0]}"]
    width = max((len(key) for key in keys), default=0)
    for key in keys:
        kind = kind_of(h5file, key)
        lines.append(f"  {key.ljust(width)}  {kind.ljust(11)}  {_entry_line(h5file, key, entry)}")
    return "\n".join(lines)
