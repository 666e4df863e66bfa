"""Reading SPINE's V1 layout: the ``events`` table of region references and the product datasets.

One :class:`V1ReadLayout` decodes one open file (``docs/format/spine-v1-format.md``
sections 2-3; the kinds of products are told by :func:`spineh5.format.v1.inspect_product`). It checks
what it reads and raises :class:`~spineh5.errors.SpineFileError`
naming the file, the product and the entry instead of letting h5py's errors
through.

Region references are never dereferenced with ``dataset[ref]``: their row
bounds are taken from the referenced selection (``h5py.h5r.get_region``) and
the rows are read with plain slices, so the rows of many entries can be read
with one dataset read (:meth:`V1ReadLayout.read_table`). Before HDF5 is asked
to resolve a reference, the global heap collection it names is checked
(:class:`spineh5.format.global_heap.GlobalHeaps`): HDF5 loops forever on some
damaged ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import h5py
import numpy as np
from h5py import h5o, h5r, h5s

from .. import h5io
from ..decode import ObjectRows
from ..errors import SpineFileError
from ..format.common import EVENTS
from ..format.global_heap import GlobalHeaps, raw_references
from ..format.v1 import events_problem, inspect_product
from ..products import Kind, ProductSpec
from .base import H5_ERRORS, RUN_FIELDS, ReadLayout

#: Entries of the ``events`` table read at once (per-entry reads are cached by block).
_EVENT_BLOCK = 64


def _is_str(dtype: np.dtype) -> bool:
    return h5py.check_string_dtype(dtype) is not None


def _decode_str_array(array: np.ndarray) -> np.ndarray:
    """Return an object array of ``str`` from h5py's ``bytes`` values (same shape)."""
    out = np.empty(array.shape, dtype=object)
    flat = out.reshape(-1)
    for position, value in enumerate(array.reshape(-1)):
        flat[position] = value.decode("utf-8") if isinstance(value, (bytes, np.bytes_)) else value
    return out


class _Rows:
    """A dataset that region references point into, with what reading its rows needs cached.

    Parameters
    ----------
    dataset : h5py.Dataset
        The dataset (its shape is taken once: files are opened read-only).
    """

    def __init__(self, dataset: h5py.Dataset) -> None:
        self.dataset = dataset
        self.id = dataset.id
        self.name = dataset.name
        self.shape = tuple(dataset.shape)
        self.tail = self.shape[1:]
        self.row_size = math.prod(self.tail)
        self.dtype = h5io.dataset_dtype(dataset)  # built once per stored type (h5py builds it per dataset)
        self.is_str = _is_str(self.dtype)
        self._address: int | None = None

    @property
    def address(self) -> int:
        """Return the dataset's object address in its file (-2 when h5py cannot tell), taken once."""
        if self._address is None:
            try:
                self._address = int(h5o.get_info(self.id).addr)
            except (AttributeError, *H5_ERRORS):
                self._address = -2
        return self._address

    def read(self, start: int, stop: int) -> np.ndarray:
        """Return rows ``[start, stop)`` (strings decoded) with one low-level read (:func:`.h5io.read_block`)."""
        out = h5io.read_block(self.dataset, start, max(stop, start), self.dtype)
        return _decode_str_array(out) if self.is_str else out


