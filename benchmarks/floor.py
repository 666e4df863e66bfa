"""The floor: bare h5py writing the same V1 datasets as spineh5, from arrays built beforehand.

"Same bytes" means: the same datasets with the same dtypes, shapes, chunk
shapes and attributes, the same compound rows (vlen and string members
included), one region reference per entry (and per array for flat lists), the
same ``events`` table, appended in the same number of batches.

The arrays are built by :func:`build_arrays` *outside* the timed region, with
straightforward numpy code independent of spineh5; the timed part,
:func:`write_floor`, is what a careful h5py user would write: per batch and
per dataset one ``resize`` and one ``write`` of a pre-built array, region
references through the low-level ``h5py.h5r.create`` on one reused dataspace
per dataset (the fast path; ``dataset.regionref[a:b]`` is about 13x slower),
``events`` rows appended last. :func:`same_content` checks that the floor's
file and spineh5's file hold equal data.
"""

from __future__ import annotations

from typing import Any

import h5py
import numpy as np

from spineh5.generated import REGISTRY

REGIONREF = h5py.regionref_dtype


def _object_records(objects: list, class_name: str) -> np.ndarray:
    cls = REGISTRY[class_name]
    records = np.empty(len(objects), dtype=cls.DTYPE)
    for column in cls.COLUMNS:
        name = column.name
        values = [getattr(obj, name) for obj in objects]
        if column.storage == "vlen" or column.dtype == "str":
            holder = np.empty(len(values), dtype=object)
            for i, value in enumerate(values):
                holder[i] = value
            records[name] = holder
        elif column.enum is not None:
            records[name] = [int(value) for value in values]
        else:
            records[name] = values
    return records


def build_arrays(batch: dict[str, list], kinds: dict[str, tuple[str, str | None]]) -> dict[str, dict[str, Any]]:
    """Return, per key, the pre-built arrays of one batch and the per-entry row counts.

    ``kinds`` is ``{key: (kind, class_name)}`` with kind one of ``scalar``,
    ``object``, ``objects``, ``array``, ``flat``.
    """
    out: dict[str, dict[str, Any]] = {}
    for key, (kind, class_name) in kinds.items():
        values = batch[key]
        if kind == "scalar":
            out[key] = {"rows": np.asarray(values, dtype=np.int64), "counts": np.ones(len(values), np.int64)}
        elif kind == "object":
            out[key] = {"rows": _object_records(list(values), class_name), "counts": np.ones(len(values), np.int64)}
        elif kind == "objects":
            flat = [obj for entry in values for obj in entry]
            counts = np.array([len(entry) for entry in values], np.int64)
            out[key] = {"rows": _object_records(flat, class_name), "counts": counts}
        elif kind == "array":
            out[key] = {"rows": np.concatenate(values), "counts": np.array([len(a) for a in values], np.int64)}
        elif kind == "flat":
            arrays = [array for entry in values for array in entry]
            out[key] = {
                "rows": np.concatenate(arrays),
                "element_counts": np.array([len(a) for a in arrays], np.int64),
                "counts": np.array([len(entry) for entry in values], np.int64),
            }
        else:
            raise ValueError(f"unsupported kind {kind}")
    return out


def payload_bytes(arrays: dict[str, dict[str, Any]], n_entries: int) -> int:
    """Return the bytes one pre-built batch puts in a file: fixed rows, vlen/str contents, refs, events."""
    total = 0
    for item in arrays.values():
        rows = item["rows"]
        total += rows.nbytes
        names = rows.dtype.names or ()
        for name in names:
            if rows.dtype.fields[name][0].kind == "O":
                for value in rows[name]:
                    total += value.nbytes if isinstance(value, np.ndarray) else len(str(value).encode())
        total += 12 * len(item["counts"])
        if "element_counts" in item:
            total += 12 * len(item["element_counts"])
    total += 12 * len(arrays) * n_entries
    return total


def _regions(dataset: h5py.Dataset, space: Any, start: int, counts: np.ndarray) -> np.ndarray:
    out = np.empty(len(counts), dtype=object)
    dsid, create, kind = dataset.id, h5py.h5r.create, h5py.h5r.DATASET_REGION
    width = dataset.shape[1] if dataset.ndim == 2 else 0
    position = start
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


def _append(dataset: h5py.Dataset, rows: np.ndarray) -> int:
    start = dataset.shape[0]
    dataset.resize(start + len(rows), axis=0)
    dataset[start:] = rows
    return start


