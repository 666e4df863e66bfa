"""Checks of V2 ``objects`` groups: ``fixed`` rows, the ``variables`` pools and their helper columns, the schema.

The pools are parsed by :func:`spineh5.format.v2.parse_pools` and the
columns compared with the schema on :func:`spineh5.format.v2.logical_dtype`.
V2 spec (``docs/format/spine-v2-format.md``) section 2.4.
"""

from __future__ import annotations

from collections.abc import Iterator

import h5py
import numpy as np

from ..format.v2 import (
    EVENT_OFFSETS,
    FIXED,
    VAR_OFFSETS,
    VARIABLES,
    ObjectPlan,
    StoredPool,
    field_collisions,
    fixed_names,
    helper_index,
    logical_dtype,
    parse_pools,
    pool_index,
)
from ..types.dtypes import describe_dtype
from ..types.value_rules import has_units
from .context import CHUNK_ROWS, Context
from .problems import WARNING
from .rules import rule
from .schema import SchemaTolerance, check_class, check_columns
from .shared import check_meta, has_meta_columns, report_units
from .v2_data import (
    VALUES_TYPE,
    OffsetScan,
    check_offsets,
    check_scalar_rows,
    check_utf8,
    dataset,
    report_offsets,
    report_unreached,
)

__all__ = ["TOLERANCE", "check_objects"]

VLEN = rule("v2.vlen", "V2: a dataset under products holds variable-length or reference types")
VARIABLES_RULE = rule("v2.variables", "V2: an objects group has no 'variables' group")
POOL = rule("v2.pool", "V2: a variable pool is malformed (name, kind, fields, values)")
POOL_COLUMN = rule(
    "v2.pool.column",
    "V2: a pool has no _var_offsets_<i> column of len(fields) + 1 offsets (or a column has no pool)",
)

#: What SPINE's V2 reader (and spineh5's) accept of class names and columns.
TOLERANCE = SchemaTolerance(
    decodes_fixed_class_name=True,
    class_name_type="a string",
    later_columns="spineh5 leaves them out of the objects (they stay readable raw)",
    unknown_column_severity=WARNING,
    unknown_column="SPINE's V2 reader ignores it silently and spineh5 leaves it out of the objects",
)


def check_objects(ctx: Context, group: h5py.Group, where: str, scalar: bool) -> None:
    """Check an ``objects`` group: ``fixed`` and its offsets, the pools, then the columns against the schema."""
    fixed = dataset(ctx, group, FIXED, where)
    offsets = dataset(ctx, group, EVENT_OFFSETS, where)
    if fixed is not None and (fixed.ndim != 1 or not fixed.dtype.names):
        ctx.error(
            where,
            VALUES_TYPE,
            f"fixed is a {fixed.ndim}-D {fixed.dtype} dataset: it must be 1-D compound rows with named columns",
        )
        fixed = None
    if fixed is not None:
        checked = check_offsets(ctx, where, offsets, fixed.shape[0], "rows of fixed", ctx.entries)
        if scalar:
            check_scalar_rows(ctx, where, checked)
    pools = _check_pools(ctx, group, where, fixed)
    if fixed is None:
        return
    _check_fixed_vlen(ctx, where, fixed)
    cls = check_class(ctx, where, group, fixed.dtype, TOLERANCE)
    logical = _logical_dtype(ctx, where, fixed.dtype, pools)
    if cls is not None and logical is not None:
        check_columns(ctx, where, logical, cls, TOLERANCE)
        if has_meta_columns(cls, fixed.dtype.names):
            ctx.guarded(where, check_meta, where, fixed)
        if has_units(cls):
            ctx.guarded(where, _check_units, where, fixed, pools)


def _check_fixed_vlen(ctx: Context, where: str, fixed: h5py.Dataset) -> None:
    vlen = [
        name
        for name in fixed.dtype.names
        if h5py.check_vlen_dtype(fixed.dtype[name]) is not None
        or h5py.check_string_dtype(fixed.dtype[name]) is not None
        or h5py.check_ref_dtype(fixed.dtype[name]) is not None
    ]
    if vlen:
        ctx.warning(
            where,
            VLEN,
            f"fixed has variable-length or reference columns ({', '.join(vlen)}): SPINE's V2 reader tolerates them, "
            "but V2 keeps variable-length fields in pools and its writer never stores these",
        )


def _pool_problems(member: StoredPool) -> list[str]:
    """Return a pool's problems in the order of what they concern: ``kind``, then ``fields``, then ``values``."""

    def topic(problem: str) -> int:
        if problem.startswith("no string 'kind'"):
            return 0
        return 1 if problem.startswith(("no string 'fields'", "'fields'")) else 2

    return sorted(member.problems, key=topic)


