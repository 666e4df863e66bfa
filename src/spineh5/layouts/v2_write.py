"""SPINE's V2 layout ("product groups"): flat values and int64 offsets, no references, no VLEN.

The layout maps each :class:`~spineh5.products.ProductSpec` to one
group under ``/products`` (``docs/format/spine-v2-format.md`` sections 0-2;
names, kinds and the split of object rows from :mod:`spineh5.format.v2`):

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

Where SPINE's own V2 code is defective (``docs/format/spine-v2-format.md``
section 7) this layout differs: offset datasets get large chunks (SPINE: one
8-byte chunk per offset), an append whose products, kinds, classes, lite
setting or dtypes differ is refused before anything is written (SPINE: silent
corruption or a failure half-way), and a failed append is rolled back.
"""

from __future__ import annotations

from typing import Any

import attrs
import h5py
import numpy as np

from ..errors import LayoutMismatchError, SpineFileError
from ..format.common import CLASS_NAME, EVENTS, INFO, SCALAR, attr_string, element_name
from ..format.v2 import (
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
    VARIABLES,
    ObjectPlan,
    Pool,
    object_plan,
    v2_kind,
)
from ..payload import Payload
from ..products import Kind, ProductSpec
from ..types.dtypes import describe_dtype
from .base import AppendSession, WriteLayout, key_differences, kind_difference
from .v1_write import checksum_options, create_rows_dataset
from .v2_append import object_difference, stored_object_dtype, structure_problems
from .v2_columns import column_pool_values
from .v2_read import V2ReadLayout

__all__ = ["OFFSET_CHUNK_ROWS", "V2Layout", "object_plan"]

#: Rows of one chunk of every offsets dataset (and of ``events``): 8 KiB of int64 (SPINE: 1 row).
OFFSET_CHUNK_ROWS = 1024
#: HDF5 memory type of the ``fixed`` rows of each plan seen, by identity (plans are cached per dtype).
_FIXED_TYPES: dict[int, tuple[ObjectPlan, Any]] = {}


def _fixed_memory_type(plan: ObjectPlan) -> Any:
    """Return the HDF5 memory type of a plan's ``fixed`` rows, built once per plan."""
    entry = _FIXED_TYPES.get(id(plan))
    if entry is None or entry[0] is not plan:
        if len(_FIXED_TYPES) > 1024:
            _FIXED_TYPES.clear()
        entry = _FIXED_TYPES[id(plan)] = (plan, h5py.h5t.py_create(plan.fixed_dtype, logical=True))
    return entry[1]


# -- the layout ----------------------------------------------------------------------------------------


