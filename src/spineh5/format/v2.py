"""SPINE's V2 layout on disk ("product groups"): kinds, offsets, the split of object rows into pools.

Reference: ``docs/format/spine-v2-format.md``: section 0 (the layout at a
glance), 1.4 (``products``), 2.1-2.6 (one product group per kind; 2.4 the
``objects`` kind, its ``fixed`` rows and ``variables/pool_<i>``), 2.8 (typed
products) and 4.9 (how a reader decodes them).

This is the module to import from. The product-level vocabulary (names on
disk, kinds, which members of ``products`` are product groups) is written in
:mod:`.v2_products` and re-exported here; this module holds the ``objects``
kind: how object rows split into ``fixed`` columns and pools (the plan and
its logical row dtype) and the parser of stored pools.

The parsers here return their findings: :func:`parse_pools` and
:func:`inspect_objects` list what is wrong with stored pools instead of
raising at the first problem, so that ``validate`` reports every problem,
the read layout raises the first one and ``inspect`` shows what it can.
"""

from __future__ import annotations

import functools
from typing import Any

import attrs
import h5py
import numpy as np
import yaml

from ..types.columns import STR_DTYPE
from ..types.dtypes import describe_dtype
from .common import attr_string
from .v2_products import (
    ARRAY,
    BYTES_DTYPE,
    ELEMENT_OFFSETS,
    EVENT_OFFSETS,
    FIELDS,
    FIXED,
    KIND,
    LIST,
    MULTI_LIST,
    OBJECTS,
    OFFSET_DTYPE,
    PRODUCT_METADATA,
    PRODUCTS,
    STRING,
    V2_KINDS,
    VALUES,
    VAR_OFFSETS,
    VARIABLES,
    element_names,
    kind_of,
    member_kind,
    product_groups,
    product_kind,
    spineh5_kind,
    v2_kind,
)

__all__ = [
    "ARRAY",
    "BYTES_DTYPE",
    "ELEMENT_OFFSETS",
    "EVENT_OFFSETS",
    "FIELDS",
    "FIXED",
    "KIND",
    "LIST",
    "MULTI_LIST",
    "OBJECTS",
    "OFFSET_DTYPE",
    "ObjectPlan",
    "ObjectsReport",
    "PRODUCTS",
    "PRODUCT_METADATA",
    "Pool",
    "PoolsReport",
    "STRING",
    "StoredPool",
    "V2_KINDS",
    "VALUES",
    "VARIABLES",
    "VAR_OFFSETS",
    "element_names",
    "field_collisions",
    "fixed_names",
    "helper_index",
    "inspect_objects",
    "kind_of",
    "logical_dtype",
    "member_kind",
    "object_plan",
    "parse_pool",
    "parse_pools",
    "pool_index",
    "product_groups",
    "product_kind",
    "spineh5_kind",
    "stored_plan",
    "stored_pools",
    "v2_kind",
]


# -- object rows: fixed columns and pools ----------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _fields_yaml(fields: tuple[str, ...]) -> str:
    """Return field names as a block-style YAML list (the same few lists for every file written)."""
    return yaml.safe_dump(list(fields), default_flow_style=False)


@attrs.frozen
class Pool:
    """One variable-length pool of an object product (V2 spec section 2.4).

    Attributes
    ----------
    index : int
        Pool number: the group is ``variables/pool_<index>`` and the helper
        column ``_var_offsets_<index>``.
    is_string : bool
        UTF-8 string fields (``kind="string"``, uint8 values) or arrays.
    base : numpy.dtype
        Dtype of the pool's ``values`` (uint8 for strings).
    fields : tuple of str
        The object fields stored in the pool, in schema order.
    """

    index: int
    is_string: bool
    base: np.dtype
    fields: tuple[str, ...]

    @property
    def name(self) -> str:
        """Return the group name ``pool_<index>``."""
        return f"pool_{self.index}"

    @property
    def column(self) -> str:
        """Return the helper column name ``_var_offsets_<index>``."""
        return f"{VAR_OFFSETS}{self.index}"

    @property
    def kind(self) -> str:
        """Return the pool's ``kind`` attribute (``string`` or ``array``)."""
        return STRING if self.is_string else ARRAY

    def fields_yaml(self) -> str:
        """Return the ``fields`` attribute: a block-style YAML list, as SPINE writes it."""
        return _fields_yaml(self.fields)

    def signature(self) -> tuple:
        """Return what must match between two pools for rows to be exchangeable."""
        return (self.index, self.is_string, describe_dtype(self.base), self.fields)


