"""Which view describes a file: its layout from the registry, and the view module of that layout.

A file's layout is told by :func:`spineh5.layouts.detect` (SPINE's rule on
``info.format_version``, the rule of the reader, ``validate`` and
``convert``). Each layout of :data:`spineh5.layouts.REGISTRY` has a view
module here (:mod:`.v1`, :mod:`.v2`) that lists, summarizes and details its
products. A file of no supported layout is shown through the view of the
default layout (its root objects, as SPINE would try to read it).
"""

from __future__ import annotations

from types import ModuleType

import h5py

from ..format.common import DEFAULT_FORMAT_VERSION
from ..layouts import REGISTRY, LayoutEntry, detect
from . import v1, v2

__all__ = [
    "UNKNOWN_LAYOUT",
    "VIEWS",
    "file_layout",
    "format_product",
    "layout_name",
    "layout_of",
    "product_keys",
    "view_for",
    "view_of",
]

#: The view module of each layout of the registry, by ``format_version``.
VIEWS: dict[int, ModuleType] = {1: v1, 2: v2}
#: ``layout_of`` a file whose layout is not in the registry.
UNKNOWN_LAYOUT = "unknown"

if set(VIEWS) != set(REGISTRY):  # pragma: no cover - a layout added to the registry needs its view
    raise ImportError(f"spineh5.describe has views of layouts {sorted(VIEWS)}, the registry has {sorted(REGISTRY)}")


def file_layout(h5file: h5py.File) -> tuple[LayoutEntry | None, str]:
    """Return the registry entry of a file's layout (None when not supported) and what decided it."""
    return detect(h5file)


def layout_name(entry: LayoutEntry | None) -> str:
    """Return the short name of a layout (``"V1"``, ``"V2"``), ``"unknown"`` for None (not supported)."""
    return entry.name if entry is not None else UNKNOWN_LAYOUT


def layout_of(h5file: h5py.File) -> str:
    """Return the short name of a file's layout (:func:`layout_name` of :func:`file_layout`)."""
    return layout_name(file_layout(h5file)[0])


def view_for(entry: LayoutEntry | None) -> ModuleType:
    """Return the view module of a layout (the default layout's for None)."""
    return VIEWS[entry.version if entry is not None else DEFAULT_FORMAT_VERSION]


def view_of(h5file: h5py.File) -> ModuleType:
    """Return the view module that describes a file's products."""
    return view_for(file_layout(h5file)[0])


def product_keys(h5file: h5py.File) -> list[str]:
    """Return the products of a file: V1 ``events`` fields, or the product groups under V2 ``products``."""
    return view_of(h5file).product_keys(h5file)


def format_product(h5file: h5py.File, key: str) -> str:
    """Return the detailed description of one product (``spineh5 inspect PATH --key K``)."""
    return view_of(h5file).format_product(h5file, key)
