"""V2 read benchmarks: spineh5's reader against bare h5py reading the same datasets of one V2 file.

The file is the one spineh5 wrote with ``format_version=2`` (the write
benchmark's warm-up). Bare h5py keeps every dataset open, reads each
product's ``event_offsets`` once (the careful way), and reads with plain
slicing (``dataset[a:b]``); it builds no objects and leaves object rows as
stored (``fixed`` compound rows plus the raw block of each pool), so the
"full entry" row also shows what decoding pools and rebuilding objects cost.

* Bulk table: ``HDF5Reader.table(key)`` (every row of an object product plus
  per-entry offsets, the pool fields sliced per row into V1-style columns)
  against reading ``event_offsets``, ``fixed`` and every pool's ``values``
  whole.
* Fixed columns only: ``table(key, fixed_only=True)`` when
  :meth:`HDF5Reader.table` offers it, else ``table(key, columns=<the fixed
  columns>)`` (the same read: the pools are never opened), against reading
  ``event_offsets`` and ``fixed`` whole.
* Full entry: ``reader[i]`` for every entry (objects rebuilt) against, per
  entry and product, the slices of ``values``/``fixed``/``element_offsets``
  and, for object products, of each pool over the entry's rows; and the same
  with ``build_classes="collection"`` (each list-of-objects product one
  struct-of-arrays collection, like the arrays bare h5py leaves).

Each of these opens the file, as a user's read does: the reader's opening
(``info`` attributes, the ``kind`` of every product) is a cost per file that
bare h5py does not pay, large next to reading one product of a small file. The
"file already open" rows (:func:`open_cases`) repeat the two bulk reads on a
reader and an h5py file opened once, outside the timing, to show the
steady-state read on its own.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import h5py

from .floor_v2 import PRODUCTS, VAR_OFFSETS
from .reads import spineh5_full_entries, spineh5_table

try:
    from spineh5.reader import HDF5Reader
except ImportError:  # the reader is optional for the benchmark
    HDF5Reader = None


def fixed_columns(path: str, key: str) -> list[str]:
    """Return the fixed columns of an object product (the ``fixed`` members without the pool offsets)."""
    with h5py.File(path, "r") as h5:
        names = h5[PRODUCTS][key]["fixed"].dtype.names
    return [name for name in names if not name.startswith(VAR_OFFSETS)]


def has_fixed_only() -> bool:
    """Return whether :meth:`HDF5Reader.table` takes ``fixed_only``."""
    return HDF5Reader is not None and "fixed_only" in inspect.signature(HDF5Reader.table).parameters


# -- bare h5py ----------------------------------------------------------------------------------------------


def bare_table(path: str, key: str, fixed_only: bool = False) -> int:
    """Read an object product's ``event_offsets`` and ``fixed`` whole (and every pool unless ``fixed_only``)."""
    with h5py.File(path, "r") as h5:
        group = h5[PRODUCTS][key]
        offsets = group["event_offsets"][()]
        rows = group["fixed"][()]
        if not fixed_only:
            variables = group["variables"]
            pools = [variables[name]["values"][()] for name in variables]
            assert all(len(pool) >= 0 for pool in pools)
        assert len(rows) >= offsets[-1]
        return len(offsets) - 1


class _Product:
    """One product opened for bare per-entry reads: its kind, datasets and offsets (read once)."""

    def __init__(self, group: h5py.Group) -> None:
        self.kind = str(group.attrs["kind"])
        self.scalar = bool(group.attrs["scalar"])
        self.offsets = group["event_offsets"][()] if "event_offsets" in group else None
        self.values = group["values"] if "values" in group else None
        self.fixed = group["fixed"] if self.kind == "objects" else None
        self.element_offsets = group["element_offsets"][()] if self.kind == "list" else None
        self.pools: list[tuple[str, h5py.Dataset]] = []
        if self.kind == "objects":
            variables = group["variables"]
            self.pools = [(f"{VAR_OFFSETS}{name.rsplit('_', 1)[1]}", variables[name]["values"]) for name in variables]
        self.elements = []
        if self.kind == "multi_list":
            self.elements = [
                (group[name]["values"], group[name]["event_offsets"][()])
                for name in sorted(group, key=lambda n: int(n.rsplit("_", 1)[1]))
            ]

    def read(self, entry: int):
        if self.kind == "multi_list":
            return [values[offsets[entry] : offsets[entry + 1]] for values, offsets in self.elements]
        start, stop = int(self.offsets[entry]), int(self.offsets[entry + 1])
        if self.kind == "objects":
            rows = self.fixed[start:stop]
            blocks = []
            for column, values in self.pools:
                if len(rows):
                    bounds = rows[column]
                    blocks.append(values[int(bounds[:, 0].min()) : int(bounds[:, -1].max())])
            return rows, blocks
        if self.kind == "string":
            return self.values[start:stop].tobytes().decode("utf-8")
        if self.kind == "list":
            bounds = self.element_offsets[start : stop + 1]
            if stop == start:
                return []
            low = int(bounds[0])
            block = self.values[low : int(bounds[-1])]
            return [block[a - low : b - low] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist())]
        if self.scalar:
            return self.values[start]
        return self.values[start:stop]