@attrs.frozen
class ObjectPlan:
    """How the rows of one compound dtype are split into ``fixed`` and pools.

    Attributes
    ----------
    fixed_names : tuple of str
        Columns copied unchanged into ``fixed``, in schema order.
    fixed_dtype : numpy.dtype
        Compound dtype of ``fixed``: the fixed columns, then one
        ``_var_offsets_<i>`` int64[len(fields)+1] column per pool.
    pools : tuple of Pool
        The pools, in number order.
    """

    fixed_names: tuple[str, ...]
    fixed_dtype: np.dtype
    pools: tuple[Pool, ...]

    def signature(self) -> tuple:
        """Return a comparable description of the whole plan."""
        return (describe_dtype(self.fixed_dtype), tuple(pool.signature() for pool in self.pools))


def fixed_names(dtype: np.dtype) -> tuple[str, ...]:
    """Return the object columns of a stored ``fixed`` dtype (every column but the pool helpers)."""
    return tuple(name for name in dtype.names or () if not name.startswith(VAR_OFFSETS))


def helper_index(name: str) -> int | None:
    """Return the pool number of a helper column name (``_var_offsets_3`` -> 3), None if it is not one."""
    if not name.startswith(VAR_OFFSETS):
        return None
    try:
        return int(name[len(VAR_OFFSETS) :])
    except ValueError:
        return None


def _pool_member(dtype: np.dtype) -> tuple[bool, np.dtype] | None:
    """Return ``(is_string, base dtype)`` of a column stored in a pool, None for a fixed column."""
    if h5py.check_string_dtype(dtype) is not None:
        return True, BYTES_DTYPE
    vlen = h5py.check_vlen_dtype(dtype)
    if vlen is not None:
        return False, np.dtype(vlen)
    return None


@functools.lru_cache(maxsize=256)
def _plan(description: str, dtype: np.dtype) -> ObjectPlan:
    fixed: list[tuple] = []
    pools: dict[tuple[bool, str], list] = {}
    for name in dtype.names:
        column = dtype.fields[name][0]
        member = _pool_member(column)
        if member is None:
            fixed.append((name, column))
            continue
        is_string, base = member
        pools.setdefault((is_string, base.str), [is_string, base, []])[2].append(name)
    plan_pools = tuple(
        Pool(i, is_string, base, tuple(fields)) for i, (is_string, base, fields) in enumerate(pools.values())
    )
    helpers = [(pool.column, OFFSET_DTYPE, (len(pool.fields) + 1,)) for pool in plan_pools]
    return ObjectPlan(tuple(name for name, _ in fixed), np.dtype(fixed + helpers), plan_pools)


#: Plans of the dtype objects seen, by identity (the generated ``DTYPE``s live as long as the program).
_PLANS_BY_ID: dict[int, tuple[np.dtype, ObjectPlan]] = {}


def object_plan(dtype: np.dtype) -> ObjectPlan:
    """Return how rows of an object compound dtype (``DTYPE`` or ``LITE_DTYPE``) are stored in V2.

    Non-VLEN columns go to ``fixed`` unchanged and in order; strings and
    variable-length arrays go to pools keyed by (is string, base dtype),
    numbered in order of their first member (V2 spec section 2.4). Computed
    once per dtype object.
    """
    entry = _PLANS_BY_ID.get(id(dtype))
    if entry is None or entry[0] is not dtype:
        if len(_PLANS_BY_ID) > 1024:  # only short-lived dtypes (rebuilt from files) can fill it
            _PLANS_BY_ID.clear()
        entry = _PLANS_BY_ID[id(dtype)] = (dtype, _plan(describe_dtype(dtype), dtype))
    return entry[1]


def logical_dtype(plan: ObjectPlan, order: tuple[str, ...] = ()) -> np.dtype:
    """Return the V1-style compound of a plan: fixed columns plus pool fields as str/vlen columns.

    Columns named in ``order`` come first, in that order; the others follow in
    stored order (fixed columns, then pool fields). A field named twice
    (:func:`field_collisions`) appears once.
    """
    columns: dict[str, Any] = {name: plan.fixed_dtype.fields[name][0] for name in plan.fixed_names}
    for pool in plan.pools:
        for field in pool.fields:
            columns[field] = STR_DTYPE if pool.is_string else h5py.vlen_dtype(pool.base)
    names = [name for name in order if name in columns] + [name for name in columns if name not in order]
    return np.dtype([(name, columns[name]) for name in names])


