"""``HDF5Writer``: SPINE's writer API on schema-generated types, writing SPINE V1 files.

The write path of one call (``writer(data, cfg)``):

1. source provenance and ``dummy_ds`` products are added to the batch;
2. the first call decides every product's storage (:mod:`.products`) and
   creates or opens the output file(s);
3. every product of the whole batch is validated and converted into typed
   arrays (:mod:`.payload`): any error names the key, the entry and the field
   and is raised before a byte is written;
4. each target file's layout appends the batch: one resize and one write per
   dataset, region references in bulk, ``events`` rows last.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import attrs
import h5py
import numpy as np
import yaml

from . import __version__
from .errors import FileStateError, LayoutMismatchError, ProductError
from .generated import REGISTRY, SCHEMA_VERSION
from .layouts import file_format_version, layout_class
from .layouts.v1_write import INFO, V1Layout
from .naming import get_file_names
from .payload import Payload, prepare
from .products import Kind, ProductSpec, UnknownProductError, decide, is_scalar

#: SPINE release whose V1 format and classes the schema describes (written as ``info.version``).
SPINE_VERSION = "0.14.1"
#: Name and version of this writer (written as ``info.writer``).
WRITER = f"spineh5 {__version__}"


class HDF5Writer:
    """Write batches of SPINE reconstruction output to SPINE V1 HDF5 files.

    A drop-in for SPINE's ``spine.io.write.HDF5Writer``: same constructor,
    methods and files, with object dtypes taken from the schema instead of
    guessed from values.

    Parameters
    ----------
    file_name : str, optional
        Output file name; derived from ``prefix`` when absent.
    directory : str, optional
        Output folder, replacing the folder of every file name.
    prefix : str or list of str, optional
        Input file path(s) to derive output names from (a list with ``split``).
    suffix : str, default 'spine'
        Appended to the prefix stem to form a name.
    keys : list of str, optional
        Products to store (``index``, source provenance and ``dummy_ds`` keys
        are always added). Default: every key of the data.
    skip_keys : list of str, optional
        Products not to store; exclusive with ``keys``.
    dummy_ds : dict, optional
        ``{key: class_name}`` of empty object products written in every entry.
    overwrite : bool, default False
        Delete existing output files first.
    append : bool, default False
        Append to existing output files (their products must match).
    split : bool, default False
        One output file per input prefix, chosen per entry by ``file_index``.
    lite : bool, default False
        Leave out the columns the schema marks as not lite (voxel index arrays).
    keep_open : bool, default True
        Keep files open between calls (else open and close at every call).
    flush_frequency : int, optional
        Flush open files every this many calls.
    types : dict, optional
        ``{key: class name, generated class, dtype or example array}`` for list
        products whose entries may all be empty in the first batch (spineh5
        extension); an example array such as ``np.empty((0, 2), np.int32)``
        gives the dtype and width of a flat list of 2-D arrays.
    compression : str or dict, optional
        ``'gzip'``/``'lzf'`` for every product array, or ``{key: filter}``
        (spineh5 extension; SPINE reads compressed files unchanged).
    compression_opts : int, optional
        Level of the ``gzip`` filter.
    chunk_rows : int or dict, optional
        Rows per chunk of product datasets, for all or ``{key: rows}``.
    format_version : int, default 1
        On-disk layout: 1 (region references, SPINE 0.14) or 2 (SPINE's later
        offset-based product groups).
    """

    name = "hdf5"
    source_index_keys: Mapping[str, str] = {
        "file_index": "source_file_index",
        "file_entry_index": "source_file_entry_index",
    }

    @attrs.define
    class DataFormat:
        """How one product is stored (SPINE's ``DataFormat``, plus the spineh5 ``kind``).

        Attributes
        ----------
        dtype : numpy.dtype
            Element or compound dtype.
        class_name : str or None
            Object class, for object products.
        width : int or list of int
            Columns of 2-D arrays; a list for lists of arrays (one width per
            list position for jagged lists), as in SPINE.
        merge : bool
            True for flat lists of same-width arrays (one ``elements`` dataset).
        scalar : bool
            The ``scalar`` attribute: one row per entry, read back as one value.
        kind : str
            spineh5 storage kind (``scalar``, ``object``, ``objects``, ``array``,
            ``flat``, ``jagged``, ``global_scalar``).
        """

        dtype: Any = None
        class_name: str | None = None
        width: int | list[int] = 0
        merge: bool = False
        scalar: bool = False
        kind: str = ""

    def __init__(
        self,
        file_name: str | None = None,
        directory: str | None = None,
        prefix: str | list[str] | None = None,
        suffix: str = "spine",
        keys: list[str] | None = None,
        skip_keys: list[str] | None = None,
        dummy_ds: dict[str, str] | None = None,
        overwrite: bool = False,
        append: bool = False,
        split: bool = False,
        lite: bool = False,
        keep_open: bool = True,
        flush_frequency: int | None = None,
        types: dict[str, Any] | None = None,
        compression: str | dict[str, str] | None = None,
        compression_opts: int | None = None,
        chunk_rows: int | dict[str, int] | None = None,
        format_version: int = 1,
    ) -> None:
        if keys is not None and skip_keys is not None:
            raise ValueError("keys and skip_keys are mutually exclusive: give one of them")
        if flush_frequency is not None and (not isinstance(flush_frequency, int) or flush_frequency < 1):
            raise ValueError(f"flush_frequency must be a positive integer, got {flush_frequency!r}")
        if overwrite and append:
            raise ValueError("overwrite and append are mutually exclusive")
        self.format_version = format_version
        self.layout = layout_class(format_version)
        self.file_names = self.get_file_names(file_name, prefix, suffix, split, directory)
        self.input_keys = None if keys is None else list(keys)
        self.skip_keys = list(skip_keys or [])
        self.dummy_ds = dict(dummy_ds or {})
        for key, class_name in self.dummy_ds.items():
            if class_name not in REGISTRY:
                raise ValueError(f"dummy_ds[{key!r}]: unknown class {class_name!r}; known: {sorted(REGISTRY)}")
        self.types = dict(types or {})
        self.overwrite, self.append, self.split, self.lite = overwrite, append, split, lite
        self.keep_open, self.flush_frequency = keep_open, flush_frequency
        self.compression, self.compression_opts, self.chunk_rows = compression, compression_opts, chunk_rows

        self.keys: list[str] | None = None
        self.specs: dict[str, ProductSpec] = {}
        self.type_dict: dict[str, HDF5Writer.DataFormat] = {}
        self.cfg: dict | None = None
        self.ready = False
        self._created: set[int] = set()
        self._finalized: set[int] = set()
        self._handles: dict[int, h5py.File] = {}
        self._handles_pid: int | None = None  # process that opened the cached handles
        self._since_flush: dict[int, int] = {}  # entries written per file since its last flush
        self._max_file_id: int | None = None  # split: highest file id written so far
        self._split_sequential = True  # split: file ids never went back so far

        for path in self.file_names:
            if os.path.exists(path):
                if overwrite:
                    os.remove(path)
                elif not append:
                    raise FileExistsError(f"output file {path} exists; pass overwrite=True or append=True")

    # -- naming --------------------------------------------------------------------------------

    @staticmethod
    def get_file_names(
        file_name: str | None = None,
        prefix: str | list[str] | None = None,
        suffix: str = "spine",
        split: bool = False,
        directory: str | None = None,
    ) -> list[str]:
        """Return the output file names (see :func:`spineh5.naming.get_file_names`)."""
        return get_file_names(file_name, prefix, suffix, split, directory)

    # -- batch preparation -----------------------------------------------------------------------

    def with_source_provenance(self, data: dict[str, Any]) -> dict[str, Any]:
        """Return ``data`` with ``source_file_index``/``source_file_entry_index`` copies added."""
        out = dict(data)
        for key, source_key in self.source_index_keys.items():
            if key in out and source_key not in out:
                out[source_key] = out[key]
        return out

    def get_stored_keys(self, data: dict[str, Any]) -> list[str]:
        """Return the sorted products stored for data like ``data``.

        Raises
        ------
        KeyError
            When a key of ``keys`` or ``skip_keys`` is not in the data.
        """
        if self.input_keys is None:
            keys = set(data)
        else:
            missing = [key for key in self.input_keys if key not in data]
            if missing:
                raise KeyError(f"keys {missing} are not in the data (has: {sorted(data)})")
            keys = set(self.input_keys) | {"index"}
            keys |= {key for key in self.source_index_keys.values() if key in data}
            keys |= set(self.dummy_ds)
        keys.add("index")
        for key in self.skip_keys:
            if key not in keys:
                raise KeyError(f"skip_keys: {key!r} is not a stored key (stored: {sorted(keys)})")
            keys.discard(key)
        return sorted(keys)

    def _with_dummies(self, data: dict[str, Any], n_entries: int) -> dict[str, Any]:
        for key, class_name in self.dummy_ds.items():
            if key in data:
                raise ProductError(key, f"dummy_ds key conflicts with a real product of the data ({class_name})")
        if not self.dummy_ds:
            return data
        out = dict(data)
        for key in self.dummy_ds:
            out[key] = [[] for _ in range(n_entries)]
        return out

    @staticmethod
    def _batch(data: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Return the batch with every value per entry, and its entry count."""
        if "index" not in data:
            raise ProductError("index", "every batch needs an 'index' (one value per entry)")
        index = data["index"]
        if is_scalar(index):
            return {key: [value] for key, value in data.items()}, 1
        return data, len(index)

    def _hint(self, key: str) -> Any:
        if key in self.dummy_ds:
            return self.dummy_ds[key]
        return self.types.get(key)

    def get_data_type(self, data: dict[str, Any], key: str) -> HDF5Writer.DataFormat:
        """Return how ``data[key]`` is (or would be) stored."""
        spec = self.specs.get(key) or self._decide(data, key)
        return self._format(spec)

    def get_data_types(
        self, data: dict[str, Any], keys: list[str] | set[str]
    ) -> tuple[dict[str, HDF5Writer.DataFormat], list[list[tuple[str, Any]]]]:
        """Return the storage of each key and the distinct object dtypes (as SPINE's ``object_dtypes``)."""
        formats = {key: self.get_data_type(data, key) for key in sorted(keys)}
        object_dtypes: list[list[tuple[str, Any]]] = []
        for fmt in formats.values():
            if fmt.class_name is not None:
                columns = [(name, fmt.dtype.fields[name][0]) for name in fmt.dtype.names]
                if columns not in object_dtypes:
                    object_dtypes.append(columns)
        return formats, object_dtypes

    def get_object_dtype(self, obj: Any) -> list[tuple[str, Any]]:
        """Return the ``(name, dtype)`` columns of an object (or class name) from the schema."""
        class_name = obj if isinstance(obj, str) else getattr(obj, "CLASS_NAME", type(obj).__name__)
        if class_name not in REGISTRY:
            raise ValueError(f"no schema for class {class_name!r}; known: {sorted(REGISTRY)}")
        cls = REGISTRY[class_name]
        dtype = cls.LITE_DTYPE if self.lite else cls.DTYPE
        return [(name, dtype.fields[name][0]) for name in dtype.names]

    def _decide(self, data: dict[str, Any], key: str) -> ProductSpec:
        if key not in data:
            raise ProductError(key, "is a stored product but is missing from the data")
        hint = self._hint(key)
        try:
            spec = decide(key, data[key], hint, self.lite)
        except UnknownProductError as err:
            raise ProductError(key, str(err)) from None
        declared = getattr(hint, "CLASS_NAME", hint)
        if isinstance(declared, str) and declared in REGISTRY and spec.class_name != declared:
            found = f"{spec.class_name} objects" if spec.class_name else f"a {spec.kind.value} product"
            raise ProductError(key, f"types declares {declared} objects, but the data holds {found}")
        return spec

    @staticmethod
    def _format(spec: ProductSpec) -> HDF5Writer.DataFormat:
        merge = spec.kind is Kind.FLAT
        width: int | list[int] = list(spec.widths) if spec.kind in (Kind.FLAT, Kind.JAGGED) else spec.widths[0]
        return HDF5Writer.DataFormat(spec.dtype, spec.class_name, width, merge, spec.kind.is_scalar, spec.kind.value)

    # -- lifecycle -------------------------------------------------------------------------------

    def create(self, data: dict[str, Any], cfg: dict | None = None, append: bool = False) -> None:
        """Decide every product's storage from the first batch and prepare the output files."""
        data, n_entries = self._batch(self._with_dummies(self.with_source_provenance(data), self._count(data)))
        self.keys = self.get_stored_keys(data)
        self.cfg = cfg
        specs = {}
        for key in self.keys:
            specs[key] = self._decide_or_stored(data, key, append)
        self.specs = specs
        self.type_dict = {key: self._format(spec) for key, spec in specs.items()}
        self.ready = True
        if not self.split:
            self._ensure_file(0)

    @staticmethod
    def _count(data: dict[str, Any]) -> int:
        index = data.get("index")
        return 1 if index is None or is_scalar(index) else len(index)

    def _decide_or_stored(self, data: dict[str, Any], key: str, append: bool) -> ProductSpec:
        try:
            return self._decide(data, key)
        except ProductError:
            if append:
                for path in self.file_names:
                    if os.path.exists(path):
                        with h5py.File(path, "r") as h5file:
                            layout = self.layout(h5file)
                            if key in layout.stored_keys():
                                return layout.stored_spec(key)
            raise

    def _info(self) -> dict[str, Any]:
        cfg = yaml.dump(self.cfg if self.cfg is not None else {})
        return {
            "version": SPINE_VERSION,
            "complete": np.bool_(False),
            "cfg": cfg,
            "writer": WRITER,
            "schema_version": np.int64(SCHEMA_VERSION),
            **self.layout.info_attrs(SPINE_VERSION),
        }

    def _dataset_options(self) -> dict[str, dict]:
        options: dict[str, dict] = {}
        for key in self.specs:
            opts: dict[str, Any] = {}
            compression = self.compression.get(key) if isinstance(self.compression, dict) else self.compression
            if compression:
                opts["compression"] = compression
                if compression == "gzip" and self.compression_opts is not None:
                    opts["compression_opts"] = self.compression_opts
            rows = self.chunk_rows.get(key) if isinstance(self.chunk_rows, dict) else self.chunk_rows
            if rows:
                opts["chunks"] = (rows,)  # rows per chunk; the layout gives each dataset its own width
            options[key] = opts
        return options

    def initialize_datasets(self, out_file: h5py.File, type_dict: dict[str, DataFormat] | None = None) -> None:
        """Create ``info``, every product and the empty ``events`` table in a new, empty file.

        Parameters
        ----------
        out_file : h5py.File
            The open file, with nothing in it yet.
        type_dict : dict, optional
            ``{key: DataFormat}`` as :meth:`get_data_types` returns; by default
            the storage decided by :meth:`create`.
        """
        if type_dict is None:
            specs = self.specs
        else:
            specs = {key: _spec_of_format(key, fmt) for key, fmt in type_dict.items()}
        self.layout(out_file).create(specs, self._info(), self._dataset_options())

    def _check_handle_pid(self) -> None:
        """Refuse to use open handles from another process (SPINE's guard: handles are process-local).

        A forked child writing through, or reopening, a file its parent holds
        open would corrupt it. A writer without open handles may be used by
        any one process.

        Raises
        ------
        FileStateError
            When the cached handles were opened by another process.
        """
        pid = os.getpid()
        if not self._handles or self._handles_pid is None:
            self._handles_pid = pid
        elif self._handles_pid != pid:
            raise FileStateError(
                f"HDF5Writer file handles are process-local: they were opened by process {self._handles_pid} "
                f"and cannot be used across process boundaries (this is process {pid})"
            )

    def _open(self, file_id: int) -> h5py.File:
        self._check_handle_pid()
        handle = self._handles.get(file_id)
        if handle is not None and handle.id.valid:
            return handle
        handle = h5py.File(self.file_names[file_id], "a")
        if self.keep_open:
            self._handles[file_id] = handle
            self._handles_pid = os.getpid()
        return handle

    def _release(self, file_id: int, handle: h5py.File) -> None:
        if not self.keep_open:
            handle.close()

    def _check_appendable(self, file_id: int) -> None:
        """Refuse an existing file an appending writer has not used yet if it cannot take the data (read-only)."""
        path = self.file_names[file_id]
        if file_id in self._created or not (self.append and os.path.exists(path)):
            return
        with h5py.File(path, "r") as h5file:
            found = file_format_version(h5file)
            if found != self.format_version:
                raise LayoutMismatchError(
                    f"cannot append to {path}: it is a format_version={found} file, "
                    f"this writer writes format_version={self.format_version}"
                )
            layout = self.layout(h5file)
            if "events" not in h5file:
                raise LayoutMismatchError(f"cannot append to {path}: it has no 'events' dataset")
            problems = layout.differences(self.specs)
        if problems:
            raise LayoutMismatchError(f"cannot append to {path}: " + "; ".join(problems))

    def _ensure_file(self, file_id: int) -> None:
        """Create the file (or check it, when appending) the first time it is used."""
        if file_id in self._created:
            return
        path = self.file_names[file_id]
        if self.append and os.path.exists(path):
            self._check_appendable(file_id)
            handle = self._open(file_id)
            handle[INFO].attrs["complete"] = np.bool_(False)
        else:
            directory = os.path.dirname(path)
            if directory:
                os.makedirs(directory, exist_ok=True)
            self._check_handle_pid()
            handle = h5py.File(path, "w")
            self.initialize_datasets(handle)
            if self.keep_open:
                self._handles[file_id] = handle
                self._handles_pid = os.getpid()
            else:
                handle.close()
                handle = None
        if handle is not None:
            self._release(file_id, handle)
        self._created.add(file_id)

    def __call__(self, data: dict[str, Any], cfg: dict | None = None) -> None:
        """Write one batch.

        Parameters
        ----------
        data : dict
            Products of the batch: ``index`` (one value per entry, or a scalar
            for a single entry) and every stored key, each a list with one item
            per entry (or a scalar shared by the batch).
        cfg : dict, optional
            Configuration stored as YAML in ``info.cfg`` when the file is created.

        Raises
        ------
        ProductError
            When a product cannot be written (raised before anything is written).
        """
        if not self.ready:
            self.create(data, cfg, append=self.append)
        n_entries = self._count(data)
        batch, n_entries = self._batch(self._with_dummies(self.with_source_provenance(data), n_entries))
        self._check_keys(batch)
        self._check_entry_counts(batch, n_entries)
        targets = self._targets(batch, n_entries)
        prepared = []
        for file_id, rows in targets:
            try:
                payloads = {
                    key: prepare(self.specs[key], _take(batch[key], rows), len(rows), self.lite) for key in self.keys
                }
            except ProductError as err:
                if err.entry is None or len(targets) == 1:
                    raise
                # name the entry of the whole batch, not of this file's share of it
                raise ProductError(err.key, err.problem, int(rows[err.entry]), err.field) from None
            prepared.append((file_id, payloads, len(rows)))
        for file_id, _payloads, _count in prepared:
            if file_id in self._finalized:
                raise FileStateError(f"{self.file_names[file_id]} was finalized; it cannot take more entries")
        for file_id, _payloads, _count in prepared:
            self._check_appendable(file_id)  # every target file, before any is touched
        for file_id, _payloads, _count in prepared:
            self._ensure_file(file_id)
        for file_id, payloads, count in prepared:
            handle = self._open(file_id)
            try:
                self.layout(handle).append(payloads, count)
                self._count_for_flush(file_id, count, handle)
            finally:
                self._release(file_id, handle)
        if self.split:
            self._finalize_split_predecessors(np.array([file_id for file_id, _ in targets]))

    def _count_for_flush(self, file_id: int, count: int, handle: h5py.File) -> None:
        """Flush a file once ``flush_frequency`` entries were appended to it since its last flush (as SPINE)."""
        if not self.flush_frequency:
            return
        pending = self._since_flush.get(file_id, 0) + count
        if pending >= self.flush_frequency:
            handle.flush()
            pending = 0
        self._since_flush[file_id] = pending

    def _check_keys(self, batch: dict[str, Any]) -> None:
        missing = [key for key in self.keys if key not in batch]
        if missing:
            raise ProductError(missing[0], f"is stored in the file but missing from this batch (missing: {missing})")
        if self.input_keys is None:
            ignored = set(self.skip_keys)
            extra = sorted(set(batch) - set(self.keys) - ignored)
            if extra:
                raise ProductError(
                    extra[0], f"was not in the first batch, so the file has no place for it (new keys: {extra})"
                )

    def _check_entry_counts(self, batch: dict[str, Any], n_entries: int) -> None:
        """Refuse per-entry values whose length is not the batch's entry count (before any is split by entry)."""
        for key in self.keys:
            value = batch[key]
            if is_scalar(value):
                continue
            if not hasattr(value, "__len__") or not hasattr(value, "__getitem__"):
                raise ProductError(key, f"expected one value per entry, got {type(value).__name__}")
            if len(value) != n_entries:
                raise ProductError(key, f"has {len(value)} entries, the batch has {n_entries} (see 'index')")

    def _targets(self, batch: dict[str, Any], n_entries: int) -> list[tuple[int, np.ndarray]]:
        """Return ``(file id, entry rows)`` pairs the batch is written to, in file order."""
        rows = np.arange(n_entries)
        if not self.split or len(self.file_names) == 1:
            return [(0, rows)]
        if "file_index" not in batch:
            raise ProductError("file_index", "split=True needs a 'file_index' per entry to choose the output file")
        try:
            file_ids = np.asarray(batch["file_index"], dtype=np.int64).reshape(n_entries)
        except (TypeError, ValueError):
            raise ProductError("file_index", "must hold one integer per entry") from None
        bad = np.flatnonzero((file_ids < 0) | (file_ids >= len(self.file_names)))
        if len(bad):
            raise ProductError(
                "file_index",
                f"value {file_ids[bad[0]]} has no output file (there are {len(self.file_names)})",
                int(bad[0]),
            )
        return [(int(file_id), rows[file_ids == file_id]) for file_id in np.unique(file_ids)]

    def _finalize_split_predecessors(self, current_file_ids: np.ndarray) -> None:
        """Finalize files whose id is below every id of the current batch, while ids only grow (as SPINE).

        Once a batch goes back to a lower file id than one already written,
        the input is not ordered by file and files are finalized only by
        :meth:`finalize`.
        """
        lowest, highest = int(current_file_ids.min()), int(current_file_ids.max())
        if self._max_file_id is not None and lowest < self._max_file_id:
            self._split_sequential = False
        if self._split_sequential:
            for file_id in sorted(self._created - self._finalized):
                if file_id < lowest:
                    self._finalize_file(file_id)
        self._max_file_id = highest if self._max_file_id is None else max(self._max_file_id, highest)

    def _finalize_file(self, file_id: int) -> None:
        handle = self._open(file_id)
        handle[INFO].attrs["complete"] = np.bool_(True)
        handle.flush()
        self._release(file_id, handle)
        self._finalized.add(file_id)

    def flush(self) -> None:
        """Flush every open file to disk."""
        self._check_handle_pid()
        for handle in self._handles.values():
            if handle.id.valid:
                handle.flush()
        self._since_flush = {}

    def finalize(self) -> None:
        """Mark every written file complete (``info.complete = True``) and close it."""
        for file_id in sorted(self._created - self._finalized):
            self._finalize_file(file_id)
        self.close()

    def close(self) -> None:
        """Close open files without marking them complete.

        In a process other than the one that opened them (a forked child),
        the handles are only dropped: closing them would flush this process's
        copy of the file state into a file the parent still writes.
        """
        if self._handles_pid is None or self._handles_pid == os.getpid():
            for handle in self._handles.values():
                if handle.id.valid:
                    handle.close()
        self._handles = {}
        self._handles_pid = None

    def __enter__(self) -> HDF5Writer:
        return self

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> bool:
        if exc_type is None:
            self.finalize()
        else:
            self.close()
        return False

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    # -- SPINE's per-entry API -------------------------------------------------------------------

    def append_entry(self, out_file: h5py.File, data: dict[str, Any], batch_id: int) -> None:
        """Append entry ``batch_id`` of a batch to an open file (one entry, all keys)."""
        entry = {key: _take(value, np.array([batch_id])) for key, value in data.items() if key in self.keys}
        payloads = {key: prepare(self.specs[key], entry[key], 1, self.lite) for key in self.keys}
        self.layout(out_file).append(payloads, 1)

    def append_key(self, out_file: h5py.File, event: np.ndarray, data: dict[str, Any], key: str, batch_id: int) -> None:
        """Store product ``key`` of entry ``batch_id`` and set its reference in the ``event`` row."""
        _require_v1(out_file)
        value = _take(data[key], np.array([batch_id]))
        payload = prepare(self.specs[key], value, 1, self.lite)
        event[key] = V1Layout(out_file).append_product(payload)[0]

    @staticmethod
    def store(out_file: h5py.File, event: np.ndarray, key: str, array: Any) -> None:
        """Append one entry's array or scalar to ``key`` and reference it from ``event``."""
        _store_one(out_file, event, key, array)

    @staticmethod
    def store_flat(out_file: h5py.File, event: np.ndarray, key: str, array_list: list[np.ndarray]) -> None:
        """Append one entry's list of same-width arrays to group ``key``."""
        _store_one(out_file, event, key, array_list)

    @staticmethod
    def store_jagged(out_file: h5py.File, event: np.ndarray, key: str, array_list: list[np.ndarray]) -> None:
        """Append one entry's list of arrays of different widths to group ``key``."""
        _store_one(out_file, event, key, array_list)

    @staticmethod
    def store_objects(
        out_file: h5py.File, event: np.ndarray, key: str, array: Any, obj_dtype: Any = None, lite: bool = False
    ) -> None:
        """Append one entry's object(s) to ``key``; dtype and lite come from the file (arguments ignored)."""
        _store_one(out_file, event, key, array)


def _spec_of_format(key: str, fmt: HDF5Writer.DataFormat) -> ProductSpec:
    """Return the product spec a :class:`HDF5Writer.DataFormat` describes."""
    widths = tuple(fmt.width) if isinstance(fmt.width, (list, tuple)) else (int(fmt.width),)
    return ProductSpec(key, Kind(fmt.kind), np.dtype(fmt.dtype), fmt.class_name, widths)


def _take(value: Any, rows: np.ndarray) -> Any:
    """Return the items of a per-entry value at ``rows`` (a global scalar is kept)."""
    if is_scalar(value):
        return value
    return [value[int(row)] for row in rows]


def _require_v1(out_file: h5py.File) -> None:
    """Refuse SPINE's per-key V1 API (region references in an ``events`` row) on a file of another layout."""
    version = file_format_version(out_file)
    if version != 1:
        raise LayoutMismatchError(
            f"{out_file.filename} is a format_version={version} file: the per-key store/append_key API "
            "writes V1 region references; write whole batches (writer(data)) instead"
        )


def _store_one(out_file: h5py.File, event: np.ndarray, key: str, value: Any) -> None:
    _require_v1(out_file)
    layout = V1Layout(out_file)
    spec = layout.stored_spec(key)
    # Lite or not is what the file stores, whatever the caller says.
    lite = spec.class_name is not None and len(spec.dtype.names) != len(REGISTRY[spec.class_name].DTYPE.names)
    # SPINE's convention: store/store_objects take the rows to append, so append_key wraps a
    # one-row product (a scalar, or one object) in a one-element array: append all its rows.
    if spec.kind in (Kind.SCALAR, Kind.GLOBAL_SCALAR) and not is_scalar(value):
        spec = attrs.evolve(spec, kind=Kind.ARRAY, widths=(0,))
        value = np.asarray(value)
    elif spec.kind is Kind.OBJECT and isinstance(value, (list, tuple, np.ndarray)):
        spec = attrs.evolve(spec, kind=Kind.OBJECTS)
        value = list(value)
    payload: Payload = prepare(spec, [value], 1, lite)
    event[key] = layout.append_product(payload)[0]
