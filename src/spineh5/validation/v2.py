"""Checks of the V2 layout: ``events``, the ``products`` tree and each product group by kind.

V2 spec (``docs/format/spine-v2-format.md``) sections 1 (root objects), 2
(one product group per kind; 2.8 typed products) and 4.8 (what the reader
needs). ``objects`` groups and their pools are checked in :mod:`.v2_objects`.
"""

from __future__ import annotations

import h5py
import numpy as np
import yaml

from ..format.common import EVENTS, INFO, attr_string, attr_text
from ..format.v2 import (
    ARRAY,
    ELEMENT_OFFSETS,
    EVENT_OFFSETS,
    FIXED,
    KIND,
    LIST,
    MULTI_LIST,
    OBJECTS,
    PRODUCT_METADATA,
    PRODUCTS,
    STRING,
    V2_KINDS,
    VARIABLES,
    element_names,
    kind_of,
)
from .context import CHUNK_ROWS, Context
from .rules import rule
from .shared import ROOT_EXTRA, check_run_triplets, check_scalar_attr, report_missing_events
from .spine_release import TYPED_PRODUCTS
from .text import describe_value
from .v2_data import OFFSETS_COUNT, check_offsets, check_scalar_rows, check_utf8, dataset, values_dataset
from .v2_objects import check_objects

__all__ = ["check_file"]

INFO_FORMAT = rule("v2.info.format", "V2: info.format is missing or not 'spine_hdf5'")
EVENTS_TYPE = rule("v2.events.type", "V2: events is not a dataset (its length is the entry count)")
EVENTS_VALUES = rule("v2.events.values", "V2: events is not a 1-D integer dataset holding 0..N-1")
PRODUCTS_MISSING = rule("v2.products.missing", "V2: there is no root 'products' group")
PRODUCT_TYPE = rule(
    "v2.product.type", "V2: a member of a product tree is not a group where a product group is expected"
)
KIND_RULE = rule(
    "v2.kind", "V2: a product group has no 'kind' attribute, or not one of array, string, objects, list, multi_list"
)
ELEMENTS = rule("v2.elements", "V2: a multi_list group has malformed or no element_<j> subgroups")
PRODUCT_METADATA_RULE = rule(
    "v2.product_metadata",
    "V2: product_metadata is not a mapping of a known product_type, or lacks a child it needs",
)


def check_file(ctx: Context) -> None:
    """Check the V2 layout (spec sections 1-2, 4.8): events, every product group, its offsets and pools."""
    ctx.guarded("/info", _check_info_format)
    ctx.entries = ctx.guarded("/events", _check_events)
    ctx.guarded("/", _check_root)
    products = ctx.file.get(PRODUCTS)
    if not isinstance(products, h5py.Group):
        found = "missing" if products is None else "a dataset"
        ctx.error(
            "/products",
            PRODUCTS_MISSING,
            f"the 'products' group is {found}: SPINE's V2 reader finds no product (KeyError at the first entry)",
        )
        return
    for name in sorted(products):
        ctx.guarded(f"/products/{name}", _check_product, products, name)
    run_info = products.get("run_info")
    if isinstance(run_info, h5py.Group) and kind_of(run_info) == OBJECTS:
        ctx.guarded("/products/run_info", _check_run_info, run_info)


def _check_info_format(ctx: Context) -> None:
    info = ctx.file.get(INFO)
    if info is None:
        return
    fmt = info.attrs.get("format")
    if fmt is None or attr_text(fmt) != "spine_hdf5":
        found = "missing" if fmt is None else f"{attr_text(fmt)!r}"
        ctx.warning(
            "/info",
            INFO_FORMAT,
            f"info.format is {found}: SPINE writes 'spine_hdf5' (its reader does not read it; tools may)",
        )


