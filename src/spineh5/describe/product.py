"""One product in a summary: :class:`ProductSummary`, the display text of kinds, and what a dataset costs on disk."""

from __future__ import annotations

import attrs
import h5py

from ..compression import filter_names
from ..format.common import element_name
from ..format.v1 import ELEMENTS
from ..format.v2 import FIXED, VALUES
from ..products import Kind
from .vlen import HeapBytes, heap_bytes

__all__ = [
    "KIND_TEXT",
    "ProductSummary",
    "chunks_text",
    "compression_text",
    "dtype_text",
    "has_vlen",
    "heap_size",
    "kind_text",
    "storage_size",
    "values_dataset",
]

#: How each kind is shown (``?`` for a product whose kind cannot be told).
KIND_TEXT: dict[Kind, str] = {
    Kind.GLOBAL_SCALAR: "scalar",
    Kind.SCALAR: "scalar",
    Kind.ARRAY: "array",
    Kind.OBJECT: "object",
    Kind.OBJECTS: "objects",
    Kind.FLAT: "flat list",
    Kind.JAGGED: "jagged list",
}
UNKNOWN_KIND = "?"


def kind_text(kind: Kind | None) -> str:
    """Return how a kind is shown: ``scalar``, ``array``, ``object``, ``objects``, ``flat list``, ``jagged list``."""
    return KIND_TEXT[kind] if kind is not None else UNKNOWN_KIND


@attrs.define
class ProductSummary:
    """One product of a file.

    Attributes
    ----------
    key : str
        Product name.
    kind : str
        Its kind as shown (:data:`KIND_TEXT`; a V2 ``kind`` attribute spineh5
        does not know is shown as stored).
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
        Bytes on disk: the storage of its datasets and its variable-length
        values in the global heap (:attr:`vlen_bytes`).
    compression : str
        Compression of the values dataset.
    chunks : str
        Chunk shape of the values dataset.
    vlen : bool
        Whether the product has variable-length data (strings, vlen columns).
    vlen_bytes : int
        The part of :attr:`nbytes` in the global heap (:func:`.vlen.heap_bytes`).
    vlen_estimated : bool
        Whether :attr:`vlen_bytes` was extrapolated from a sample of rows.
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
    vlen_bytes: int = 0
    vlen_estimated: bool = False


def heap_size(obj: h5py.Group | h5py.Dataset) -> HeapBytes:
    """Return the global-heap bytes of the variable-length values of a dataset (or every dataset under a group)."""
    if isinstance(obj, h5py.Dataset):
        return heap_bytes(obj)
    if not isinstance(obj, h5py.Group):  # a committed datatype (or what a damaged link names) holds no data
        return HeapBytes()
    return sum((heap_size(child) for child in obj.values()), HeapBytes())


def storage_size(obj: h5py.Group | h5py.Dataset) -> int:
    """Return the bytes the storage of a dataset (or every dataset under a group) occupies (global heap excluded)."""
    if isinstance(obj, h5py.Dataset):
        return int(obj.id.get_storage_size())
    if not isinstance(obj, h5py.Group):
        return 0
    return sum(storage_size(child) for child in obj.values())


def values_dataset(obj: h5py.Group | h5py.Dataset) -> h5py.Dataset | None:
    """Return the dataset holding a product's values: the dataset itself, or a group's first values dataset.

    For a group: V1 ``elements`` or ``element_0``, V2 ``fixed`` or ``values``.
    """
    if isinstance(obj, h5py.Dataset):
        return obj
    if not isinstance(obj, h5py.Group):  # a damaged link can name a committed datatype
        return None
    for name in (ELEMENTS, element_name(0), FIXED, VALUES):
        child = obj.get(name)
        if isinstance(child, h5py.Dataset):
            return child
    return None


def compression_text(dataset: h5py.Dataset | None) -> str:
    """Return ``none``, ``gzip(4)``, ``lzf+shuffle``, ``Blosc2-lz4``, ``gzip(4)+fletcher32``..."""
    if dataset is None:
        return "none"
    parts = []
    if dataset.compression in ("gzip", "lzf", "szip"):  # h5py says "unknown" for a plugin filter
        text = dataset.compression
        if dataset.compression_opts is not None:
            text += f"({dataset.compression_opts})"
        if dataset.shuffle:
            text += "+shuffle"
        parts.append(text)
    parts.extend(filter_names(dataset))  # plugin filters (Blosc2-lz4, Bitshuffle-zstd...), h5py names none of them
    if dataset.fletcher32:
        parts.append("fletcher32")
    return "+".join(parts) or "none"


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


def dtype_text(dataset: h5py.Dataset | None) -> str:
    """Return a dataset's element type in a table cell: ``compound(52)``, ``float32 x3``, ``str``, ``regionref``."""
    if dataset is None:
        return "-"
    if dataset.dtype.names:
        return f"compound({len(dataset.dtype.names)})"
    base = "str" if h5py.check_string_dtype(dataset.dtype) is not None else str(dataset.dtype)
    if h5py.check_ref_dtype(dataset.dtype) is not None:
        base = "regionref"
    return f"{base} x{dataset.shape[1]}" if dataset.ndim == 2 else base
