"""Read benchmarks: spineh5's reader against bare h5py reading the same datasets of one V1 file.

Bare h5py keeps every dataset open and dereferences the region references of
``events`` itself (``dataset[ref]``); object rows stay compound rows (no
objects are built), so the "full entry" and "one product" rows also show what
rebuilding objects costs. The bulk row compares ``HDF5Reader.table(key)``
(all rows of a product plus per-entry offsets) with reading the whole dataset
and the region bounds of every entry with bare h5py.
"""

from __future__ import annotations

from collections.abc import Callable

import h5py
import numpy as np

try:
    from spineh5.reader import HDF5Reader
except ImportError:  # the reader is optional for the benchmark
    HDF5Reader = None


def _bare_entry(h5: h5py.File, nodes: dict, event: np.void, key: str):
    ds, index = nodes[key]
    ref = event[key]
    if index is None:
        return ds[ref]
    return [ds[element_ref] for element_ref in index[ref]]


def _open_nodes(h5: h5py.File) -> dict:
    nodes = {}
    for key in h5["events"].dtype.names:
        node = h5[key]
        if isinstance(node, h5py.Group):
            nodes[key] = (node["elements"], node["index"])
        else:
            nodes[key] = (node, None)
    return nodes


def bare_full_entries(path: str) -> int:
    """Read every product of every entry with bare h5py; return the entry count."""
    with h5py.File(path, "r") as h5:
        nodes = _open_nodes(h5)
        events = h5["events"][()]
        for event in events:
            for key in events.dtype.names:
                _bare_entry(h5, nodes, event, key)
        return len(events)


def bare_one_product(path: str, key: str) -> int:
    """Read one product of every entry with bare h5py (one region read per entry)."""
    with h5py.File(path, "r") as h5:
        nodes = _open_nodes(h5)
        events = h5["events"][()]
        for event in events:
            _bare_entry(h5, nodes, event, key)
        return len(events)


def bare_table(path: str, key: str) -> int:
    """Read a product's whole dataset and every entry's row bounds with bare h5py."""
    with h5py.File(path, "r") as h5:
        ds = h5[key]
        rows = ds[()]
        refs = h5["events"].fields([key])[()][key]
        offsets = np.zeros(len(refs) + 1, np.int64)
        for i, ref in enumerate(refs):
            space = h5py.h5r.get_region(ref, ds.id)
            if space.get_select_type() != h5py.h5s.SEL_NONE:
                offsets[i + 1] = space.get_select_bounds()[1][0] + 1
            else:
                offsets[i + 1] = offsets[i]
        assert len(rows) >= offsets[-1]
        return len(refs)


def spineh5_full_entries(path: str, build_classes: bool | str = True) -> int:
    with HDF5Reader(path, build_classes=build_classes) as reader:
        for i in range(len(reader)):
            reader[i]
        return len(reader)


def spineh5_one_product(path: str, key: str) -> int:
    with HDF5Reader(path, keys=[key]) as reader:
        for i in range(len(reader)):
            reader[i]
        return len(reader)


def spineh5_table(path: str, key: str) -> int:
    with HDF5Reader(path, keys=[key]) as reader:
        rows, offsets = reader.table(key)
        assert len(rows) == offsets[-1]
        return len(reader)


def read_cases(path: str, key: str) -> list[tuple[str, Callable[[], int] | None, Callable[[], int]]]:
    """Return ``(label, spineh5 reader function or None, bare h5py function)`` for each read row."""
    have = HDF5Reader is not None
    have_table = have and hasattr(HDF5Reader, "table")
    return [
        ("read full entry", (lambda: spineh5_full_entries(path)) if have else None, lambda: bare_full_entries(path)),
        (
            f"read one product ({key})",
            (lambda: spineh5_one_product(path, key)) if have else None,
            lambda: bare_one_product(path, key),
        ),
        (
            f"read bulk table ({key})",
            (lambda: spineh5_table(path, key)) if have_table else None,
            lambda: bare_table(path, key),
        ),
    ]
