"""SPINE's V2 layout ("product groups"): flat values and int64 offsets, no references, no VLEN.

The layout maps each :class:`~spineh5.products.ProductSpec` to one
group under ``/products`` (V2 spec sections 0-2):

=====================  ===============  ========  =============================================
spineh5 kind           V2 ``kind``      scalar    datasets
=====================  ===============  ========  =============================================
global/per-entry       ``array``        True      ``values`` (N,), ``event_offsets``
scalar (number, bool)
global/per-entry str   ``string``       True      ``values`` uint8 bytes, ``event_offsets``
object                 ``objects``      True      ``fixed``, ``event_offsets``, ``variables/pool_<i>``
objects (lists)        ``objects``      False     same
array (1-D/2-D)        ``array``        False     ``values`` (V,) or (V, W), ``event_offsets``
flat list              ``list``         False     ``values``, ``element_offsets``, ``event_offsets``
jagged list            ``multi_list``   False     ``element_<j>/{values, event_offsets}``
=====================  ===============  ========  =============================================

Object rows are split from the schema's compound dtype (``DTYPE`` or
``LITE_DTYPE``): every non-VLEN column goes to ``fixed`` in schema order,
strings and variable-length arrays go to pools keyed by (base dtype, is
string) and numbered by first appearance, and ``fixed`` ends with one
``_var_offsets_<i>`` column per pool. Everything derives from the schema, so
two files of the same type have the same ``fixed`` dtype and pools whatever
their data.

Where SPINE's own V2 code is defective (spec section 7) this layout differs:
offset datasets get large chunks (SPINE: one 8-byte chunk per offset), an
append whose products, kinds, classes, lite setting or dtypes differ is
refused before anything is written (SPINE: silent corruption or a failure
half-way), and a failed append is rolled back.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import attrs
import h5py
import numpy as np
import yaml

from .. import h5io
from ..errors import LayoutMismatchError
from ..payload import Payload
from ..products import Kind, ProductSpec
from ..types.columns import STR_DTYPE
from ..types.dtypes import describe_dtype
from .v1_write import EVENTS, INFO, create_rows_dataset

#: Root group holding one group per product.
PRODUCTS = "products"
#: Rows of one chunk of every offsets dataset (and of ``events``): 8 KiB of int64 (SPINE: 1 row).
OFFSET_CHUNK_ROWS = 1024
#: Prefix of the helper columns of ``fixed`` that index the pools.
VAR_OFFSETS = "_var_offsets_"
#: The V2 ``kind`` attribute values.
ARRAY, STRING, OBJECTS, LIST, MULTI_LIST = "array", "string", "objects", "list", "multi_list"
V2_KINDS = (ARRAY, STRING, OBJECTS, LIST, MULTI_LIST)
#: Attribute SPINE's later releases put on typed products (TensorData, IndexData, ...).
PRODUCT_METADATA = "product_metadata"
OFFSET_DTYPE = np.dtype(np.int64)
BYTES_DTYPE = np.dtype(np.uint8)


# -- object rows: fixed columns and pools ----------------------------------------------------------


@attrs.frozen
class Pool:
    """One variable-length pool of an object product.

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
        return yaml.safe_dump(list(self.fields), default_flow_style=False)

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
_PLANS_BY_ID: dict[int, tuple[np.dtype, ObjectPlan, Any]] = {}


def object_plan(dtype: np.dtype) -> ObjectPlan:
    """Return how rows of an object compound dtype (``DTYPE`` or ``LITE_DTYPE``) are stored in V2.

    Non-VLEN columns go to ``fixed`` unchanged and in order; strings and
    variable-length arrays go to pools keyed by (is string, base dtype),
    numbered in order of their first member (V2 spec section 2.4).
    """
    return _plan_entry(dtype)[1]


def _plan_entry(dtype: np.dtype) -> tuple[np.dtype, ObjectPlan, Any]:
    """Return ``(dtype, plan, HDF5 memory type of its fixed rows)``, computed once per dtype object."""
    entry = _PLANS_BY_ID.get(id(dtype))
    if entry is None or entry[0] is not dtype:
        if len(_PLANS_BY_ID) > 1024:  # only short-lived dtypes (rebuilt from files) can fill it
            _PLANS_BY_ID.clear()
        plan = _plan(describe_dtype(dtype), dtype)
        entry = _PLANS_BY_ID[id(dtype)] = (dtype, plan, h5py.h5t.py_create(plan.fixed_dtype, logical=True))
    return entry


