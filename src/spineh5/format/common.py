"""What SPINE's V1 and V2 layouts share on disk: ``info``, ``events``, attribute values, the layout version.

References: ``docs/format/spine-v1-format.md`` sections 2.1-2.3 and 3.4
(layout detection), ``docs/format/spine-v2-format.md`` sections 1.1-1.3.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NamedTuple

import h5py
import numpy as np

from ..errors import SpineFileError

#: Root group (V1 and V2) holding the file's provenance attributes.
INFO = "info"
#: Root dataset (V1 and V2) whose length is the entry count.
EVENTS = "events"
#: ``info`` attribute naming the layout; absent means 1 (V1 section 3.4, V2 section 1.2).
FORMAT_VERSION = "format_version"
#: ``info`` attribute set False at creation and on append, True when the writer finishes.
COMPLETE = "complete"
#: ``info`` attribute holding the schema version the file was written with (spineh5 files).
SCHEMA_VERSION = "schema_version"
#: Attribute of V1 product datasets/groups and V2 product groups: one value (object) per entry.
SCALAR = "scalar"
#: Attribute naming the class of object products.
CLASS_NAME = "class_name"
#: Layout version of a file that does not say (SPINE's rule).
DEFAULT_FORMAT_VERSION = 1
#: ``info`` attribute holding the configuration of the session that created the file (YAML text).
CFG = "cfg"
#: ``info`` attribute (spineh5's, SPINE's readers ignore it): JSON list of the later writing sessions whose
#: configuration differed, each ``{"first_entry", "time", "writer", "cfg"}`` (cfg as YAML text).
CFG_HISTORY = "cfg_history"


def element_name(position: int) -> str:
    """Return the name of position ``position`` of a jagged list (``element_<position>``: a V1 dataset, a V2 group)."""
    return f"element_{position}"


# -- attribute values ----------------------------------------------------------------------------------


def _decode(value: bytes, strict: bool) -> str:
    return value.decode("utf-8") if strict else value.decode("utf-8", errors="replace")


def attr_string(value: Any, strict: bool = False) -> str | None:
    """Return a string attribute value as ``str`` (variable- or fixed-length, str or bytes).

    Parameters
    ----------
    value : Any
        An attribute value as h5py returns it (None when absent).
    strict : bool, default False
        False: anything but a string gives None, and bytes that are not UTF-8
        are decoded with replacement characters. True: None stays None, bytes
        must be UTF-8 (:class:`UnicodeDecodeError` otherwise) and any other
        value raises :class:`TypeError`.
    """
    if isinstance(value, (str, np.str_)):
        return str(value)
    if isinstance(value, (bytes, np.bytes_)):
        return _decode(bytes(value), strict)
    if strict and value is not None:
        raise TypeError(f"expected a string attribute, got {type(value).__name__} {value!r}")
    return None


def plain_value(value: Any) -> Any:
    """Return an attribute value as a plain Python value: bytes decoded (lossy), numpy scalars unwrapped."""
    if isinstance(value, (bytes, np.bytes_)):
        return _decode(bytes(value), strict=False)
    if isinstance(value, np.generic):
        return value.item()
    return value


def attr_text(value: Any) -> str:
    """Return any attribute value as short text for display (bytes decoded, numpy scalars unwrapped)."""
    if isinstance(value, np.ndarray) and value.shape == ():
        return str(value.item())
    return str(plain_value(value))


def truthy(value: Any) -> bool:
    """Return the truth of an attribute value (bool, int or h5py's bool enum); False when it has none."""
    try:
        return bool(np.asarray(value).item())
    except (TypeError, ValueError):
        return False


def read_info(h5file: h5py.File, path: str, names: Sequence[str] | None = None) -> dict[str, Any] | None:
    """Return the attributes of a file's ``info`` group (or older ``info`` dataset) as plain values, or None.

    Parameters
    ----------
    h5file : h5py.File
        The open file.
    path : str
        Its path, for messages.
    names : sequence of str, optional
        Read only these attributes (those present); default every one. h5py reads an
        attribute in about 0.05 ms, so a reader opening a file reads only what opening needs.

    Raises
    ------
    SpineFileError
        When the attributes cannot be read.
    """
    node = h5file.get(INFO)
    if node is None:
        return None
    try:
        attributes = node.attrs
        if names is not None:
            return {name: plain_value(attributes[name]) for name in names if name in attributes}
        return {name: plain_value(attributes[name]) for name in attributes}
    except (OSError, RuntimeError, KeyError, ValueError, TypeError) as err:
        raise SpineFileError(f"'info' attributes cannot be read ({err})", path) from err


# -- layout version ------------------------------------------------------------------------------------


class LayoutDetection(NamedTuple):
    """The layout version of a file and what decided it.

    Attributes
    ----------
    version : int or None
        ``int(info.format_version)``, 1 when ``info`` or the attribute is
        absent, None when the value is not an integer (then ``reason`` says
        why). Whether the version is supported is the caller's question
        (:data:`spineh5.layouts.REGISTRY`).
    reason : str
        What decided, as text (``"info.format_version = 2"``, ...).
    """

    version: int | None
    reason: str


def layout_from_info(info: dict[str, Any] | None) -> LayoutDetection:
    """Return the layout of a file from its :func:`read_info` attributes, by SPINE's rule.

    SPINE's readers take ``int(info.attrs.get("format_version", 1))`` and treat
    a file without ``info`` as V1 (V1 spec section 3.4, V2 spec section 4.1);
    nothing else (a ``products`` group, the ``events`` dtype) decides.
    """
    if info is None:
        return LayoutDetection(DEFAULT_FORMAT_VERSION, f"no {INFO!r} group: format_version {DEFAULT_FORMAT_VERSION}")
    if FORMAT_VERSION not in info:
        return LayoutDetection(
            DEFAULT_FORMAT_VERSION, f"no {INFO}.{FORMAT_VERSION} attribute: format_version {DEFAULT_FORMAT_VERSION}"
        )
    raw = info[FORMAT_VERSION]
    try:
        version = int(raw)
    except (TypeError, ValueError):
        return LayoutDetection(None, f"{INFO}.{FORMAT_VERSION} {raw!r} is not an integer")
    return LayoutDetection(version, f"{INFO}.{FORMAT_VERSION} = {raw!r}")


def detect_layout(h5file: h5py.File) -> LayoutDetection:
    """Return the layout version of an open file and what decided it (:func:`layout_from_info`'s rule).

    Only ``info.format_version`` is read; an unreadable attribute counts as
    not an integer.
    """
    node = h5file.get(INFO)
    if node is None:
        return layout_from_info(None)
    try:
        if FORMAT_VERSION not in node.attrs:
            return layout_from_info({})
        raw = node.attrs[FORMAT_VERSION]
    except (OSError, RuntimeError, KeyError, ValueError, TypeError) as err:
        return LayoutDetection(None, f"{INFO}.{FORMAT_VERSION} cannot be read ({err})")
    return layout_from_info({FORMAT_VERSION: plain_value(raw)})


# -- configuration history -----------------------------------------------------------------------------


def cfg_history(info: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Return the writing sessions recorded in a file's ``info`` (as :func:`read_info` gives it), oldest first.

    The first session is the one that created the file (its ``cfg`` is ``info.cfg``; ``first_entry`` 0, ``time``
    None); the others are the appending sessions whose configuration differed, from ``info.cfg_history``.
    ``cfg`` is the YAML text as stored. An unreadable history is left out, never raised.
    """
    if not info:
        return []
    sessions = [{"first_entry": 0, "time": None, "writer": info.get("writer"), "cfg": info.get(CFG)}]
    text = info.get(CFG_HISTORY)
    try:
        later = json.loads(text) if isinstance(text, str) else []
    except ValueError:
        later = []
    if isinstance(later, list):
        sessions += [session for session in later if isinstance(session, dict) and "cfg" in session]
    return sessions
