"""The V2 floor: bare h5py writing the same V2 datasets as spineh5, from arrays built beforehand.

"Same bytes" means the V2 layout of spineh5's own file (``format_version=2``):
the same ``info`` attributes, the same product groups under ``products`` with
the same attributes (``kind``, ``scalar``, ``class_name``, the pools'
``kind`` and ``fields``), the same datasets with the same dtypes, shapes,
chunk shapes and attributes, the same rows -- ``fixed`` compound rows with
their ``_var_offsets_<i>`` columns, the pools' flat values (strings as UTF-8
bytes), ``values``, and the int64 ``event_offsets``/``element_offsets`` that
start with 0 -- and the same ``events`` row numbers, appended in the same
number of batches.

Rules, as for the V1 floor (:mod:`benchmarks.floor`):

* :func:`describe_file` reads the layout (groups, attributes, dtypes, chunk
  shapes) from a file spineh5 wrote, outside any timing; it is the template.
* :func:`build_arrays` builds every dataset's rows of every batch *outside*
  the timed region, with straightforward numpy code independent of spineh5's
  writer: fixed columns by ``getattr`` (enums as ints), pool values object by
  object and field by field, and every offset already absolute (the floor
  knows the batches come in order into a new file, so it does not even add
  the running dataset length at write time as a real writer must).
* The timed part, :func:`write_floor`, is what a careful h5py user would
  write: create the file, groups, attributes and empty datasets (offsets
  holding their leading 0), then per batch and per non-empty dataset one
  ``resize`` and one ``dataset[a:b] = rows`` of a pre-built array (with
  ``lowlevel``: h5py's low-level API with one memory type per dtype, the
  fastest way h5py offers), in spineh5's order (products sorted; per object
  product its pools, ``fixed``, ``event_offsets``), ``events`` last, then
  ``info.complete = True``.

:func:`same_content` checks afterwards that the floor's file and spineh5's
hold the same groups, attributes, datasets and data.
"""

from __future__ import annotations

from typing import Any

import h5py
import numpy as np
import yaml

from spineh5.format.common import INFO
from spineh5.format.schema import SCHEMA
from spineh5.generated import REGISTRY

from .floor import _MTYPES, _equal

PRODUCTS = "products"
VAR_OFFSETS = "_var_offsets_"
OFFSETS = ("event_offsets", "element_offsets")
INT64 = np.dtype(np.int64)


#: Where spineh5 records its class schemas (not in the floor's files).
_SCHEMA_GROUP = f"{INFO}/{SCHEMA}"


# -- the template ------------------------------------------------------------------------------------------


def _dataset_spec(dset: h5py.Dataset) -> dict[str, Any]:
    return {
        "dtype": dset.dtype,
        "width": dset.shape[1] if dset.ndim == 2 else 0,
        "chunks": dset.chunks,
        "attrs": {name: dset.attrs[name] for name in dset.attrs},
    }


def _element_names(group: h5py.Group) -> list[str]:
    return sorted((name for name in group if name.startswith("element_")), key=lambda n: int(n.rsplit("_", 1)[1]))


