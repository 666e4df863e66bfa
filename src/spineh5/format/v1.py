"""SPINE's V1 layout on disk: product datasets and groups, region references, the ``events`` table.

Reference: ``docs/format/spine-v1-format.md``: section 2.1 (root objects),
2.3 (``events``), 2.4 (the storage of each product kind, cases A-G) and 3.3
(how readers tell the kinds apart).
"""

from __future__ import annotations

from typing import Any

import attrs
import h5py
import numpy as np

from ..h5io import dataset_dtype
from ..products import Kind, ProductSpec
from .common import CLASS_NAME, EVENTS, SCALAR, attr_string, element_name, truthy

#: Dtype of the ``events`` fields and of list ``index`` datasets.
REGIONREF = h5py.regionref_dtype
#: Dataset of a list group pointing into its elements.
INDEX = "index"
#: Elements dataset of a flat list group.
ELEMENTS = "elements"


def is_region_reference(dtype: np.dtype) -> bool:
    """Return whether a dtype holds HDF5 region references."""
    return h5py.check_ref_dtype(dtype) is h5py.RegionReference


def events_problem(events: Any) -> str | None:
    """Return why a root ``events`` object is not a V1 ``events`` table (None when it is one).

    A V1 ``events`` table is a 1-D dataset of named region-reference fields,
    one per product (V1 spec section 2.3).
    """
    if events is None:
        return f"no {EVENTS!r} dataset: not a SPINE V1 output file"
    if not isinstance(events, h5py.Dataset):
        return f"{EVENTS!r} is a {type(events).__name__}, a dataset is expected"
    names = events.dtype.names
    if events.ndim != 1 or not names:
        return (
            f"{EVENTS!r} must be a 1-D table of named region references, got shape {events.shape}, dtype {events.dtype}"
        )
    for name in names:
        if not is_region_reference(events.dtype.fields[name][0]):
            return f"{EVENTS!r} field {name!r} is not a region reference"
    return None


def event_keys(h5file: h5py.File) -> list[str]:
    """Return the field names of a file's ``events`` compound (empty when there is none)."""
    events = h5file.get(EVENTS)
    if isinstance(events, h5py.Dataset) and events.dtype.names:
        return list(events.dtype.names)
    return []


@attrs.frozen
class V1Product:
    """What a V1 product dataset or group holds, as far as it could be told (:func:`inspect_product`).

    Attributes
    ----------
    kind : Kind or None
        The storage kind (None when the node is neither a dataset nor a
        group with an ``index`` dataset).
    dtype : numpy.dtype or None
        Element dtype: the dataset's, or that of a list's first element dataset.
    class_name : str or None
        ``class_name`` of object datasets.
    widths : tuple of int
        Array width (0 for 1-D) of arrays, of each list position for lists.
    target : h5py.Dataset or None
        The dataset the ``events`` references point into (a list's ``index``).
    parts : tuple of h5py.Dataset
        A list's element datasets, by position.
    problems : tuple of str
        Why SPINE's readers cannot read the product (empty when they can).
    """

    kind: Kind | None
    dtype: np.dtype | None = None
    class_name: str | None = None
    widths: tuple[int, ...] = (0,)
    target: h5py.Dataset | None = None
    parts: tuple[h5py.Dataset, ...] = ()
    problems: tuple[str, ...] = ()

    def spec(self, key: str) -> ProductSpec:
        """Return the product's :class:`ProductSpec` (call only when :attr:`problems` is empty)."""
        if self.kind in (Kind.FLAT, Kind.JAGGED):
            return ProductSpec(key, self.kind, self.dtype if self.parts else np.dtype(float), None, self.widths)
        if self.kind is Kind.ARRAY:
            return ProductSpec(key, self.kind, self.dtype, None, self.widths)
        return ProductSpec(key, self.kind, self.dtype, self.class_name)


def _width(dataset: h5py.Dataset) -> int:
    return int(dataset.shape[1]) if dataset.ndim == 2 else 0


def inspect_product(node: Any) -> V1Product:
    """Tell the kind of a V1 product from its root dataset or group (V1 spec sections 2.4 and 3.3).

    A dataset is a scalar, array, object or objects product (compound dtype:
    objects; ``scalar`` attribute: one per entry); a group with a 1-D
    ``index`` is a flat list of ``elements``, with a 2-D ``index`` a jagged
    list of ``element_<j>``. The kind is told as leniently as a file browser
    would; :attr:`V1Product.problems` lists what SPINE's readers refuse.
    """
    if isinstance(node, h5py.Group):
        return _inspect_group(node)
    if not isinstance(node, h5py.Dataset):
        return V1Product(None, problems=(f"is a {type(node).__name__}, a dataset or group is expected",))
    problems = []
    if node.ndim not in (1, 2):
        problems.append(f"has {node.ndim} dimensions, 1 or 2 are expected")
    elif SCALAR not in node.attrs:
        problems.append(f"dataset has no {SCALAR!r} attribute")
    scalar = truthy(node.attrs.get(SCALAR, False))
    dtype = dataset_dtype(node)  # a wide compound's numpy dtype is built once per stored type, not per file
    if dtype.names is not None:
        class_name = attr_string(node.attrs.get(CLASS_NAME))
        kind = Kind.OBJECT if scalar else Kind.OBJECTS
        return V1Product(kind, dtype, class_name, target=node, problems=tuple(problems))
    if scalar:
        return V1Product(Kind.SCALAR, node.dtype, target=node, problems=tuple(problems))
    return V1Product(Kind.ARRAY, node.dtype, widths=(_width(node),), target=node, problems=tuple(problems))


def _inspect_group(group: h5py.Group) -> V1Product:
    index = group.get(INDEX)
    if not isinstance(index, h5py.Dataset):
        return V1Product(None, problems=(f"group has no {INDEX!r} dataset",))
    kind = Kind.JAGGED if index.ndim == 2 else Kind.FLAT
    if not is_region_reference(index.dtype):
        return V1Product(kind, problems=(f"group {INDEX!r} does not hold region references",))
    if index.ndim not in (1, 2):
        return V1Product(kind, problems=(f"group {INDEX!r} has {index.ndim} dimensions, 1 or 2 are expected",))
    names = part_names(index)
    parts = [group.get(name) for name in names]
    for name, part in zip(names, parts):
        if not isinstance(part, h5py.Dataset) or part.ndim not in (1, 2):
            return V1Product(kind, problems=(f"group has no 1-D or 2-D {name!r} dataset",))
    widths = tuple(_width(part) for part in parts)
    dtype = parts[0].dtype if parts else None
    return V1Product(kind, dtype, None, widths, index, tuple(parts))


def part_names(index: h5py.Dataset) -> list[str]:
    """Return the element datasets a list group's ``index`` points into: ``elements`` (1-D), ``element_<j>`` (2-D)."""
    return [ELEMENTS] if index.ndim == 1 else [element_name(position) for position in range(index.shape[1])]
