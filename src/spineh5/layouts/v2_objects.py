"""Reading V2 ``objects`` products: their ``fixed`` rows and the variable fields in their pools.

:class:`ObjectReading` is the part of :class:`~spineh5.layouts.v2_read.V2ReadLayout`
that reads object products (``docs/format/spine-v2-format.md`` sections 2.4
and 4.9): the ``fixed`` rows (with the stored HDF5 type when numpy lays out
the same bytes), the pools parsed by :func:`spineh5.format.v2.parse_pools`
(only when variable fields are read) and the V1-style rows rebuilt from both.
:class:`Product` is what one product group of any kind holds, inspected once.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from typing import Any

import attrs
import h5py
import numpy as np

from .. import h5io
from ..format.common import CLASS_NAME, attr_string
from ..format.v2 import (
    EVENT_OFFSETS,
    FIXED,
    OBJECTS,
    VAR_OFFSETS,
    VARIABLES,
    ObjectPlan,
    Pool,
    fixed_names,
    logical_dtype,
    parse_pools,
)
from ..products import Kind, ProductSpec
from ..types.columns import STR_DTYPE
from ..views.varcolumn import TableColumns, VarColumn
from .base import H5_ERRORS, ReadLayout


@attrs.define
class Product:
    """What one product group holds, inspected once."""

    key: str
    group: h5py.Group
    kind: str
    scalar: bool
    spec: ProductSpec | None
    event_offsets: h5py.Dataset | None = None
    values: h5py.Dataset | None = None
    element_offsets: h5py.Dataset | None = None
    elements: list[tuple[h5py.Dataset, h5py.Dataset]] = attrs.Factory(list)
    fixed: h5py.Dataset | None = None
    plan: ObjectPlan | None = None
    class_name: str | None = None
    order: tuple[str, ...] = ()
    pools: list[tuple[Pool, h5py.Dataset]] | None = None
    #: The numpy dtype of each pool's ``values``, by pool name (read once, with the pools).
    pool_dtypes: dict[str, np.dtype] = attrs.Factory(dict)
    row_dtype: np.dtype | None = None
    block: tuple[int, np.ndarray] | None = None
    file_type: Any = None
    problems: tuple[str, ...] = ()
    #: ``(first row, rows as uint8 of shape (rows, itemsize), their dtype)`` of ``fixed`` read ahead.
    ahead: tuple[int, np.ndarray, np.dtype] | None = None
    #: Where the last entry read of ``fixed`` stopped (a read starting there is sequential).
    next_row: int = 0
    #: End of the last read ahead that failed (damaged rows): entries before it are read on their own.
    unreadable_until: int = 0


@attrs.frozen
class PoolField:
    """One variable field of many object rows, straight from its pool: flat values and each row's bounds.

    Row ``i`` holds ``values[starts[i]:stops[i]]``; the fields of one pool share its ``values``.

    Attributes
    ----------
    values : numpy.ndarray
        The span of the pool the rows use (UTF-8 bytes as uint8 for string fields).
    starts, stops : numpy.ndarray
        int64, one per row.
    is_string : bool
        UTF-8 strings (checked) rather than arrays.
    """

    values: np.ndarray
    starts: np.ndarray
    stops: np.ndarray
    is_string: bool


@attrs.frozen
class ObjectColumns:
    """The columns of an object product for many entries, variable fields as pool slices (no per-row arrays).

    Attributes
    ----------
    names : tuple of str
        The columns read, in the order :meth:`V2ReadLayout.read_table` returns them.
    fixed : numpy.ndarray
        Compound rows holding (at least) the fixed columns among ``names``.
    variable : dict of str to PoolField
        The variable columns among ``names``.
    offsets : numpy.ndarray
        int64, entries + 1: entry ``i`` holds rows ``offsets[i]:offsets[i + 1]``.
    class_name : str or None
        The product's ``class_name`` attribute.
    """

    names: tuple[str, ...]
    fixed: np.ndarray
    variable: dict[str, PoolField]
    offsets: np.ndarray
    class_name: str | None


#: Bytes of ``fixed`` rows read at once when entries are read in order.
_READ_AHEAD = 1 << 19


class ObjectReading(ReadLayout):
    """The object-product half of the V2 read layout (it uses the layout's ``_count``, ``_offsets``, ``_product``)."""

    _count: int

    def _inspect_objects(self, key: str, group: h5py.Group, scalar: bool, problems: list[str]) -> Product:
        from ..types.registry import REGISTRY

        stored_class = group.attrs.get(CLASS_NAME)  # one attribute read
        if stored_class is None:
            raise self._fail(f"objects group has no {CLASS_NAME!r} attribute", key)
        class_name = attr_string(stored_class, strict=True)
        fixed = group.get(FIXED)
        # h5py builds a wide compound's dtype anew for every dataset it opens: taken from h5io's cache by stored
        # type, kept in the plan
        dtype = h5io.dataset_dtype(fixed) if isinstance(fixed, h5py.Dataset) else None
        if dtype is None or fixed.ndim != 1 or dtype.names is None:
            raise self._fail(f"{group.name}/fixed is missing or not a 1-D compound dataset", key)
        event_offsets = self._offsets(group, EVENT_OFFSETS, key, self._count + 1, problems)
        names = fixed_names(dtype)
        cls = REGISTRY.resolve(class_name or "")
        return Product(
            key,
            group,
            OBJECTS,
            scalar,
            None,
            event_offsets,
            fixed=fixed,
            plan=ObjectPlan(names, dtype, ()),
            class_name=class_name,
            order=tuple(column.name for column in cls.COLUMNS) if cls is not None else (),
        )

    def _load_pools(self, product: Product) -> None:
        """Inspect the ``variables`` pools of an object product (only when variable fields are read)."""
        key, dtype = product.key, product.plan.fixed_dtype
        helpers = [name for name in dtype.names if name.startswith(VAR_OFFSETS)]
        variables = product.group.get(VARIABLES)
        pools: list[tuple[Pool, h5py.Dataset]] = []
        if isinstance(variables, h5py.Group):
            with self._errors(key):
                report = parse_pools(variables)
            problem = report.first_fatal()
            if problem is not None:
                raise self._fail(problem, key)
            pools = report.pools
        elif helpers:
            raise self._fail(
                "objects group has no 'variables' group, so its variable fields cannot be read "
                "(read the fixed columns with table(..., fixed_only=True))",
                key,
            )
        for pool, _ in pools:
            column = dtype.fields.get(pool.column)
            width = column[0].shape[0] if column is not None and column[0].shape else 0
            if column is None or width < len(pool.fields) + 1:
                raise self._fail(
                    f"pool {pool.name} has {len(pool.fields)} fields but 'fixed' has no "
                    f"{pool.column} column of {len(pool.fields) + 1} offsets",
                    key,
                )
        product.pools = pools
        product.pool_dtypes = {pool.name: h5io.dataset_dtype(values) for pool, values in pools}
        plan = ObjectPlan(product.plan.fixed_names, dtype, tuple(pool for pool, _ in pools))
        product.row_dtype = logical_dtype(plan, product.order)
        kind = Kind.OBJECT if product.scalar else Kind.OBJECTS
        product.spec = ProductSpec(key, kind, product.row_dtype, product.class_name)

    def _fixed_rows(self, product: Product, start: int, stop: int) -> np.ndarray:
        """Read rows of ``fixed``; with the file's own type as memory type when numpy's layout is the same.

        h5py converts the numpy dtype of a wide compound (enums, arrays) to an
        HDF5 type at every read, which costs milliseconds; reading with the
        stored type is a plain copy of the same bytes.
        """
        fixed = product.fixed
        if product.file_type is None:
            file_type = h5io.same_layout_type(fixed)
            product.file_type = False if file_type is None else file_type
        if product.file_type is False or stop <= start:
            return fixed[start:stop]
        out = np.empty(stop - start, dtype=product.plan.fixed_dtype)
        file_space = fixed.id.get_space()
        file_space.select_hyperslab((start,), (stop - start,))
        fixed.id.read(h5py.h5s.create_simple((stop - start,)), file_space, out, product.file_type)
        return out

    def _entry_fixed_rows(self, product: Product, start: int, stop: int) -> np.ndarray:
        """Read one entry's rows of ``fixed``; entries read in order are served from one read ahead.

        Every read of a wide compound costs about 0.1 ms whatever its size
        (HDF5 matches the memory type to the stored one each time), so when an
        entry starts where the previous one stopped, about :data:`_READ_AHEAD`
        bytes of rows are read at once and the next entries are copied from
        them (as raw bytes: numpy copies a structured array field by field).
        """
        ahead = product.ahead
        if ahead is None or not (ahead[0] <= start and stop <= ahead[0] + len(ahead[1])):
            if start != product.next_row or start < product.unreadable_until or product.plan.fixed_dtype.hasobject:
                product.next_row = stop
                return self._fixed_rows(product, start, stop)
            itemsize = max(product.plan.fixed_dtype.itemsize, 1)
            high = min(max(stop, start + _READ_AHEAD // itemsize), product.fixed.shape[0])
            try:
                block = self._fixed_rows(product, start, high)
            except H5_ERRORS:  # rows past this entry are damaged: read this entry's alone (which names its error)
                product.ahead, product.unreadable_until = None, high
                product.next_row = stop
                return self._fixed_rows(product, start, stop)
            raw = np.ascontiguousarray(block).view(np.uint8).reshape(len(block), block.dtype.itemsize)
            ahead = product.ahead = (start, raw, block.dtype)
        product.next_row = stop
        first, raw, dtype = ahead
        return raw[start - first : stop - first].copy().view(dtype)[:, 0]

    def _object_rows(self, product: Product, fixed: np.ndarray, entry: int | None) -> np.ndarray:
        """Return V1-style rows: the fixed columns, then every pool field (``bytes`` strings, arrays)."""
        if product.pools is None:
            self._load_pools(product)
        rows = np.zeros(len(fixed), dtype=product.row_dtype)  # every column is set below; zeros is the faster fill
        names = list(product.plan.fixed_names)
        if names:
            rows[names] = fixed[names]  # one structured copy, by position, of every fixed column
        for pool, values in product.pools or ():
            self._fill_pool(product, rows, fixed, pool, values, entry)
        return rows

    def _entry_columns(self, product: Product, fixed: np.ndarray, entry: int) -> TableColumns:
        """Return one entry's object rows for decoding: the fixed rows and each pool field as a lazy slice.

        The same rows as :meth:`_object_rows` (same dtype, same checks), but
        no array is made per row and field: each pool is read once and its
        fields are :class:`~spineh5.views.varcolumn.VarColumn` bounds into it,
        sliced only as the objects are built.
        """
        if product.pools is None:
            self._load_pools(product)
        variable: dict[str, VarColumn] = {}
        for pool, values in product.pools or ():
            block, bounds = self._pool_slice(product, fixed, pool, values, entry, direct=True)
            for position, field in enumerate(pool.fields):  # bounds checked ordered by _pool_slice
                variable[field] = VarColumn.from_ordered_bounds(
                    block, bounds[:, position], bounds[:, position + 1], pool.is_string
                )
        offsets = np.array([0, len(fixed)], dtype=np.int64)
        return TableColumns(product.row_dtype.names, fixed, variable, offsets, product.row_dtype)

    def _pool_slice(
        self,
        product: Product,
        fixed: np.ndarray,
        pool: Pool,
        values: h5py.Dataset,
        entry: int | None,
        direct: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Read the span of one pool the rows use (one read); return it and each row's bounds in it.

        ``direct`` reads with one low-level call and the pool's cached dtype:
        for the many small reads of entries, where h5py's own cost per slice
        (about 15 µs) shows.

        Returns
        -------
        block : numpy.ndarray
            The pool's ``values`` from the lowest to the highest bound of the rows (uint8 for strings).
        bounds : numpy.ndarray
            int64 of shape ``(rows, fields + 1)``: field ``j`` of row ``i`` is
            ``block[bounds[i, j]:bounds[i, j + 1]]``.
        """
        width = len(pool.fields)
        if len(fixed) == 0:
            return np.empty(0, dtype=values.dtype), np.zeros((0, width + 1), dtype=np.int64)
        bounds = np.asarray(fixed[pool.column], dtype=np.int64)[:, : width + 1]
        if np.any(bounds[:, 1:] < bounds[:, :-1]):
            raise self._fail(f"{pool.column} offsets decrease", product.key, entry)
        low, high = int(bounds[:, 0].min()), int(bounds[:, -1].max())
        self._checked(product, low, high, values.shape[0], entry, f"{pool.name} values")
        dtype = product.pool_dtypes.get(pool.name) if direct else None
        block = values[low:high] if dtype is None else h5io.read_block(values, low, high, dtype)
        bounds = bounds - low
        if pool.is_string:
            _check_utf8(self, product, entry, block, bounds)
        return block, bounds

    def _fill_pool(
        self,
        product: Product,
        rows: np.ndarray,
        fixed: np.ndarray,
        pool: Pool,
        values: h5py.Dataset,
        entry: int | None,
        wanted: set[str] | None = None,
    ) -> None:
        """Slice one pool's fields (those in ``wanted``, default all) for every row, reading the pool once."""
        count, width = len(fixed), len(pool.fields)
        if count == 0:
            return
        block, bounds = self._pool_slice(product, fixed, pool, values, entry)
        starts, stops = bounds[:, :-1].ravel().tolist(), bounds[:, 1:].ravel().tolist()
        if pool.is_string:
            raw = block.tobytes()
            pieces = np.fromiter((raw[a:b] for a, b in zip(starts, stops)), dtype=object, count=len(starts))
        else:
            pieces = np.fromiter((block[a:b] for a, b in zip(starts, stops)), dtype=object, count=len(starts))
        pieces = pieces.reshape(count, width)
        for position, field in enumerate(pool.fields):
            if wanted is None or field in wanted:
                rows[field] = pieces[:, position]

    def _wanted(
        self, product: Product, columns: Sequence[str] | None, fixed_only: bool
    ) -> tuple[list[str], list[str], list[tuple[Pool, h5py.Dataset]]]:
        """Return the columns to read, the fixed ones among them and the pools holding the others.

        Pools are inspected only when a pool field is asked for (or every column, without ``fixed_only``).
        """
        plan = product.plan
        if columns is None:
            if not fixed_only and product.pools is None:
                self._load_pools(product)
            pools = [] if fixed_only else list(product.pools)
            wanted = list(plan.fixed_names) + [field for pool, _ in pools for field in pool.fields]
        else:
            wanted = list(columns)
            if not set(wanted) <= set(plan.fixed_names):
                if product.pools is None:
                    self._load_pools(product)
            known = set(plan.fixed_names).union(*(pool.fields for pool, _ in product.pools or ()))
            unknown = [name for name in wanted if name not in known]
            if unknown:
                raise KeyError(f"{self.path}: product {product.key!r} has no columns {unknown} (has: {sorted(known)})")
            pools = list(product.pools or ())
        wanted_set = set(wanted)
        pools = [(pool, values) for pool, values in pools if wanted_set.intersection(pool.fields)]
        fixed_names = [name for name in wanted if name in plan.fixed_names]
        return wanted, fixed_names, pools

    def _object_table(
        self,
        product: Product,
        starts: np.ndarray,
        stops: np.ndarray,
        columns: Sequence[str] | None,
        fixed_only: bool,
    ) -> tuple[np.ndarray, np.ndarray]:
        plan = product.plan
        wanted, fixed_names, pools = self._wanted(product, columns, fixed_only)
        read_names = fixed_names + [pool.column for pool, _ in pools]
        with self._errors(product.key):
            fixed, offsets = self._fixed_ranges(product, starts, stops, read_names)
        types = {name: plan.fixed_dtype.fields[name][0] for name in fixed_names}
        for pool, _ in pools:
            for field in pool.fields:
                types[field] = STR_DTYPE if pool.is_string else h5py.vlen_dtype(pool.base)
        # every column is set below; np.zeros fills object columns several times faster than np.empty
        rows = np.zeros(len(fixed), dtype=np.dtype([(name, types[name]) for name in wanted]))
        if fixed_names:
            rows[fixed_names] = fixed[fixed_names]
        wanted_set = set(wanted)
        with self._errors(product.key):
            for pool, values in pools:
                self._fill_pool(product, rows, fixed, pool, values, None, wanted_set)
        return rows, offsets

    def _object_columns(
        self, product: Product, starts: np.ndarray, stops: np.ndarray, columns: Sequence[str] | None
    ) -> ObjectColumns:
        """Return the fixed rows and the pool slices of the rows ``[starts[i], stops[i])`` (see ``read_columns``)."""
        wanted, fixed_names, pools = self._wanted(product, columns, False)
        read_names = fixed_names + [pool.column for pool, _ in pools]
        with self._errors(product.key):
            fixed, offsets = self._fixed_ranges(product, starts, stops, read_names)
        variable: dict[str, PoolField] = {}
        with self._errors(product.key):
            for pool, values in pools:
                block, bounds = self._pool_slice(product, fixed, pool, values, None)
                for position, field in enumerate(pool.fields):
                    variable[field] = PoolField(
                        block,
                        np.ascontiguousarray(bounds[:, position]),
                        np.ascontiguousarray(bounds[:, position + 1]),
                        pool.is_string,
                    )
        return ObjectColumns(tuple(wanted), fixed, variable, offsets, product.class_name)

    def _fixed_ranges(
        self, product: Product, starts: np.ndarray, stops: np.ndarray, names: list[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Read the ``fixed`` rows of every range with one read; return them and where each range starts.

        Dense selections read the covering block of whole rows (with the
        stored type: a plain copy); sparse ones read only the ``names``
        columns of the wanted rows as one union-of-blocks selection.
        """
        lengths = np.maximum(stops - starts, 0)
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        total = int(offsets[-1])
        if total == 0:
            return np.empty(0, dtype=product.plan.fixed_dtype), offsets
        filled = lengths > 0
        low, high = int(starts[filled].min()), int(stops[filled].max())
        if high - low > 2 * total + 1024:
            return h5io.read_ranges(product.fixed, starts, stops, names)
        block = self._fixed_rows(product, low, high)
        wanted = np.repeat(starts - offsets[:-1] - low, lengths) + np.arange(total, dtype=np.int64)
        if high - low == total and wanted[0] == 0 and np.all(np.diff(wanted) == 1):
            return block, offsets
        return block[wanted], offsets

    def stored_plan(self, key: str) -> ObjectPlan:
        """Return the plan an ``objects`` product is stored with: its ``fixed`` columns and its pools."""
        product = self._product(key, lenient=True)
        if product.pools is None:
            self._load_pools(product)
        return ObjectPlan(product.plan.fixed_names, product.plan.fixed_dtype, tuple(pool for pool, _ in product.pools))


def _check_utf8(layout: ReadLayout, product: Product, entry: int | None, block: np.ndarray, bounds: np.ndarray) -> None:
    """Refuse string bytes that are not UTF-8, or field boundaries that cut a character."""
    try:
        codecs.decode(block, "utf-8")
    except UnicodeDecodeError as err:
        raise layout._fail(f"string bytes are not valid UTF-8 ({err})", product.key, entry) from None
    inner = bounds[(bounds > 0) & (bounds < len(block))]
    if len(inner) and np.any((block[inner] & 0xC0) == 0x80):
        raise layout._fail("a string field boundary cuts a UTF-8 character", product.key, entry)
