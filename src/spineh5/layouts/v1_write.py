"""SPINE's V1 layout: product datasets, region references and the ``events`` table.

The layout knows how a :class:`~spineh5.products.ProductSpec` maps
to HDF5 objects (``docs/format/spine-v1-format.md`` sections 2.1-2.4, names
from :mod:`spineh5.format.v1`) and how a batch of prepared
:class:`~spineh5.payload.Payload` objects is appended:

1. every product dataset is resized once and written once (datasets are
   opened once per open file and reused by later batches, see
   :class:`~spineh5.layouts.base.AppendSession`);
2. region references for the batch are created in bulk with one reused
   dataspace per dataset;
3. the ``events`` rows are appended last, so an event is visible only once
   every product it points to is on disk.

If anything fails in between, every dataset is shrunk back to its previous
length, so the file keeps exactly its earlier events.
"""

from __future__ import annotations

import h5py
import numpy as np

from ..format.common import CLASS_NAME, EVENTS, INFO, SCALAR, element_name
from ..format.v1 import ELEMENTS, INDEX, REGIONREF
from ..payload import Payload
from ..products import Kind, ProductSpec
from ..types.dtypes import column_changes_text, compound_columns, compound_signature, describe_dtype
from .base import AppendSession, WriteLayout, key_differences, kind_difference
from .v1_read import V1ReadLayout

__all__ = ["CHUNK_BYTES", "V1Layout", "checksum_options", "chunk_rows", "create_rows_dataset", "filter_options"]

#: Target size of one chunk, in bytes, for append-heavy product datasets.
CHUNK_BYTES = 1 << 16