def write_floor(
    path: str,
    batches: list[dict[str, dict[str, Any]]],
    template: dict[str, Any],
    lowlevel: bool = False,
) -> None:
    """Write pre-built batches with bare h5py into a V1 file shaped like ``template``.

    ``template`` (from :func:`describe_file`) gives the info attributes and, per
    dataset, its dtype, width, chunks and attributes, so the floor's file has
    the same layout as spineh5's. ``lowlevel`` appends through h5py's low-level
    API with one memory type per dtype instead of ``dataset[a:b] = rows``
    (which derives the HDF5 memory type of the rows at every write);
    ``lowlevel="native"`` takes batches from :func:`native_batches` and writes
    their vlen compounds from ``hvl_t`` buffers (the native-vlen floor).
    """
    append = _append_native if lowlevel == "native" else _append_lowlevel if lowlevel else _append
    keys = sorted(template["products"])
    with h5py.File(path, "w") as h5:
        info = h5.create_group("info")
        for name, value in template["info"].items():
            info.attrs[name] = value
        datasets: dict[str, h5py.Dataset] = {}
        for key in keys:
            spec = template["products"][key]
            if spec["group"]:
                group = h5.create_group(key)
                group.attrs["scalar"] = np.bool_(False)
                parent, names = group, ("elements", "index")
            else:
                parent, names = h5, (key,)
            for name in names:
                ds = spec["datasets"][name]
                width = ds["width"]
                dset = parent.create_dataset(
                    name,
                    shape=(0, width) if width else (0,),
                    maxshape=(None, width) if width else (None,),
                    dtype=ds["dtype"],
                    chunks=ds["chunks"],
                )
                for attr, value in ds["attrs"].items():
                    dset.attrs[attr] = value
                datasets[f"{key}/{name}" if spec["group"] else key] = dset
        events = h5.create_dataset(
            "events", shape=(0,), maxshape=(None,), dtype=[(key, REGIONREF) for key in keys], chunks=template["events"]
        )
        spaces = {name: dset.id.get_space() for name, dset in datasets.items()}
        for batch in batches:
            n_entries = len(batch["index"]["counts"])
            rows = np.empty(n_entries, dtype=events.dtype)
            for key in keys:
                item = batch[key]
                if template["products"][key]["group"]:
                    elements, index = datasets[f"{key}/elements"], datasets[f"{key}/index"]
                    start = append(elements, item["rows"])
                    refs = _regions(elements, spaces[f"{key}/elements"], start, item["element_counts"])
                    index_start = append(index, refs)
                    rows[key] = _regions(index, spaces[f"{key}/index"], index_start, item["counts"])
                else:
                    dset = datasets[key]
                    start = append(dset, item["rows"])
                    rows[key] = _regions(dset, spaces[key], start, item["counts"])
            append(events, rows)
        info.attrs["complete"] = np.bool_(True)


def describe_file(path: str) -> dict[str, Any]:
    """Return the layout of a V1 file (info attributes, datasets' dtype/width/chunks/attrs) as a template."""
    with h5py.File(path, "r") as h5:
        info = {name: h5["info"].attrs[name] for name in h5["info"].attrs}
        info["complete"] = np.bool_(False)
        products = {}
        for key in h5["events"].dtype.names:
            node = h5[key]
            group = isinstance(node, h5py.Group)
            members = {name: node[name] for name in node} if group else {key: node}
            products[key] = {
                "group": group,
                "datasets": {
                    name: {
                        "dtype": dset.dtype,
                        "width": dset.shape[1] if dset.ndim == 2 else 0,
                        "chunks": dset.chunks,
                        "attrs": {attr: dset.attrs[attr] for attr in dset.attrs},
                    }
                    for name, dset in members.items()
                },
            }
        return {"info": info, "products": products, "events": h5["events"].chunks}


def _equal(left: np.ndarray, right: np.ndarray) -> bool:
    if left.dtype.names:
        if left.dtype.names != right.dtype.names or len(left) != len(right):
            return False
        return all(_equal(left[name], right[name]) for name in left.dtype.names)
    if left.dtype.kind == "O" or right.dtype.kind == "O":
        return len(left) == len(right) and all(
            np.array_equal(np.asarray(a), np.asarray(b)) and np.asarray(a).dtype == np.asarray(b).dtype
            for a, b in zip(left, right)
        )
    return left.dtype == right.dtype and np.array_equal(left, right, equal_nan=left.dtype.kind == "f")


