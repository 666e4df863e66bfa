"""What the layouts share: the base classes of the write and read layouts and the append session.

* :class:`WriteLayout`: the interface of a write layout (see
  :mod:`spineh5.layouts`), its read layout for what a file stores, the
  key-set and kind checks of an append, ``info.complete``;
* :class:`AppendSession`: one append to one open file: dataset handles from
  the file's cache (:func:`spineh5.h5io.dataset_cache`) and one rollback of
  every dataset grown;
* :class:`ReadLayout`: the interface the reader front needs, the error
  wrapping (h5py's exceptions become :class:`SpineFileError` naming the file,
  product and entry) and the run/subrun/event triplets.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import h5py
import numpy as np

from .. import h5io
from ..compression import missing_filter_error
from ..errors import LayoutMismatchError, SpineFileError
from ..format.common import COMPLETE, INFO
from ..h5_errors import H5_ERRORS, h5_problem
from ..payload import Payload
from ..products import Kind, ProductSpec

#: Columns of the run map.
RUN_FIELDS = ("run", "subrun", "event")
RUN_DTYPE = np.dtype([(name, np.int64) for name in RUN_FIELDS])


def _stored_kind(kind: Kind) -> Kind:
    """Return the kind a file records: a global scalar is stored as a per-entry scalar."""
    return Kind.SCALAR if kind is Kind.GLOBAL_SCALAR else kind


def kind_difference(key: str, have: ProductSpec, want: ProductSpec) -> str | None:
    """Return why data of spec ``want`` cannot go to a product stored as ``have`` (kind, class), None if it can."""
    have_kind, want_kind = _stored_kind(have.kind), _stored_kind(want.kind)
    if have_kind is not want_kind:
        return f"{key!r}: stored as {have_kind.value}, data is {want_kind.value}"
    if have.class_name != want.class_name:
        return f"{key!r}: stores {have.class_name} objects, data has {want.class_name}"
    return None


def key_differences(wanted: Iterable[str], stored: Iterable[str]) -> list[str]:
    """Return the products only in the data and only in the file, as append problems."""
    wanted, stored = set(wanted), set(stored)
    problems = []
    if wanted - stored:
        problems.append(f"products not in the file: {sorted(wanted - stored)}")
    if stored - wanted:
        problems.append(f"products in the file but not in the data: {sorted(stored - wanted)}")
    return problems


class AppendSession:
    """One append to one open file: its dataset handles, and the rollback of every dataset it grew.

    Used as a context manager, a failure inside shrinks every dataset grown
    back to its length before the session, so the file keeps exactly its
    earlier entries. Handles live in the file's cache
    (:func:`spineh5.h5io.dataset_cache`), so later batches to the same open
    file reuse them (no group lookups; h5py's and HDF5's caches survive).

    Parameters
    ----------
    h5file : h5py.File
        The open file (mode ``w`` or ``a``).
    """

    def __init__(self, h5file: h5py.File) -> None:
        self.file_id = h5file.id
        self.cache = h5io.dataset_cache(h5file)
        self.touched: list[tuple[h5py.Dataset, int]] = []

    def dataset(self, path: str) -> h5py.Dataset:
        """Return the dataset at ``path`` (relative to the file root), opening it once per open file."""
        dataset = self.cache.get(path)
        if dataset is None or not dataset.id.valid:
            dataset = self.cache[path] = h5py.Dataset(h5py.h5d.open(self.file_id, path.encode("utf-8")))
        return dataset

    def append(self, dataset: h5py.Dataset, rows: np.ndarray, mem_type: Any = None, length: int | None = None) -> int:
        """Append rows with one resize and one write (:func:`spineh5.h5io.append_rows`); return the first new row.

        ``mem_type`` is the HDF5 type of ``rows`` when the caller has one;
        ``length`` is the dataset's current length when the caller knows it.
        """
        if len(rows):
            self.touched.append((dataset, dataset.id.shape[0] if length is None else length))
        return h5io.append_rows(dataset, rows, mem_type)

    def rollback(self) -> None:
        """Shrink every dataset grown by this session back to its earlier length."""
        for dataset, size in reversed(self.touched):
            if dataset.shape[0] != size:
                dataset.resize(size, axis=0)
        self.touched = []

    def __enter__(self) -> AppendSession:
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> bool:
        if exc_type is not None:
            self.rollback()
        return False


class WriteLayout:
    """Base of the write layouts: one open HDF5 file seen through one on-disk layout.

    Subclasses set :attr:`format_version` and :attr:`read_class` and
    implement ``create``, ``stored_keys``, ``entry_count``, ``differences``
    and ``_append``.

    Parameters
    ----------
    h5file : h5py.File
        The open file (mode ``w`` or ``a`` to write).
    """

    format_version: int
    #: Whether the layout takes SPINE's per-key store/append_key API (one product of one entry at a time,
    #: referenced from an ``events`` row): V1's region references do, offset tables do not.
    per_key_store: bool = False
    #: Whether the layout writes object products from columns (``prepare(..., columnar=True)``) not compound rows.
    columnar_objects: bool = False
    #: The read layout of the same format, asked what a file stores.
    read_class: type

    def __init__(self, h5file: h5py.File) -> None:
        self.file = h5file
        self._read: Any = None

    @classmethod
    def info_attrs(cls, spine_version: str) -> dict:
        """Return the layout's own ``info`` attributes (none by default)."""
        return {}

    def reader(self) -> Any:
        """Return the read layout of the file (built once), as the reader front would see it.

        Raises
        ------
        LayoutMismatchError
            When the read layout refuses the file.
        """
        if self._read is None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # members the reader leaves out matter to differences()
                    self._read = self.read_class(self.file, self.file.filename)
            except SpineFileError as err:
                raise LayoutMismatchError(str(err)) from None
        return self._read

    def stored_spec(self, key: str) -> ProductSpec:
        """Return how an existing product is stored (kind, dtype, class, widths), as the reader sees it."""
        return self.reader().spec(key)

    def mark_complete(self, complete: bool = True) -> None:
        """Set ``info.complete`` (a numpy bool, as SPINE writes it): True once the writer finished the file."""
        self.file[INFO].attrs[COMPLETE] = np.bool_(complete)

    def session(self) -> AppendSession:
        """Return a new append session on the file."""
        return AppendSession(self.file)

    #: Whether the append in progress flushes the file before its ``events`` rows (see :meth:`append`).
    _flushing = False

    def append(self, payloads: dict[str, Payload], n_entries: int, flush: bool = False) -> None:
        """Append one validated batch, all or nothing: on any failure every dataset grown is shrunk back.

        With ``flush``, the file is flushed once the product rows (and V1's
        region references) are written and again after the ``events`` rows:
        a process killed inside either flush leaves at worst product rows
        past the last whole event, never an event pointing past the data.
        """
        self._check_batch(payloads, n_entries)
        self._flushing = flush
        try:
            with self.session() as session:
                self._append(payloads, n_entries, session)
        finally:
            self._flushing = False
        if flush:
            self.file.flush()

    def _before_events(self) -> None:
        """Flush the product rows of a flushed append before its ``events`` rows are written."""
        if self._flushing:
            self.file.flush()

    def _check_batch(self, payloads: dict[str, Payload], n_entries: int) -> None:
        """Refuse a batch before anything is written (nothing to check by default)."""

    def _append(self, payloads: dict[str, Payload], n_entries: int, session: AppendSession) -> None:
        raise NotImplementedError