class V1ReadLayout(ReadLayout):
    """Reads the entries and products of one SPINE V1 file.

    Parameters
    ----------
    h5file : h5py.File
        The open file.
    path : str
        Its path, for messages.

    Raises
    ------
    SpineFileError
        When the file has no usable ``events`` table.
    """

    format_version = 1

    def __init__(self, h5file: h5py.File, path: str) -> None:
        super().__init__(h5file, path)
        events = h5file.get(EVENTS)
        problem = events_problem(events)
        if problem is not None:
            raise SpineFileError(problem, path)
        self.events = events
        self._keys = tuple(events.dtype.names)
        self._count = int(events.shape[0])
        self._specs: dict[str, ProductSpec] = {}
        self._targets: dict[str, _Rows] = {}
        self._parts: dict[str, list[_Rows]] = {}
        self._block: tuple[int, np.ndarray, dict[str, np.ndarray]] | None = None
        self._heaps = GlobalHeaps(path)
        self._ref_problems: dict[str, np.ndarray] = {}
        self._bounds: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    # -- what the file holds ------------------------------------------------------------------------

    def entry_count(self) -> int:
        """Return the number of entries (rows of ``events``)."""
        return self._count

    def keys(self) -> tuple[str, ...]:
        """Return the products every entry references, in ``events`` field order."""
        return self._keys

    def spec(self, key: str) -> ProductSpec:
        """Return how a product is stored (kind, dtype, class name, widths)."""
        spec = self._specs.get(key)
        if spec is None:
            if key not in self._keys:
                raise KeyError(f"{self.path}: no product {key!r} (stored: {', '.join(self._keys)})")
            with self._errors(key):
                spec = self._specs[key] = self._inspect(key)
        return spec

    def _inspect(self, key: str) -> ProductSpec:
        node = self.file.get(key)
        if node is None:
            raise self._fail(f"referenced by {EVENTS!r} but the file has no such dataset or group", key)
        product = inspect_product(node)
        if product.problems:
            raise self._fail(product.problems[0], key)
        self._targets[key] = _Rows(product.target)
        if product.kind in (Kind.FLAT, Kind.JAGGED):
            self._parts[key] = [_Rows(part) for part in product.parts]
        return product.spec(key)

    def _target(self, key: str) -> _Rows:
        """Return the dataset the ``events`` references of ``key`` point into."""
        self.spec(key)
        return self._targets[key]

    # -- region references --------------------------------------------------------------------------

    def region(
        self, target: _Rows, ref: Any, key: str, entry: int | None, pointed_address: int = -1
    ) -> tuple[int, int]:
        """Return the ``[start, stop)`` rows a region reference selects in ``target``.

        ``pointed_address`` is the address the reference's heap object names
        (:meth:`~spineh5.format.global_heap.GlobalHeaps.pointed_addresses`), when
        known: equal to the target's, HDF5 is not asked to open the object it
        points to (which costs more than the rest of the check).

        Raises
        ------
        SpineFileError
            When the reference is null, points to another object, is not one
            contiguous block of whole rows, or reaches past the dataset's end.
        """
        if not isinstance(ref, h5r.RegionReference) or not ref:
            raise self._fail("null region reference", key, entry)
        known = pointed_address >= 0 and pointed_address == target.address
        try:
            pointed = None if known else h5r.dereference(ref, self.file.id)
            space = h5r.get_region(ref, target.id)
        except H5_ERRORS as err:
            raise self._fail(f"unreadable region reference ({err})", key, entry) from err
        if not known and pointed != target.id:
            try:
                name = h5r.get_name(ref, self.file.id).decode("utf-8", errors="replace")
            except H5_ERRORS:
                name = "an unknown object"
            raise self._fail(f"region reference points to {name!r} instead of {target.name!r}", key, entry)
        try:
            start, stop = self._selected_rows(space, target, key, entry)
        except H5_ERRORS as err:  # a damaged selection
            raise self._fail(f"unreadable region reference selection ({err})", key, entry) from err
        if stop > target.shape[0]:
            raise self._fail(
                f"region reference selects rows {start}:{stop} but {target.name!r} has {target.shape[0]} rows",
                key,
                entry,
            )
        return start, stop

    def part_ends(self, key: str, start: int, stop: int, entry: int | None = None) -> dict[str, np.ndarray]:
        """Return where the selection of each ``index`` row ``[start, stop)`` of a list product ends, per element.

        Only the ``index`` rows are read; the bounds of each reference come from
        its selection (:meth:`region`), so no element row is read. Keys are the
        element datasets' HDF5 paths; values hold one end per ``index`` row (0
        for an empty selection).

        Raises
        ------
        SpineFileError
            For the first reference that is null, unreadable, points elsewhere
            or reaches past its dataset.
        """
        self.spec(key)
        parts = self._parts[key]
        with self._errors(key, entry):
            self._check_refs(self._targets[key], start, stop, key, entry)
            refs = self._targets[key].read(start, stop)
        refs = refs.reshape(len(refs), -1) if len(refs) else refs.reshape(0, len(parts))
        ends = {part.name: np.zeros(len(refs), np.int64) for part in parts}
        for row, row_refs in enumerate(refs):
            for part, ref in zip(parts, row_refs):
                ends[part.name][row] = self.region(part, ref, key, entry)[1]
        return ends

    def _selected_rows(self, space: h5s.SpaceID, target: _Rows, key: str, entry: int | None) -> tuple[int, int]:
        """Return the ``[start, stop)`` rows of a region reference's selection (one block of whole rows)."""
        kind = space.get_select_type()
        if kind == h5s.SEL_NONE:
            return 0, 0
        if kind == h5s.SEL_ALL:
            return 0, space.get_simple_extent_dims()[0]
        if kind != h5s.SEL_HYPERSLABS:
            raise self._fail("region reference selects points, a block of rows is expected", key, entry)
        low, high = space.get_select_bounds()
        start, stop = int(low[0]), int(high[0]) + 1
        whole_rows = len(low) == len(target.shape) and all(
            lo == 0 and hi == size - 1 for lo, hi, size in zip(low[1:], high[1:], target.tail)
        )
        if not whole_rows or space.get_select_npoints() != (stop - start) * target.row_size:
            raise self._fail("region reference does not select one contiguous block of whole rows", key, entry)
        return start, stop

    def _event(self, entry: int) -> np.void:
        """Return the ``events`` row of an entry (rows are read and cached by block, their references checked)."""
        block = entry // _EVENT_BLOCK
        if self._block is None or self._block[0] != block:
            low, high = block * _EVENT_BLOCK, min((block + 1) * _EVENT_BLOCK, self._count)
            with self._errors(EVENTS, entry):
                rows = self.events[low:high]
                raw = raw_references(self.events, None, low, high)
            file_type = self.events.id.get_type()
            problems = {}
            for member in range(file_type.get_nmembers()):
                name = file_type.get_member_name(member).decode()
                at = file_type.get_member_offset(member)
                size = file_type.get_member_type(member).get_size()
                problems[name] = self._heaps.unreadable(raw[:, at : at + size])
            self._block = (block, rows, problems)
        return self._block[1][entry - block * _EVENT_BLOCK]

    def _event_ref_problem(self, key: str, entry: int) -> str | None:
        """Return why HDF5 must not follow the ``events`` reference of ``key`` in ``entry`` (after :meth:`_event`)."""
        self._event(entry)
        return self._block[2][key][entry - self._block[0] * _EVENT_BLOCK]

    def _check_refs(self, part: _Rows, start: int, stop: int, key: str, entry: int) -> None:
        """Refuse the references of rows ``[start, stop)`` of a reference dataset HDF5 must not follow.

        The whole dataset is checked once (its references as stored, one read).
        """
        found = self._ref_problems.get(part.name)
        if found is None:
            raw = raw_references(part.dataset, None, 0, part.shape[0])
            problems = self._heaps.unreadable(raw)
            found = problems.reshape(part.shape[0], -1) if part.shape[0] else problems.reshape(0, 1)
            self._ref_problems[part.name] = found
        bad = [problem for problem in found[start:stop].reshape(-1).tolist() if problem is not None]
        if bad:
            raise self._fail(f"unreadable region reference in {part.name!r} ({bad[0]})", key, entry)

    def bounds(self, key: str, entries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the ``[start, stop)`` rows of ``key`` for each entry (cached per key).

        The ``events`` column of ``key`` is read once over the span of the
        entries not yet known.
        """
        cache = self._bounds.get(key)
        if cache is None:
            cache = self._bounds[key] = (np.full(self._count, -1, np.int64), np.full(self._count, -1, np.int64))
        starts, stops = cache
        missing = np.unique(entries[starts[entries] < 0])
        if len(missing):
            target = self._target(key)
            low, high = int(missing[0]), int(missing[-1]) + 1
            with self._errors(key):
                refs = self.events.fields(key)[low:high]
                raw = raw_references(self.events, key, low, high)
                problems = self._heaps.unreadable(raw)
            pointed = self._heaps.pointed_addresses(raw)
            for entry in missing.tolist():
                if problems[entry - low] is not None:
                    raise self._fail(f"unreadable region reference ({problems[entry - low]})", key, entry)
                starts[entry], stops[entry] = self.region(
                    target, refs[entry - low], key, entry, int(pointed[entry - low])
                )
        return starts[entries], stops[entries]

    # -- one entry ------------------------------------------------------------------------------------

    def read_entry(self, entry: int, keys: Iterable[str]) -> dict[str, Any]:
        """Return the products of one entry; object products as :class:`ObjectRows`.

        Parameters
        ----------
        entry : int
            Entry of this file.
        keys : iterable of str
            Products to read.
        """
        event = self._event(entry)
        return {key: self._read(key, entry, event[key]) for key in keys}

    def read_raw(self, entry: int, key: str) -> Any:
        """Return one product of one entry as stored: every row and column of object products."""
        value = self._read(key, entry, self._event(entry)[key])
        if isinstance(value, ObjectRows):
            return value.rows
        return value

    def _read(self, key: str, entry: int, ref: Any) -> Any:
        spec = self.spec(key)
        target = self._targets[key]
        problem = self._event_ref_problem(key, entry)
        if problem is not None:
            raise self._fail(f"unreadable region reference ({problem})", key, entry)
        with self._errors(key, entry):
            start, stop = self.region(target, ref, key, entry)
            if spec.kind in (Kind.FLAT, Kind.JAGGED):
                self._check_refs(target, start, stop, key, entry)
            if spec.kind is Kind.FLAT:
                return self._read_flat(key, entry, target.read(start, stop))
            if spec.kind is Kind.JAGGED:
                return self._read_jagged(key, entry, target.read(start, stop))
            if spec.kind.holds_objects:
                return ObjectRows(spec.class_name, target.read(start, stop), spec.kind is Kind.OBJECT)
            if spec.kind is Kind.SCALAR:
                if stop <= start:
                    raise self._fail("one value per entry is expected, the entry has none", key, entry)
                return target.read(start, start + 1)[0]
            return target.read(start, stop)

    def _read_rows(self, part: _Rows, refs: Sequence[Any], key: str, entry: int) -> list[np.ndarray]:
        """Return the rows of several references into one dataset, with one read."""
        spans = [self.region(part, ref, key, entry) for ref in refs]
        filled = [span for span in spans if span[1] > span[0]]
        if not filled:
            empty = part.read(0, 0)
            return [empty for _ in spans]
        low = min(start for start, _ in filled)
        high = max(stop for _, stop in filled)
        block = part.read(low, high)
        return [block[start - low : stop - low] if stop > start else block[:0] for start, stop in spans]

    def _read_flat(self, key: str, entry: int, refs: np.ndarray) -> list[np.ndarray]:
        if len(refs) == 0:
            return []
        return self._read_rows(self._parts[key][0], refs, key, entry)

    def _read_jagged(self, key: str, entry: int, refs: np.ndarray) -> list[np.ndarray]:
        if len(refs) == 0:
            return []
        if len(refs) != 1:
            raise self._fail(f"a jagged product has one 'index' row per entry, this entry has {len(refs)}", key, entry)
        return [self._read_rows(part, [part_ref], key, entry)[0] for part, part_ref in zip(self._parts[key], refs[0])]

    # -- many entries -----------------------------------------------------------------------------------

    def read_table(
        self, key: str, entries: np.ndarray, columns: Sequence[str] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the rows of a product for many entries, with one read of its dataset.

        Parameters
        ----------
        key : str
            An object, array or scalar product.
        entries : numpy.ndarray
            Entries of this file (any order, repeats allowed).
        columns : sequence of str, optional
            Compound columns to read (object products only); default all.

        Returns
        -------
        rows : numpy.ndarray
            The rows of every entry, concatenated in the order of ``entries``
            (one row per entry for scalar and single-object products).
        offsets : numpy.ndarray
            int64, ``len(entries) + 1``: the rows of entry ``i`` are
            ``rows[offsets[i]:offsets[i + 1]]``.
        """
        spec = self.spec(key)
        if spec.kind in (Kind.FLAT, Kind.JAGGED):
            raise ValueError(f"product {key!r} is a list of arrays ({spec.kind.value}); read it per entry")
        if columns is not None and not spec.kind.holds_objects:
            raise ValueError(f"product {key!r} is not an object product; columns= applies to object rows only")
        if columns is not None:
            unknown = [name for name in columns if name not in spec.dtype.names]
            if unknown:
                raise KeyError(f"{self.path}: product {key!r} has no columns {unknown} (has: {spec.dtype.names})")
        target = self._targets[key]
        entries = np.asarray(entries, dtype=np.int64)
        starts, stops = self.bounds(key, entries)
        if spec.kind in (Kind.SCALAR, Kind.OBJECT):
            empty = np.flatnonzero(stops <= starts)
            if len(empty):
                raise self._fail("one row per entry is expected, the entry has none", key, int(entries[empty[0]]))
            stops = starts + 1
        with self._errors(key):
            rows, offsets = h5io.read_ranges(target.dataset, starts, stops, columns)
        if target.is_str:
            rows = _decode_str_array(rows)
        return rows, offsets

    def _has_run_columns(self, key: str) -> bool:
        spec = self.spec(key)
        names = spec.dtype.names or ()
        return spec.kind.holds_objects and all(name in names for name in RUN_FIELDS)

    def _run_rows(self, key: str) -> np.ndarray:
        """Return the run info rows: with one read when the product holds one row per entry in entry order.

        That is how SPINE writes it; otherwise the rows are located through
        the region references.
        """
        target = self._targets[key]
        last = self._count - 1
        starts, stops = self.bounds(key, np.array([0, last]))
        in_order = (
            target.shape[0] == self._count
            and (starts[0], stops[0]) == (0, 1)
            and (starts[1], stops[1]) == (last, last + 1)
        )
        if in_order:
            with self._errors(key):
                return target.dataset.fields(list(RUN_FIELDS))[:]
        rows, offsets = self.read_table(key, np.arange(self._count), RUN_FIELDS)
        self._one_per_entry(key, np.diff(offsets))
        return rows