def v2_kind(spec: ProductSpec) -> tuple[str, bool]:
    """Return the V2 ``kind`` and ``scalar`` attributes of a product spec."""
    if spec.kind in (Kind.GLOBAL_SCALAR, Kind.SCALAR):
        return (STRING if spec.dtype.kind == "O" else ARRAY), True
    return {
        Kind.OBJECT: (OBJECTS, True),
        Kind.OBJECTS: (OBJECTS, False),
        Kind.ARRAY: (ARRAY, False),
        Kind.FLAT: (LIST, False),
        Kind.JAGGED: (MULTI_LIST, False),
    }[spec.kind]


# -- stored attributes -------------------------------------------------------------------------------


def attr_str(value: Any) -> str | None:
    """Return a string attribute as ``str`` (vlen or fixed-length bytes accepted), None if absent."""
    if value is None:
        return None
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8")
    if isinstance(value, (str, np.str_)):
        return str(value)
    raise TypeError(f"expected a string attribute, got {type(value).__name__} {value!r}")


def pool_index(name: str) -> int:
    """Return the number of a pool group from its name (``pool_3`` -> 3; only the suffix counts, as in SPINE)."""
    try:
        return int(name.rsplit("_", 1)[-1])
    except ValueError:
        raise ValueError(f"variable pool {name!r} has no numeric suffix (expected pool_<i>)") from None


@functools.lru_cache(maxsize=1024)
def _pool_fields(text: str) -> tuple[str, ...] | None:
    """Return the names in a pool's ``fields`` YAML text, None unless it is a list of strings.

    Cached by text: parsing the YAML costs about 0.5 ms, every file of a type
    repeats the same texts, and readers parse them at every open.
    """
    fields = yaml.safe_load(text)
    if not isinstance(fields, list) or not all(isinstance(field, str) for field in fields):
        return None
    return tuple(fields)


def stored_pools(variables: h5py.Group) -> list[tuple[Pool, h5py.Dataset]]:
    """Return the pools of a stored ``variables`` group with their ``values`` datasets, by number.

    Raises
    ------
    ValueError
        When a pool lacks ``kind``, ``fields`` or ``values``, or ``fields`` is
        not a YAML list of strings.
    """
    out = []
    for name, node in variables.items():
        if not isinstance(node, h5py.Group):
            raise ValueError(f"variable pool {name!r} is not a group")
        index = pool_index(name)
        kind = attr_str(node.attrs.get("kind"))
        text = attr_str(node.attrs.get("fields"))
        if kind is None or text is None:
            raise ValueError(f"variable pool {name!r} lacks its 'kind' or 'fields' attribute")
        fields = _pool_fields(text)
        if fields is None:
            raise ValueError(f"variable pool {name!r}: 'fields' is not a YAML list of strings: {text!r}")
        values = node.get("values")
        if not isinstance(values, h5py.Dataset):
            raise ValueError(f"variable pool {name!r} has no 'values' dataset")
        out.append((Pool(index, kind == STRING, values.dtype, tuple(fields)), values))
    return sorted(out, key=lambda item: item[0].index)


def stored_plan(group: h5py.Group) -> ObjectPlan:
    """Return the plan an existing ``objects`` product group was written with."""
    fixed = group["fixed"]
    pools = tuple(pool for pool, _ in stored_pools(group["variables"]))
    names = tuple(name for name in fixed.dtype.names or () if not name.startswith(VAR_OFFSETS))
    return ObjectPlan(names, fixed.dtype, pools)


def logical_dtype(plan: ObjectPlan, order: tuple[str, ...] = ()) -> np.dtype:
    """Return the V1-style compound of a plan: fixed columns plus pool fields as str/vlen columns.

    Columns named in ``order`` come first, in that order; the others follow in
    stored order (fixed columns, then pool fields).
    """
    columns: dict[str, Any] = {name: plan.fixed_dtype.fields[name][0] for name in plan.fixed_names}
    for pool in plan.pools:
        for field in pool.fields:
            columns[field] = STR_DTYPE if pool.is_string else h5py.vlen_dtype(pool.base)
    names = [name for name in order if name in columns] + [name for name in columns if name not in order]
    return np.dtype([(name, columns[name]) for name in names])


# -- the layout ----------------------------------------------------------------------------------------


