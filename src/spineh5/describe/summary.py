"""What a file holds at a glance: :class:`FileSummary` and :func:`summarize`."""

from __future__ import annotations

import os

import attrs
import h5py

from ..format.common import COMPLETE, EVENTS, FORMAT_VERSION, attr_text, read_info, truthy
from ..layouts import LayoutEntry
from .product import ProductSummary
from .views import UNKNOWN_LAYOUT, file_layout, layout_name, view_for

__all__ = ["PROVENANCE_ATTRS", "FileSummary", "summarize"]

#: Attributes of ``info`` shown as the file's provenance, in this order.
PROVENANCE_ATTRS = ("writer", "version", "spine_version", "format", FORMAT_VERSION, "schema_version")
#: The ``info`` attribute holding the YAML configuration.
_CFG = "cfg"


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
        ``V1``, ``V2`` or ``unknown`` (the registry's name of the layout).
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
    layout_title : str
        The layout in one line (``SPINE V1 (region references)``; for an
        unsupported layout, why).
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
    layout_title: str = UNKNOWN_LAYOUT


def _layout_title(entry: LayoutEntry | None, reason: str) -> str:
    return entry.title if entry is not None else f"{UNKNOWN_LAYOUT} ({reason})"


def summarize(h5file: h5py.File) -> FileSummary:
    """Describe an open file: layout, entries, completeness, provenance, config and products."""
    entry, reason = file_layout(h5file)
    info = read_info(h5file, h5file.filename) or {}
    events = h5file.get(EVENTS)
    products, extra = view_for(entry).summarize_products(h5file)
    cfg = info.get(_CFG)
    return FileSummary(
        path=h5file.filename,
        file_size=os.path.getsize(h5file.filename),
        layout=layout_name(entry),
        entries=int(events.shape[0]) if isinstance(events, h5py.Dataset) and events.ndim >= 1 else None,
        complete=truthy(info[COMPLETE]) if COMPLETE in info else None,
        provenance={name: attr_text(info[name]) for name in PROVENANCE_ATTRS if name in info},
        cfg=attr_text(cfg) if cfg is not None else None,
        products=products,
        extra_root=extra,
        layout_title=_layout_title(entry, reason),
    )
