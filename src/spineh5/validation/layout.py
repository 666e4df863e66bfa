"""Which layout a file is checked as: :func:`spineh5.format.common.detect_layout`'s, and what ``format_version`` says.

The layout comes from the registry (:func:`spineh5.layouts.detect`), by
SPINE's rule on ``info.format_version``. Two contract checks can overrule it,
because SPINE's readers would then fail on every entry and the file's content
tells what was meant: a file that does not state its version but holds only
the V2 ``products`` group is checked as V2 (``v2.format_version.missing``),
and a file stating 2 that holds only a V1 ``events`` table is checked as V1
(``info.format_version``). V1 spec section 3.4, V2 spec section 1.2.
"""

from __future__ import annotations

import h5py

from ..format.common import DEFAULT_FORMAT_VERSION, FORMAT_VERSION, INFO, attr_text
from ..format.v1 import event_keys
from ..format.v2 import PRODUCTS
from ..layouts import REGISTRY, LayoutEntry, detect
from .context import Context
from .rules import rule
from .text import as_int, describe_value

__all__ = ["checked_layout"]

INFO_FORMAT_VERSION = rule(
    "info.format_version", "info.format_version is neither absent nor 1 (V1) nor 2 with a products group (V2)"
)
V2_FORMAT_VERSION_TYPE = rule(
    "v2.format_version.type", "V2: info.format_version means 2 only through int() (not an integer 2)"
)
V2_FORMAT_VERSION_MISSING = rule(
    "v2.format_version.missing", "a products group (V2 layout) but no info.format_version: read as V1"
)


def _content_version(h5file: h5py.File) -> int | None:
    """Return the layout the file's content alone shows (a V1 ``events`` table or a ``products`` group), or None."""
    v1_events = bool(event_keys(h5file))
    has_products = isinstance(h5file.get(PRODUCTS), h5py.Group)
    if v1_events == has_products:
        return None
    return 1 if v1_events else 2


def checked_layout(ctx: Context) -> LayoutEntry:
    """Return the registry entry of the layout to check the file as; report what ``format_version`` gets wrong."""
    info = ctx.file.get(INFO)
    content = _content_version(ctx.file)
    if info is None or FORMAT_VERSION not in info.attrs:
        if info is not None and content not in (None, DEFAULT_FORMAT_VERSION):
            ctx.error(
                "/info",
                V2_FORMAT_VERSION_MISSING,
                "no format_version, but a /products group and no V1 events table: SPINE's readers take the file "
                f"for V1 and fail on every entry; write info.format_version = {content} (int64)",
            )
        return REGISTRY[content or DEFAULT_FORMAT_VERSION]
    version = info.attrs[FORMAT_VERSION]
    entry, _ = detect(ctx.file)
    if entry is not None and entry.version != DEFAULT_FORMAT_VERSION and content != DEFAULT_FORMAT_VERSION:
        if as_int(version) != entry.version:
            ctx.warning(
                "/info",
                V2_FORMAT_VERSION_TYPE,
                f"format_version is {describe_value(version)} {attr_text(version)!r}: SPINE's reader takes int() of "
                f"it and reads {entry.name}, but the contract is an int64 {entry.version} (other tools compare it "
                f"with {entry.version})",
            )
        return entry
    if entry is None or as_int(version) != DEFAULT_FORMAT_VERSION:
        ctx.error(
            "/info",
            INFO_FORMAT_VERSION,
            f"format_version is {attr_text(version)!r} on a V1 file: SPINE's later reader only reads V1 files "
            "with format_version absent or 1 (2 makes it look for /products)",
        )
    return REGISTRY[DEFAULT_FORMAT_VERSION]
