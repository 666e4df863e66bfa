"""Reading SPINE's V2 layout: product groups of flat values and int64 offsets.

One :class:`V2ReadLayout` decodes one open file for :class:`~spineh5.reader.HDF5Reader`, with the
interface of :class:`~spineh5.layouts.v1_read.V1ReadLayout`: an entry's object products come back as
:class:`~spineh5.decode.ObjectRows` (fixed columns, pool fields as lazy slices of each pool read once),
which the reader front decodes with the same code as V1's compound rows, to the same values.

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

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import h5py
import numpy as np
import yaml

from .. import h5io
from ..decode import ObjectRows
from ..errors import SpineFileError
from ..format.common import EVENTS, SCALAR, attr_string
from ..format.v2 import (
    ARRAY,
    ELEMENT_OFFSETS,
    EVENT_OFFSETS,
    LIST,
    MULTI_LIST,
    OBJECTS,
    PRODUCT_METADATA,
    PRODUCTS,
    STRING,
    V2_KINDS,
    VALUES,
    element_names,
    kind_of,
    member_kind,
    product_groups,
)
from ..products import Kind, ProductSpec
from ..types.columns import STR_DTYPE
from .base import RUN_FIELDS
from .v2_objects import ObjectColumns, ObjectReading, PoolField, Product

__all__ = ["OFFSET_BLOCK", "ObjectColumns", "PoolField", "V2ReadLayout"]

#: Entries whose event offsets are read at once (per-entry reads are cached by block).
OFFSET_BLOCK = 1024


class V2ReadLayout(ObjectReading):
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
        super().__init__(h5file, path)
        events = h5file.get(EVENTS)
        if not isinstance(events, h5py.Dataset):
            found = "none" if events is None else f"a {type(events).__name__}"
            raise SpineFileError(f"no {EVENTS!r} dataset (found {found}): not a SPINE V2 output file", path)
        products = h5file.get(PRODUCTS)
        if not isinstance(products, h5py.Group):
            raise SpineFileError(f"format_version 2 file without a {PRODUCTS!r} group", path)
        self.products = products
        self._count = int(events.shape[0])
        #: The product groups, listed on the first :meth:`keys` (a reader given its keys asks for those only).
        self._keys: tuple[str, ...] | None = None
        #: Products found by :meth:`has_product` before the list was made.
        self._present: set[str] = set()
        self._products: dict[str, Product] = {}

    # -- what the file holds ------------------------------------------------------------------------

    def entry_count(self) -> int:
        """Return the number of entries (the length of ``events``)."""
        return self._count

    def keys(self) -> tuple[str, ...]:
        """Return the products of the file (the V2 product groups under ``products``), sorted.

        Listed on first use: every member's ``kind`` is read once, and members that
        are not product groups are left out with one warning.
        """
        if self._keys is None:
            keys, ignored = product_groups(self.products)
            if ignored:
                warnings.warn(
                    f"{self.path}: {PRODUCTS}/ members that are not V2 product groups (no known 'kind') are left "
                    f"out: {', '.join(ignored)}",
                    UserWarning,
                    stacklevel=3,
                )
            self._keys = tuple(keys)
        return self._keys

    def has_product(self, key: str) -> bool:
        """Return whether ``key`` is a product group of the file, reading that member's ``kind`` only."""
        if self._keys is not None:
            return key in self._keys
        if key in self._present:
            return True
        found = "/" not in key and member_kind(self.products, key) in V2_KINDS
        if found:
            self._present.add(key)
        return found

    def spec(self, key: str, lenient: bool = False) -> ProductSpec:
        """Return how a product is stored; objects get their V1-style compound (fixed + pool fields).

        With ``lenient``, offsets too short for the entries are not refused (see :meth:`_product`).
        """
        product = self._product(key, lenient)
        if product.spec is None:
            self._load_pools(product)
        return product.spec

    def kind(self, key: str) -> Kind:
        """Return the spineh5 kind of a product; the pools of an object product are not inspected."""
        product = self._product(key)
        if product.spec is not None:
            return product.spec.kind
        return Kind.OBJECT if product.scalar else Kind.OBJECTS

    def stored_dtype(self, key: str, wanted: Sequence[str] | None = None) -> np.dtype:
        """Return the rows' compound dtype; only the ``fixed`` columns when they hold ``wanted`` (pools unparsed)."""
        product = self._product(key)
        if product.kind == OBJECTS and wanted is not None:
            fixed = product.plan.fixed_dtype
            if all(name in product.plan.fixed_names for name in wanted):
                return np.dtype([(name, fixed.fields[name][0]) for name in product.plan.fixed_names])
        return self.spec(key).dtype

    def fixed_dtype(self, key: str) -> np.dtype:
        """Return the dtype of a product's fixed-size columns (objects: the ``fixed`` columns, pools unparsed)."""
        product = self._product(key)
        if product.kind != OBJECTS:
            return super().fixed_dtype(key)
        fixed = product.plan.fixed_dtype
        return np.dtype([(name, fixed.fields[name][0]) for name in product.plan.fixed_names])

    def stored_class(self, key: str) -> str | None:
        """Return a product's stored ``class_name``; the pools of an object product are not inspected."""
        product = self._product(key)
        return product.class_name if product.kind == OBJECTS else None

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

    def _product(self, key: str, lenient: bool = False) -> Product:
        """Return what a product group holds (inspected once); raise its first problem unless ``lenient``.

        ``lenient`` is for asking what a product stores (an append's checks)
        without asking whether its entries can be read (offsets long enough).
        """
        product = self._products.get(key)
        if product is None:
            if "/" not in key and not self.has_product(key):
                raise KeyError(f"{self.path}: no product {key!r} (stored: {', '.join(self.keys())})")
            kind = member_kind(self.products, key)
            if kind not in V2_KINDS:
                raise KeyError(f"{self.path}: no V2 product {key!r}")
            problems: list[str] = []
            with self._errors(key):
                product = self._inspect(key, self.products[key], kind, problems)
            product.problems = tuple(problems)
            self._products[key] = product
        if product.problems and not lenient:
            raise self._fail(product.problems[0], key)
        return product

    def _offsets(self, group: h5py.Group, name: str, key: str, rows: int, problems: list[str]) -> h5py.Dataset:
        """Return an offsets dataset; one with fewer than ``rows`` rows is a problem of the product."""
        dataset = group.get(name)
        if not isinstance(dataset, h5py.Dataset) or dataset.ndim != 1:
            raise self._fail(f"{group.name}/{name} is missing or not a 1-D dataset", key)
        if dataset.shape[0] < rows:
            found = dataset.shape[0]
            problems.append(f"{group.name}/{name} has {found} rows, at least {rows} are needed (entries + 1)")
        return dataset

    def _dataset(self, group: h5py.Group, name: str, key: str) -> h5py.Dataset:
        dataset = group.get(name)
        if not isinstance(dataset, h5py.Dataset) or dataset.ndim not in (1, 2):
            raise self._fail(f"{group.name}/{name} is missing or not a 1-D or 2-D dataset", key)
        return dataset

    def _inspect(self, key: str, group: h5py.Group, kind: str, problems: list[str]) -> Product:
        stored_scalar = group.attrs.get(SCALAR)  # one attribute read: h5py's attrs cost about 0.1 ms each
        if kind in (ARRAY, STRING, OBJECTS) and stored_scalar is None:
            raise self._fail(f"product group has no {SCALAR!r} attribute", key)
        scalar = False if stored_scalar is None else bool(stored_scalar)
        rows = self._count + 1
        if kind == STRING:
            spec = ProductSpec(key, Kind.SCALAR, STR_DTYPE)
            event_offsets = self._offsets(group, EVENT_OFFSETS, key, rows, problems)
            return Product(key, group, kind, True, spec, event_offsets, self._dataset(group, VALUES, key))
        if kind == ARRAY:
            values = self._dataset(group, VALUES, key)
            width = values.shape[1] if values.ndim == 2 else 0
            if scalar:
                spec = ProductSpec(key, Kind.SCALAR, values.dtype)
            else:
                spec = ProductSpec(key, Kind.ARRAY, values.dtype, None, (width,))
            event_offsets = self._offsets(group, EVENT_OFFSETS, key, rows, problems)
            return Product(key, group, kind, scalar, spec, event_offsets, values)
        if kind == LIST:
            values = self._dataset(group, VALUES, key)
            event_offsets = self._offsets(group, EVENT_OFFSETS, key, rows, problems)
            element_offsets = self._offsets(group, ELEMENT_OFFSETS, key, 1, problems)
            width = values.shape[1] if values.ndim == 2 else 0
            spec = ProductSpec(key, Kind.FLAT, values.dtype, None, (width,))
            return Product(key, group, kind, False, spec, event_offsets, values, element_offsets)
        if kind == MULTI_LIST:
            elements = []
            for name in element_names(group):
                element = group[name]
                if not isinstance(element, h5py.Group):
                    raise self._fail(f"{element.name} is not a group", key)
                values = self._dataset(element, VALUES, key)
                elements.append((values, self._offsets(element, EVENT_OFFSETS, key, rows, problems)))
            widths = tuple(values.shape[1] if values.ndim == 2 else 0 for values, _ in elements)
            dtype = elements[0][0].dtype if elements else np.dtype(np.float64)
            spec = ProductSpec(key, Kind.JAGGED, dtype, None, widths)
            return Product(key, group, kind, False, spec, elements=elements)
        return self._inspect_objects(key, group, scalar, problems)

    # -- offsets ------------------------------------------------------------------------------------------

    def _entry_bounds(self, product: Product, entry: int, offsets: h5py.Dataset | None = None) -> tuple[int, int]:
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

    def _checked(self, product: Product, start: int, stop: int, size: int, entry: int, what: str) -> None:
        if not 0 <= start <= stop <= size:
            raise self._fail(
                f"{what} [{start}, {stop}) is not an ordered range inside its {size} rows", product.key, entry
            )

    # -- one entry ---------------------------------------------------------------------------------------

    def read_entry(self, entry: int, keys: Iterable[str]) -> dict[str, Any]:
        """Return the products of one entry; object products as :class:`ObjectRows`.

        Their rows are a :class:`~spineh5.views.varcolumn.TableColumns` (the
        V1-style dtype and columns; each pool read once, its fields sliced as
        the objects are built); :meth:`read_raw` gives them as a structured array.

        Parameters
        ----------
        entry : int
            Entry of this file.
        keys : iterable of str
            Products to read (child products by ``parent/child`` path too).
        """
        return {key: self._read(key, entry, pooled=True) for key in keys}

    def read_raw(self, entry: int, key: str) -> Any:
        """Return one product of one entry as stored: every column of object rows (pool fields included)."""
        value = self._read(key, entry)
        return value.rows if isinstance(value, ObjectRows) else value

    def _read(self, key: str, entry: int, pooled: bool = False) -> Any:
        """Return one product of one entry; ``pooled`` object rows as :class:`TableColumns` (pools sliced lazily)."""
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
                fixed = self._entry_fixed_rows(product, start, stop)
                if pooled:
                    return ObjectRows(product.class_name, self._entry_columns(product, fixed, entry), product.scalar)
                return ObjectRows(product.class_name, self._object_rows(product, fixed, entry), product.scalar)
            values = product.values
            self._checked(product, start, stop, values.shape[0], entry, "values")
            if product.kind == STRING:
                return _decode(values[start:stop], product, entry, self)
            if product.scalar:
                if stop <= start:
                    raise self._fail("one value per entry is expected, the entry has none", key, entry)
                return values[start]
            return h5io.read_block(values, start, stop, product.spec.dtype)  # no h5py slicing cost per entry

    def _read_list(self, product: Product, entry: int, start: int, stop: int) -> list[np.ndarray]:
        element_offsets = product.element_offsets
        self._checked(product, start, stop, element_offsets.shape[0] - 1, entry, "list elements")
        if stop == start:
            return []
        bounds = np.asarray(element_offsets[start : stop + 1], dtype=np.int64)
        if np.any(np.diff(bounds) < 0):
            raise self._fail("element_offsets decrease", product.key, entry)
        low, high = int(bounds[0]), int(bounds[-1])
        self._checked(product, low, high, product.values.shape[0], entry, "list values")
        block = h5io.read_block(product.values, low, high, product.spec.dtype)
        return [block[a - low : b - low] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist())]

    # -- many entries -----------------------------------------------------------------------------------

    def _all_bounds(self, product: Product, entries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
        starts, stops = self._ranges(product, entries)
        if product.kind != OBJECTS:
            with self._errors(key):
                if product.kind == STRING:
                    return self._string_table(product, starts, stops)
                return h5io.read_ranges(product.values, starts, stops)
        return self._object_table(product, starts, stops, columns, fixed_only)

    def read_columns(self, key: str, entries: np.ndarray, columns: Sequence[str] | None = None) -> ObjectColumns:
        """Return the columns of an object product for many entries, variable fields straight from the pools.

        The same rows as :meth:`read_table` (same checks, same errors), but
        each variable field comes back as one :class:`PoolField`: the pool
        span read once and every row's bounds from the ``_var_offsets_<i>``
        columns, instead of one array or string per row.

        Parameters
        ----------
        key : str
            An ``objects`` product.
        entries : numpy.ndarray
            Entries of this file (any order, repeats allowed).
        columns : sequence of str, optional
            Columns to read (fixed columns and pool fields); default all.
        """
        product = self._product(key)
        if product.kind != OBJECTS:
            raise ValueError(f"product {key!r} is not an object product ({product.kind})")
        starts, stops = self._ranges(product, entries)
        return self._object_columns(product, starts, stops, columns)

    def _ranges(self, product: Product, entries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the checked row ranges ``[starts[i], stops[i])`` of the entries (one row for scalar products)."""
        key = product.key
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
        return starts, stops

    def _string_table(self, product: Product, starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        data, byte_offsets = h5io.read_ranges(product.values, starts, stops)
        out = np.empty(len(starts), dtype=object)
        raw = data.tobytes()
        for position, (a, b) in enumerate(zip(byte_offsets[:-1].tolist(), byte_offsets[1:].tolist())):
            out[position] = _utf8(raw[a:b], product, None, self)
        return out, np.arange(len(starts) + 1, dtype=np.int64)

    def _has_run_columns(self, key: str) -> bool:
        product = self._product(key)
        names = product.plan.fixed_names if product.plan is not None else ()
        return product.kind == OBJECTS and all(name in names for name in RUN_FIELDS)

    def _run_rows(self, key: str) -> np.ndarray:
        """Return the run info rows: with one read when ``event_offsets`` is ``0..N`` (one row per entry).

        Otherwise through :meth:`read_table`, refusing entries without exactly one row.
        """
        product = self._product(key)
        with self._errors(key):
            offsets = np.asarray(product.event_offsets[: self._count + 1], dtype=np.int64)
        if np.array_equal(offsets, np.arange(self._count + 1)) and product.fixed.shape[0] >= self._count:
            with self._errors(key):
                return product.fixed.fields(list(RUN_FIELDS))[: self._count]
        self._one_per_entry(key, np.diff(offsets))
        rows, _ = self.read_table(key, np.arange(self._count), RUN_FIELDS)
        return rows


def _utf8(raw: bytes, product: Product, entry: int | None, layout: V2ReadLayout) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise layout._fail(f"string bytes are not valid UTF-8 ({err})", product.key, entry) from None


def _decode(values: np.ndarray, product: Product, entry: int, layout: V2ReadLayout) -> str:
    return _utf8(np.ascontiguousarray(values).tobytes(), product, entry, layout)
