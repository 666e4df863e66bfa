"""``HDF5Reader``: read SPINE output files (written by spineh5 or by SPINE) back into generated types.

The reader front handles what does not depend on the on-disk layout: the
list of files read as one sequence of entries, the entry selection, lazily
opened file handles, the ``info`` group, object rebuilding, the
run/subrun/event lookup and the bulk :meth:`HDF5Reader.table` path. Each file
is decoded by the read layout :func:`spineh5.layouts.read_layout` chooses from
``info.attrs['format_version']`` (:data:`spineh5.layouts.REGISTRY`); a later
layout plugs in there without touching this module.

Differences from SPINE's reader, on purpose:

* derived columns stay on the objects (SPINE drops and recomputes them);
* columns unknown to the schema are left out with one warning (SPINE's
  default is to fail), and stay readable through :meth:`HDF5Reader.raw`,
  :meth:`HDF5Reader.table` and ``build_classes=False``;
* a missing ``info`` group or ``cfg``/``version`` attribute is tolerated
  (``cfg``/``version`` are then None);
* an explicit list of files keeps its order (globs are expanded in natural
  order: ``f_2`` before ``f_10``); SPINE sorts every path.

As in SPINE, ``file_index`` and ``file_entry_index`` start as the runtime
location of the entry and are overwritten by stored products of those names
(SPINE writes them when its writer stores every key); :meth:`HDF5Reader.location`
always gives the runtime location. ``index`` is the position of the entry in
this reader.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .decode import ObjectDecoder, ObjectRows
from .errors import IncompleteFileError, SpineFileError, UnknownColumnsWarning
from .format.common import COMPLETE, SCHEMA_VERSION, cfg_history, layout_from_info
from .h5_errors import translated
from .input_files import FileHandles, parse_cfg, resolve_production, select_entries
from .layouts import ReadLayout
from .layouts.base import RUN_DTYPE
from .parallel.manifest import check_consistent
from .products import ProductSpec
from .reader_tables import RowTables
from .reader_views import AnalysisViews
from .run_lookup import RunLookup

__all__ = [
    "HDF5Reader",
    "IncompleteFileError",
    "ReadLayout",
    "SpineFileError",
    "UnknownColumnsWarning",
]


class HDF5Reader(RowTables, AnalysisViews):
    """Read one or more SPINE HDF5 files as one sequence of entries.

    Parameters
    ----------
    file_keys : str, path or list
        A file, a glob pattern, a production manifest (``production.json``, its
        shards in order), a folder (its manifest, else its ``*.h5`` files), or
        a list of them. Files named by a glob, a manifest or a folder form a
        production: their products and schema versions must agree.
    keys : list of str, optional
        Products to read (default: every product of each file).
    entry_list : list of int, optional
        Global entries to expose, in this order (exclusive with ``n_entry``/``n_skip``).
    n_entry : int, optional
        Number of entries to expose.
    n_skip : int, optional
        Number of leading entries to skip.
    ignore_incomplete : bool, default False
        Read files whose ``info.complete`` is False (their writer did not finish).
    build_classes : bool or "collection", default True
        Rebuild objects as generated classes (else plain dicts of every stored column). With
        ``"collection"``, an entry of a list-of-objects product is one generated collection
        (``RecoParticleCollection``: a numpy column per field, values and offsets per
        variable-length field, objects by index); one-object products stay objects.
    skip_unknown_attrs : bool, default True
        Leave out (with one warning) stored columns the schema does not know,
        instead of refusing them.
    create_run_map : bool, default False
        Build the (run, subrun, event) map at once rather than at the first :meth:`find`.
    run_info_key : str, default 'run_info'
        Product holding the run, subrun and event numbers.
    max_open_files : int, default 64
        Files kept open at once (least recently used ones are closed).

    Attributes
    ----------
    file_paths : list of str
        The files, in reading order.
    file_offsets : numpy.ndarray
        Global entry of the first entry of each file (with the total at the end).
    num_entries : int
        Entries of all files, before selection.
    entry_index : numpy.ndarray
        Global entry of each position of this reader.
    info : dict or None
        ``info`` attributes of the first file, read on first use.
    cfg : Any
        Parsed ``info.cfg`` of the first file (None when absent or unreadable), parsed on first use.
    cfg_history : list of dict
        The writing sessions of the first file, oldest first: ``first_entry``
        (its first entry), ``time`` (UTC, ISO 8601; None for the session that
        created the file), ``writer`` and ``cfg`` (parsed). An append whose
        configuration differed from the file's latest adds a session.
    version : str or None
        SPINE version that wrote the first file (``spine_version`` or ``version``), read on first use.
    writer : str or None
        ``info.writer`` of the first file (spineh5 files), read on first use.
    format_version : int
        Layout version of the first file.

    Raises
    ------
    SpineFileError
        When a file is not readable SPINE output (not HDF5, truncated, no
        ``events``, unsupported layout) or (:class:`IncompleteFileError`) is
        marked incomplete.
    spineh5.parallel.ProductionError
        When a manifest lists incomplete shards, or the shards of a production
        (glob, manifest, folder) differ in products or schema versions.
    """

    name = "hdf5"

    def __init__(
        self,
        file_keys: str | os.PathLike | Sequence[str | os.PathLike],
        keys: Sequence[str] | None = None,
        entry_list: Sequence[int] | None = None,
        n_entry: int | None = None,
        n_skip: int | None = None,
        ignore_incomplete: bool = False,
        build_classes: bool | str = True,
        skip_unknown_attrs: bool = True,
        create_run_map: bool = False,
        run_info_key: str = "run_info",
        max_open_files: int = 64,
    ) -> None:
        if max_open_files < 1:
            raise ValueError("max_open_files must be at least 1")
        self.file_paths, production = resolve_production(file_keys)
        self._open = FileHandles(self.file_paths, max_open_files)
        self.requested_keys = None if keys is None else tuple(keys)
        self.ignore_incomplete = ignore_incomplete
        self.build_classes = build_classes
        self.skip_unknown_attrs = skip_unknown_attrs
        self.run_info_key = run_info_key
        self.max_open_files = max_open_files
        self._decoder = ObjectDecoder(build_classes, skip_unknown_attrs)
        self._file_keys: list[tuple[str, ...]] = []
        self._run_lookup: RunLookup | None = None
        #: The :data:`~spineh5.input_files.OPEN_INFO` attributes of the first file (the rest is read on first use).
        self._first_info: dict[str, Any] | None = None
        self._schema_versions: list[Any] = []

        counts = []
        try:
            for file_id, path in enumerate(self.file_paths):
                layout = self._open_file(file_id, check=True)
                counts.append(layout.entry_count())
                missing: list[str] = []
                with translated(path):  # listing a damaged file's products (their kinds are read now)
                    if self.requested_keys is None:
                        self._file_keys.append(layout.keys())
                    else:  # only the requested products are looked at (V2 reads no other product's kind)
                        missing = [key for key in self.requested_keys if not layout.has_product(key)]
                        stored = ", ".join(layout.keys()) if missing else ""
                if missing:
                    raise KeyError(f"{path}: products {missing} are not stored (stored: {stored})")
                if self.requested_keys is not None:
                    self._file_keys.append(self.requested_keys)
            if production:
                check_consistent(self.file_paths, self._file_keys, self._schema_versions)
        except BaseException:
            self.close()
            raise
        self.file_offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=self.file_offsets[1:])
        self.num_entries = int(self.file_offsets[-1])
        self.entry_index = select_entries(self.num_entries, entry_list, n_entry, n_skip)
        self.format_version = layout_from_info(self._first_info).version
        if create_run_map:
            self._build_run_map()

    @functools.cached_property
    def info(self) -> dict[str, Any] | None:
        """The ``info`` attributes of the first file (None without ``info``), read on first use.

        Opening reads only the attributes it needs (:data:`~spineh5.input_files.OPEN_INFO`).
        """
        return self._open.info(0)

    @functools.cached_property
    def version(self) -> str | None:
        """SPINE version that wrote the first file (``info.spine_version`` or ``info.version``), read on first use."""
        info = self.info or {}
        version = info.get("spine_version", info.get("version"))
        return version if isinstance(version, str) else None

    @functools.cached_property
    def writer(self) -> str | None:
        """``info.writer`` of the first file (spineh5 files), read on first use."""
        writer = (self.info or {}).get("writer")
        return writer if isinstance(writer, str) else None

    @functools.cached_property
    def cfg(self) -> Any:
        """The parsed ``info.cfg`` of the first file, parsed on first use (YAML parsing dominated opening)."""
        return parse_cfg((self.info or {}).get("cfg"), self.file_paths[0])

    @functools.cached_property
    def cfg_history(self) -> list[dict[str, Any]]:
        """The configuration sessions of the first file, parsed on first use."""
        return [{**session, "cfg": parse_cfg(session["cfg"], self.file_paths[0])} for session in cfg_history(self.info)]

    # -- files ----------------------------------------------------------------------------------------

    def _open_file(self, file_id: int, check: bool = False) -> ReadLayout:
        """Return the read layout of a file, opened lazily (see :class:`~spineh5.input_files.FileHandles`)."""
        return self._open.layout(file_id, self._check_info if check else None)

    def _check_info(self, info: dict[str, Any] | None, path: str, file_id: int) -> None:
        if file_id == 0:
            self._first_info = info
        self._schema_versions.append(None if info is None else info.get(SCHEMA_VERSION))
        if info is not None and COMPLETE in info and not info[COMPLETE] and not self.ignore_incomplete:
            raise IncompleteFileError(
                "marked incomplete (info.complete is False): its writer did not finish it, or is still "
                "writing. Pass ignore_incomplete=True to read it anyway.",
                path,
            )

    def close(self) -> None:
        """Close every open file (the reader reopens them when read again)."""
        self._open.close()

    def __enter__(self) -> HDF5Reader:
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def __repr__(self) -> str:
        return f"HDF5Reader({len(self)} entries from {len(self.file_paths)} file(s))"

    # -- positions ------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.entry_index)

    def _position(self, idx: int) -> int:
        if not isinstance(idx, (int, np.integer)) or isinstance(idx, (bool, np.bool_)):
            raise TypeError(f"entries are indexed by integers, got {type(idx).__name__}")
        count = len(self.entry_index)
        position = int(idx) + count if idx < 0 else int(idx)
        if not 0 <= position < count:
            raise IndexError(f"entry {idx} is out of range for a reader of {count} entries")
        return position

    def location(self, idx: int) -> tuple[int, int]:
        """Return ``(file index, entry in that file)`` of position ``idx``."""
        entry = int(self.entry_index[self._position(idx)])
        file_id = int(np.searchsorted(self.file_offsets, entry, side="right")) - 1
        return file_id, entry - int(self.file_offsets[file_id])

    def _locations(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        entries = self.entry_index[positions]
        file_ids = np.searchsorted(self.file_offsets, entries, side="right") - 1
        return file_ids, entries - self.file_offsets[file_ids]

    # -- entries --------------------------------------------------------------------------------------

    @property
    def keys(self) -> tuple[str, ...]:
        """Return the products read: the requested keys, or those of the first file."""
        if self.requested_keys is not None:
            return self.requested_keys
        return self._file_keys[0] if self._file_keys else ()

    def file_schema(self, class_name: str | None = None, file_id: int = 0) -> dict[str, Any]:
        """Return the schema one file records for its object classes (:mod:`spineh5.format.schema`).

        Parameters
        ----------
        class_name : str, optional
            One class: its record (``class_name``, ``schema_version``, ``module``,
            ``columns``, ``yaml``). Default: ``{class name: record}`` of every class
            (empty for files written before spineh5 stored schemas, or by SPINE).
        file_id : int, default 0
            Which file of the reader.

        Raises
        ------
        KeyError
            When the file records no schema for ``class_name``.
        """
        from .format.schema import read_class_schemas

        records = read_class_schemas(self._open_file(file_id).file)
        if class_name is None:
            return records
        if class_name not in records:
            known = ", ".join(records) or "none"
            raise KeyError(f"{self.file_paths[file_id]} records no schema for class {class_name!r} (recorded: {known})")
        return records[class_name]

    def spec(self, key: str, file_id: int = 0) -> ProductSpec:
        """Return how a product is stored in one file (kind, dtype, class name, widths)."""
        return self._open_file(file_id).spec(key)

    def get(self, idx: int) -> dict[str, Any]:
        """Return the products of one entry.

        Objects come back as generated classes (a list per entry, or one
        object for single-object products), arrays as numpy arrays, scalars as
        numpy scalars or ``str``, lists of arrays as lists of numpy arrays.
        """
        position = self._position(idx)
        file_id, entry = self.location(position)
        data: dict[str, Any] = {"file_index": file_id, "file_entry_index": entry}
        path = self.file_paths[file_id]
        values = self._open_file(file_id).read_entry(entry, self._file_keys[file_id])
        for key, value in values.items():
            data[key] = self._decoder.decode(value, key, path) if isinstance(value, ObjectRows) else value
        data["index"] = position
        return data

    def __getitem__(self, idx: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        """Return one entry (:meth:`get`), or a list of entries for a slice (steps and negative bounds as lists)."""
        if isinstance(idx, slice):
            return [self.get(position) for position in range(*idx.indices(len(self)))]
        return self.get(idx)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for position in range(len(self)):
            yield self.get(position)

    def raw(self, idx: int, key: str) -> Any:
        """Return one product of one entry as stored.

        Object products come back as their compound rows with every stored
        column (columns unknown to the schema included, strings as bytes);
        other products as :meth:`get` returns them.
        """
        file_id, entry = self.location(idx)
        layout = self._open_file(file_id)
        if not layout.has_product(key):
            raise KeyError(f"{self.file_paths[file_id]}: no product {key!r}")
        return layout.read_raw(entry, key)

    # -- bulk columns ---------------------------------------------------------------------------------

    def _positions(self, entries: Sequence[int] | np.ndarray | None) -> np.ndarray:
        """Return reader positions as int64 (all by default; negative ones counted from the end)."""
        if entries is None:
            return np.arange(len(self), dtype=np.int64)
        positions = np.asarray(entries)
        if positions.size and positions.dtype.kind not in "iu":
            raise TypeError(f"entries must be integers, got {positions.dtype}")
        positions = positions.astype(np.int64).reshape(-1)
        positions = np.where(positions < 0, positions + len(self), positions)
        bad = positions[(positions < 0) | (positions >= len(self))]
        if len(bad):
            raise IndexError(f"entry {int(bad[0])} is out of range for a reader of {len(self)} entries")
        return positions

    def _first_file_with(self, key: str) -> int:
        for file_id, keys in enumerate(self._file_keys):
            if key in keys:
                return file_id
        raise KeyError(f"no file holds product {key!r}")

    # -- run / subrun / event -------------------------------------------------------------------------

    def _build_run_map(self) -> None:
        triplets = np.empty(self.num_entries, dtype=RUN_DTYPE)
        for file_id in range(len(self.file_paths)):
            low, high = int(self.file_offsets[file_id]), int(self.file_offsets[file_id + 1])
            triplets[low:high] = self._open_file(file_id).run_triplets(self.run_info_key)
        self._run_lookup = RunLookup(triplets[self.entry_index])

    def find(self, run: int, subrun: int, event: int) -> int:
        """Return the position of the entry with these run, subrun and event numbers.

        The map is built at the first call, with one read of the run info
        columns per file.

        Raises
        ------
        KeyError
            When no selected entry has these numbers.
        ValueError
            When several selected entries share the same numbers.
        SpineFileError
            When a file has no usable run info product.
        """
        if self._run_lookup is None:
            self._build_run_map()
        assert self._run_lookup is not None
        position = self._run_lookup.find(run, subrun, event)
        if position is not None:
            return position
        raise KeyError(f"no entry with run={run}, subrun={subrun}, event={event} among the {len(self)} entries")
