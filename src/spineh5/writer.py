"""``HDF5Writer``: SPINE's writer API on schema-generated types, writing SPINE V1 or V2 files.

The write path of one call (``writer(data, cfg)``):

1. source provenance and ``dummy_ds`` products are added to the batch;
2. the first call decides every product's storage (:mod:`.products`, or the
   specs given to :meth:`HDF5Writer.from_specs`) and creates or opens the
   output file(s);
3. every product of the whole batch is validated and converted into typed
   arrays (:mod:`.payload`), and its ``run_info`` triplets are checked against
   each other and the target file's (:mod:`.triplet_guard`): any error names
   the key, the entry and the field and is raised before a byte is written;
4. each target file's layout appends the batch: one resize and one write per
   dataset, region references in bulk, ``events`` rows last.

This module orchestrates batches (options, first-batch decisions, target
files, split routing, flush counting). The files themselves (creation,
appendability, handles, ``info.complete``) are :mod:`.output_files`'s job,
and SPINE's per-entry API (``DataFormat``, ``get_data_type(s)``,
``store*``, ``append_key``, ``initialize_datasets``, ``get_file_names`` and
the handle attributes) is :mod:`.spine_compat`'s.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import signal_guard
from .batch_input import BatchInput, dummy_instance, take_entries
from .compression import dataset_options as compression_options
from .errors import MissingProductError, ProductError, UnsupportedProductError
from .layouts import layout_class
from .output_files import SPINE_VERSION, WRITER, OutputFiles
from .payload import Payload, prepare
from .products import ProductSpec, UnknownProductError, decide
from .spine_compat import SpineWriterAPI
from .triplet_guard import TripletGuard
from .types.registry import REGISTRY

__all__ = ["DEFAULT_FLUSH_INTERVAL", "SPINE_VERSION", "WRITER", "HDF5Writer"]

#: Seconds between two flushes of a file by default (``flush_interval``), chosen from its measured cost
#: (``docs/crash-safety.md``): a killed job loses at most the batches of the last this many seconds.
DEFAULT_FLUSH_INTERVAL = 0.0  # every batch: a few percent (V1), the batch in flight at risk


class HDF5Writer(BatchInput, SpineWriterAPI):
    """Write batches of SPINE reconstruction output to SPINE V1 (or V2) HDF5 files.

    A drop-in for SPINE's ``spine.io.write.HDF5Writer``: same constructor,
    methods and files, with object dtypes taken from the schema instead of
    guessed from values. :meth:`from_specs` builds a writer whose products
    are known beforehand instead of decided from the first batch.

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
        ``{key: class}`` of empty object products written in every entry: a class name (as in SPINE's
        configuration), a class or an object. Kept as ``{key: default instance}``, as SPINE keeps them.
    overwrite : bool, default False
        Replace existing output files: an existing file is replaced when the
        new one is published (deleted at once with ``publish='in_place'``),
        and a partial left by a killed writer is discarded (without
        ``overwrite`` it is refused, naming ``spineh5 recover``).
    append : bool, default False
        Append to existing output files (their products must match).
    split : bool, default False
        One output file per input prefix, chosen per entry by ``file_index``.
    lite : bool, default False
        Leave out the columns the schema marks as not lite (voxel index arrays).
    keep_open : bool, default True
        Keep files open between calls (else open and close at every call).
    flush_frequency : int, optional
        Flush a file every time this many entries were appended to it.
    flush_interval : float, None or 'auto', default 'auto'
        Flush a file after a batch when this many seconds passed since its
        last flush (spineh5 extension; ``0`` flushes after every batch, None
        only as ``flush_frequency`` says). ``'auto'`` is
        :data:`DEFAULT_FLUSH_INTERVAL` (every batch), or None when
        ``flush_frequency`` is given (the caller chose a policy). A flush writes a batch's product
        rows, flushes, then writes its ``events`` rows and flushes again, so
        the file on disk holds whole events after each flush, even when the
        process is killed inside it (``docs/crash-safety.md``).
    publish : {'atomic', 'in_place'}, default 'atomic'
        Where a new file is written (spineh5 extension): under its hidden
        partial name ``.<name>.partial``, renamed to its final name when it is
        finalized, so a file under a final name is always a whole one; or
        ``'in_place'``, under its final name from the start, for users who
        watch a file grow. Appends to an existing file always write in place.
    types : dict, optional
        ``{key: class name, generated class, dtype or example array}`` for list
        products whose entries may all be empty in the first batch (spineh5
        extension); an example array such as ``np.empty((0, 2), np.int32)``
        gives the dtype and width of a flat list of 2-D arrays.
    compression : str or dict, optional
        ``'gzip'``/``'lzf'``, or with ``hdf5plugin`` (``spineh5[compression]``)
        ``'blosc2-lz4'``, ``'blosc2-zstd'``, ``'bitshuffle-lz4'``,
        ``'bitshuffle-zstd'`` (:mod:`spineh5.compression`), for every product
        array, or ``{key: filter}`` (spineh5 extension; SPINE reads gzip/lzf
        files unchanged, plugin filters once ``hdf5plugin`` is imported).
    compression_opts : int, optional
        Level of the ``gzip``, Blosc2 or Zstd filter.
    chunk_rows : int or dict, optional
        Rows per chunk of product datasets, for all or ``{key: rows}``.
    format_version : int, default 1
        On-disk layout: 1 (region references, SPINE 0.14) or 2 (SPINE's later
        offset-based product groups).
    allow_duplicates : bool, default False
        Write entries whose ``run_info`` (run, subrun, event) triplet repeats
        one of the batch or of the target file (spineh5 extension). By
        default such a batch is refused, as SPINE's run map (and ``validate``)
        needs unique triplets; an existing file's triplets are read once,
        when the writer first appends to it.
    checksum : bool, default True
        Write every dataset HDF5 allows with its built-in Fletcher-32 filter
        (spineh5 extension; any HDF5 reader, SPINE's included, verifies it):
        a corrupted data chunk then fails to read instead of returning other
        numbers. Datasets of region references (V1 ``index``) and top-level
        variable-length strings cannot take it, and the heap holding
        variable-length contents is not covered. On by default: it costs
        under 10% of the write rate (``python -m benchmarks``, README).
        ``checksum=False`` writes the files of spineh5 before issue 17, byte
        for byte.

    Concurrent writers: a writer takes an advisory lock beside each output
    file (``.<name>.lock``, :mod:`spineh5.file_lock`) when it first writes to
    it, and holds it until the file is finalized or closed; another writer on
    that path (``overwrite=True`` included) is refused, even where HDF5's own
    locking is off.
    """

    name = "hdf5"
    source_index_keys: Mapping[str, str] = {
        "file_index": "source_file_index",
        "file_entry_index": "source_file_entry_index",
    }

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
        allow_duplicates: bool = False,
        checksum: bool = True,
        flush_interval: float | str | None = "auto",
        publish: str = "atomic",
    ) -> None:
        if keys is not None and skip_keys is not None:
            raise ValueError("keys and skip_keys are mutually exclusive: give one of them")
        if flush_frequency is not None and (not isinstance(flush_frequency, int) or flush_frequency < 1):
            raise ValueError(f"flush_frequency must be a positive integer, got {flush_frequency!r}")
        if flush_interval == "auto":
            flush_interval = DEFAULT_FLUSH_INTERVAL if flush_frequency is None else None
        number = isinstance(flush_interval, (int, float)) and not isinstance(flush_interval, bool)
        if flush_interval is not None and not (number and flush_interval >= 0):
            raise ValueError(f"flush_interval must be a number of seconds >= 0 or None, got {flush_interval!r}")
        if overwrite and append:
            raise ValueError("overwrite and append are mutually exclusive")
        self.format_version = format_version
        self.layout = layout_class(format_version)
        self.file_names = self.get_file_names(file_name, prefix, suffix, split, directory)
        self.input_keys = None if keys is None else list(keys)
        self.skip_keys = list(skip_keys or [])
        self.dummy_ds = {key: dummy_instance(key, kind) for key, kind in (dummy_ds or {}).items()}
        self.types = dict(types or {})
        self.overwrite, self.append, self.split, self.lite = overwrite, append, split, lite
        self.keep_open, self.flush_frequency, self.flush_interval = keep_open, flush_frequency, flush_interval
        self.compression, self.compression_opts, self.chunk_rows = compression, compression_opts, chunk_rows
        for name in set(compression.values()) if isinstance(compression, dict) else {compression}:
            if name:
                compression_options(name, compression_opts)  # refuse an unknown or unavailable filter now
        self.allow_duplicates = allow_duplicates
        self.checksum = bool(checksum)

        self.keys: list[str] | None = None
        self.specs: dict[str, ProductSpec] = {}
        self.type_dict: dict[str, SpineWriterAPI.DataFormat] = {}
        self.cfg: dict | None = None
        self.ready = False
        self._known_specs: dict[str, ProductSpec] = {}  # from_specs: storage given, not decided
        self._since_flush: dict[int, int] = {}  # entries written per file since its last flush
        self._last_flush: dict[int, float] = {}  # time.monotonic() of each file's last flush
        self._max_file_id: int | None = None  # split: highest file id written so far
        self._split_sequential = True  # split: file ids never went back so far
        self._files = OutputFiles(
            self.file_names, self.layout, append=append, overwrite=overwrite, keep_open=keep_open, publish=publish
        )
        self._triplets = TripletGuard(self._files)

    @classmethod
    def from_specs(cls, file_name: str | None, specs: Mapping[str, ProductSpec], **options: Any) -> HDF5Writer:
        """Return a writer that stores each key of ``specs`` as its spec says, inferring nothing from data.

        A product whose entries are all empty in the first batch keeps its
        kind, class, dtype and widths. Stored keys without a spec (``index``,
        when not given) are decided from the first batch as usual.

        Parameters
        ----------
        file_name : str or None
            Output file name, as for :class:`HDF5Writer`.
        specs : mapping
            ``{key: ProductSpec}`` (each spec of its own key).
        **options
            The other :class:`HDF5Writer` arguments; ``keys`` defaults to the
            keys of ``specs`` unless ``skip_keys`` is given.

        Raises
        ------
        ValueError
            When a value is not a :class:`~spineh5.products.ProductSpec` of its key.
        """
        known = dict(specs)
        for key, spec in known.items():
            if not isinstance(spec, ProductSpec) or spec.key != key:
                raise ValueError(f"specs[{key!r}] must be a ProductSpec of key {key!r}, got {spec!r}")
        if "skip_keys" not in options:
            options.setdefault("keys", list(known))
        writer = cls(file_name, **options)
        writer._known_specs = known
        return writer

    # -- batch preparation -----------------------------------------------------------------------

    def _hint(self, key: str) -> Any:
        if key in self.dummy_ds:
            return type(self.dummy_ds[key])
        return self.types.get(key)

    def _decide(self, data: dict[str, Any], key: str) -> ProductSpec:
        """Decide the storage of ``key`` from the batch ``data`` (and its ``types`` or ``dummy_ds`` hint)."""
        if key not in data:
            raise MissingProductError(key, "is a stored product but is missing from the data")
        hint = self._hint(key)
        try:
            spec = decide(key, data[key], hint, self.lite)
        except UnknownProductError as err:
            error = UnsupportedProductError if isinstance(err, TypeError) else ProductError
            raise error(key, str(err)) from None
        declared = getattr(hint, "CLASS_NAME", hint)
        if isinstance(declared, str) and declared in REGISTRY and spec.class_name != declared:
            found = f"{spec.class_name} objects" if spec.class_name else f"a {spec.kind.value} product"
            raise ProductError(key, f"types declares {declared} objects, but the data holds {found}")
        return spec

    # -- the first batch -------------------------------------------------------------------------

    def create(self, data: dict[str, Any], cfg: dict | None = None, append: bool = False) -> None:
        """Decide every product's storage from the first batch and prepare the output files."""
        batch, _n_entries = self._normalize(data)
        self._create(batch, cfg, append)

    def _create(self, batch: dict[str, Any], cfg: dict | None, append: bool, open_files: bool = True) -> None:
        """Decide every product's storage from a normalized first batch and prepare the output files.

        ``open_files=False`` (a first ``__call__``) leaves the files untouched until the batch is validated.
        """
        self.keys = sorted(self.get_stored_keys(batch))
        self.cfg = cfg
        self.specs = {key: self._first_spec(batch, key, append) for key in self.keys}
        self.type_dict = {key: self._format(spec) for key, spec in self.specs.items()}
        self.ready = True
        if open_files and not self.split:
            self._files.ensure(0, self.specs, self.initialize_datasets, self.cfg)

    def _first_spec(self, batch: dict[str, Any], key: str, append: bool) -> ProductSpec:
        """Return the spec given for ``key``, or decide it; an appending writer falls back to the file's."""
        known = self._known_specs.get(key)
        if known is not None:
            return known
        try:
            return self._decide(batch, key)
        except ProductError:
            stored = self._files.stored_spec(key) if append else None
            if stored is not None:
                return stored
            raise

    def _dataset_options(self) -> dict[str, dict]:
        """Return the ``compression``/``fletcher32``/``chunks`` options of each product's datasets."""
        options: dict[str, dict] = {}
        for key in self.specs:
            opts: dict[str, Any] = {}
            compression = self.compression.get(key) if isinstance(self.compression, dict) else self.compression
            if compression:
                opts.update(compression_options(compression, self.compression_opts))
            rows = self.chunk_rows.get(key) if isinstance(self.chunk_rows, dict) else self.chunk_rows
            if rows:
                opts["chunks"] = (rows,)  # rows per chunk; the layout gives each dataset its own width
            if self.checksum:
                opts["fletcher32"] = True
            options[key] = opts
        return options

    # -- writing ---------------------------------------------------------------------------------

    def __call__(self, data: dict[str, Any], cfg: dict | None = None) -> None:
        """Write one batch.

        Parameters
        ----------
        data : dict
            Products of the batch: ``index`` (one value per entry, or a scalar
            for a single entry) and every stored key, each a list with one item
            per entry (or a scalar shared by the batch). A list of objects may be
            a generated collection (``RecoParticleCollection``), and a product of
            one object per entry one collection with a row per entry: the bytes
            written are the same.
        cfg : dict, optional
            Configuration stored as YAML in ``info.cfg`` when the file is created.

        Raises
        ------
        ProductError
            When a product cannot be written (raised before anything is written).
        """
        batch, n_entries = self._normalize(data)
        if not self.ready:
            self._create(batch, cfg, self.append, open_files=False)  # files are touched once the batch is sound
        self._check_keys(batch)
        self._check_entry_counts(batch, n_entries)
        targets = self._targets(batch, n_entries)
        prepared = []
        for file_id, rows in targets:
            try:
                payloads = self._payloads(batch, rows)
            except ProductError as err:
                if err.entry is None:
                    raise
                # name the entry of the whole batch (not of this file's share of it) and the file entry it would get
                file_entry = self._files.entry_count(file_id) + err.entry
                raise err.with_file_entry(int(rows[err.entry]), file_entry) from None
            prepared.append((file_id, payloads, len(rows)))
        file_ids = [file_id for file_id, _payloads, _count in prepared]
        self._files.refuse_finalized(file_ids)
        for file_id in file_ids:
            self._files.check_appendable(file_id, self.specs)  # every target file, before any is touched
        triplets = self._check_triplets(targets, prepared)
        with signal_guard.critical():  # SIGTERM/SIGINT wait for the end of the batch
            for file_id in file_ids:
                self._files.ensure(file_id, self.specs, self.initialize_datasets, self.cfg)
                self._last_flush.setdefault(file_id, time.monotonic())  # the structure was flushed
            for file_id, payloads, count in prepared:
                flush = self._flush_due(file_id, count)
                with self._files.opened(file_id) as handle:
                    self.layout(handle).append(payloads, count, flush=flush)
                if file_id in triplets:
                    self._triplets.commit(file_id, triplets[file_id])
            if self.split:
                self._finalize_split_predecessors(np.array([file_id for file_id, _ in targets]))

    def _payload(self, batch: dict[str, Any], key: str, rows: np.ndarray) -> Payload:
        """Return the validated payload of product ``key`` for the entries ``rows`` of the batch."""
        columnar = self.layout.columnar_objects
        return prepare(self.specs[key], take_entries(batch[key], rows), len(rows), self.lite, columnar)

    def _payloads(self, batch: dict[str, Any], rows: np.ndarray) -> dict[str, Payload]:
        """Return the payload of every stored product for the entries ``rows`` of the batch."""
        return {key: self._payload(batch, key, rows) for key in self.keys}

    def _check_triplets(self, targets: list, prepared: list) -> dict[int, list]:
        """Refuse a batch repeating a ``run_info`` triplet of itself or of its file; return each file's triplets."""
        if self.allow_duplicates:
            return {}
        return {
            file_id: self._triplets.check(file_id, payloads, rows)
            for (file_id, rows), (_, payloads, _count) in zip(targets, prepared)
            if self._triplets.applies(payloads)
        }

    def _flush_due(self, file_id: int, count: int) -> bool:
        """Return whether the batch of ``count`` entries to a file is flushed, and count it.

        It is once ``flush_frequency`` entries were appended to the file since
        its last flush (as SPINE), or ``flush_interval`` seconds passed.
        """
        pending = self._since_flush.get(file_id, 0) + count
        now = time.monotonic()
        due = bool(self.flush_frequency) and pending >= self.flush_frequency
        if self.flush_interval is not None and now - self._last_flush.get(file_id, now) >= self.flush_interval:
            due = True
        if due:
            pending = 0
            self._last_flush[file_id] = now
        self._since_flush[file_id] = pending
        return due

    # -- target files ----------------------------------------------------------------------------

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
            for file_id in self._files.unfinished():
                if file_id < lowest:
                    self._files.finalize_file(file_id)
        self._max_file_id = highest if self._max_file_id is None else max(self._max_file_id, highest)

    # -- the end ---------------------------------------------------------------------------------

    def flush(self) -> None:
        """Flush every open file to disk."""
        self._files.flush()
        self._since_flush = {}
        self._last_flush = dict.fromkeys(self._last_flush, time.monotonic())

    def finalize(self) -> None:
        """Mark every written file complete (``info.complete = True``), close it and publish it under its final name."""
        self._files.finalize()

    def close(self) -> None:
        """Close open files without marking them complete; new ones stay partials (see :meth:`.OutputFiles.close`)."""
        self._files.close()

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
        except Exception:  # noqa: BLE001 - interpreter shutdown, or __init__ failed
            pass
