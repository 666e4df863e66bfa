"""What a SPINE HDF5 file holds, read with h5py alone: the logic behind ``spineh5 inspect``.

Three views, each a plain function returning text:

* :func:`format_summary` of :func:`summarize`: entries, completeness, writer,
  config and one line per product (kind, class, columns, rows, bytes on disk,
  compression, chunks);
* :func:`format_product`: one product in detail (its columns on disk next to
  the schema's, rows per entry);
* :func:`format_entry` / :func:`format_entry_overview`: the content of one
  product (or every product) of one entry, decoded from the V1 region
  references.

Nothing here uses the writer or the reader, so it also works on files neither
would accept.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import attrs
import h5py
import numpy as np
import yaml

from .generated import REGISTRY

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


class FileOpenError(Exception):
    """A path is not a readable HDF5 file; the message is a one-line reason."""


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


def _summarize_v2(key: str, group: h5py.Group) -> ProductSummary:
    kind_attr = attr_text(group.attrs.get("kind", "?"))
    scalar = truthy(group.attrs.get("scalar", False))
    kinds = {"objects": OBJECT if scalar else OBJECTS, "array": SCALAR if scalar else ARRAY, "list": FLAT}
    values = _main_dataset(group)
    class_name = group.attrs.get("class_name")
    lists = None
    if "element_offsets" in group:
        lists = max(int(group["element_offsets"].shape[0]) - 1, 0)
    return ProductSummary(
        key=key,
        kind=kinds.get(kind_attr, kind_attr),
        class_name=attr_text(class_name) if class_name is not None else None,
        columns=len(values.dtype.names) if values is not None and values.dtype.names else None,
        rows=int(values.shape[0]) if values is not None else 0,
        lists=lists,
        dtype=_dtype_text(values),
        nbytes=storage_size(group),
        compression=compression_text(values),
        chunks=chunks_text(values),
        vlen=False,
    )


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
        if isinstance(group, h5py.Group):
            products = [_summarize_v2(key, group[key]) for key in sorted(group) if isinstance(group[key], h5py.Group)]
        extra = sorted(set(h5file) - {"info", "events", "products"})
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


# -- one entry --------------------------------------------------------------------------------------


def read_entry(h5file: h5py.File, key: str, entry: int) -> Any:
    """Decode one product of one entry of a V1 file through its region reference.

    Returns
    -------
    Any
        A scalar, an array, a structured array of object rows, or a list of
        arrays (flat and jagged lists), as SPINE's reader would see them.
    """
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


def format_entry(h5file: h5py.File, key: str, entry: int) -> str:
    """Return the readable content of one product of one entry (``--entry N --key K``)."""
    value = read_entry(h5file, key, entry)
    obj = h5file[key]
    kind = product_kind(obj)
    header = f"{key}  entry {entry}  ({kind})"
    if kind in (OBJECT, OBJECTS):
        class_name = attr_text(obj.attrs.get("class_name", "?"))
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
    obj = h5file[key]
    kind = product_kind(obj)
    if kind == OBJECT:
        return f"1 {attr_text(obj.attrs.get('class_name', '?'))}"
    if kind == OBJECTS:
        return f"{len(value)} {attr_text(obj.attrs.get('class_name', '?'))}"
    if kind in (FLAT, JAGGED):
        sizes = [len(array) for array in value]
        return f"{len(value)} arrays, {sum(sizes)} values"
    if kind == SCALAR:
        return _scalar_text(value)
    return f"{value.dtype} {tuple(value.shape)}"


def format_entry_overview(h5file: h5py.File, entry: int) -> str:
    """Return one line per product of one entry (``--entry N`` without ``--key``)."""
    keys = sorted(event_keys(h5file))
    lines = [f"entry {entry} of {h5file['events'].shape[0]}"]
    width = max((len(key) for key in keys), default=0)
    for key in keys:
        kind = product_kind(h5file[key])
        lines.append(f"  {key.ljust(width)}  {kind.ljust(11)}  {_entry_line(h5file, key, entry)}")
    return "\n".join(lines)