def chunk_rows(row_bytes: int, target: int = CHUNK_BYTES) -> int:
    """Return the rows of one chunk so that a chunk holds about ``target`` bytes."""
    return int(max(16, min(1 << 20, target // max(1, row_bytes))))


#: Dataset options that are HDF5 filters, passed through to h5py.
_FILTERS = ("compression", "compression_opts", "shuffle", "fletcher32")


def checksum_options(checksum: bool) -> dict:
    """Return the dataset options that add HDF5's Fletcher-32 checksum filter (none when ``checksum`` is off)."""
    return {"fletcher32": True} if checksum else {}


def filter_options(dtype: np.dtype, options: dict) -> dict:
    """Return the filter arguments of ``options`` that a dataset of ``dtype`` can take.

    HDF5 refuses the Fletcher-32 filter on datasets whose elements are
    variable-length (strings, vlen arrays) or references (V1 region
    references): those are written without it. Compounds holding such
    members take it (the checksum then covers the heap ids, not the heap).
    """
    kwargs = {k: v for k, v in options.items() if k in _FILTERS}
    if kwargs.get("fletcher32") and _unfilterable(dtype):
        del kwargs["fletcher32"]
    return kwargs


def _unfilterable(dtype: np.dtype) -> bool:
    """Return whether HDF5 refuses filters that need fixed-size elements (Fletcher-32) on ``dtype``."""
    if h5py.check_vlen_dtype(dtype) is not None or h5py.check_ref_dtype(dtype) is not None:
        return True
    string = h5py.check_string_dtype(dtype)
    return string is not None and string.length is None


def create_rows_dataset(group: h5py.Group, name: str, dtype: np.dtype, width: int, options: dict) -> h5py.Dataset:
    """Create an empty, resizable dataset of rows of ``dtype`` (``width`` columns if 2-D).

    Chunks hold about :data:`CHUNK_BYTES` unless ``options['chunks']`` asks for a
    row count; ``compression``, ``compression_opts``, ``shuffle`` and
    ``fletcher32`` pass through (:func:`filter_options`).
    """
    shape, maxshape = ((0, width), (None, width)) if width else ((0,), (None,))
    row_bytes = dtype.itemsize * max(1, width)
    requested = options.get("chunks")
    rows = int(requested[0]) if requested else chunk_rows(row_bytes)
    chunks = (rows, width) if width else (rows,)
    kwargs = filter_options(dtype, options)
    return group.create_dataset(name, shape=shape, maxshape=maxshape, dtype=dtype, chunks=chunks, **kwargs)


class _RegionMaker:
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


class V1Layout(WriteLayout):
    """Reads and writes the V1 structure of one open HDF5 file.

    Parameters
    ----------
    h5file : h5py.File
        The open file (mode ``w`` or ``a``).
    """

    format_version = 1
    read_class = V1ReadLayout
    per_key_store = True

    @classmethod
    def info_attrs(cls, spine_version: str) -> dict:
        """Return the layout's own ``info`` attributes (none: f31056c8 files carry no format marker)."""
        return {}

    # -- creation ------------------------------------------------------------------------------

    def create(
        self, specs: dict[str, ProductSpec], info: dict, options: dict[str, dict] | None = None, checksum: bool = False
    ) -> None:
        """Create ``info``, every product and the empty ``events`` table.

        Parameters
        ----------
        specs : dict
            Product specs by key; the ``events`` fields follow the sorted keys.
        info : dict
            Attributes of the ``info`` group, in creation order.
        options : dict, optional
            Per-key dataset options (``compression``, ``compression_opts``,
            ``shuffle``, ``fletcher32``, ``chunks``).
        checksum : bool, default False
            Write ``events`` with the Fletcher-32 filter (the region
            references of the ``index`` datasets cannot take it).
        """
        options = options or {}
        group = self.file.create_group(INFO)
        for name, value in info.items():
            group.attrs[name] = value
        for key in sorted(specs):
            self._create_product(specs[key], options.get(key, {}))
        dtype = np.dtype([(key, REGIONREF) for key in sorted(specs)])
        self.file.create_dataset(
            EVENTS, shape=(0,), maxshape=(None,), dtype=dtype, chunks=(256,), **checksum_options(checksum)
        )

    def _create_product(self, spec: ProductSpec, options: dict) -> None:
        root = self.file
        if spec.kind is Kind.FLAT:
            group = root.create_group(spec.key)
            group.attrs[SCALAR] = np.bool_(False)
            create_rows_dataset(group, INDEX, np.dtype(REGIONREF), 0, {})
            create_rows_dataset(group, ELEMENTS, spec.dtype, spec.widths[0], options)
            return
        if spec.kind is Kind.JAGGED:
            group = root.create_group(spec.key)
            group.attrs[SCALAR] = np.bool_(False)
            positions = len(spec.widths)
            group.create_dataset(
                INDEX, shape=(0, positions), maxshape=(None, positions), dtype=REGIONREF, chunks=(256, positions)
            )
            for position, width in enumerate(spec.widths):
                create_rows_dataset(group, element_name(position), spec.dtype, width, options)
            return
        width = spec.widths[0] if spec.kind is Kind.ARRAY else 0
        dataset = create_rows_dataset(root, spec.key, spec.dtype, width, options)
        if spec.class_name is not None:
            dataset.attrs[CLASS_NAME] = spec.class_name
        dataset.attrs[SCALAR] = np.bool_(spec.kind.is_scalar)

    # -- what an existing file holds --------------------------------------------------------------

    def stored_keys(self) -> list[str]:
        """Return the products named by the ``events`` fields."""
        return list(self.file[EVENTS].dtype.names or ())

    def entry_count(self) -> int:
        """Return the number of events in the file."""
        return int(self.file[EVENTS].shape[0])

    def differences(self, specs: dict[str, ProductSpec]) -> list[str]:
        """Return how ``specs`` differ from what the file stores (empty when compatible)."""
        stored = self.stored_keys()
        problems = key_differences(specs, stored)
        for key in sorted(set(stored) & set(specs)):
            have, want = self.stored_spec(key), specs[key]
            problem = kind_difference(key, have, want)
            if problem is not None:
                problems.append(problem)
            elif describe_dtype(have.dtype) != describe_dtype(want.dtype) and not (
                have.dtype.names is not None and compound_signature(have.dtype) == compound_signature(want.dtype)
            ):
                problems.append(_dtype_problem(key, have, want))
            elif have.widths != want.widths:
                problems.append(f"{key!r}: stored widths {have.widths} differ from {want.widths}")
        return problems

    # -- appending -------------------------------------------------------------------------------

    def _append(self, payloads: dict[str, Payload], n_entries: int, session: AppendSession) -> None:
        """Append every product's rows and references, then the ``events`` rows pointing to them.

        Every dataset is opened before the first write, products then
        ``events`` (the order decides the bytes HDF5 writes).
        """
        for payload in payloads.values():
            for path in _dataset_paths(payload.spec):
                session.dataset(path)
        events = session.dataset(EVENTS)
        rows = np.empty(n_entries, dtype=events.dtype)
        for key, payload in payloads.items():
            rows[key] = self._append_product(payload, session)
        self._before_events()
        session.append(events, rows)

    def append_product(self, payload: Payload) -> np.ndarray:
        """Append one product's rows (no rollback: SPINE's per-key API); return one region reference per entry."""
        return self._append_product(payload, self.session())

    def _append_product(self, payload: Payload, session: AppendSession) -> np.ndarray:
        spec = payload.spec
        key = spec.key
        if spec.kind is Kind.FLAT:
            elements, index = session.dataset(f"{key}/{ELEMENTS}"), session.dataset(f"{key}/{INDEX}")
            start = session.append(elements, payload.rows)
            refs = _RegionMaker(elements).regions(start, payload.element_counts)
            index_start = session.append(index, refs)
            return _RegionMaker(index).regions(index_start, payload.counts)
        if spec.kind is Kind.JAGGED:
            index = session.dataset(f"{key}/{INDEX}")
            refs = np.empty(payload.part_counts.shape, dtype=object)
            for position, rows in enumerate(payload.parts):
                part = session.dataset(f"{key}/{element_name(position)}")
                start = session.append(part, rows)
                refs[:, position] = _RegionMaker(part).regions(start, payload.part_counts[:, position])
            index_start = session.append(index, refs)
            return _RegionMaker(index).regions(index_start, payload.counts)
        node = session.dataset(key)
        start = session.append(node, payload.rows)
        return _RegionMaker(node).regions(start, payload.counts)


def _dtype_problem(key: str, have: ProductSpec, want: ProductSpec) -> str:
    """Describe a stored dtype that differs from the data's; for objects, by the columns that differ."""
    changes = column_changes_text(compound_columns(have.dtype), compound_columns(want.dtype))
    if have.class_name is not None and changes:
        return f"{key!r}: stored {have.class_name} columns differ from the data's: " + "; ".join(changes)
    return f"{key!r}: stored dtype {describe_dtype(have.dtype)} differs from {describe_dtype(want.dtype)}"


def _dataset_paths(spec: ProductSpec) -> list[str]:
    """Return the datasets a product's rows and references go to."""
    key = spec.key
    if spec.kind is Kind.FLAT:
        return [f"{key}/{ELEMENTS}", f"{key}/{INDEX}"]
    if spec.kind is Kind.JAGGED:
        return [f"{key}/{INDEX}"] + [f"{key}/{element_name(position)}" for position in range(len(spec.widths))]
    return [key]