class ReadLayout:
    """Base of the read layouts: what the reader front needs from the decoder of one file layout.

    Subclasses set :attr:`format_version` and implement ``entry_count``,
    ``keys``, ``spec``, ``read_entry``, ``read_raw``, ``read_table`` and
    ``_run_rows``.

    Parameters
    ----------
    h5file : h5py.File
        The open file.
    path : str
        Its path, for messages.
    """

    format_version: int

    def __init__(self, h5file: h5py.File, path: str) -> None:
        self.file = h5file
        self.path = path

    def entry_count(self) -> int:
        """Return the number of entries of the file."""
        raise NotImplementedError

    def keys(self) -> tuple[str, ...]:
        """Return the products the entries reference."""
        raise NotImplementedError

    def has_product(self, key: str) -> bool:
        """Return whether the file stores product ``key`` (layouts may answer without listing every product)."""
        return key in self.keys()

    def spec(self, key: str) -> ProductSpec:
        """Return how a product is stored."""
        raise NotImplementedError

    def stored_dtype(self, key: str, wanted: Sequence[str] | None = None) -> np.dtype:
        """Return the compound dtype of a product's rows (a layout may return less, holding at least ``wanted``)."""
        return self.spec(key).dtype

    def fixed_dtype(self, key: str) -> np.dtype:
        """Return the compound dtype of a product's fixed-size stored columns (object columns left out).

        A layout may answer without inspecting how the other columns are stored (V2's pools).
        """
        dtype = self.spec(key).dtype
        if dtype.names is None:
            return dtype
        return np.dtype([(name, dtype.fields[name][0]) for name in dtype.names if dtype.fields[name][0].kind != "O"])

    def stored_class(self, key: str) -> str | None:
        """Return a product's stored ``class_name`` (None for products that hold no objects)."""
        spec = self.spec(key)
        return spec.class_name if spec.kind.holds_objects else None

    def read_entry(self, entry: int, keys: Iterable[str]) -> dict[str, Any]:
        """Return the products of one entry, objects as ``ObjectRows``."""
        raise NotImplementedError

    def read_raw(self, entry: int, key: str) -> Any:
        """Return one product of one entry as stored."""
        raise NotImplementedError

    def read_table(
        self, key: str, entries: np.ndarray, columns: Sequence[str] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the rows of a product for many entries and per-entry offsets."""
        raise NotImplementedError

    @contextlib.contextmanager
    def _errors(self, key: str | None = None, entry: int | None = None) -> Iterator[None]:
        """Turn h5py's exceptions into :class:`SpineFileError` naming the file, key and entry."""
        try:
            yield
        except SpineFileError:
            raise
        except H5_ERRORS as err:
            if "plugin" in str(err) or "filter" in str(err):
                missing = missing_filter_error(self.file, self.path, key, entry)
                if missing is not None:
                    raise missing from err
            raise SpineFileError(h5_problem(err), self.path, key, entry) from err

    def _fail(self, problem: str, key: str, entry: int | None = None) -> SpineFileError:
        """Return the :class:`SpineFileError` of a problem of product ``key`` (of an entry)."""
        return SpineFileError(problem, self.path, key, entry)

    def _one_per_entry(self, key: str, counts: np.ndarray) -> None:
        """Refuse a run info product without exactly one row per entry."""
        if np.any(counts != 1):
            bad = int(np.flatnonzero(counts != 1)[0])
            raise self._fail(f"{counts[bad]} rows for one entry; one per entry is expected", key, bad)

    def run_triplets(self, key: str) -> np.ndarray:
        """Return the ``(run, subrun, event)`` of every entry (int64 fields, one row per entry).

        Raises
        ------
        SpineFileError
            When ``key`` is not an object product with those columns, or an
            entry does not hold exactly one row.
        """
        if key not in self.keys():
            raise SpineFileError(f"no {key!r} product to look events up by (run, subrun, event)", self.path)
        if not self._has_run_columns(key):
            raise SpineFileError(
                f"has no {', '.join(RUN_FIELDS)} columns to look events up by (run, subrun, event)", self.path, key
            )
        count = self.entry_count()
        out = np.empty(count, dtype=RUN_DTYPE)
        if count == 0:
            return out
        rows = self._run_rows(key)
        for name in RUN_FIELDS:
            out[name] = rows[name]
        return out

    def _has_run_columns(self, key: str) -> bool:
        """Return whether ``key`` is an object product with the run, subrun and event columns."""
        raise NotImplementedError

    def _run_rows(self, key: str) -> np.ndarray:
        """Return the run info rows of every entry (at least the :data:`RUN_FIELDS` columns)."""
        raise NotImplementedError
