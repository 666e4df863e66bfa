"""The on-disk layouts spineh5 writes and reads, behind one small interface.

A layout class is constructed on an open ``h5py.File`` and offers:

* ``create(specs, info, options)``: create ``info``, the products and ``events``;
* ``stored_keys()``, ``entry_count()``, ``stored_spec(key)``: what a file holds;
* ``differences(specs)``: why a file cannot take data of these specs (append);
* ``append(payloads, n_entries)``: append a validated batch, all or nothing;
* ``info_attrs()`` (class method): the extra ``info`` attributes of the layout.
"""

from __future__ import annotations

import h5py

from ..format.common import detect_layout
from .v1_write import V1Layout
from .v2_write import V2Layout

#: Layout class of each supported ``format_version``.
LAYOUTS: dict[int, type] = {1: V1Layout, 2: V2Layout}


def layout_class(format_version: object) -> type:
    """Return the layout class of a ``format_version``; refuse anything but a supported int.

    Raises
    ------
    ValueError
        For an unsupported version, including ``"2"`` (a string) or ``2.5``.
    """
    if type(format_version) is not int or format_version not in LAYOUTS:
        raise ValueError(f"format_version must be one of the integers {sorted(LAYOUTS)}, got {format_version!r}")
    return LAYOUTS[format_version]


def file_format_version(h5file: h5py.File) -> int:
    """Return the ``format_version`` of an open file (:func:`spineh5.format.common.detect_layout`; -1 if not an int)."""
    version, _ = detect_layout(h5file)
    return -1 if version is None else version