def describe_file(path: str) -> dict[str, Any]:
    """Return the V2 layout of a file spineh5 wrote, as the template of :func:`write_floor`.

    Per product: its group attributes, its sub-groups (``variables``, pools,
    ``element_<j>``) with their attributes, and its datasets (path inside the
    product group, dtype, width, chunks, attributes), listed in write order.
    """
    with h5py.File(path, "r") as h5:
        info = {name: h5["info"].attrs[name] for name in h5["info"].attrs}
        info["complete"] = np.bool_(False)
        products = {}
        for key in sorted(h5[PRODUCTS]):
            group = h5[PRODUCTS][key]
            kind = str(group.attrs["kind"])
            groups: list[tuple[str, dict]] = []
            pools: list[dict[str, Any]] = []
            if kind == "objects":
                groups.append(("variables", {}))
                variables = group["variables"]
                for name in sorted(variables, key=lambda n: int(n.rsplit("_", 1)[1])):
                    pool = variables[name]
                    attrs = {attr: pool.attrs[attr] for attr in pool.attrs}
                    groups.append((f"variables/{name}", attrs))
                    fields = [str(field) for field in yaml.safe_load(str(attrs["fields"]))]
                    pools.append(
                        {
                            "path": f"variables/{name}/values",
                            "column": f"{VAR_OFFSETS}{name.rsplit('_', 1)[1]}",
                            "string": str(attrs["kind"]) == "string",
                            "fields": fields,
                        }
                    )
                names = [pool["path"] for pool in pools] + ["fixed", "event_offsets"]
            elif kind == "list":
                names = ["values", "element_offsets", "event_offsets"]
            elif kind == "multi_list":
                names = []
                for element in _element_names(group):
                    groups.append((element, {}))
                    names += [f"{element}/values", f"{element}/event_offsets"]
            else:
                names = ["values", "event_offsets"]
            products[key] = {
                "attrs": {attr: group.attrs[attr] for attr in group.attrs},
                "kind": kind,
                "scalar": bool(group.attrs["scalar"]),
                "class_name": str(group.attrs["class_name"]) if "class_name" in group.attrs else None,
                "groups": groups,
                "pools": pools,
                "datasets": {name: _dataset_spec(group[name]) for name in names},
            }
        return {"info": info, "products": products, "events": h5["events"].chunks}


# -- the pre-built arrays ------------------------------------------------------------------------------------


class _Running:
    """Current length of every dataset while the batches are built in order (for absolute offsets)."""

    def __init__(self) -> None:
        self.rows: dict[str, int] = {}

    def take(self, path: str, count: int) -> int:
        """Return the first row of ``count`` new rows of ``path`` and advance it."""
        start = self.rows.get(path, 0)
        self.rows[path] = start + count
        return start


def _ends(start: int, counts: list[int] | np.ndarray) -> np.ndarray:
    return start + np.cumsum(np.asarray(counts, dtype=INT64), dtype=INT64)


def _fixed_rows(objects: list, class_name: str, dtype: np.dtype) -> np.ndarray:
    enums = {column.name for column in REGISTRY[class_name].COLUMNS if column.enum is not None}
    rows = np.zeros(len(objects), dtype=dtype)
    for name in dtype.names:
        if name.startswith(VAR_OFFSETS):
            continue
        values = [getattr(obj, name) for obj in objects]
        rows[name] = [int(value) for value in values] if name in enums else values
    return rows


def _objects(key: str, spec: dict, entries: list[list], running: _Running) -> dict[str, np.ndarray]:
    objects = [obj for entry in entries for obj in entry]
    fixed_spec = spec["datasets"]["fixed"]
    fixed = _fixed_rows(objects, spec["class_name"], fixed_spec["dtype"])
    out: dict[str, np.ndarray] = {}
    for pool in spec["pools"]:
        path, fields = pool["path"], pool["fields"]
        base = spec["datasets"][path]["dtype"]
        pieces = []
        for obj in objects:
            for field in fields:
                value = getattr(obj, field)
                if pool["string"]:
                    pieces.append(np.frombuffer(value.encode("utf-8"), dtype=np.uint8))
                else:
                    pieces.append(np.asarray(value).astype(base, copy=False))
        lengths = np.array([len(piece) for piece in pieces], dtype=INT64)
        data = np.concatenate(pieces) if pieces else np.empty(0, base)
        start = running.take(f"{key}/{path}", len(data))
        bounds = np.concatenate([[0], np.cumsum(lengths)]).astype(INT64) + start
        width = len(fields)
        rows = np.arange(len(objects), dtype=INT64)[:, None] * width
        fixed[pool["column"]] = bounds[rows + np.arange(width + 1, dtype=INT64)]
        out[path] = data.astype(base, copy=False)
    out["fixed"] = fixed
    start = running.take(f"{key}/fixed", len(fixed))
    out["event_offsets"] = _ends(start, [len(entry) for entry in entries])
    return out


def _concat(pieces: list[np.ndarray], spec: dict[str, Any]) -> np.ndarray:
    if pieces:
        return np.concatenate(pieces).astype(spec["dtype"], copy=False)
    return np.empty((0, spec["width"]) if spec["width"] else (0,), dtype=spec["dtype"])