def _check_events(ctx: Context) -> int | None:
    """Check ``events``; return the entry count (its length), None when it has none."""
    events = ctx.file.get(EVENTS)
    if events is None:
        report_missing_events(ctx)
        return None
    if not isinstance(events, h5py.Dataset) or events.ndim == 0:
        what = "a group" if not isinstance(events, h5py.Dataset) else "a scalar dataset"
        ctx.error("/events", EVENTS_TYPE, f"events is {what}: SPINE's reader needs a dataset, its length is N")
        return None
    count = int(events.shape[0])
    if events.ndim != 1 or events.dtype.kind not in "iu":
        ctx.warning(
            "/events",
            EVENTS_VALUES,
            f"events is a {events.ndim}-D {events.dtype} dataset: SPINE's reader uses only its length, "
            "SPINE's writer stores int64 0..N-1",
        )
        return count
    for start in range(0, count, CHUNK_ROWS):
        values = events[start : start + CHUNK_ROWS]
        expected = np.arange(start, start + len(values))
        if not np.array_equal(values, expected):
            first = start + int(np.flatnonzero(values != expected)[0])
            ctx.warning(
                "/events",
                EVENTS_VALUES,
                f"events row {first} is {int(values[first - start])}, not {first}: SPINE's writer stores the row "
                "numbers 0..N-1 (its reader uses only the length)",
            )
            break
    return count


def _check_root(ctx: Context) -> None:
    for name in sorted(set(ctx.file) - {INFO, EVENTS, PRODUCTS}):
        ctx.warning(
            f"/{name}",
            ROOT_EXTRA,
            f"root object {name!r} is not part of the V2 layout (info, events, products): SPINE's reader ignores it",
        )


def _check_product(ctx: Context, parent: h5py.Group, name: str, where: str | None = None) -> None:
    """Check one product group (or a typed product's child group) and everything under it."""
    where = where or f"{parent.name}/{name}"
    node = parent.get(name)
    if not isinstance(node, h5py.Group):
        ctx.error(
            where,
            PRODUCT_TYPE,
            f"{name!r} is a {type(node).__name__.lower()}, not a product group: SPINE's reader raises on every "
            "entry unless keys= leaves it out",
        )
        return
    if KIND not in node.attrs:
        ctx.error(where, KIND_RULE, "no 'kind' attribute: SPINE's reader does not recognize the product group")
        return
    kind = kind_of(node)
    if kind is None:
        ctx.error(where, KIND_RULE, f"'kind' is {describe_value(node.attrs[KIND])}, not a string")
        return
    if kind not in V2_KINDS:
        ctx.error(where, KIND_RULE, f"kind {kind!r} is none of {', '.join(V2_KINDS)}: SPINE's reader raises")
        return
    scalar = False
    if kind in (ARRAY, STRING, OBJECTS):
        scalar = bool(check_scalar_attr(ctx, where, node))
    ctx.guarded(where, _KIND_CHECKS[kind], node, where, scalar)
    ctx.guarded(where, _check_typed, node, where)
    for child, member in sorted(node.items()):
        if isinstance(member, h5py.Group) and KIND in member.attrs and child != VARIABLES:
            _check_product(ctx, node, child, f"{where}/{child}")


def _check_array(ctx: Context, group: h5py.Group, where: str, scalar: bool) -> None:
    values = values_dataset(ctx, group, where, ARRAY)
    offsets = dataset(ctx, group, EVENT_OFFSETS, where)
    if values is None:
        return
    checked = check_offsets(ctx, where, offsets, values.shape[0], "rows of values", ctx.entries)
    if scalar:
        check_scalar_rows(ctx, where, checked)


def _check_string(ctx: Context, group: h5py.Group, where: str, scalar: bool) -> None:
    values = values_dataset(ctx, group, where, STRING)
    offsets = dataset(ctx, group, EVENT_OFFSETS, where)
    if values is None:
        return
    checked = check_offsets(ctx, where, offsets, values.shape[0], "bytes of values", ctx.entries)
    if checked is not None and checked.usable:
        check_utf8(ctx, where, np.asarray(values[()]).view(np.uint8), checked.values, "values")