class V2Layout(WriteLayout):
    """Reads and writes the V2 structure of one open HDF5 file.

    Parameters
    ----------
    h5file : h5py.File
        The open file (mode ``w`` or ``a`` to write).
    """

    format_version = 2
    read_class = V2ReadLayout
    columnar_objects = True

    @classmethod
    def info_attrs(cls, spine_version: str) -> dict:
        """Return the layout's own ``info`` attributes: ``format_version`` is an int64.

        See ``docs/format/spine-v2-format.md`` section 1.2.
        """
        return {"spine_version": spine_version, "format": "spine_hdf5", "format_version": np.int64(2)}

    # -- creation ------------------------------------------------------------------------------

    def create(
        self, specs: dict[str, ProductSpec], info: dict, options: dict[str, dict] | None = None, checksum: bool = False
    ) -> None:
        """Create ``info``, ``products`` with one group per product, and the empty ``events``.

        Parameters
        ----------
        specs : dict
            Product specs by key.
        info : dict
            Attributes of the ``info`` group, in creation order.
        options : dict, optional
            Per-key dataset options (``compression``, ``compression_opts``,
            ``shuffle``, ``fletcher32``, ``chunks``) for the value datasets
            (``values``, ``fixed``, pools); offsets datasets always get
            :data:`OFFSET_CHUNK_ROWS`-row chunks.
        checksum : bool, default False
            Write ``events`` and every offsets dataset with the Fletcher-32 filter.
        """
        options = options or {}
        group = self.file.create_group(INFO)
        for name, value in info.items():
            group.attrs[name] = value
        products = self.file.create_group(PRODUCTS)
        filters = checksum_options(checksum)
        for key in sorted(specs):
            self._create_product(products, specs[key], options.get(key, {}), filters)
        self.file.create_dataset(
            EVENTS, shape=(0,), maxshape=(None,), dtype=OFFSET_DTYPE, chunks=(OFFSET_CHUNK_ROWS,), **filters
        )

    def _create_product(self, products: h5py.Group, spec: ProductSpec, options: dict, filters: dict) -> None:
        kind, scalar = v2_kind(spec)
        group = products.create_group(spec.key)
        group.attrs[KIND] = kind
        group.attrs[SCALAR] = np.bool_(scalar)
        if kind == STRING:
            create_rows_dataset(group, VALUES, BYTES_DTYPE, 0, options)
            _create_offsets(group, EVENT_OFFSETS, filters)
        elif kind == ARRAY:
            create_rows_dataset(group, VALUES, spec.dtype, spec.widths[0] if spec.kind is Kind.ARRAY else 0, options)
            _create_offsets(group, EVENT_OFFSETS, filters)
        elif kind == OBJECTS:
            group.attrs[CLASS_NAME] = spec.class_name
            plan = object_plan(spec.dtype)
            create_rows_dataset(group, FIXED, plan.fixed_dtype, 0, options)
            _create_offsets(group, EVENT_OFFSETS, filters)
            variables = group.create_group(VARIABLES)
            for pool in plan.pools:
                pool_group = variables.create_group(pool.name)
                pool_group.attrs[KIND] = pool.kind
                pool_group.attrs[FIELDS] = pool.fields_yaml()
                create_rows_dataset(pool_group, VALUES, pool.base, 0, _without_chunks(options))
        elif kind == LIST:
            create_rows_dataset(group, VALUES, spec.dtype, spec.widths[0], options)
            _create_offsets(group, ELEMENT_OFFSETS, filters)
            _create_offsets(group, EVENT_OFFSETS, filters)
        else:
            for position, width in enumerate(spec.widths):
                element = group.create_group(element_name(position))
                create_rows_dataset(element, VALUES, spec.dtype, width, options)
                _create_offsets(element, EVENT_OFFSETS, filters)

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
        """Return how an existing product is stored (kind, dtype, class, widths), as the V2 reader sees it.

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
            kind = attr_string(group.attrs.get(KIND), strict=True)
            if kind not in V2_KINDS:
                raise LayoutMismatchError(f"{key!r}: unknown V2 product kind {kind!r} (known: {', '.join(V2_KINDS)})")
            reader = self.reader()
            spec = reader.spec(key, lenient=True)
            if spec.kind is Kind.JAGGED and not spec.widths:
                raise ValueError("multi_list product has no element_<j> group")
            if spec.kind.holds_objects:
                spec = attrs.evolve(spec, dtype=stored_object_dtype(reader.stored_plan(key), spec.class_name))
        except (SpineFileError, KeyError, ValueError, TypeError) as err:
            raise LayoutMismatchError(f"{key!r}: unreadable V2 product ({err})") from None
        return spec

    def differences(self, specs: dict[str, ProductSpec]) -> list[str]:
        """Return how ``specs`` differ from what the file stores (empty when an append is safe).

        Checked: the ``products`` group, the key sets (both ways), each
        product's kind, class, lite setting, dtypes and widths, that it is not
        a SPINE typed product, that every dataset is chunked (resizable) and
        that every offsets dataset has one row more than the entries.
        """
        try:
            stored = self.stored_keys()
        except LayoutMismatchError as err:
            return [str(err)]
        problems = key_differences(specs, stored)
        n_entries = self.entry_count()
        for key in sorted(set(stored) & set(specs)):
            problems.extend(self._differences(key, specs[key], n_entries))
        return problems

    def _differences(self, key: str, want: ProductSpec, n_entries: int) -> list[str]:
        group = self._products()[key]
        if isinstance(group, h5py.Group) and PRODUCT_METADATA in group.attrs:
            return [f"{key!r}: a SPINE typed product (it has {PRODUCT_METADATA!r}); spineh5 does not append to those"]
        try:
            have = self.stored_spec(key)
        except LayoutMismatchError as err:
            # a damaged group the reader refuses: its structure says why when it can
            return (structure_problems(key, group, n_entries) if isinstance(group, h5py.Group) else []) or [str(err)]
        problem = kind_difference(key, have, want)
        if problem is not None:
            return [problem]
        if have.class_name is not None:
            problem = object_difference(key, self.reader().stored_plan(key), want)
            if problem:
                return [problem]
        elif describe_dtype(have.dtype) != describe_dtype(want.dtype):
            return [f"{key!r}: stored dtype {describe_dtype(have.dtype)} differs from {describe_dtype(want.dtype)}"]
        elif have.widths != want.widths:
            return [f"{key!r}: stored widths {have.widths} differ from {want.widths}"]
        return structure_problems(key, group, n_entries)

    # -- appending -------------------------------------------------------------------------------

    def _check_batch(self, payloads: dict[str, Payload], n_entries: int) -> None:
        """Refuse, before anything is written, a batch whose products are not exactly the file's.

        Raises
        ------
        LayoutMismatchError
            When the batch's products are not exactly the file's or a payload
            does not hold ``n_entries`` entries.
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

    def _append(self, payloads: dict[str, Payload], n_entries: int, session: AppendSession) -> None:
        """Append every product (resized once, written once each), then ``events``."""
        for key in sorted(payloads):
            self.append_product(payloads[key], session)
        self._before_events()
        events = session.dataset(EVENTS)
        start = _length(events)
        _append_rows(events, np.arange(start, start + n_entries, dtype=OFFSET_DTYPE), session)

    def append_product(self, payload: Payload, session: AppendSession | None = None) -> np.ndarray:
        """Append one product's entries; return its new ``event_offsets`` rows.

        Offsets are absolute positions in the file-wide datasets, continuing
        from their current length. ``events`` is not extended (see :meth:`append`).

        Parameters
        ----------
        payload : Payload
            The product's prepared batch.
        session : AppendSession, optional
            The append it is part of (it rolls back what it grew); by default a new one.
        """
        session = session or self.session()
        spec = payload.spec
        key = spec.key

        def dataset(path: str) -> h5py.Dataset:
            return session.dataset(f"{PRODUCTS}/{key}/{path}")

        kind, _ = v2_kind(spec)
        if kind == MULTI_LIST:
            ends = None
            for position, rows in enumerate(payload.parts):
                element = element_name(position)
                values = dataset(f"{element}/{VALUES}")
                position_ends = _append_counted(values, rows, payload.part_counts[:, position], session)
                _append_rows(dataset(f"{element}/{EVENT_OFFSETS}"), position_ends, session)
                ends = position_ends if ends is None else ends
            return ends if ends is not None else np.empty(0, OFFSET_DTYPE)
        if kind == STRING:
            data, lengths = _encode_strings(payload.rows)
            ends = _append_counted(dataset(VALUES), data, lengths, session)
        elif kind == ARRAY:
            ends = _append_counted(dataset(VALUES), payload.rows, payload.counts, session)
        elif kind == LIST:
            element_offsets = dataset(ELEMENT_OFFSETS)
            base = _length(element_offsets) - 1
            element_ends = _append_counted(dataset(VALUES), payload.rows, payload.element_counts, session)
            _append_rows(element_offsets, element_ends, session)
            ends = base + _cumsum(payload.counts)
        else:
            ends = self._append_objects(payload, dataset, session)
        _append_rows(dataset(EVENT_OFFSETS), ends, session)
        return ends

    def _append_objects(self, payload: Payload, dataset: Any, session: AppendSession) -> np.ndarray:
        """Write the pools, then the ``fixed`` rows with their helper columns; return the event ends.

        Objects prepared as columns (what the writer hands this layout) go straight into ``fixed`` and the
        pools (:mod:`.v2_columns`); compound rows (``payload.rows``) are split as the plan says.
        """
        plan = object_plan(payload.spec.dtype)
        memory_type = _fixed_memory_type(plan)
        columns = payload.columns
        rows = payload.rows
        count = len(columns) if columns is not None else len(rows)
        fixed = np.empty(count, dtype=plan.fixed_dtype)
        names = list(plan.fixed_names)
        if columns is not None:
            for name in names:
                fixed[name] = columns.column(name)
        elif names:
            fixed[names] = rows[names]  # one structured copy, by position, of every fixed column
        for pool in plan.pools:
            values = dataset(f"{VARIABLES}/{pool.name}/{VALUES}")
            if columns is not None:
                data, lengths = column_pool_values(columns, pool, _encode_strings)
            else:
                data, lengths = _pool_values(rows, pool)
            base = _length(values)
            fixed[pool.column] = _var_offsets(lengths, count, len(pool.fields), base)
            _append_rows(values, data, session, None, base)  # positional: tests wrap it with *args
        start = _append_rows(dataset(FIXED), fixed, session, memory_type)
        return start + _cumsum(payload.counts)