class V2Layout:
    """Reads and writes the V2 structure of one open HDF5 file.

    Parameters
    ----------
    h5file : h5py.File
        The open file (mode ``w`` or ``a`` to write).
    """

    format_version = 2

    def __init__(self, h5file: h5py.File) -> None:
        self.file = h5file
        self._plans: dict[str, ObjectPlan] = {}
        self._handles = h5io.dataset_cache(h5file)

    def _dataset(self, path: str, root: bool = False) -> h5py.Dataset:
        """Return a dataset of the products tree (or of the root), its handle cached while the file is open."""
        full = path if root else f"{PRODUCTS}/{path}"
        dataset = self._handles.get(full)
        if dataset is None or not dataset.id.valid:
            dataset = self._handles[full] = self.file[full]
        return dataset

    def _stored_plan(self, key: str, group: h5py.Group) -> ObjectPlan:
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = stored_plan(group)
        return plan

    @classmethod
    def info_attrs(cls, spine_version: str) -> dict:
        """Return the layout's own ``info`` attributes (spec 1.2): ``format_version`` is an int64."""
        return {"spine_version": spine_version, "format": "spine_hdf5", "format_version": np.int64(2)}

    # -- creation ------------------------------------------------------------------------------

    def create(self, specs: dict[str, ProductSpec], info: dict, options: dict[str, dict] | None = None) -> None:
        """Create ``info``, ``products`` with one group per product, and the empty ``events``.

        Parameters
        ----------
        specs : dict
            Product specs by key.
        info : dict
            Attributes of the ``info`` group, in creation order.
        options : dict, optional
            Per-key dataset options (``compression``, ``compression_opts``,
            ``shuffle``, ``chunks``) for the value datasets (``values``,
            ``fixed``, pools); offsets datasets always get
            :data:`OFFSET_CHUNK_ROWS`-row chunks.
        """
        options = options or {}
        group = self.file.create_group(INFO)
        for name, value in info.items():
            group.attrs[name] = value
        products = self.file.create_group(PRODUCTS)
        for key in sorted(specs):
            self._create_product(products, specs[key], options.get(key, {}))
        self.file.create_dataset(EVENTS, shape=(0,), maxshape=(None,), dtype=OFFSET_DTYPE, chunks=(OFFSET_CHUNK_ROWS,))

    def _create_product(self, products: h5py.Group, spec: ProductSpec, options: dict) -> None:
        kind, scalar = v2_kind(spec)
        group = products.create_group(spec.key)
        group.attrs["kind"] = kind
        group.attrs["scalar"] = np.bool_(scalar)
        if kind == STRING:
            create_rows_dataset(group, "values", BYTES_DTYPE, 0, options)
            _create_offsets(group, "event_offsets")
        elif kind == ARRAY:
            create_rows_dataset(group, "values", spec.dtype, spec.widths[0] if spec.kind is Kind.ARRAY else 0, options)
            _create_offsets(group, "event_offsets")
        elif kind == OBJECTS:
            group.attrs["class_name"] = spec.class_name
            plan = object_plan(spec.dtype)
            create_rows_dataset(group, "fixed", plan.fixed_dtype, 0, options)
            _create_offsets(group, "event_offsets")
            variables = group.create_group("variables")
            for pool in plan.pools:
                pool_group = variables.create_group(pool.name)
                pool_group.attrs["kind"] = pool.kind
                pool_group.attrs["fields"] = pool.fields_yaml()
                create_rows_dataset(pool_group, "values", pool.base, 0, _without_chunks(options))
        elif kind == LIST:
            create_rows_dataset(group, "values", spec.dtype, spec.widths[0], options)
            _create_offsets(group, "element_offsets")
            _create_offsets(group, "event_offsets")
        else:
            for position, width in enumerate(spec.widths):
                element = group.create_group(f"element_{position}")
                create_rows_dataset(element, "values", spec.dtype, width, options)
                _create_offsets(element, "event_offsets")

    # -- what an existing file holds --------------------------------------------------------------

    def _products(self) -> h5py.Group:
        products = self.file.get(PRODUCTS)
        if not isinstance(products, h5py.Group):
            raise LayoutMismatchError(f"{self.file.filename} has no V2 '{PRODUCTS}' group")
        return products

    def stored_keys(self) -> list[str]:
        """Return the products of the file (the children of ``/products``), sorted."""
        return sorted(self._products())

    def entry_count(self) -> int:
        """Return the number of entries (the length of ``events``)."""
        return int(self.file[EVENTS].shape[0])

    def stored_spec(self, key: str) -> ProductSpec:
        """Return how an existing product is stored (kind, dtype, class, widths).

        Objects get their class's ``DTYPE`` or ``LITE_DTYPE`` when the stored
        ``fixed`` and pools are exactly that dtype's split, else a compound
        rebuilt from the stored columns (which then matches no data spec).

        Raises
        ------
        LayoutMismatchError
            When the group is not a V2 product spineh5 understands.
        """
        group = self._products().get(key)
        if not isinstance(group, h5py.Group):
            raise LayoutMismatchError(f"{key!r}: not a V2 product group")
        try:
            kind = attr_str(group.attrs.get("kind"))
            scalar = bool(group.attrs.get("scalar", False))
            if kind == STRING:
                return ProductSpec(key, Kind.SCALAR, STR_DTYPE)
            if kind == ARRAY:
                values = group["values"]
                if scalar:
                    return ProductSpec(key, Kind.SCALAR, values.dtype)
                return ProductSpec(key, Kind.ARRAY, values.dtype, None, (_width(values),))
            if kind == OBJECTS:
                class_name = attr_str(group.attrs.get("class_name"))
                dtype = _stored_object_dtype(self._stored_plan(key, group), class_name)
                return ProductSpec(key, Kind.OBJECT if scalar else Kind.OBJECTS, dtype, class_name)
            if kind == LIST:
                values = group["values"]
                return ProductSpec(key, Kind.FLAT, values.dtype, None, (_width(values),))
            if kind == MULTI_LIST:
                parts = [group[name]["values"] for name in element_names(group)]
                if not parts:
                    raise ValueError("multi_list product has no element_<j> group")
                return ProductSpec(key, Kind.JAGGED, parts[0].dtype, None, tuple(_width(part) for part in parts))
        except (KeyError, ValueError, TypeError) as err:
            raise LayoutMismatchError(f"{key!r}: unreadable V2 product ({err})") from None
        raise LayoutMismatchError(f"{key!r}: unknown V2 product kind {kind!r} (known: {', '.join(V2_KINDS)})")

    def differences(self, specs: dict[str, ProductSpec]) -> list[str]:
        """Return how ``specs`` differ from what the file stores (empty when an append is safe).

        Checked: the ``products`` group, the key sets (both ways), each
        product's kind, class, lite setting, dtypes and widths, that it is not
        a SPINE typed product, that every dataset is chunked (resizable) and
        that every offsets dataset has one row more than the entries.
        """
        try:
            stored = set(self.stored_keys())
        except LayoutMismatchError as err:
            return [str(err)]
        problems = []
        if set(specs) - stored:
            problems.append(f"products not in the file: {sorted(set(specs) - stored)}")
        if stored - set(specs):
            problems.append(f"products in the file but not in the data: {sorted(stored - set(specs))}")
        n_entries = self.entry_count()
        for key in sorted(stored & set(specs)):
            problems.extend(self._differences(key, specs[key], n_entries))
        return problems

    def _differences(self, key: str, want: ProductSpec, n_entries: int) -> list[str]:
        group = self._products()[key]
        if isinstance(group, h5py.Group) and PRODUCT_METADATA in group.attrs:
            return [f"{key!r}: a SPINE typed product (it has {PRODUCT_METADATA!r}); spineh5 does not append to those"]
        try:
            have = self.stored_spec(key)
        except LayoutMismatchError as err:
            return [str(err)]
        have_kind = Kind.SCALAR if have.kind is Kind.GLOBAL_SCALAR else have.kind
        want_kind = Kind.SCALAR if want.kind is Kind.GLOBAL_SCALAR else want.kind
        if have_kind is not want_kind:
            return [f"{key!r}: stored as {have_kind.value}, data is {want_kind.value}"]
        if have.class_name != want.class_name:
            return [f"{key!r}: stores {have.class_name} objects, data has {want.class_name}"]
        if have.class_name is not None:
            problem = _object_difference(key, self._stored_plan(key, group), want)
            if problem:
                return [problem]
        elif describe_dtype(have.dtype) != describe_dtype(want.dtype):
            return [f"{key!r}: stored dtype {describe_dtype(have.dtype)} differs from {describe_dtype(want.dtype)}"]
        elif have.widths != want.widths:
            return [f"{key!r}: stored widths {have.widths} differ from {want.widths}"]
        return _structure_problems(key, group, n_entries)

    # -- appending -------------------------------------------------------------------------------

    def append(self, payloads: dict[str, Payload], n_entries: int) -> None:
        """Append one validated batch, all or nothing.

        Every dataset is resized once and written once; ``events`` is written
        last. On any failure every dataset already grown is shrunk back, so
        the file keeps exactly its earlier entries.

        Raises
        ------
        LayoutMismatchError
            Before writing anything, when the batch's products are not exactly
            the file's or a payload does not hold ``n_entries`` entries.
        """
        stored = self.stored_keys()
        missing, extra = sorted(set(stored) - set(payloads)), sorted(set(payloads) - set(stored))
        if missing or extra:
            raise LayoutMismatchError(
                f"{self.file.filename}: the batch must hold exactly the stored products "
                f"(missing from the batch: {missing}; not in the file: {extra})"
            )
        for key, payload in payloads.items():
            if len(payload.counts) != n_entries:
                raise LayoutMismatchError(f"{key!r}: payload has {len(payload.counts)} entries, batch has {n_entries}")
        touched: list[tuple[h5py.Dataset, int]] = []
        try:
            for key in sorted(payloads):
                self.append_product(payloads[key], touched)
            events = self._dataset(EVENTS, root=True)
            start = _length(events)
            _append_rows(events, np.arange(start, start + n_entries, dtype=OFFSET_DTYPE), touched)
        except BaseException:
            for dataset, size in reversed(touched):
                if dataset.shape[0] != size:
                    dataset.resize(size, axis=0)
            raise

    def append_product(self, payload: Payload, touched: list[tuple[h5py.Dataset, int]] | None = None) -> np.ndarray:
        """Append one product's entries; return its new ``event_offsets`` rows.

        Offsets are absolute positions in the file-wide datasets, continuing
        from their current length. ``events`` is not extended (see :meth:`append`).

        Parameters
        ----------
        payload : Payload
            The product's prepared batch.
        touched : list, optional
            Receives ``(dataset, previous length)`` of each dataset grown, for rollback.
        """
        spec = payload.spec
        key = spec.key
        kind, _ = v2_kind(spec)
        if kind == MULTI_LIST:
            ends = None
            for position, rows in enumerate(payload.parts):
                values = self._dataset(f"{key}/element_{position}/values")
                position_ends = _append_counted(values, rows, payload.part_counts[:, position], touched)
                _append_rows(self._dataset(f"{key}/element_{position}/event_offsets"), position_ends, touched)
                ends = position_ends if ends is None else ends
            return ends if ends is not None else np.empty(0, OFFSET_DTYPE)
        if kind == STRING:
            data, lengths = _encode_strings(payload.rows)
            ends = _append_counted(self._dataset(f"{key}/values"), data, lengths, touched)
        elif kind == ARRAY:
            ends = _append_counted(self._dataset(f"{key}/values"), payload.rows, payload.counts, touched)
        elif kind == LIST:
            element_offsets = self._dataset(f"{key}/element_offsets")
            base = _length(element_offsets) - 1
            values = self._dataset(f"{key}/values")
            element_ends = _append_counted(values, payload.rows, payload.element_counts, touched)
            _append_rows(element_offsets, element_ends, touched)
            ends = base + _cumsum(payload.counts)
        else:
            ends = self._append_objects(key, payload, touched)
        _append_rows(self._dataset(f"{key}/event_offsets"), ends, touched)
        return ends

    def _append_objects(self, key: str, payload: Payload, touched: list | None) -> np.ndarray:
        """Write the pools, then the ``fixed`` rows with their helper columns; return the event ends."""
        _, plan, memory_type = _plan_entry(payload.spec.dtype)
        rows = payload.rows
        fixed = np.empty(len(rows), dtype=plan.fixed_dtype)
        names = list(plan.fixed_names)
        if names:
            fixed[names] = rows[names]  # one structured copy, by position, of every fixed column
        for pool in plan.pools:
            values = self._dataset(f"{key}/variables/{pool.name}/values")
            data, lengths = _pool_values(rows, pool)
            base = _length(values)
            fixed[pool.column] = _var_offsets(lengths, len(rows), len(pool.fields), base)
            _append_rows(values, data, touched, None, base)  # positional: tests wrap it with *args
        start = _append_rows(self._dataset(f"{key}/fixed"), fixed, touched, memory_type)
        return start + _cumsum(payload.counts)

    def datasets(self) -> Iterator[h5py.Dataset]:
        """Yield every dataset of the products tree, then ``events``."""
        found: list[h5py.Dataset] = []
        self._products().visititems(lambda _name, node: found.append(node) if isinstance(node, h5py.Dataset) else None)
        yield from found
        yield self.file[EVENTS]

    def mark_complete(self, complete: bool = True) -> None:
        """Set ``info.complete``: True once the writer finished the file, False while it writes.

        Parameters
        ----------
        complete : bool, default True
            The value written, as a numpy bool (an HDF5 enum boolean).
        """
        self.file[INFO].attrs["complete"] = np.bool_(complete)