def build_arrays(batches: list[dict[str, list]], template: dict[str, Any]) -> list[dict[str, dict[str, np.ndarray]]]:
    """Return, per batch and per product, the rows each dataset gets (offsets absolute, in write order)."""
    running = _Running()
    out = []
    for batch in batches:
        arrays: dict[str, dict[str, np.ndarray]] = {}
        n_entries = len(batch["index"])
        for key, spec in template["products"].items():
            value, kind, datasets = batch[key], spec["kind"], spec["datasets"]
            if spec["scalar"] and (np.isscalar(value) or not hasattr(value, "__len__")):
                value = [value] * n_entries  # a global scalar: one copy per entry
            if kind == "objects":
                entries = [[obj] for obj in value] if spec["scalar"] else [list(entry) for entry in value]
                arrays[key] = _objects(key, spec, entries, running)
            elif kind == "string":
                encoded = [text.encode("utf-8") for text in value]
                start = running.take(f"{key}/values", sum(map(len, encoded)))
                arrays[key] = {
                    "values": np.frombuffer(b"".join(encoded), dtype=np.uint8),
                    "event_offsets": _ends(start, [len(item) for item in encoded]),
                }
            elif kind == "array":
                dtype = datasets["values"]["dtype"]
                if spec["scalar"]:
                    rows = np.asarray(value, dtype=dtype)
                    counts = np.ones(n_entries, INT64)
                else:
                    rows = _concat([np.asarray(item, dtype=dtype) for item in value], datasets["values"])
                    counts = [len(item) for item in value]
                start = running.take(f"{key}/values", len(rows))
                arrays[key] = {"values": rows, "event_offsets": _ends(start, counts)}
            elif kind == "list":
                dtype = datasets["values"]["dtype"]
                pieces = [np.asarray(item, dtype=dtype) for entry in value for item in entry]
                start = running.take(f"{key}/values", sum(map(len, pieces)))
                element_start = running.take(f"{key}/element_offsets", len(pieces))
                arrays[key] = {
                    "values": _concat(pieces, datasets["values"]),
                    "element_offsets": _ends(start, [len(piece) for piece in pieces]),
                    "event_offsets": _ends(element_start, [len(entry) for entry in value]),
                }
            else:  # multi_list: list position j -> element_j
                arrays[key] = {}
                for j, group in enumerate(name for name, _ in spec["groups"]):
                    dtype = datasets[f"{group}/values"]["dtype"]
                    pieces = [np.asarray(entry[j], dtype=dtype) for entry in value]
                    start = running.take(f"{key}/{group}/values", sum(map(len, pieces)))
                    arrays[key][f"{group}/values"] = _concat(pieces, datasets[f"{group}/values"])
                    arrays[key][f"{group}/event_offsets"] = _ends(start, [len(piece) for piece in pieces])
        start = running.take("events", n_entries)
        arrays["events"] = {"events": np.arange(start, start + n_entries, dtype=INT64)}
        out.append(arrays)
    return out


def payload_bytes(arrays: dict[str, dict[str, np.ndarray]]) -> int:
    """Return the bytes one pre-built V2 batch puts in a file (every dataset's new rows)."""
    return sum(rows.nbytes for item in arrays.values() for rows in item.values())


# -- the timed part --------------------------------------------------------------------------------------------


def _append(dataset: h5py.Dataset, rows: np.ndarray) -> None:
    start = dataset.shape[0]
    dataset.resize(start + len(rows), axis=0)
    dataset[start:] = rows


def _append_lowlevel(dset: h5py.Dataset, rows: np.ndarray) -> None:
    """Append with the low-level API: set_extent, hyperslab, write with a cached memory type."""
    dsid = dset.id
    shape = dsid.shape
    start = shape[0]
    dsid.set_extent((start + len(rows),) + shape[1:])
    hit = _MTYPES.get(id(rows.dtype))
    if hit is None or hit[0] is not rows.dtype:
        hit = _MTYPES[id(rows.dtype)] = (rows.dtype, h5py.h5t.py_create(rows.dtype))
    fspace = dsid.get_space()
    fspace.select_hyperslab((start,) + (0,) * (len(shape) - 1), rows.shape)
    dsid.write(h5py.h5s.create_simple(rows.shape), fspace, rows, hit[1])


