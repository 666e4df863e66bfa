"""The on-disk layouts spineh5 writes and reads, behind one registry.

:data:`REGISTRY` holds one :class:`LayoutEntry` per supported
``format_version``: its write layout and its read layout. Everything that
depends on the layout (the writer, the reader, ``convert``, the CLI's
choices) asks the registry; adding a layout is adding an entry.

A write layout (:class:`~spineh5.layouts.base.WriteLayout`) is constructed on
an open ``h5py.File`` and offers:

* ``create(specs, info, options)``: create ``info``, the products and ``events``;
* ``stored_keys()``, ``entry_count()``, ``stored_spec(key)``: what a file holds;
* ``differences(specs)``: why a file cannot take data of these specs (append);
* ``append(payloads, n_entries)``: append a validated batch, all or nothing;
* ``mark_complete(complete)``: set ``info.complete``;
* ``info_attrs()`` (class method): the extra ``info`` attributes of the layout.

A read layout (:class:`~spineh5.layouts.base.ReadLayout`) is constructed on an
open file and its path, and decodes entries for :class:`spineh5.reader.HDF5Reader`.
"""

from __future__ import annotations

from typing import Any

import attrs
import h5py

from ..errors import SpineFileError
from ..format.common import LayoutDetection, detect_layout, layout_from_info
from .base import ReadLayout, WriteLayout
from .v1_read import V1ReadLayout
from .v1_write import V1Layout
from .v2_read import V2ReadLayout
from .v2_write import V2Layout

__all__ = [
    "REGISTRY",
    "LayoutEntry",
    "ReadLayout",
    "WriteLayout",
    "detect",
    "file_format_version",
    "layout_class",
    "layout_problem",
    "read_layout",
]


@attrs.frozen
class LayoutEntry:
    """One supported on-disk layout.

    Attributes
    ----------
    version : int
        Its ``info.format_version``.
    name : str
        Short name (``V1``, ``V2``).
    storage : str
        How entries point to their rows, for people (``region references``).
    writer : type
        Its write layout class.
    reader : type
        Its read layout class.
    """

    version: int
    name: str
    storage: str
    writer: type
    reader: type

    @property
    def title(self) -> str:
        """Return the one-line description of the layout (``SPINE V1 (region references)``)."""
        return f"SPINE {self.name} ({self.storage})"


#: Every supported layout, by ``format_version``.
REGISTRY: dict[int, LayoutEntry] = {
    1: LayoutEntry(1, "V1", "region references", V1Layout, V1ReadLayout),
    2: LayoutEntry(2, "V2", "offset tables", V2Layout, V2ReadLayout),
}


def layout_class(format_version: object) -> type:
    """Return the write layout class of a ``format_version``; refuse anything but a supported int.

    Raises
    ------
    ValueError
        For an unsupported version, including ``"2"`` (a string) or ``2.5``.
    """
    if type(format_version) is not int or format_version not in REGISTRY:
        raise ValueError(f"format_version must be one of the integers {sorted(REGISTRY)}, got {format_version!r}")
    return REGISTRY[format_version].writer


def layout_problem(detection: LayoutDetection) -> str | None:
    """Return why a detected layout cannot be read or written (None when it is in :data:`REGISTRY`)."""
    if detection.version is None:
        return detection.reason
    if detection.version not in REGISTRY:
        supported = ", ".join(map(str, sorted(REGISTRY)))
        return f"format_version {detection.version} is not supported by this reader (supported: {supported})"
    return None


def detect(h5file: h5py.File) -> tuple[LayoutEntry | None, str]:
    """Return the registry entry of an open file's layout (None if unsupported) and what decided it."""
    detection = detect_layout(h5file)
    problem = layout_problem(detection)
    return (None, problem) if problem else (REGISTRY[detection.version], detection.reason)


def file_format_version(h5file: h5py.File) -> int:
    """Return the ``format_version`` of an open file (:func:`spineh5.format.common.detect_layout`; -1 if not an int)."""
    version, _ = detect_layout(h5file)
    return -1 if version is None else version


def read_layout(h5file: h5py.File, path: str, info: dict[str, Any] | None = None) -> ReadLayout:
    """Return the read layout of an open file, chosen by its ``info.format_version``.

    Parameters
    ----------
    h5file : h5py.File
        The open file.
    path : str
        Its path, for messages.
    info : dict, optional
        Its :func:`~spineh5.format.common.read_info` attributes when the
        caller has them (else ``info.format_version`` is read).

    Raises
    ------
    SpineFileError
        When the version is not an integer or not supported.
    """
    detection = layout_from_info(info) if info is not None else detect_layout(h5file)
    problem = layout_problem(detection)
    if problem is not None:
        raise SpineFileError(problem, path)
    return REGISTRY[detection.version].reader(h5file, path)