# -- helpers -------------------------------------------------------------------------------------------


def element_names(group: h5py.Group) -> list[str]:
    """Return the ``element_<j>`` children of a multi_list group, ordered by ``j`` (gaps allowed)."""
    names = []
    for name in group:
        if name.startswith("element_"):
            try:
                names.append((int(name.rsplit("_", 1)[-1]), name))
            except ValueError:
                continue
    return [name for _, name in sorted(names)]


def _width(dataset: h5py.Dataset) -> int:
    return int(dataset.shape[1]) if dataset.ndim == 2 else 0


def _without_chunks(options: dict) -> dict:
    return {k: v for k, v in options.items() if k != "chunks"}


def _create_offsets(group: h5py.Group, name: str) -> h5py.Dataset:
    """Create an int64 offsets dataset holding the single boundary 0, chunked by :data:`OFFSET_CHUNK_ROWS`."""
    return group.create_dataset(
        name, data=np.zeros(1, OFFSET_DTYPE), maxshape=(None,), chunks=(OFFSET_CHUNK_ROWS,), dtype=OFFSET_DTYPE
    )


def _cumsum(counts: np.ndarray) -> np.ndarray:
    return np.cumsum(np.asarray(counts, dtype=OFFSET_DTYPE), dtype=OFFSET_DTYPE)