def field_collisions(plan: ObjectPlan) -> list[str]:
    """Return the problems of pool fields that are also a fixed column or a field of an earlier pool."""
    seen = set(plan.fixed_names)
    problems = []
    for pool in plan.pools:
        for field in pool.fields:
            if field in seen:
                problems.append(
                    f"field {field!r} of pool {pool.name!r} is also a fixed column or a field of another pool"
                )
            seen.add(field)
    return problems


# -- stored pools ----------------------------------------------------------------------------------------


def pool_index(name: str) -> int | None:
    """Return the number of a pool group from its name (``pool_3`` -> 3; only the suffix counts, as in SPINE)."""
    try:
        return int(name.rsplit("_", 1)[-1])
    except ValueError:
        return None


@functools.lru_cache(maxsize=1024)
def _pool_fields(text: str) -> tuple[str, ...] | None:
    """Return the names in a pool's ``fields`` YAML text, None unless it is a list of strings.

    Cached by text: parsing the YAML costs about 0.5 ms, every file of a type
    repeats the same texts, and readers parse them at every open.
    """
    try:
        fields = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(fields, list) or not all(isinstance(field, str) for field in fields):
        return None
    return tuple(fields)


@attrs.frozen
class StoredPool:
    """One member of a ``variables`` group, as far as it could be parsed (:func:`parse_pools`).

    Attributes
    ----------
    name : str
        Member name (``pool_<i>``).
    pool : Pool or None
        The parsed pool; None when it has a ``fatal`` problem.
    values : h5py.Dataset or None
        Its ``values`` dataset.
    kind : str or None
        Its ``kind`` attribute, when a string.
    fields : tuple of str or None
        Its ``fields``, when a YAML list of strings.
    fatal : tuple of str
        Problems that make the pool unreadable (a reader must refuse it).
    contract : tuple of str
        Departures from the V2 contract that a reader can read past (duplicate
        field names, values that are not 1-D numbers, string values not uint8).
    """

    name: str
    pool: Pool | None
    values: h5py.Dataset | None
    kind: str | None = None
    fields: tuple[str, ...] | None = None
    fatal: tuple[str, ...] = ()
    contract: tuple[str, ...] = ()

    @property
    def problems(self) -> tuple[str, ...]:
        """Return every problem of the pool, fatal first."""
        return self.fatal + self.contract


def parse_pool(name: str, node: Any) -> StoredPool:
    """Parse one member of a ``variables`` group: a ``pool_<i>`` group with ``kind``, ``fields`` and ``values``."""
    if not isinstance(node, h5py.Group):
        return StoredPool(name, None, None, fatal=("not a group: every member of 'variables' must be a pool group",))
    index = pool_index(name)
    if index is None:
        return StoredPool(name, None, None, fatal=("no numeric suffix in its name (pool_<i>)",))
    fatal, contract = [], []
    kind = attr_string(node.attrs.get(KIND))
    if kind is None:
        fatal.append(f"no string {KIND!r} attribute")
    text = attr_string(node.attrs.get(FIELDS))
    fields = None
    if text is None:
        fatal.append(f"no string {FIELDS!r} attribute")
    else:
        fields = _pool_fields(text)
        if fields is None:
            fatal.append(f"{FIELDS!r} is not a YAML list of field names ({text[:40]!r})")
        elif len(set(fields)) != len(fields):
            contract.append(f"{FIELDS!r} names a field twice")
    values = node.get(VALUES)
    if not isinstance(values, h5py.Dataset):
        fatal.append(f"no {VALUES!r} dataset")
        values = None
    elif values.ndim != 1 or values.dtype.kind not in "biuf" + ("S" if kind == STRING else ""):
        contract.append(f"{VALUES!r} is a {values.ndim}-D {values.dtype} dataset, not 1-D numbers")
    elif kind == STRING and values.dtype.itemsize != 1:
        contract.append(f"a string pool holds {values.dtype}, not UTF-8 bytes (uint8)")
    pool = None if fatal else Pool(index, kind == STRING, values.dtype, fields)
    return StoredPool(name, pool, values, kind, fields, tuple(fatal), tuple(contract))


