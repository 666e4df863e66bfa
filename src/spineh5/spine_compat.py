"""SPINE's per-entry writer API, for code written against ``spine.io.write.HDF5Writer``.

SPINE's writer exposes the steps of its write path: ``get_data_type(s)``
decide how keys are stored, ``initialize_datasets`` creates a file,
``append_entry``/``append_key`` write one entry and the static ``store*``
methods append one product of one entry to an open V1 file and set its
region reference in an ``events`` row; ``get_file_names`` names the output
files and ``_handles``/``_handles_pid``/``_check_handle_pid`` are its
process-local handle guard. :class:`SpineWriterAPI` offers the
same methods on :class:`~spineh5.writer.HDF5Writer`, on top of its batch
write path: the storage decisions, the payloads and the layouts are the
writer's.
"""

from __future__ import annotations

from typing import Any

import attrs
import h5py
import numpy as np

from .errors import LayoutMismatchError
from .layouts import REGISTRY as LAYOUTS
from .layouts import file_format_version
from .naming import get_file_names
from .output_files import OutputFiles, initialize
from .payload import Payload, prepare
from .products import Kind, ProductSpec, is_scalar
from .types.collection import SchemaCollection
from .types.registry import REGISTRY

__all__ = ["DataFormat", "SpineWriterAPI"]


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


class SpineWriterAPI:
    """SPINE's per-entry methods of ``HDF5Writer``, mixed into :class:`~spineh5.writer.HDF5Writer`.

    The host class provides ``specs``, ``keys``, ``lite``, ``cfg`` and
    ``layout`` (the attributes the first batch sets), its output files
    ``_files`` and the methods
    ``_decide(data, key)``, ``_payload(batch, key, rows)``,
    ``_payloads(batch, rows)`` and ``_dataset_options()``.
    """

    DataFormat = DataFormat

    specs: dict[str, ProductSpec]
    keys: list[str] | None
    lite: bool
    cfg: dict | None
    layout: type
    _files: OutputFiles

    # -- naming -----------------------------------------------------------------------------------

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

    # -- storage decisions ------------------------------------------------------------------------

    def get_data_type(self, data: dict[str, Any], key: str) -> DataFormat:
        """Return how ``data[key]`` is (or would be) stored."""
        spec = self.specs.get(key) or self._decide(data, key)
        return self._format(spec)

    @staticmethod
    def _format(spec: ProductSpec) -> DataFormat:
        """Return the :class:`DataFormat` of a product spec."""
        merge = spec.kind is Kind.FLAT
        width: int | list[int] = list(spec.widths) if spec.kind in (Kind.FLAT, Kind.JAGGED) else spec.widths[0]
        return DataFormat(spec.dtype, spec.class_name, width, merge, spec.kind.is_scalar, spec.kind.value)

    def get_data_types(
        self, data: dict[str, Any], keys: list[str] | set[str]
    ) -> tuple[dict[str, DataFormat], list[list[tuple[str, Any]]]]:
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

    # -- files and entries ------------------------------------------------------------------------

    def initialize_datasets(self, out_file: h5py.File, type_dict: dict[str, DataFormat] | None = None) -> None:
        """Create ``info``, every product and the empty ``events`` table in a new, empty file.

        Parameters
        ----------
        out_file : h5py.File
            The open file, with nothing in it yet.
        type_dict : dict, optional
            ``{key: DataFormat}`` as :meth:`get_data_types` returns; by default
            the storage decided from the first batch.
        """
        specs = self.specs if type_dict is None else {key: _spec_of_format(key, fmt) for key, fmt in type_dict.items()}
        initialize(out_file, self.layout, specs, self.cfg, self._dataset_options(), self.checksum)

    def append_entry(self, out_file: h5py.File, data: dict[str, Any], batch_id: int) -> None:
        """Append entry ``batch_id`` of a batch to an open file (one entry, all keys)."""
        self.layout(out_file).append(self._payloads(data, np.array([batch_id])), 1)

    def append_key(self, out_file: h5py.File, event: np.ndarray, data: dict[str, Any], key: str, batch_id: int) -> None:
        """Store product ``key`` of entry ``batch_id`` and set its reference in the ``event`` row."""
        layout = _per_key_layout(out_file)
        payload = self._payload(data, key, np.array([batch_id]))
        event[key] = layout.append_product(payload)[0]

    # -- SPINE's static store methods -------------------------------------------------------------

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

    # -- the output files' handle guard (SPINE's attribute names) ----------------------------------

    @property
    def _handles(self) -> dict[int, h5py.File]:
        """The open handles by file id."""
        return self._files.handles

    @property
    def _handles_pid(self) -> int | None:
        """The process that opened the cached handles."""
        return self._files.handles_pid

    @_handles_pid.setter
    def _handles_pid(self, pid: int | None) -> None:
        self._files.handles_pid = pid

    def _check_handle_pid(self) -> None:
        """Refuse to use open handles from another process (see :meth:`.OutputFiles.check_handle_pid`)."""
        self._files.check_handle_pid()


def _spec_of_format(key: str, fmt: DataFormat) -> ProductSpec:
    """Return the product spec a :class:`DataFormat` describes."""
    widths = tuple(fmt.width) if isinstance(fmt.width, (list, tuple)) else (int(fmt.width),)
    return ProductSpec(key, Kind(fmt.kind), np.dtype(fmt.dtype), fmt.class_name, widths)


def _per_key_layout(out_file: h5py.File) -> Any:
    """Return the write layout of a file that takes SPINE's per-key API; refuse a file of another layout."""
    version = file_format_version(out_file)
    entry = LAYOUTS.get(version)
    if entry is None or not entry.writer.per_key_store:
        raise LayoutMismatchError(
            f"{out_file.filename} is a format_version={version} file: the per-key store/append_key API "
            "writes V1 region references; write whole batches (writer(data)) instead"
        )
    return entry.writer(out_file)


def _store_one(out_file: h5py.File, event: np.ndarray, key: str, value: Any) -> None:
    """Append one entry's value of ``key`` to a V1 file, as the file stores ``key``, and reference it in ``event``."""
    layout = _per_key_layout(out_file)
    spec = layout.stored_spec(key)
    # Lite or not is what the file stores, whatever the caller says.
    lite = spec.class_name is not None and len(spec.dtype.names) != len(REGISTRY[spec.class_name].DTYPE.names)
    # SPINE's convention: store/store_objects take the rows to append, so append_key wraps a
    # one-row product (a scalar, or one object) in a one-element array: append all its rows.
    if spec.kind in (Kind.SCALAR, Kind.GLOBAL_SCALAR) and not is_scalar(value):
        spec = attrs.evolve(spec, kind=Kind.ARRAY, widths=(0,))
        value = np.asarray(value)
    elif spec.kind is Kind.OBJECT and isinstance(value, (list, tuple, np.ndarray, SchemaCollection)):
        spec = attrs.evolve(spec, kind=Kind.OBJECTS)
        value = value if isinstance(value, SchemaCollection) else list(value)
    payload: Payload = prepare(spec, [value], 1, lite)
    event[key] = layout.append_product(payload)[0]
