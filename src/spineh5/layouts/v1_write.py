"""SPINE's V1 layout: product datasets, region references and the ``events`` table.

The layout knows how a :class:`~spineh5.products.ProductSpec` maps
to HDF5 objects (spec sections 2.1-2.4) and how a batch of prepared
:class:`~spineh5.payload.Payload` objects is appended:

1. every product dataset is resized once and written once (datasets are
   opened once per open file and reused by later batches);
2. region references for the batch are created in bulk with one reused
   dataspace per dataset;
3. the ``events`` rows are appended last, so an event is visible only once
   every product it points to is on disk.

If anything fails in between, every dataset is shrunk back to its previous
length, so the file keeps exactly its earlier events.
"""

from __future__ import annotations

from collections.abc import Iterable

import h5py
import numpy as np

from .. import h5io
from ..payload import Payload
from ..products import Kind, ProductSpec
from ..types.dtypes import compound_signature, describe_dtype
from .v1_read import EVENTS, V1ReadLayout

INFO = "info"
REGIONREF = h5py.regionref_dtype
#: Target size of one chunk, in bytes, for append-heavy product datasets.
CHUNK_BYTES = 1 << 16


def chunk_rows(row_bytes: int, target: int = CHUNK_BYTES) -> int:
    """Return the rows of one chunk so that a chunk holds about ``target`` bytes."""
    return int(max(16, min(1 << 20, target // max(1, row_bytes))))


def create_rows_dataset(group: h5py.Group, name: str, dtype: np.dtype, width: int, options: dict) -> h5py.Dataset:
    """Create an empty, resizable dataset of rows of ``dtype`` (``width`` columns if 2-D).

    Chunks hold about :data:`CHUNK_BYTES` unless ``options['chunks']`` asks for a
    row count; ``compression``, ``compression_opts`` and ``shuffle`` pass through.
    """
    shape, maxshape = ((0, width), (None, width)) if width else ((0,), (None,))
    row_bytes = dtype.itemsize * max(1, width)
    requested = options.get("chunks")
    rows = int(requested[0]) if requested else chunk_rows(row_bytes)
    chunks = (rows, width) if width else (rows,)
    kwargs = {k: v for k, v in options.items() if k in ("compression", "compression_opts", "shuffle")}
    return group.create_dataset(name, shape=shape, maxshape=maxshape, dtype=dtype, chunks=chunks, **kwargs)


class RegionMaker:
    """Creates region references into one dataset, reusing one dataspace."""

    def __init__(self, dataset: h5py.Dataset) -> None:
        self.dataset = dataset
        self.space = dataset.id.get_space()
        self.width = dataset.shape[1] if dataset.ndim == 2 else 0

    def regions(self, start: int, counts: np.ndarray) -> np.ndarray:
        """Return an object array of references to consecutive runs of ``counts`` rows from ``start``."""
        out = np.empty(len(counts), dtype=object)
        space, dsid, create, kind = self.space, self.dataset.id, h5py.h5r.create, h5py.h5r.DATASET_REGION
        position = start
        width = self.width
        for i, count in enumerate(counts.tolist()):
            if count:
                if width:
                    space.select_hyperslab((position, 0), (count, width))
                else:
                    space.select_hyperslab((position,), (count,))
            else:
                space.select_none()
            out[i] = create(dsid, b".", kind, space)
            position += count
        return out


class V1Layout:
    """Reads and writes the V1 structure of one open HDF5 file.

    Parameters
    ----------
    h5file : h5py.File
        The open file (mode ``w`` or ``a``).
    """

    format_version = 1

    def __init__(self, h5file: h5py.File) -> None:
        self.file = h5file
        self._read: V1ReadLayout | None = None

    @classmethod
    def info_attrs(cls, spine_version: str) -> dict:
        """Return the layout's own ``info`` attributes (none: f31056c8 files carry no format marker)."""
        return {}

    # -- creation ------------------------------------------------------------------------------

    def create(self, specs: dict[str, ProductSpec], info: dict, options: dict[str, dict] | None = None) -> None:
        """Create ``info``, every product and the empty ``events`` table.

        Parameters
        ----------
        specs : dict
            Product specs by key; the ``events`` fields follow the sorted keys.
        info : dict
            Attributes of the ``info`` group, in creation order.
        options : dict, optional
            Per-key dataset options (``compression``, ``compression_opts``,
            ``shuffle``, ``chunks``).
        """
        options = options or {}
        group = self.file.create_group(INFO)
        for name, value in info.items():
            group.attrs[name] = value
        for key in sorted(specs):
            self._create_product(specs[key], options.get(key, {}))
        dtype = np.dtype([(key, REGIONREF) for key in sorted(specs)])
        self.file.create_dataset(EVENTS, shape=(0,), maxshape=(None,), dtype=dtype, chunks=(256,))

    def _create_product(self, spec: ProductSpec, options: dict) -> None:
        root = self.file
        if spec.kind is Kind.FLAT:
            group = root.create_group(spec.key)
            group.attrs["scalar"] = np.bool_(False)
            create_rows_dataset(group, "index", np.dtype(REGIONREF), 0, {})
            create_rows_dataset(group, "elements", spec.dtype, spec.widths[0], options)
            return
        if spec.kind is Kind.JAGGED:
            group = root.create_group(spec.key)
            group.attrs["scalar"] = np.bool_(False)
            positions = len(spec.widths)
            group.create_dataset(
                "index", shape=(0, positions), maxshape=(None, positions), dtype=REGIONREF, chunks=(256, positions)
            )
            for position, width in enumerate(spec.widths):
                create_rows_dataset(group, f"element_{position}", spec.dtype, width, options)
            return
        width = spec.widths[0] if spec.kind is Kind.ARRAY else 0
        dataset = create_rows_dataset(root, spec.key, spec.dtype, width, options)
        if spec.class_name is not None:
            dataset.attrs["class_name"] = spec.class_name
        dataset.attrs["scalar"] = np.bool_(spec.kind.is_scalar)

    # -- what an existing file holds --------------------------------------------------------------

    def stored_keys(self) -> list[str]:
        """Return the products named by the ``events`` fields."""
        return list(self.file[EVENTS].dtype.names or ())

    def entry_count(self) -> int:
        """Return the number of events in the file."""
        return int(self.file[EVENTS].shape[0])

    def stored_spec(self, key: str) -> ProductSpec:
        """Return how an existing product is stored (kind, dtype, class, widths), as the reader sees it."""
        if self._read is None:
            self._read = V1ReadLayout(self.file, self.file.filename)
        return self._read.spec(key)

    def differences(self, specs: dict[str, ProductSpec]) -> list[str]:
        """Return how ``specs`` differ from what the file stores (empty when compatible)."""
        stored = set(self.stored_keys())
        problems = []
        if set(specs) - stored:
            problems.append(f"products not in the file: {sorted(set(specs) - stored)}")
        if stored - set(specs):
            problems.append(f"products in the file but not in the data: {sorted(stored - set(specs))}")
        for key in sorted(stored & set(specs)):
            have, want = self.stored_spec(key), specs[key]
            have_kind = Kind.SCALAR if have.kind is Kind.GLOBAL_SCALAR else have.kind
            want_kind = Kind.SCALAR if want.kind is Kind.GLOBAL_SCALAR else want.kind
            if have_kind is not want_kind:
                problems.append(f"{key!r}: stored as {have_kind.value}, data is {want_kind.value}")
            elif have.class_name != want.class_name:
                problems.append(f"{key!r}: stores {have.class_name} objects, data has {want.class_name}")
            elif describe_dtype(have.dtype) != describe_dtype(want.dtype) and not (
                have.dtype.names is not None and compound_signature(have.dtype) == compound_signature(want.dtype)
            ):
                problems.append(
                    f"{key!r}: stored dtype {describe_dtype(have.dtype)} differs from {describe_dtype(want.dtype)}"
                )
            elif have.widths != want.widths:
                problems.append(f"{key!r}: stored widths {have.widths} differ from {want.widths}")
        return problems

    # -- appending -------------------------------------------------------------------------------

    def datasets(self) -> Iterable[h5py.Dataset]:
        """Yield every resizable dataset of the layout (products and ``events``)."""
        for key in self.stored_keys():
            node = self.file[key]
            if isinstance(node, h5py.Group):
                yield from (node[name] for name in node)
            else:
                yield node
        yield self.file[EVENTS]

    def append(self, payloads: dict[str, Payload], n_entries: int) -> None:
        """Append one validated batch; on any failure, restore every dataset's length."""
        datasets = _Datasets(self.file)
        for payload in payloads.values():
            datasets.open_product(payload.spec)
        events = datasets.get(EVENTS)
        sizes = {name: dataset.shape[0] for name, dataset in datasets.items()}
        try:
            rows = np.empty(n_entries, dtype=events.dtype)
            for key, payload in payloads.items():
                rows[key] = self._append_product(payload, datasets)
            _append_rows(events, rows)
        except BaseException:
            for name, dataset in datasets.items():
                if dataset.shape[0] != sizes[name]:
                    dataset.resize(sizes[name], axis=0)
            raise

    def append_product(self, payload: Payload) -> np.ndarray:
        """Append one product's rows; return one region reference per entry."""
        return self._append_product(payload, _Datasets(self.file))

    def _append_product(self, payload: Payload, datasets: _Datasets) -> np.ndarray:
        spec = payload.spec
        key = spec.key
        if spec.kind is Kind.FLAT:
            elements, index = datasets.get(f"{key}/elements"), datasets.get(f"{key}/index")
            start = _append_rows(elements, payload.rows)
            refs = RegionMaker(elements).regions(start, payload.element_counts)
            index_start = _append_rows(index, refs)
            return RegionMaker(index).regions(index_start, payload.counts)
        if spec.kind is Kind.JAGGED:
            index = datasets.get(f"{key}/index")
            refs = np.empty(payload.part_counts.shape, dtype=object)
            for position, rows in enumerate(payload.parts):
                part = datasets.get(f"{key}/element_{position}")
                start = _append_rows(part, rows)
                refs[:, position] = RegionMaker(part).regions(start, payload.part_counts[:, position])
            index_start = _append_rows(index, refs)
            return RegionMaker(index).regions(index_start, payload.counts)
        node = datasets.get(key)
        start = _append_rows(node, payload.rows)
        return RegionMaker(node).regions(start, payload.counts)

    def mark_complete(self, complete: bool = True) -> None:
        """Set ``info.complete``: True once the writer finished the file, False while it writes.

        Parameters
        ----------
        complete : bool, default True
            The value written, as a numpy bool (an HDF5 enum boolean).
        """
        self.file[INFO].attrs["complete"] = np.bool_(complete)


class _Datasets:
    """The datasets one append touches, by path, opened once per open file.

    The opened datasets are kept on the ``h5py.File`` object, so the appends
    of later batches to the same open file reuse them (as a bare h5py loop
    keeps its datasets): no group lookups, h5py's per-dataset caches and
    HDF5's chunk cache survive from batch to batch. Closing the file closes
    them; a closed one is reopened.
    """

    def __init__(self, h5file: h5py.File) -> None:
        self.file_id = h5file.id
        self.cache = h5io.dataset_cache(h5file)
        self.opened: dict[str, h5py.Dataset] = {}

    def get(self, path: str) -> h5py.Dataset:
        """Return the dataset at ``path`` (relative to the file), opening it if needed."""
        dataset = self.opened.get(path)
        if dataset is None:
            dataset = self.cache.get(path)
            if dataset is None or not dataset.id.valid:
                dataset = self.cache[path] = h5py.Dataset(h5py.h5d.open(self.file_id, path.encode("utf-8")))
            self.opened[path] = dataset
        return dataset

    def open_product(self, spec: ProductSpec) -> None:
        """Open every dataset a product's rows and references go to."""
        key = spec.key
        if spec.kind is Kind.FLAT:
            names = [f"{key}/elements", f"{key}/index"]
        elif spec.kind is Kind.JAGGED:
            names = [f"{key}/index"] + [f"{key}/element_{position}" for position in range(len(spec.widths))]
        else:
            names = [key]
        for name in names:
            self.get(name)

    def items(self) -> list[tuple[str, h5py.Dataset]]:
        """Return ``(path, dataset)`` of every dataset opened for this append."""
        return list(self.opened.items())


def _append_rows(dataset: h5py.Dataset, rows: np.ndarray) -> int:
    """Append rows with one resize and one write; return the first new row."""
    return h5io.append_rows(dataset, rows)
