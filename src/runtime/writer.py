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

from .. import __version__
from ..generated import REGISTRY, SCHEMA_VERSION
from .errors import FileStateError, LayoutMismatchError, ProductError
from .layout_v1 import INFO, V1Layout
from .layouts import file_format_version, layout_class
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
        ``{key: class name, generated class or dtype}`` for list products whose
        entries may all be empty in the first batch (spineh5 extension).
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
            Columns of 2-D arrays; one per list position for jagged lists.
        merge : bool
            True for lists of arrays stored as a group (flat or jagged).
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
        self._handles_pid = os.getpid()
        self._calls = 0

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
        """Return the output file names (see :func:`spineh5.runtime.naming.get_file_names`)."""
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
    ) -> tuple[dict[str, HDF5Writer.DataFormat], list[tuple[str, Any]]]:
        """Return the storage of each key and the ``events`` dtype fields."""
        formats = {key: self.get_data_type(data, key) for key in sorted(keys)}
        return formats, [(key, h5py.regionref_dtype) for key in sorted(keys)]

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
        try:
            return decide(key, data[key], self._hint(key), self.lite)
        except UnknownProductError as err:
            raise ProductError(key, str(err)) from None

    @staticmethod
    def _format(spec: ProductSpec) -> HDF5Writer.DataFormat:
        merge = spec.kind in (Kind.FLAT, Kind.JAGGED)
        width: int | list[int] = list(spec.widths) if spec.kind is Kind.JAGGED else spec.widths[0]
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
                spec = self.specs[key]
                width = spec.widths[0] if spec.kind in (Kind.ARRAY, Kind.FLAT) else 0
                opts["chunks"] = (rows, width) if width else (rows,)
            options[key] = opts
        return options

    def _check_handle_pid(self) -> None:
        """Forget handles inherited through ``fork``: a child process reopens its own."""
        if os.getpid() != self._handles_pid:
            self._handles = {}
            self._handles_pid = os.getpid()

    def _open(self, file_id: int) -> h5py.File:
        self._check_handle_pid()
        handle = self._handles.get(file_id)
        if handle is not None and handle.id.valid:
            return handle
        handle = h5py.File(self.file_names[file_id], "a")
        if self.keep_open:
            self._handles[file_id] = handle
        return handle

    def _release(self, file_id: int, handle: h5py.File) -> None:
        if not self.keep_open:
            handle.close()

    def _ensure_file(self, file_id: int) -> None:
        """Create the file (or check it, when appending) the first time it is used."""
        if file_id in self._created:
            return
        path = self.file_names[file_id]
        if self.append and os.path.exists(path):
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
            handle = self._open(file_id)
            handle[INFO].attrs["complete"] = np.bool_(False)
        else:
            directory = os.path.dirname(path)
            if directory:
                os.makedirs(directory, exist_ok=True)
            handle = h5py.File(path, "w")
            self.layout(handle).create(self.specs, self._info(), self._dataset_options())
            if self.keep_open:
                self._handles[file_id] = handle
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
        targets = self._targets(batch, n_entries)
        prepared = []
        for file_id, rows in targets:
            payloads = {
                key: prepare(self.specs[key], _take(batch[key], rows), len(rows), self.lite) for key in self.keys
            }
            prepared.append((file_id, payloads, len(rows)))
        for file_id, _payloads, _count in prepared:
            if file_id in self._finalized:
                raise FileStateError(f"{self.file_names[file_id]} was finalized; it cannot take more entries")
        for file_id, payloads, count in prepared:
            self._ensure_file(file_id)
            handle = self._open(file_id)
            try:
                self.layout(handle).append(payloads, count)
            finally:
                self._release(file_id, handle)
        if self.split:
            self._finalize_split_predecessors(np.array([file_id for file_id, _ in targets]))
        self._calls += 1
        if self.flush_frequency and self._calls % self.flush_frequency == 0:
            self.flush()

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

    def _targets(self, batch: dict[str, Any], n_entries: int) -> list[tuple[int, np.ndarray]]:
        """Return ``(file id, entry rows)`` pairs the batch is written to, in file order."""
        rows = np.arange(n_entries)
        if not self.split:
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
        """Finalize files whose id is below every id of the current batch."""
        lowest = int(current_file_ids.min())
        for file_id in sorted(self._created - self._finalized):
            if file_id < lowest:
                self._finalize_file(file_id)

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

    def finalize(self) -> None:
        """Mark every written file complete (``info.complete = True``) and close it."""
        for file_id in sorted(self._created - self._finalized):
            self._finalize_file(file_id)
        self.close()

    def close(self) -> None:
        """Close open files without marking them complete."""
        self._check_handle_pid()
        for handle in self._handles.values():
            if handle.id.valid:
                handle.close()
        self._handles = {}

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
        V1Layout(out_file).append(payloads, 1)

    def append_key(self, out_file: h5py.File, event: np.ndarray, data: dict[str, Any], key: str, batch_id: int) -> None:
        """Store product ``key`` of entry ``batch_id`` and set its reference in the ``event`` row."""
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
        """Append one entry's object(s) to ``key``; the dtype comes from the file, ``obj_dtype`` is ignored."""
        _store_one(out_file, event, key, array, lite)


def _take(value: Any, rows: np.ndarray) -> Any:
    """Return the items of a per-entry value at ``rows`` (a global scalar is kept)."""
    if is_scalar(value):
        return value
    return [value[int(row)] for row in rows]


def _store_one(out_file: h5py.File, event: np.ndarray, key: str, value: Any, lite: bool | None = None) -> None:
    layout = V1Layout(out_file)
    spec = layout.stored_spec(key)
    if lite is None:
        lite = False
    if spec.class_name is not None:
        lite = len(spec.dtype.names) != len(REGISTRY[spec.class_name].DTYPE.names)
    payload: Payload = prepare(spec, [value], 1, lite)
    event[key] = layout.append_product(payload)[0]