def _selections(dset: h5py.Dataset, refs: np.ndarray) -> list:
    out = []
    for ref in np.asarray(refs).ravel():
        space = h5py.h5r.get_region(ref, dset.id)
        kind = space.get_select_type()
        out.append(None if kind == h5py.h5s.SEL_NONE else space.get_select_bounds())
    return out


def same_content(path_a: str, path_b: str) -> list[str]:
    """Return the differences between two V1 files' data and references (empty when equal)."""
    problems = []
    with h5py.File(path_a, "r") as a, h5py.File(path_b, "r") as b:
        if a["events"].dtype.names != b["events"].dtype.names:
            return ["events fields differ"]
        for key in a["events"].dtype.names:
            node_a, node_b = a[key], b[key]
            names = list(node_a) if isinstance(node_a, h5py.Group) else [None]
            for name in names:
                da, db = (node_a[name], node_b[name]) if name else (node_a, node_b)
                label = f"{key}/{name}" if name else key
                if da.dtype != db.dtype or da.shape != db.shape or da.chunks != db.chunks:
                    problems.append(f"{label}: dtype/shape/chunks differ")
                elif da.dtype == REGIONREF:
                    target_a = node_a["elements"]
                    if _selections(target_a, da[()]) != _selections(node_b["elements"], db[()]):
                        problems.append(f"{label}: region references differ")
                elif not _equal(da[()], db[()]):
                    problems.append(f"{label}: data differ")
        for key in a["events"].dtype.names:
            target_a = a[key]["index"] if isinstance(a[key], h5py.Group) else a[key]
            target_b = b[key]["index"] if isinstance(b[key], h5py.Group) else b[key]
            if _selections(target_a, a["events"][key]) != _selections(target_b, b["events"][key]):
                problems.append(f"events[{key!r}]: region references differ")
        for name in a["info"].attrs:
            if name not in b["info"].attrs or str(a["info"].attrs[name]) != str(b["info"].attrs[name]):
                problems.append(f"info.{name} differs")
    return problems


_MTYPES: dict[int, tuple[np.dtype, Any]] = {}


def _append_lowlevel(dset: h5py.Dataset, rows: np.ndarray) -> int:
    """Append with the low-level API: set_extent, hyperslab, write with a cached memory type."""
    dsid = dset.id
    shape = dsid.shape
    start = shape[0]
    dsid.set_extent((start + len(rows),) + shape[1:])
    if rows.dtype.kind == "O":
        mtype = h5py.h5t.py_create(dsid.dtype)
    else:
        hit = _MTYPES.get(id(rows.dtype))
        if hit is None or hit[0] is not rows.dtype:
            hit = _MTYPES[id(rows.dtype)] = (rows.dtype, h5py.h5t.py_create(rows.dtype))
        mtype = hit[1]
    fspace = dsid.get_space()
    fspace.select_hyperslab((start,) + (0,) * (len(shape) - 1), rows.shape)
    dsid.write(h5py.h5s.create_simple(rows.shape), fspace, rows, mtype)
    return start


def native_batches(batches: list[dict[str, dict[str, Any]]]) -> list[dict[str, dict[str, Any]]]:
    """Return pre-built batches whose vlen compound rows are native buffers (built here, outside any timing).

    The buffers (``hvl_t``/``char *`` members pointing into one pool per
    column) come from :func:`spineh5.h5io_native.native_rows`; the pools stay
    referenced by the returned batches.
    """
    from spineh5.h5io_native import native_rows

    out = []
    for batch in batches:
        converted = {}
        for key, item in batch.items():
            rows = item["rows"]
            native = native_rows(rows) if rows.dtype.names is not None and rows.dtype.hasobject else None
            converted[key] = item if native is None else {**item, "rows": native}
        out.append(converted)
    return out


def _append_native(dset: h5py.Dataset, rows: Any) -> int:
    """Append a native buffer (``hvl_t`` members) with its memory type, or plain rows with the low-level API."""
    buffer = getattr(rows, "buffer", None)
    if buffer is None:
        return _append_lowlevel(dset, rows)
    dsid = dset.id
    start = dsid.shape[0]
    dsid.set_extent((start + len(buffer),))
    fspace = dsid.get_space()
    fspace.select_hyperslab((start,), (len(buffer),))
    dsid.write(h5py.h5s.create_simple((len(buffer),)), fspace, buffer, rows.mem_type)
    return start