# -- helpers -------------------------------------------------------------------------------------------


def _width(dataset: h5py.Dataset) -> int:
    return int(dataset.shape[1]) if dataset.ndim == 2 else 0


def _without_chunks(options: dict) -> dict:
    return {k: v for k, v in options.items() if k != "chunks"}


def _create_offsets(group: h5py.Group, name: str, filters: dict) -> h5py.Dataset:
    """Create an int64 offsets dataset holding the single boundary 0, chunked by :data:`OFFSET_CHUNK_ROWS`.

    ``filters`` are h5py filter arguments (:func:`.v1_write.checksum_options`).
    """
    return group.create_dataset(
        name,
        data=np.zeros(1, OFFSET_DTYPE),
        maxshape=(None,),
        chunks=(OFFSET_CHUNK_ROWS,),
        dtype=OFFSET_DTYPE,
        **filters,
    )


def _cumsum(counts: np.ndarray) -> np.ndarray:
    return np.cumsum(np.asarray(counts, dtype=OFFSET_DTYPE), dtype=OFFSET_DTYPE)


def _length(dataset: h5py.Dataset) -> int:
    """Return the current length of a dataset's first axis (``dataset.shape`` costs ~10x more in write mode)."""
    return dataset.id.shape[0]


def _append_rows(
    dataset: h5py.Dataset, rows: np.ndarray, session: AppendSession, mem_type: Any = None, length: int | None = None
) -> int:
    """Append rows through the session (:meth:`AppendSession.append`); return the first new row.

    Every V2 write goes through this function (tests intercept it).
    """
    return session.append(dataset, rows, mem_type, length)


def _append_counted(dataset: h5py.Dataset, rows: np.ndarray, counts: np.ndarray, session: AppendSession) -> np.ndarray:
    """Append rows; return the absolute end boundary of each run of ``counts`` rows."""
    start = _append_rows(dataset, rows, session)
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
    # row r is bounds[r * F : r * F + F + 1]: overlapping windows, a strided view (no index array, no gather)
    step = bounds.strides[0]
    return np.lib.stride_tricks.as_strided(bounds, shape=(n_rows, n_fields + 1), strides=(n_fields * step, step))