@attrs.frozen
class PoolsReport:
    """The members of a ``variables`` group parsed (:func:`parse_pools`).

    Attributes
    ----------
    members : tuple of StoredPool
        Every member, in name order, with its own problems.
    duplicates : tuple of str
        Problems of pools whose number an earlier member already has.
    """

    members: tuple[StoredPool, ...]
    duplicates: tuple[str, ...] = ()

    @property
    def pools(self) -> list[tuple[Pool, h5py.Dataset]]:
        """Return the readable pools with their ``values``, by number (pools of one number in name order)."""
        readable = [(member.pool, member.values) for member in self.members if member.pool is not None]
        return sorted(readable, key=lambda item: item[0].index)

    def first_fatal(self) -> str | None:
        """Return the first problem that makes a pool unreadable, as ``variable pool 'name': problem``."""
        for member in self.members:
            if member.fatal:
                return f"variable pool {member.name!r}: {'; '.join(member.fatal)}"
        return None


def parse_pools(variables: h5py.Group) -> PoolsReport:
    """Parse every pool of a stored ``variables`` group; the problems are returned, not raised."""
    members = tuple(parse_pool(name, node) for name, node in sorted(variables.items()))
    seen: dict[int, str] = {}
    duplicates = []
    for member in members:
        if member.pool is None:
            continue
        index = member.pool.index
        if index in seen:
            duplicates.append(f"pools {seen[index]!r} and {member.name!r} share the number {index}")
        else:
            seen[index] = member.name
    return PoolsReport(members, tuple(duplicates))


def stored_pools(variables: h5py.Group) -> list[tuple[Pool, h5py.Dataset]]:
    """Return the pools of a stored ``variables`` group with their ``values`` datasets, by number.

    Raises
    ------
    ValueError
        For the first unreadable pool (not a group, no numeric suffix, no
        string ``kind`` or ``fields``, ``fields`` not a YAML list of strings,
        no ``values``).
    """
    report = parse_pools(variables)
    problem = report.first_fatal()
    if problem is not None:
        raise ValueError(problem)
    return report.pools


@attrs.frozen
class ObjectsReport:
    """What an ``objects`` product group holds (:func:`inspect_objects`).

    Attributes
    ----------
    plan : ObjectPlan or None
        The stored plan: ``fixed`` columns and readable pools (None without a
        compound ``fixed``).
    pools : PoolsReport or None
        The parsed ``variables`` (None when there is no such group).
    problems : tuple of str
        What is missing or inconsistent (no ``fixed``, no ``variables``,
        field collisions).
    """

    plan: ObjectPlan | None
    pools: PoolsReport | None
    problems: tuple[str, ...] = ()

    def logical_dtype(self, order: tuple[str, ...] = ()) -> np.dtype | None:
        """Return the V1-style compound of the stored rows (:func:`logical_dtype`), None without a plan."""
        return logical_dtype(self.plan, order) if self.plan is not None else None


def inspect_objects(group: h5py.Group) -> ObjectsReport:
    """Parse an ``objects`` product group: its ``fixed`` compound and its pools, leniently."""
    fixed = group.get(FIXED)
    problems = []
    pools = None
    variables = group.get(VARIABLES)
    if isinstance(variables, h5py.Group):
        pools = parse_pools(variables)
    else:
        problems.append(f"{VARIABLES!r} is {'missing' if variables is None else 'a dataset'}")
    if not isinstance(fixed, h5py.Dataset) or not fixed.dtype.names:
        problems.insert(0, f"no compound {FIXED!r} dataset")
        return ObjectsReport(None, pools, tuple(problems))
    plan = ObjectPlan(fixed_names(fixed.dtype), fixed.dtype, tuple(pool for pool, _ in (pools.pools if pools else ())))
    problems.extend(field_collisions(plan))
    return ObjectsReport(plan, pools, tuple(problems))


def stored_plan(group: h5py.Group) -> ObjectPlan:
    """Return the plan an existing ``objects`` product group was written with.

    Raises
    ------
    KeyError
        Without ``fixed`` or ``variables``.
    ValueError
        For an unreadable pool (:func:`stored_pools`).
    """
    fixed = group[FIXED]
    pools = tuple(pool for pool, _ in stored_pools(group[VARIABLES]))
    return ObjectPlan(fixed_names(fixed.dtype), fixed.dtype, pools)