def write_floor(
    path: str, batches: list[dict[str, dict[str, np.ndarray]]], template: dict[str, Any], lowlevel: bool = False
) -> None:
    """Write pre-built V2 batches (from :func:`build_arrays`) with bare h5py into a file shaped like ``template``."""
    append = _append_lowlevel if lowlevel else _append
    with h5py.File(path, "w") as h5:
        info = h5.create_group("info")
        for name, value in template["info"].items():
            info.attrs[name] = value
        products = h5.create_group(PRODUCTS)
        datasets: dict[str, dict[str, h5py.Dataset]] = {}
        for key, spec in template["products"].items():
            group = products.create_group(key)
            for name, value in spec["attrs"].items():
                group.attrs[name] = value
            for name, attrs in spec["groups"]:
                sub = group.create_group(name)
                for attr, value in attrs.items():
                    sub.attrs[attr] = value
            datasets[key] = {}
            for name, ds in spec["datasets"].items():
                width = ds["width"]
                if name.rsplit("/", 1)[-1] in OFFSETS:
                    dset = group.create_dataset(
                        name, data=np.zeros(1, INT64), maxshape=(None,), chunks=ds["chunks"], dtype=INT64
                    )
                else:
                    dset = group.create_dataset(
                        name,
                        shape=(0, width) if width else (0,),
                        maxshape=(None, width) if width else (None,),
                        dtype=ds["dtype"],
                        chunks=ds["chunks"],
                    )
                for attr, value in ds["attrs"].items():
                    dset.attrs[attr] = value
                datasets[key][name] = dset
        events = h5.create_dataset("events", shape=(0,), maxshape=(None,), dtype=INT64, chunks=template["events"])
        datasets["events"] = {"events": events}
        for batch in batches:
            for key, item in batch.items():  # products in sorted order, then events
                targets = datasets[key]
                for name, rows in item.items():
                    if len(rows):
                        append(targets[name], rows)
        info.attrs["complete"] = np.bool_(True)


# -- the content check ---------------------------------------------------------------------------------------


def _attrs_differ(a: Any, b: Any) -> bool:
    return sorted(a) != sorted(b) or any(str(a[name]) != str(b[name]) for name in a)


def same_content(path_a: str, path_b: str) -> list[str]:
    """Return the differences between two V2 files (groups, attributes, datasets, data); empty when equal."""
    problems = []
    with h5py.File(path_a, "r") as a, h5py.File(path_b, "r") as b:
        nodes_a: dict[str, Any] = {}
        nodes_b: dict[str, Any] = {}
        a.visititems(nodes_a.__setitem__)
        b.visititems(nodes_b.__setitem__)
        for nodes in (nodes_a, nodes_b):  # the class schemas spineh5 records (the floor writes none)
            for name in [name for name in nodes if name == _SCHEMA_GROUP or name.startswith(f"{_SCHEMA_GROUP}/")]:
                del nodes[name]
        if sorted(nodes_a) != sorted(nodes_b):
            only = sorted(set(nodes_a) ^ set(nodes_b))
            return [f"different objects: {only[:5]}"]
        for name in sorted(nodes_a):
            node_a, node_b = nodes_a[name], nodes_b[name]
            if type(node_a) is not type(node_b):
                problems.append(f"{name}: group in one file, dataset in the other")
                continue
            if _attrs_differ(node_a.attrs, node_b.attrs):
                problems.append(f"{name}: attributes differ")
            if isinstance(node_a, h5py.Dataset):
                if node_a.dtype != node_b.dtype or node_a.shape != node_b.shape or node_a.chunks != node_b.chunks:
                    problems.append(f"{name}: dtype/shape/chunks differ")
                elif not _equal(node_a[()], node_b[()]):
                    problems.append(f"{name}: data differ")
    return problems