def _check_list(ctx: Context, group: h5py.Group, where: str, scalar: bool) -> None:
    values = values_dataset(ctx, group, where, LIST)
    elements = dataset(ctx, group, ELEMENT_OFFSETS, where)
    events = dataset(ctx, group, EVENT_OFFSETS, where)
    if elements is None or events is None:
        return
    element_count = max(elements.shape[0] - 1, 0) if elements.ndim == 1 else 0
    checked = check_offsets(ctx, where, events, element_count, "list elements", ctx.entries)
    referenced = None
    if checked is not None and checked.usable and len(checked.values):
        referenced = int(checked.values[-1])
    if values is not None:
        check_offsets(
            ctx,
            where,
            elements,
            values.shape[0],
            "rows of values",
            referenced,
            OFFSETS_COUNT,
            "list elements (the last event offset)",
        )


def _check_multi_list(ctx: Context, group: h5py.Group, where: str, scalar: bool) -> None:
    names = element_names(group)
    for name in group:
        if name.startswith("element_") and name not in names:
            ctx.error(
                where,
                ELEMENTS,
                f"{name!r} has no integer position: SPINE's reader raises ValueError ordering the elements",
            )
    if not names:
        ctx.warning(where, ELEMENTS, "no element_<j> subgroup: every entry reads as an empty list")
        return
    for name in names:
        element = group[name]
        if not isinstance(element, h5py.Group):
            ctx.error(where, ELEMENTS, f"{name!r} is a dataset, not a group with values and event_offsets")
            continue
        inner = f"{where}/{name}"
        values = values_dataset(ctx, element, inner, MULTI_LIST)
        offsets = dataset(ctx, element, EVENT_OFFSETS, inner)
        if values is not None:
            check_offsets(ctx, inner, offsets, values.shape[0], "rows of values", ctx.entries)


_KIND_CHECKS = {
    ARRAY: _check_array,
    STRING: _check_string,
    OBJECTS: check_objects,
    LIST: _check_list,
    MULTI_LIST: _check_multi_list,
}


def _check_typed(ctx: Context, group: h5py.Group, where: str) -> None:
    """Check SPINE's typed products: ``product_metadata`` a mapping with a known type, its child groups present."""
    if PRODUCT_METADATA not in group.attrs:
        return
    text = attr_string(group.attrs.get(PRODUCT_METADATA))
    try:
        metadata = yaml.safe_load(text) if text is not None else None
    except yaml.YAMLError:
        metadata = None
    if not isinstance(metadata, dict):
        ctx.error(where, PRODUCT_METADATA_RULE, "product_metadata is not a YAML mapping: SPINE's reader raises")
        return
    product_type = metadata.get("product_type")
    if product_type not in TYPED_PRODUCTS:
        ctx.error(
            where,
            PRODUCT_METADATA_RULE,
            f"product_type {product_type!r} is none of {', '.join(TYPED_PRODUCTS)}: SPINE's reader raises ValueError",
        )
        return
    for child, flag in TYPED_PRODUCTS[product_type]:
        if (flag is None or metadata.get(flag)) and not isinstance(group.get(child), h5py.Group):
            ctx.error(
                where,
                PRODUCT_METADATA_RULE,
                f"a {product_type} product needs the child product group {child!r}: SPINE's reader raises KeyError",
            )


def _check_run_info(ctx: Context, group: h5py.Group) -> None:
    fixed = group.get(FIXED)
    offsets = group.get(EVENT_OFFSETS)
    if ctx.entries is None or not isinstance(fixed, h5py.Dataset) or not isinstance(offsets, h5py.Dataset):
        return
    bounds = np.asarray(offsets[()], dtype=np.int64) if offsets.ndim == 1 else np.empty(0, np.int64)
    one_per_entry = np.array_equal(bounds, np.arange(ctx.entries + 1))
    check_run_triplets(ctx, "/products/run_info", fixed, int(fixed.shape[0]), one_per_entry)
