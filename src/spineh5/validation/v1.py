"""Checks of the V1 layout: the ``events`` table of region references and the root product datasets and groups.

V1 spec (``docs/format/spine-v1-format.md``) sections 2.1-2.4 (root objects,
``events``, the storage of each product kind), 3.5 (what HEAD's reader needs)
and 3.6 (what the readers tolerate).
"""

from __future__ import annotations

from collections.abc import Iterator

import h5py
import numpy as np

from ..format.common import EVENTS, INFO, attr_text
from ..format.v1 import INDEX, inspect_product, is_region_reference, part_names
from ..types.value_rules import has_units
from .context import CHUNK_ROWS, Context
from .problems import ERROR
from .refs import check_event_refs, check_index_refs
from .rules import rule
from .schema import SchemaTolerance, check_class, check_columns
from .shared import (
    ROOT_EXTRA,
    check_meta,
    check_run_triplets,
    check_scalar_attr,
    has_meta_columns,
    report_missing_events,
    report_units,
)

__all__ = ["TOLERANCE", "check_file"]

EVENTS_TYPE = rule("events.type", "events is not a 1-D compound dataset with named fields")
EVENTS_FIELD = rule("events.field", "an events field is not a dataset-region reference")
EVENTS_KEY_MISSING = rule("events.key_missing", "an events field names no root object")
PRODUCT_TYPE = rule("product.type", "an event product is neither a 1-D/2-D dataset nor a list group")
GROUP_INDEX = rule("group.index", "a list group has no region-reference 'index' dataset")
GROUP_ELEMENTS = rule("group.elements", "a list group lacks 'elements' (flat) or an 'element_<i>' (jagged)")

#: What SPINE's V1 readers accept of class names and columns.
TOLERANCE = SchemaTolerance(
    decodes_fixed_class_name=False,
    class_name_type="a variable-length string",
    later_columns="SPINE 0.14.1's reader rejects them unless skip_unknown_attrs=True",
    unknown_column_severity=ERROR,
    unknown_column="SPINE's reader raises TypeError on it unless skip_unknown_attrs=True",
)


def check_file(ctx: Context) -> None:
    """Check the V1 layout: ``events``, the root objects, every product and ``run_info``."""
    if ctx.guarded("/events", _check_events):
        ctx.guarded("/", _check_root)
        for key in sorted(ctx.keys):
            if key in ctx.file:
                ctx.guarded(f"/{key}", _check_product, key)
        ctx.guarded("/run_info", _check_run_info)


def _check_events(ctx: Context) -> bool:
    """Check the ``events`` table; record the entry count and usable keys; return whether it is usable."""
    events = ctx.file.get(EVENTS)
    if events is None:
        report_missing_events(ctx)
        return False
    dtype = events.dtype if isinstance(events, h5py.Dataset) else None
    if dtype is None or events.ndim != 1 or not dtype.names:
        shape = "a group" if dtype is None else f"a {events.ndim}-D {dtype} dataset"
        ctx.error(
            "/events",
            EVENTS_TYPE,
            f"events is {shape}: it must be a 1-D compound dataset with one region-reference field per product",
        )
        return False
    ctx.entries = int(events.shape[0])
    ctx.fields = dtype.names
    for key in dtype.names:
        if is_region_reference(dtype[key]):
            ctx.keys.append(key)
        elif h5py.check_ref_dtype(dtype[key]) is h5py.Reference:
            ctx.error(
                "/events",
                EVENTS_FIELD,
                f"field {key!r} holds object references: SPINE's readers index with dataset-region references",
            )
        else:
            ctx.error("/events", EVENTS_FIELD, f"field {key!r} is {dtype[key]}, not a dataset-region reference")
    if ctx.keys:
        ctx.rows = events.fields(ctx.keys)[:] if ctx.entries else np.empty(0, dtype=[(k, object) for k in ctx.keys])
    return True


def _check_root(ctx: Context) -> None:
    names = set(ctx.file)
    for key in ctx.keys:
        if key not in names:
            ctx.error(f"/{key}", EVENTS_KEY_MISSING, f"events has a field {key!r} but there is no root object /{key}")
    for name in sorted(names - {INFO, EVENTS} - set(ctx.fields)):
        ctx.error(
            f"/{name}",
            ROOT_EXTRA,
            f"root object {name!r} is not an event product: SPINE tooling expects every root object other than "
            "info and events to be a field of events",
        )


def _check_product(ctx: Context, key: str) -> None:
    node = ctx.file[key]
    where = f"/{key}"
    if isinstance(node, h5py.Group):
        _check_group(ctx, key, node)
        return
    if not isinstance(node, h5py.Dataset) or node.ndim not in (1, 2):
        what = f"a {node.ndim}-D dataset" if isinstance(node, h5py.Dataset) else "neither a group nor a dataset"
        ctx.error(where, PRODUCT_TYPE, f"{key} is {what}: products are 1-D or 2-D datasets or list groups")
        return
    scalar = check_scalar_attr(ctx, where, node)
    product = inspect_product(node)
    if product.kind.holds_objects:
        cls = check_class(ctx, where, node, product.dtype, TOLERANCE)
        if cls is not None:
            check_columns(ctx, where, product.dtype, cls, TOLERANCE)
            ctx.guarded(where, _check_values, node, cls)
    check_event_refs(ctx, key, node, scalar=bool(scalar))


def _check_values(ctx: Context, dataset: h5py.Dataset, cls: type) -> None:
    """Check the row values SPINE's ``__post_init__`` checks: units and ImageMeta consistency."""
    where = dataset.name
    names = dataset.dtype.names
    if "units" in names and has_units(cls):
        report_units(ctx, where, _units(dataset), "")
    if has_meta_columns(cls, names):
        check_meta(ctx, where, dataset)


def _units(dataset: h5py.Dataset) -> Iterator[tuple[int, str]]:
    for start in range(0, dataset.shape[0], CHUNK_ROWS):
        for offset, value in enumerate(dataset.fields("units")[start : start + CHUNK_ROWS]):
            yield start + offset, attr_text(value)


def _check_group(ctx: Context, key: str, group: h5py.Group) -> None:
    where = f"/{key}"
    index = group.get(INDEX)
    if not isinstance(index, h5py.Dataset) or not is_region_reference(index.dtype):
        ctx.error(
            where,
            GROUP_INDEX,
            "list group without a region-reference 'index' dataset: SPINE's reader cannot decode it",
        )
        return
    if index.ndim not in (1, 2):
        ctx.error(where, GROUP_INDEX, f"index is {index.ndim}-D: 1-D for flat lists, 2-D for jagged lists")
        return
    names = part_names(index)
    present = True
    for name in names:
        if not isinstance(group.get(name), h5py.Dataset):
            layout = "flat" if index.ndim == 1 else "jagged"
            ctx.error(where, GROUP_ELEMENTS, f"{layout} list group without its {name!r} dataset")
            present = False
    if present:
        check_index_refs(ctx, group, index, names)
    check_event_refs(ctx, key, index, scalar=False, name=f"/{key}/index")


def _check_run_info(ctx: Context) -> None:
    dataset = ctx.file.get("run_info")
    if dataset is None or "run_info" not in ctx.keys or ctx.entries is None:
        return
    check_run_triplets(ctx, "/run_info", dataset, dataset.shape[0] if isinstance(dataset, h5py.Dataset) else 0)