def bare_full_entries(path: str) -> int:
    """Read every product of every entry with bare h5py; return the entry count."""
    with h5py.File(path, "r") as h5:
        products = [_Product(h5[PRODUCTS][key]) for key in h5[PRODUCTS]]
        count = h5["events"].shape[0]
        for entry in range(count):
            for product in products:
                product.read(entry)
        return count


# -- spineh5 ------------------------------------------------------------------------------------------------


def spineh5_fixed_table(path: str, key: str, columns: list[str]) -> int:
    with HDF5Reader(path, keys=[key]) as reader:
        if has_fixed_only():
            rows, offsets = reader.table(key, fixed_only=True)
        else:
            rows, offsets = reader.table(key, columns=columns)
        assert len(rows) == offsets[-1]
        return len(reader)


class _OpenTable:
    """A reader and an h5py file opened once, for the bulk reads without the opening."""

    def __init__(self, path: str, key: str, columns: list[str]) -> None:
        self.key, self.columns = key, columns
        self.reader = HDF5Reader(path, keys=[key])
        self.h5 = h5py.File(path, "r")
        group = self.h5[PRODUCTS][key]
        self.offsets, self.fixed = group["event_offsets"], group["fixed"]
        self.pools = [group["variables"][name]["values"] for name in group["variables"]]

    def ours(self, fixed_only: bool) -> int:
        if not fixed_only:
            rows, offsets = self.reader.table(self.key)
        elif has_fixed_only():
            rows, offsets = self.reader.table(self.key, fixed_only=True)
        else:
            rows, offsets = self.reader.table(self.key, columns=self.columns)
        assert len(rows) == offsets[-1]
        return len(offsets) - 1

    def bare(self, fixed_only: bool) -> int:
        offsets = self.offsets[()]
        rows = self.fixed[()]
        if not fixed_only:
            pools = [pool[()] for pool in self.pools]
            assert all(len(pool) >= 0 for pool in pools)
        assert len(rows) >= offsets[-1]
        return len(offsets) - 1

    def close(self) -> None:
        self.reader.close()
        self.h5.close()


def open_cases(path: str, key: str) -> tuple[list[tuple[str, Callable[[], int], Callable[[], int]]], Callable]:
    """Return the bulk-read cases on a reader and a file opened once, and the function that closes them."""
    how = "fixed_only=True" if has_fixed_only() else "columns=fixed"
    opened = _OpenTable(path, key, fixed_columns(path, key))
    for fixed_only in (False, True):  # warm-up: the first read of each inspects the product
        opened.ours(fixed_only)
        opened.bare(fixed_only)
    cases = [
        (f"V2 read bulk table ({key}), file already open", lambda: opened.ours(False), lambda: opened.bare(False)),
        (
            f"V2 read bulk table, fixed columns ({key}, {how}), file already open",
            lambda: opened.ours(True),
            lambda: opened.bare(True),
        ),
    ]
    return cases, opened.close


def read_cases(path: str, key: str) -> list[tuple[str, Callable[[], int] | None, Callable[[], int]]]:
    """Return ``(label, spineh5 reader function or None, bare h5py function)`` for each V2 read row."""
    have = HDF5Reader is not None
    columns = fixed_columns(path, key)
    how = "fixed_only=True" if has_fixed_only() else "columns=fixed"
    return [
        ("V2 read full entry", (lambda: spineh5_full_entries(path)) if have else None, lambda: bare_full_entries(path)),
        (
            "V2 read full entry, build_classes='collection'",
            (lambda: spineh5_full_entries(path, "collection")) if have else None,
            lambda: bare_full_entries(path),
        ),
        (
            f"V2 read bulk table ({key})",
            (lambda: spineh5_table(path, key)) if have else None,
            lambda: bare_table(path, key),
        ),
        (
            f"V2 read bulk table, fixed columns ({key}, {how})",
            (lambda: spineh5_fixed_table(path, key, columns)) if have else None,
            lambda: bare_table(path, key, fixed_only=True),
        ),
    ]
