"""Reading SPINE's V2 layout: product groups of flat values and int64 offsets.

One :class:`V2ReadLayout` decodes one open file for
:class:`~spineh5.reader.HDF5Reader`, with the interface of
:class:`~spineh5.layouts.v1_read.V1ReadLayout`: object products come
back as :class:`~spineh5.decode.ObjectRows` holding the same
V1-style compound rows (fixed columns plus the pool fields as ``bytes``
strings and arrays), so the reader front rebuilds objects from V1 and V2
files with the same code and the two decode to the same values.

Differences from SPINE's V2 reader, on purpose:

* offsets are checked (monotone, inside their dataset, enough rows for the
  entries): a damaged file raises :class:`SpineFileError` naming the product
  and the entry instead of returning wrong or empty values;
* variable fields are sliced per row, so object rows in any order decode
  correctly (SPINE silently empties them when spans decrease);
* groups carrying ``product_metadata`` (SPINE's later typed products) are
  read as their plain payload; the metadata is :meth:`V2ReadLayout.product_metadata`
  and their child products are readable by path (``"tensor/meta"``);
* groups under ``products`` that are not V2 products are reported once and
  left out, instead of failing every read.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import attrs
import h5py
import numpy as np
import yaml

from ..decode import ObjectRows
from ..errors import SpineFileError
from ..format.common import CLASS_NAME, EVENTS, SCALAR, attr_string
from ..format.v2 import (
    ARRAY,
    ELEMENT_OFFSETS,
    EVENT_OFFSETS,
    FIXED,
    LIST,
    MULTI_LIST,
    OBJECTS,
    PRODUCT_METADATA,
    PRODUCTS,
    STRING,
    V2_KINDS,
    VALUES,
    VAR_OFFSETS,
    VARIABLES,
    ObjectPlan,
    Pool,
    element_names,
    fixed_names,
    kind_of,
    logical_dtype,
    parse_pools,
    product_groups,
)
from ..products import Kind, ProductSpec
from ..types.columns import STR_DTYPE
from .v1_read import RUN_DTYPE, RUN_FIELDS, read_ranges

__all__ = ["OFFSET_BLOCK", "V2ReadLayout"]

#: Entries whose event offsets are read at once (per-entry reads are cached by block).
OFFSET_BLOCK = 1024
_H5_ERRORS = (OSError, RuntimeError, KeyError, ValueError, TypeError)


@attrs.define
class _Product:
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
    row_dtype: np.dtype | None = None
    block: tuple[int, np.ndarray] | None = None
    file_type: Any = None


class V2ReadLayout:
    """Reads the entries and products of one SPINE V2 file.

    Parameters
    ----------
    h5file : h5py.File
        The open file.
    path : str
        Its path, for messages.

    Raises
    ------
    SpineFileError
        When the file has no ``events`` dataset or no ``products`` group.
    """

    format_version = 2

    def __init__(self, h5file: h5py.File, path: str) -> None:
        self.file = h5file
        self.path = path
        events = h5file.get(EVENTS)
        if not isinstance(events, h5py.Dataset):
            found = "none" if events is None else f"a {type(events).__name__}"
            raise SpineFileError(f"no {EVENTS!r} dataset (found {found}): not a SPINE V2 output file", path)
        products = h5file.get(PRODUCTS)
        if not isinstance(products, h5py.Group):
            raise SpineFileError(f"format_version 2 file without a {PRODUCTS!r} group", path)
        self.products = products
        self._count = int(events.shape[0])
        keys, ignored = product_groups(products)
        if ignored:
            warnings.warn(
                f"{path}: {PRODUCTS}/ members that are not V2 product groups (no known 'kind') are left out: "
                f"{', '.join(ignored)}",
                UserWarning,
                stacklevel=3,
            )
        self._keys = tuple(keys)
        self._products: dict[str, _Product] = {}

    # -- what the file holds ------------------------------------------------------------------------

    def entry_count(self) -> int:
        """Return the number of entries (the length of ``events``)."""
        return self._count

    def keys(self) -> tuple[str, ...]:
        """Return the products of the file (the V2 product groups under ``products``), sorted."""
        return self._keys

    def spec(self, key: str) -> ProductSpec:
        """Return how a product is stored; objects get their V1-style compound (fixed + pool fields)."""
        product = self._product(key)
        if product.spec is None:
            self._load_pools(product)
        return product.spec

    def product_metadata(self, key: str) -> dict[str, Any] | None:
        """Return the parsed ``product_metadata`` of a SPINE typed product, None for plain products."""
        group = self._product(key).group
        if PRODUCT_METADATA not in group.attrs:
            return None
        with self._errors(key):
            value = yaml.safe_load(attr_string(group.attrs[PRODUCT_METADATA], strict=True) or "")
        return value if isinstance(value, dict) else {"value": value}

    def children(self, key: str) -> tuple[str, ...]:
        """Return the child products nested in a product group (``meta``, ``spans``...), as ``key/child`` paths."""
        group = self._product(key).group
        return tuple(f"{key}/{name}" for name, node in sorted(group.items()) if kind_of(node) in V2_KINDS)

    @contextlib.contextmanager
    def _errors(self, key: str | None = None, entry: int | None = None) -> Iterator[None]:
        try:
            yield
        except SpineFileError:
            raise
        except _H5_ERRORS as err:
            raise SpineFileError(f"cannot be read ({type(err).__name__}: {err})", self.path, key, entry) from err

    def _fail(self, problem: str, key: str, entry: int | None = None) -> SpineFileError:
        return SpineFileError(problem, self.path, key, entry)

    def _product(self, key: str) -> _Product:
        product = self._products.get(key)
        if product is None:
            if key not in self._keys and "/" not in key:
                raise KeyError(f"{self.path}: no product {key!r} (stored: {', '.join(self._keys)})")
            node = self.products.get(key)
            if node is None or kind_of(node) not in V2_KINDS:
                raise KeyError(f"{self.path}: no V2 product {key!r}")
            with self._errors(key):
                product = self._products[key] = self._inspect(key, node)
        return product

    def _offsets(self, group: h5py.Group, name: str, key: str, rows: int) -> h5py.Dataset:
        dataset = group.get(name)
        if not isinstance(dataset, h5py.Dataset) or dataset.ndim != 1:
            raise self._fail(f"{group.name}/{name} is missing or not a 1-D dataset", key)
        if dataset.shape[0] < rows:
            raise self._fail(
                f"{group.name}/{name} has {dataset.shape[0]} rows, at least {rows} are needed (entries + 1)", key
            )
        return dataset

    def _dataset(self, group: h5py.Group, name: str, key: str) -> h5py.Dataset:
        dataset = group.get(name)
        if not isinstance(dataset, h5py.Dataset) or dataset.ndim not in (1, 2):
            raise self._fail(f"{group.name}/{name} is missing or not a 1-D or 2-D dataset", key)
        return dataset

    def _inspect(self, key: str, group: h5py.Group) -> _Product:
        kind = kind_of(group)
        if kind in (ARRAY, STRING, OBJECTS) and SCALAR not in group.attrs:
            raise self._fail(f"product group has no {SCALAR!r} attribute", key)
        scalar = bool(group.attrs.get(SCALAR, False))
        rows = self._count + 1
        if kind == STRING:
            spec = ProductSpec(key, Kind.SCALAR, STR_DTYPE)
            event_offsets = self._offsets(group, EVENT_OFFSETS, key, rows)
            return _Product(key, group, kind, True, spec, event_offsets, self._dataset(group, VALUES, key))
        if kind == ARRAY:
            values = self._dataset(group, VALUES, key)
            width = values.shape[1] if values.ndim == 2 else 0
            if scalar:
                spec = ProductSpec(key, Kind.SCALAR, values.dtype)
            else:
                spec = ProductSpec(key, Kind.ARRAY, values.dtype, None, (width,))
            return _Product(key, group, kind, scalar, spec, self._offsets(group, EVENT_OFFSETS, key, rows), values)
        if kind == LIST:
            values = self._dataset(group, VALUES, key)
            event_offsets = self._offsets(group, EVENT_OFFSETS, key, rows)
            element_offsets = self._offsets(group, ELEMENT_OFFSETS, key, 1)
            width = values.shape[1] if values.ndim == 2 else 0
            spec = ProductSpec(key, Kind.FLAT, values.dtype, None, (width,))
            return _Product(key, group, kind, False, spec, event_offsets, values, element_offsets)
        if kind == MULTI_LIST:
            elements = []
            for name in element_names(group):
                element = group[name]
                if not isinstance(element, h5py.Group):
                    raise self._fail(f"{element.name} is not a group", key)
                values = self._dataset(element, VALUES, key)
                elements.append((values, self._offsets(element, EVENT_OFFSETS, key, rows)))
            widths = tuple(values.shape[1] if values.ndim == 2 else 0 for values, _ in elements)
            dtype = elements[0][0].dtype if elements else np.dtype(np.float64)
            spec = ProductSpec(key, Kind.JAGGED, dtype, None, widths)
            return _Product(key, group, kind, False, spec, elements=elements)
        return self._inspect_objects(key, group, scalar)

    def _inspect_objects(self, key: str, group: h5py.Group, scalar: bool) -> _Product:
        from ..generated import REGISTRY

        if CLASS_NAME not in group.attrs:
            raise self._fail(f"objects group has no {CLASS_NAME!r} attribute", key)
        class_name = attr_string(group.attrs[CLASS_NAME], strict=True)
        fixed = group.get(FIXED)
        if not isinstance(fixed, h5py.Dataset) or fixed.ndim != 1 or fixed.dtype.names is None:
            raise self._fail(f"{group.name}/fixed is missing or not a 1-D compound dataset", key)
        event_offsets = self._offsets(group, EVENT_OFFSETS, key, self._count + 1)
        names = fixed_names(fixed.dtype)
        cls = REGISTRY.get(class_name or "")
        return _Product(
            key,
            group,
            OBJECTS,
            scalar,
            None,
            event_offsets,
            fixed=fixed,
            plan=ObjectPlan(names, fixed.dtype, ()),
            class_name=class_name,
            order=tuple(column.name for column in cls.COLUMNS) if cls is not None else (),
        )

    def _load_pools(self, product: _Product) -> None:
        """Inspect the ``variables`` pools of an object product (only when variable fields are read)."""
        key, fixed = product.key, product.fixed
        helpers = [name for name in fixed.dtype.names if name.startswith(VAR_OFFSETS)]
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
            column = fixed.dtype.fields.get(pool.column)
            width = column[0].shape[0] if column is not None and column[0].shape else 0
            if column is None or width < len(pool.fields) + 1:
                raise self._fail(
                    f"pool {pool.name} has {len(pool.fields)} fields but 'fixed' has no "
                    f"{pool.column} column of {len(pool.fields) + 1} offsets",
                    key,
                )
        product.pools = pools
        plan = ObjectPlan(product.plan.fixed_names, fixed.dtype, tuple(pool for pool, _ in pools))
        product.row_dtype = logical_dtype(plan, product.order)
        kind = Kind.OBJECT if product.scalar else Kind.OBJECTS
        product.spec = ProductSpec(key, kind, product.row_dtype, product.class_name)

    # -- offsets ------------------------------------------------------------------------------------------

    def _entry_bounds(self, product: _Product, entry: int, offsets: h5py.Dataset | None = None) -> tuple[int, int]:
        """Return an entry's ``[start, stop)`` from the product's event offsets (read and cached by block)."""
        if offsets is None:
            block = entry // OFFSET_BLOCK
            if product.block is None or product.block[0] != block:
                with self._errors(product.key, entry):
                    low = block * OFFSET_BLOCK
                    values = np.asarray(product.event_offsets[low : low + OFFSET_BLOCK + 1], dtype=np.int64)
                product.block = (block, values)
            values = product.block[1]
            position = entry - product.block[0] * OFFSET_BLOCK
            start, stop = int(values[position]), int(values[position + 1])
        else:
            with self._errors(product.key, entry):
                start, stop = (int(value) for value in offsets[entry : entry + 2])
        return start, stop

    def _checked(self, product: _Product, start: int, stop: int, size: int, entry: int, what: str) -> None:
        if not 0 <= start <= stop <= size:
            raise self._fail(
                f"{what} [{start}, {stop}) is not an ordered range inside its {size} rows", product.key, entry
            )

    # -- one entry ---------------------------------------------------------------------------------------

    def read_entry(self, entry: int, keys: Iterable[str]) -> dict[str, Any]:
        """Return the products of one entry; object products as :class:`ObjectRows`.

        Parameters
        ----------
        entry : int
            Entry of this file.
        keys : iterable of str
            Products to read (child products by ``parent/child`` path too).
        """
        return {key: self._read(key, entry) for key in keys}

    def read_raw(self, entry: int, key: str) -> Any:
        """Return one product of one entry as stored: every column of object rows (pool fields included)."""
        value = self._read(key, entry)
        return value.rows if isinstance(value, ObjectRows) else value

    def _read(self, key: str, entry: int) -> Any:
        product = self._product(key)
        if not 0 <= entry < self._count:
            raise IndexError(f"{self.path}: entry {entry} is out of range ({self._count} entries)")
        with self._errors(key, entry):
            if product.kind == MULTI_LIST:
                out = []
                for values, offsets in product.elements:
                    start, stop = self._entry_bounds(product, entry, offsets)
                    self._checked(product, start, stop, values.shape[0], entry, f"{values.name} rows")
                    out.append(values[start:stop])
                return out
            start, stop = self._entry_bounds(product, entry)
            if product.kind == LIST:
                return self._read_list(product, entry, start, stop)
            if product.kind == OBJECTS:
                self._checked(product, start, stop, product.fixed.shape[0], entry, "object rows")
                if product.scalar:
                    if stop <= start:
                        raise self._fail("one object per entry is expected, the entry has none", key, entry)
                    stop = start + 1
                rows = self._object_rows(product, self._fixed_rows(product, start, stop), entry)
                return ObjectRows(product.class_name, rows, product.scalar)
            values = product.values
            self._checked(product, start, stop, values.shape[0], entry, "values")
            if product.kind == STRING:
                return _decode(values[start:stop], product, entry, self)
            if product.scalar:
                if stop <= start:
                    raise self._fail("one value per entry is expected, the entry has none", key, entry)
                return values[start]
            return values[start:stop]

    def _read_list(self, product: _Product, entry: int, start: int, stop: int) -> list[np.ndarray]:
        element_offsets = product.element_offsets
        self._checked(product, start, stop, element_offsets.shape[0] - 1, entry, "list elements")
        if stop == start:
            return []
        bounds = np.asarray(element_offsets[start : stop + 1], dtype=np.int64)
        if np.any(np.diff(bounds) < 0):
            raise self._fail("element_offsets decrease", product.key, entry)
        low, high = int(bounds[0]), int(bounds[-1])
        self._checked(product, low, high, product.values.shape[0], entry, "list values")
        block = product.values[low:high]
        return [block[a - low : b - low] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist())]

    def _fixed_rows(self, product: _Product, start: int, stop: int) -> np.ndarray:
        """Read rows of ``fixed``; with the file's own type as memory type when numpy's layout is the same.

        h5py converts the numpy dtype of a wide compound (enums, arrays) to an
        HDF5 type at every read, which costs milliseconds; reading with the
        stored type is a plain copy of the same bytes.
        """
        fixed = product.fixed
        if product.file_type is None:
            file_type = _same_layout_type(fixed)
            product.file_type = False if file_type is None else file_type
        if product.file_type is False or stop <= start:
            return fixed[start:stop]
        out = np.empty(stop - start, dtype=fixed.dtype)
        file_space = fixed.id.get_space()
        file_space.select_hyperslab((start,), (stop - start,))
        fixed.id.read(h5py.h5s.create_simple((stop - start,)), file_space, out, product.file_type)
        return out

    def _object_rows(self, product: _Product, fixed: np.ndarray, entry: int | None) -> np.ndarray:
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

    def _fill_pool(
        self,
        product: _Product,
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
        bounds = np.asarray(fixed[pool.column], dtype=np.int64)[:, : width + 1]
        if np.any(bounds[:, 1:] < bounds[:, :-1]):
            raise self._fail(f"{pool.column} offsets decrease", product.key, entry)
        low, high = int(bounds[:, 0].min()), int(bounds[:, -1].max())
        self._checked(product, low, high, values.shape[0], entry, f"{pool.name} values")
        block = values[low:high]
        bounds = bounds - low
        starts, stops = bounds[:, :-1].ravel().tolist(), bounds[:, 1:].ravel().tolist()
        if pool.is_string:
            raw = block.tobytes()
            _check_utf8(self, product, entry, block, raw, bounds)
            pieces = np.fromiter((raw[a:b] for a, b in zip(starts, stops)), dtype=object, count=len(starts))
        else:
            pieces = np.fromiter((block[a:b] for a, b in zip(starts, stops)), dtype=object, count=len(starts))
        pieces = pieces.reshape(count, width)
        for position, field in enumerate(pool.fields):
            if wanted is None or field in wanted:
                rows[field] = pieces[:, position]

    # -- many entries -----------------------------------------------------------------------------------

    def _all_bounds(self, product: _Product, entries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return each entry's ``[start, stop)`` with one read of the event offsets over the entries' span."""
        if len(entries) == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        if entries.min() < 0 or entries.max() >= self._count:
            raise IndexError(f"{self.path}: entries out of range ({self._count} entries)")
        low, high = int(entries.min()), int(entries.max()) + 2
        with self._errors(product.key):
            offsets = np.asarray(product.event_offsets[low:high], dtype=np.int64)
        if np.any(np.diff(offsets) < 0):
            bad = int(np.flatnonzero(np.diff(offsets) < 0)[0]) + low
            raise self._fail("event_offsets decrease", product.key, bad)
        return offsets[entries - low], offsets[entries - low + 1]

    def read_table(
        self,
        key: str,
        entries: np.ndarray,
        columns: Sequence[str] | None = None,
        fixed_only: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the rows of a product for many entries, from the stored offsets, one read per dataset.

        Parameters
        ----------
        key : str
            An object, array or scalar product.
        entries : numpy.ndarray
            Entries of this file (any order, repeats allowed).
        columns : sequence of str, optional
            Object columns to read (fixed columns and pool fields); default all.
            Pools are read only for the pool fields asked for.
        fixed_only : bool, default False
            With ``columns=None``, read only the fixed columns: the variable
            pools are never opened.

        Returns
        -------
        rows : numpy.ndarray
            The rows of every entry, concatenated in the order of ``entries``
            (one row per entry for scalar and single-object products; strings
            decoded for string products; pool fields as object columns of
            ``bytes``/arrays for object products).
        offsets : numpy.ndarray
            int64, ``len(entries) + 1``: the rows of entry ``i`` are
            ``rows[offsets[i]:offsets[i + 1]]``.
        """
        product = self._product(key)
        if product.kind in (LIST, MULTI_LIST):
            raise ValueError(f"product {key!r} is a list of arrays ({product.kind}); read it per entry")
        if columns is not None and product.kind != OBJECTS:
            raise ValueError(f"product {key!r} is not an object product; columns= applies to object rows only")
        entries = np.asarray(entries, dtype=np.int64).reshape(-1)
        starts, stops = self._all_bounds(product, entries)
        size = product.fixed.shape[0] if product.kind == OBJECTS else product.values.shape[0]
        if len(entries) and (np.any(stops < starts) or starts.min() < 0 or stops.max() > size):
            bad = int(np.flatnonzero((stops < starts) | (starts < 0) | (stops > size))[0])
            raise self._fail("event_offsets out of range", key, int(entries[bad]))
        if product.scalar and product.kind != STRING:  # a string entry is a byte range, possibly empty
            empty = np.flatnonzero(stops <= starts)
            if len(empty):
                raise self._fail("one row per entry is expected, the entry has none", key, int(entries[empty[0]]))
            stops = starts + 1
        if product.kind != OBJECTS:
            with self._errors(key):
                if product.kind == STRING:
                    return self._string_table(product, starts, stops)
                return read_ranges(product.values, starts, stops)
        return self._object_table(product, starts, stops, columns, fixed_only)

    def _string_table(self, product: _Product, starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        data, byte_offsets = read_ranges(product.values, starts, stops)
        out = np.empty(len(starts), dtype=object)
        raw = data.tobytes()
        for position, (a, b) in enumerate(zip(byte_offsets[:-1].tolist(), byte_offsets[1:].tolist())):
            out[position] = _utf8(raw[a:b], product, None, self)
        return out, np.arange(len(starts) + 1, dtype=np.int64)

    def _object_table(
        self,
        product: _Product,
        starts: np.ndarray,
        stops: np.ndarray,
        columns: Sequence[str] | None,
        fixed_only: bool,
    ) -> tuple[np.ndarray, np.ndarray]:
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
        with self._errors(product.key):
            for pool, values in pools:
                self._fill_pool(product, rows, fixed, pool, values, None, wanted_set)
        return rows, offsets

    def _fixed_ranges(
        self, product: _Product, starts: np.ndarray, stops: np.ndarray, names: list[str]
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
            return np.empty(0, dtype=product.fixed.dtype), offsets
        filled = lengths > 0
        low, high = int(starts[filled].min()), int(stops[filled].max())
        if high - low > 2 * total + 1024:
            return read_ranges(product.fixed, starts, stops, names)
        block = self._fixed_rows(product, low, high)
        wanted = np.repeat(starts - offsets[:-1] - low, lengths) + np.arange(total, dtype=np.int64)
        if high - low == total and wanted[0] == 0 and np.all(np.diff(wanted) == 1):
            return block, offsets
        return block[wanted], offsets

    def run_triplets(self, key: str) -> np.ndarray:
        """Return the ``(run, subrun, event)`` of every entry (int64 fields, one row per entry).

        When the product holds exactly one row per entry (``event_offsets``
        ``0..N``), the three columns are read with one read; otherwise through
        :meth:`read_table`, refusing entries without exactly one row.
        """
        if key not in self._keys:
            raise SpineFileError(f"no {key!r} product to look events up by (run, subrun, event)", self.path)
        product = self._product(key)
        names = product.plan.fixed_names if product.plan is not None else ()
        if product.kind != OBJECTS or not all(name in names for name in RUN_FIELDS):
            raise SpineFileError(
                f"has no {', '.join(RUN_FIELDS)} columns to look events up by (run, subrun, event)", self.path, key
            )
        out = np.empty(self._count, dtype=RUN_DTYPE)
        if self._count == 0:
            return out
        with self._errors(key):
            offsets = np.asarray(product.event_offsets[: self._count + 1], dtype=np.int64)
        if np.array_equal(offsets, np.arange(self._count + 1)) and product.fixed.shape[0] >= self._count:
            with self._errors(key):
                rows = product.fixed.fields(list(RUN_FIELDS))[: self._count]
        else:
            counts = np.diff(offsets)
            if np.any(counts != 1):
                bad = int(np.flatnonzero(counts != 1)[0])
                raise self._fail(f"{counts[bad]} rows for one entry; one per entry is expected", key, bad)
            rows, _ = self.read_table(key, np.arange(self._count), RUN_FIELDS)
        for name in RUN_FIELDS:
            out[name] = rows[name]
        return out


#: Results of :func:`_same_layout_check`, by serialized HDF5 type (the check walks every member).
_SAME_LAYOUT: dict[bytes, bool] = {}


def _same_layout_type(dataset: h5py.Dataset) -> Any:
    """Return the stored HDF5 type of a compound dataset if numpy's dtype lays out the same bytes, else None.

    The answer depends only on the stored type (numpy's dtype is derived from
    it), so it is computed once per type: files of one type share it.
    """
    type_id = dataset.id.get_type()
    if type_id.get_class() != h5py.h5t.COMPOUND:
        return None
    key = type_id.encode()
    same = _SAME_LAYOUT.get(key)
    if same is None:
        if len(_SAME_LAYOUT) >= 512:
            _SAME_LAYOUT.clear()
        same = _SAME_LAYOUT[key] = _same_layout_check(dataset.dtype, type_id)
    return type_id if same else None


def _same_layout_check(dtype: np.dtype, type_id: Any) -> bool:
    """Return whether a compound HDF5 type and its numpy dtype lay out the same plain bytes."""
    if dtype.names is None or dtype.hasobject:
        return False
    if type_id.get_size() != dtype.itemsize or type_id.get_nmembers() != len(dtype.names):
        return False
    plain = (h5py.h5t.INTEGER, h5py.h5t.FLOAT, h5py.h5t.ENUM, h5py.h5t.ARRAY)
    for index in range(type_id.get_nmembers()):
        name = type_id.get_member_name(index).decode("utf-8")
        member = type_id.get_member_type(index)
        field = dtype.fields.get(name)
        if field is None or field[1] != type_id.get_member_offset(index) or field[0].itemsize != member.get_size():
            return False
        if member.get_class() not in plain:
            return False
        if member.get_class() == h5py.h5t.ARRAY and member.get_super().get_class() not in plain:
            return False
    return True


def _check_utf8(
    layout: V2ReadLayout, product: _Product, entry: int | None, block: np.ndarray, raw: bytes, bounds: np.ndarray
) -> None:
    """Refuse string bytes that are not UTF-8, or field boundaries that cut a character."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise layout._fail(f"string bytes are not valid UTF-8 ({err})", product.key, entry) from None
    inner = bounds[(bounds > 0) & (bounds < len(block))]
    if len(inner) and np.any((block[inner] & 0xC0) == 0x80):
        raise layout._fail("a string field boundary cuts a UTF-8 character", product.key, entry)


def _utf8(raw: bytes, product: _Product, entry: int | None, layout: V2ReadLayout) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise layout._fail(f"string bytes are not valid UTF-8 ({err})", product.key, entry) from None


def _decode(values: np.ndarray, product: _Product, entry: int, layout: V2ReadLayout) -> str:
    return _utf8(np.ascontiguousarray(values).tobytes(), product, entry, layout)