def _length(dataset: h5py.Dataset) -> int:
    """Return the current length of a dataset's first axis (``dataset.shape`` costs ~10x more in write mode)."""
    return dataset.id.shape[0]


def _append_rows(
    dataset: h5py.Dataset, rows: np.ndarray, touched: list | None, mem_type: Any = None, length: int | None = None
) -> int:
    """Append rows with one resize and one low-level write; return the first new row.

    ``touched`` collects ``(dataset, previous length)`` for the rollback;
    ``mem_type`` is the HDF5 type of ``rows`` when the caller has one;
    ``length`` is the dataset's current length when the caller knows it.
    """
    if len(rows) and touched is not None:
        touched.append((dataset, _length(dataset) if length is None else length))
    return h5io.append_rows(dataset, rows, mem_type)


def _append_counted(dataset: h5py.Dataset, rows: np.ndarray, counts: np.ndarray, touched: list | None) -> np.ndarray:
    """Append rows; return the absolute end boundary of each run of ``counts`` rows."""
    start = _append_rows(dataset, rows, touched)
    return start + _cumsum(counts)


def _encode_strings(items: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return the concatenated UTF-8 bytes of strings and the byte length of each."""
    try:
        text = "".join(items)
    except TypeError:  # not all str: the per-item path below raises the usual error
        text = None
    if text is not None and text.isascii():
        # ASCII: one encode of the whole text; byte lengths are character lengths.
        lengths = np.fromiter(map(len, items), OFFSET_DTYPE, len(items))
        return np.frombuffer(text.encode("ascii"), dtype=BYTES_DTYPE), lengths
    encoded = [item.encode("utf-8") for item in items]
    lengths = np.fromiter(map(len, encoded), OFFSET_DTYPE, len(encoded))
    return np.frombuffer(b"".join(encoded), dtype=BYTES_DTYPE), lengths


def _pool_values(rows: np.ndarray, pool: Pool) -> tuple[np.ndarray, np.ndarray]:
    """Return one pool's values for ``rows`` (object by object, field by field) and each field's length."""
    fields = pool.fields
    if len(fields) == 1:
        items = rows[fields[0]].tolist()
    else:
        # Interleave object by object, field by field: column j of an (objects, fields) grid.
        grid = np.empty((len(rows), len(fields)), dtype=object)
        for position, field in enumerate(fields):
            grid[:, position] = rows[field]
        items = grid.ravel().tolist()
    if pool.is_string:
        return _encode_strings(items)
    lengths = np.fromiter(map(len, items), OFFSET_DTYPE, len(items))
    data = np.concatenate(items).astype(pool.base, copy=False) if items else np.empty(0, pool.base)
    return data, lengths


def _var_offsets(lengths: np.ndarray, n_rows: int, n_fields: int, base: int) -> np.ndarray:
    """Return the ``(n_rows, n_fields + 1)`` absolute boundaries ``[s, e_0, ..., e_{F-1}]`` of each row."""
    bounds = np.empty(n_rows * n_fields + 1, dtype=OFFSET_DTYPE)
    bounds[0] = 0
    np.cumsum(lengths, out=bounds[1:])
    bounds += base
    index = np.arange(n_rows, dtype=OFFSET_DTYPE)[:, None] * n_fields + np.arange(n_fields + 1, dtype=OFFSET_DTYPE)
    return bounds[index]


def _stored_object_dtype(plan: ObjectPlan, class_name: str | None) -> np.dtype:
    """Return the class's DTYPE/LITE_DTYPE whose split is the stored plan, else the plan's logical dtype.

    The logical dtype lists the fixed columns, then the pool fields pool by
    pool, so that splitting it again gives back the stored plan.
    """
    from ..generated import REGISTRY

    cls = REGISTRY.get(class_name) if class_name else None
    if cls is not None:
        for dtype in (cls.DTYPE, cls.LITE_DTYPE):
            if object_plan(dtype).signature() == plan.signature():
                return dtype
    return logical_dtype(plan)


def _object_difference(key: str, have: ObjectPlan, want: ProductSpec) -> str | None:
    """Describe how a stored object plan differs from the plan of ``want`` (None when identical)."""
    from ..generated import REGISTRY

    expected = object_plan(want.dtype)
    if have.signature() == expected.signature():
        return None
    cls = REGISTRY.get(want.class_name or "")
    if cls is not None:
        lite = {describe_dtype(cls.DTYPE): False, describe_dtype(cls.LITE_DTYPE): True}
        want_lite = lite.get(describe_dtype(want.dtype))
        for stored_lite, dtype in ((False, cls.DTYPE), (True, cls.LITE_DTYPE)):
            if want_lite is None or want_lite == stored_lite:
                continue
            if object_plan(dtype).signature() == have.signature():
                return f"{key!r}: the file stores lite={stored_lite} {want.class_name} rows, data is lite={want_lite}"
    stored_columns = _column_descriptions(have)
    wanted_columns = _column_descriptions(expected)
    details = []
    only_file = [name for name in stored_columns if name not in wanted_columns]
    only_data = [name for name in wanted_columns if name not in stored_columns]
    if only_file:
        details.append(f"columns only in the file: {only_file}")
    if only_data:
        details.append(f"columns only in the data: {only_data}")
    for name, text in wanted_columns.items():
        if name in stored_columns and stored_columns[name] != text:
            details.append(f"column {name!r}: file {stored_columns[name]}, data {text}")
    if not details:
        details.append("same columns, stored in another order or other pools")
    return f"{key!r}: stored {want.class_name} columns differ from the data's: " + "; ".join(details)


def _column_descriptions(plan: ObjectPlan) -> dict[str, str]:
    out = {name: describe_dtype(plan.fixed_dtype.fields[name][0]) for name in plan.fixed_names}
    for pool in plan.pools:
        for field in pool.fields:
            out[field] = "str" if pool.is_string else f"vlen<{describe_dtype(pool.base)}>"
    return out


def _structure_problems(key: str, group: h5py.Group, n_entries: int) -> list[str]:
    """Return the reasons a product group cannot safely grow: non-chunked datasets, offsets of the wrong length."""
    problems = []
    datasets: list[tuple[str, h5py.Dataset]] = []
    group.visititems(lambda name, node: datasets.append((name, node)) if isinstance(node, h5py.Dataset) else None)
    for name, dataset in datasets:
        if dataset.chunks is None or dataset.maxshape[0] is not None:
            problems.append(f"{key!r}: dataset {name!r} is not resizable (not chunked with maxshape None)")
        if name.rsplit("/", 1)[-1] == "event_offsets" and dataset.shape[0] != n_entries + 1:
            problems.append(
                f"{key!r}: {name!r} has {dataset.shape[0]} rows, expected entries + 1 = {n_entries + 1} "
                "(the file is damaged; appending would misalign it further)"
            )
    return problems