def _check_pools(ctx: Context, group: h5py.Group, where: str, fixed: h5py.Dataset | None) -> list[StoredPool]:
    """Check ``variables`` and each pool (attributes, values, helper column, offsets); return the usable pools."""
    variables = group.get(VARIABLES)
    helpers = [name for name in (fixed.dtype.names if fixed is not None else ()) if name.startswith(VAR_OFFSETS)]
    if not isinstance(variables, h5py.Group):
        found = "missing" if variables is None else "a dataset"
        ctx.error(
            where,
            VARIABLES_RULE,
            f"'variables' is {found}: SPINE's reader needs the group (even empty) unless fixed_only=True",
        )
        return []
    pools: list[StoredPool] = []
    seen: dict[int, str] = {}
    for member in parse_pools(variables).members:
        inner = f"{where}/variables/{member.name}"
        if not isinstance(variables[member.name], h5py.Group):
            ctx.error(
                inner, POOL, f"pool {member.name!r} is a dataset: every member of 'variables' must be a pool group"
            )
        elif pool_index(member.name) is None:
            ctx.error(inner, POOL, f"pool name {member.name!r} has no numeric suffix (pool_<i>): SPINE's reader raises")
        elif member.problems:
            problems = "; ".join(_pool_problems(member))
            ctx.error(inner, POOL, f"pool {member.name!r}: {problems}: SPINE's reader fails or misreads it")
        elif member.pool.index in seen:
            index = member.pool.index
            ctx.error(where, POOL, f"pools {seen[index]!r} and {member.name!r} share the number {index}")
        else:
            seen[member.pool.index] = member.name
            pools.append(member)
    if fixed is None:
        return pools
    usable = [
        member
        for member in pools
        if ctx.guarded(f"{where}/variables/{member.name}", _check_pool_offsets, fixed, member)
    ]
    numbers = {pool_index(name) for name in variables}
    orphans = [name for name in helpers if helper_index(name) not in numbers]
    if orphans:
        ctx.warning(
            where,
            POOL_COLUMN,
            f"fixed has {', '.join(orphans)} but 'variables' has no pool of that number: the column indexes nothing",
        )
    return usable


def _check_pool_offsets(ctx: Context, fixed: h5py.Dataset, member: StoredPool) -> bool:
    """Check a pool's ``_var_offsets_<i>`` column: width, order and range over all rows, cover, UTF-8."""
    where = fixed.parent.name
    pool = member.pool
    column = pool.column
    found = fixed.dtype.fields.get(column)
    width = len(pool.fields) + 1
    shape = found[0].shape if found is not None else None
    if found is None or found[0].base.kind not in "iu" or shape != (width,):
        text = "no such column" if found is None else describe_dtype(found[0], brief=True)
        ctx.error(
            where,
            POOL_COLUMN,
            f"pool {member.name!r} has {len(pool.fields)} fields, so fixed needs a column {column} of {width} "
            f"integers (found: {text}): SPINE's reader fails, or leaves fields at their defaults",
        )
        return False
    rows = fixed.shape[0]
    size = member.values.shape[0]
    if rows == 0:
        if size:
            report_unreached(
                ctx, where, f"pool {member.name!r} holds {size} values but fixed has no rows: no object reaches them"
            )
        return True
    scan = OffsetScan(size, unit=width)
    for start in range(0, rows, CHUNK_ROWS):
        scan.feed(fixed.fields(column)[start : start + CHUNK_ROWS])
    name = f"{column} (pool {member.name!r})"
    usable = report_offsets(ctx, where, name, scan, f"values of pool {member.name!r}", "row")
    if usable and pool.is_string:
        data = np.asarray(member.values[()]).view(np.uint8)
        bounds = np.asarray(fixed.fields(column)[()], dtype=np.int64).reshape(-1)
        check_utf8(ctx, where, data, bounds, f"pool {member.name!r}")
    return usable


def _logical_dtype(ctx: Context, where: str, fixed: np.dtype, pools: list[StoredPool]) -> np.dtype | None:
    """Return the V1-style compound of an objects group (:func:`spineh5.format.v2.logical_dtype`), None if none."""
    plan = ObjectPlan(fixed_names(fixed), fixed, tuple(member.pool for member in pools))
    collisions = field_collisions(plan)
    if collisions:
        ctx.error(where, POOL, collisions[0])
        return None
    logical = logical_dtype(plan)
    return logical if logical.names else None


def _check_units(ctx: Context, where: str, fixed: h5py.Dataset, pools: list[StoredPool]) -> None:
    member = next((member for member in pools if member.pool.is_string and "units" in member.pool.fields), None)
    if member is None or fixed.shape[0] == 0:
        return
    position = member.pool.fields.index("units")
    column = member.pool.column
    data = np.asarray(member.values[()]).view(np.uint8).tobytes()

    def texts() -> Iterator[tuple[int, str]]:
        for start in range(0, fixed.shape[0], CHUNK_ROWS):
            bounds = np.asarray(fixed.fields(column)[start : start + CHUNK_ROWS], dtype=np.int64)
            for offset, (low, high) in enumerate(bounds[:, position : position + 2].tolist()):
                yield start + offset, data[low:high].decode("utf-8", "replace")

    report_units(ctx, where, texts(), " (its V2 reader does not check)")
