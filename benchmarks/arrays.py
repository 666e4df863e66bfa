"""Analysis-array benchmarks: ``HDF5Reader.arrays(library="ak")`` against bare h5py building the same arrays.

Each case opens the file, as a user's read does, and reads one object product
(``reco_particles``) of every entry into an awkward Array of one list of
records per entry. The floor is written without spineh5 code: h5py reads the
stored datasets whole and numpy builds the awkward layout.

* V1 (:func:`bare_v1`): the compound dataset (vlen fields come back as object
  arrays of arrays, strings as ``bytes``) and the region bounds of every
  entry's reference in ``events``; vlen fields are concatenated once per field
  into ``ListOffsetArray`` contents, fixed fields handed over as read.
* V2 (:func:`bare_v2`): ``event_offsets``, ``fixed`` and every pool's
  ``values``, each read whole; a pool field is a zero-copy ``ListArray`` of
  the pool over the ``_var_offsets_<i>`` bounds of each row (the cheapest
  layout awkward has; spineh5 returns the same values as ``ListOffsetArray``).
* Fixed columns only: ``columns=`` every field that is not variable-length;
  the floor reads those fields of the V1 compound (``dataset.fields``) or the
  V2 ``fixed`` dataset and the offsets, never a vlen field or a pool.
* Open plus one fixed-column read: ``HDF5Reader(path)`` over every product
  (whose inspection is lazy) and ``arrays(key, columns=[column])`` against
  h5py opening the file and reading that one field and the entry bounds.

:func:`check_same` compares spineh5's arrays with the floor's, field by field
(layouts aside), once, outside any timing.
"""

from __future__ import annotations

from collections.abc import Callable

import awkward as ak
import h5py
import numpy as np

from .floor_v2 import PRODUCTS, VAR_OFFSETS

try:
    from spineh5.reader import HDF5Reader
except ImportError:  # the reader is optional for the benchmark
    HDF5Reader = None

#: The fixed column of the "open plus one fixed-column read" rows.
ONE_COLUMN = "ke"

_Index = ak.index.Index64


# -- bare h5py + numpy: the awkward layout -----------------------------------------------------------------


def _numbers(values: np.ndarray) -> ak.contents.Content:
    values = np.ascontiguousarray(values)
    content: ak.contents.Content = ak.contents.NumpyArray(values.reshape(-1))
    for size in reversed(values.shape[1:]):
        content = ak.contents.RegularArray(content, size, zeros_length=0)
    return content


def _bounds(lengths: np.ndarray) -> _Index:
    bounds = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=bounds[1:])
    return _Index(bounds)


def _strings(values: np.ndarray) -> ak.contents.Content:
    pieces = [value.encode("utf-8") if isinstance(value, str) else value for value in values.tolist()]
    chars = ak.contents.NumpyArray(np.frombuffer(b"".join(pieces), dtype=np.uint8), parameters={"__array__": "char"})
    lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
    return ak.contents.ListOffsetArray(_bounds(lengths), chars, parameters={"__array__": "string"})


def _vlen(values: np.ndarray, base: np.dtype) -> ak.contents.Content:
    arrays = values.tolist()
    lengths = np.fromiter(map(len, arrays), dtype=np.int64, count=len(arrays))
    flat = np.concatenate(arrays).astype(base, copy=False) if arrays else np.empty(0, dtype=base)
    return ak.contents.ListOffsetArray(_bounds(lengths), ak.contents.NumpyArray(flat))


def _entries(records: ak.contents.Content, offsets: np.ndarray, key: str, class_name: str | None) -> ak.Array:
    if class_name is not None:
        records = ak.contents.RecordArray(
            records.contents, records.fields, length=records.length, parameters={"__record__": class_name}
        )
    lists = ak.contents.ListOffsetArray(_Index(np.asarray(offsets, dtype=np.int64)), records)
    return ak.Array(ak.contents.RecordArray([lists], [key], length=len(offsets) - 1))


def _v1_offsets(h5: h5py.File, dataset: h5py.Dataset, key: str) -> np.ndarray:
    refs = h5["events"].fields([key])[()][key]
    offsets = np.zeros(len(refs) + 1, np.int64)
    for i, ref in enumerate(refs):
        space = h5py.h5r.get_region(ref, dataset.id)
        if space.get_select_type() != h5py.h5s.SEL_NONE:
            offsets[i + 1] = space.get_select_bounds()[1][0] + 1
        else:
            offsets[i + 1] = offsets[i]
    return offsets


def _v1_field(rows: np.ndarray, name: str, dtype: np.dtype) -> ak.contents.Content:
    if dtype.kind != "O":
        return _numbers(rows[name])
    if h5py.check_string_dtype(dtype) is not None:
        return _strings(rows[name])
    return _vlen(rows[name], h5py.check_vlen_dtype(dtype))


def bare_v1(path: str, key: str, fixed_only: bool = False, names: list[str] | None = None) -> ak.Array:
    """Read a V1 object product into one list of records per entry with h5py and numpy."""
    with h5py.File(path, "r") as h5:
        dataset = h5[key]
        dtype = dataset.dtype
        if names is None:
            names = [n for n in dtype.names if not fixed_only or dtype.fields[n][0].kind != "O"]
        rows = dataset.fields(names)[()] if len(names) < len(dtype.names) else dataset[()]
        offsets = _v1_offsets(h5, dataset, key)
        class_name = h5[key].attrs.get("class_name")
    contents = [_v1_field(rows, name, dtype.fields[name][0]) for name in names]
    records = ak.contents.RecordArray(contents, names, length=len(rows))
    return _entries(records, offsets, key, None if class_name is None else str(class_name))


def bare_v2(path: str, key: str, fixed_only: bool = False, names: list[str] | None = None) -> ak.Array:
    """Read a V2 object product into one list of records per entry with h5py and numpy (pools zero-copy)."""
    with h5py.File(path, "r") as h5:
        group = h5[PRODUCTS][key]
        offsets = group["event_offsets"][()]
        fixed_dataset = group["fixed"]
        stored = [n for n in fixed_dataset.dtype.names if not n.startswith(VAR_OFFSETS)]
        pools = []
        if names is not None and set(names) <= set(stored):
            fixed = fixed_dataset.fields(names)[()]
        else:
            fixed = fixed_dataset[()]
            if not fixed_only:
                for name in group["variables"]:
                    pool = group["variables"][name]
                    fields = [line[2:] for line in str(pool.attrs["fields"]).splitlines() if line.startswith("- ")]
                    column = f"{VAR_OFFSETS}{name.rsplit('_', 1)[1]}"
                    pools.append((column, fields, str(pool.attrs["kind"]) == "string", pool["values"][()]))
        class_name = str(group.attrs["class_name"])
    fields = {name: _numbers(fixed[name]) for name in (names if names is not None else stored)}
    for column, pool_fields, is_string, values in pools:
        bounds = np.ascontiguousarray(fixed[column])
        inner = ak.contents.NumpyArray(values, parameters={"__array__": "char"} if is_string else None)
        for position, field in enumerate(pool_fields):
            starts, stops = _Index(bounds[:, position].copy()), _Index(bounds[:, position + 1].copy())
            parameters = {"__array__": "string"} if is_string else None
            fields[field] = ak.contents.ListArray(starts, stops, inner, parameters=parameters)
    records = ak.contents.RecordArray(list(fields.values()), list(fields), length=len(fixed))
    return _entries(records, offsets, key, class_name)


# -- spineh5 -----------------------------------------------------------------------------------------------


def spineh5_arrays(path: str, key: str, columns: list[str] | None = None, all_keys: bool = False) -> ak.Array:
    with HDF5Reader(path) if all_keys else HDF5Reader(path, keys=[key]) as reader:
        return reader.arrays(key, columns=columns)


def fixed_names(path: str, key: str) -> list[str]:
    """Return the names of the fixed (not variable-length) fields of an object product."""
    with h5py.File(path, "r") as h5:
        if PRODUCTS in h5:
            names = h5[PRODUCTS][key]["fixed"].dtype.names
            return [name for name in names if not name.startswith(VAR_OFFSETS)]
        dtype = h5[key].dtype
        return [name for name in dtype.names if dtype.fields[name][0].kind != "O"]


def check_same(ours: ak.Array, bare: ak.Array, key: str) -> list[str]:
    """Return the fields whose values differ between spineh5's arrays and the floor's (layouts aside)."""
    ours_records, bare_records = ours[key], bare[key]
    problems = [] if ak.fields(ours_records) and len(ours) == len(bare) else [f"{key}: lengths or fields differ"]
    missing = set(ak.fields(ours_records)) ^ set(ak.fields(bare_records))
    if missing:
        problems.append(f"{key}: fields differ: {sorted(missing)}")
    if not ak.all(ak.num(ours_records) == ak.num(bare_records)):
        problems.append(f"{key}: entry lengths differ")
    for name in sorted(set(ak.fields(ours_records)) & set(ak.fields(bare_records))):
        if not ak.array_equal(ours_records[name], bare_records[name], check_parameters=False, equal_nan=True):
            problems.append(f"{key}.{name} differs")
    return problems


def read_cases(
    path: str, key: str, version: int
) -> tuple[list[tuple[str, Callable[[], object] | None, Callable[[], object]]], list[str]]:
    """Return the arrays read cases of one file and the differences found between spineh5 and the floor."""
    bare = bare_v2 if version == 2 else bare_v1
    label = "V2" if version == 2 else "V1"
    fixed = fixed_names(path, key)
    have = HDF5Reader is not None
    problems: list[str] = []
    if have:
        problems += check_same(spineh5_arrays(path, key), bare(path, key), key)
        problems += check_same(spineh5_arrays(path, key, fixed), bare(path, key, fixed_only=True), key)
        one = [ONE_COLUMN]
        problems += check_same(spineh5_arrays(path, key, one, all_keys=True), bare(path, key, names=one), key)
    cases = [
        (
            f"{label} arrays(library='ak'), all columns ({key})",
            (lambda: spineh5_arrays(path, key)) if have else None,
            lambda: bare(path, key),
        ),
        (
            f"{label} arrays(library='ak'), fixed columns ({key}, {len(fixed)} columns)",
            (lambda: spineh5_arrays(path, key, fixed)) if have else None,
            lambda: bare(path, key, fixed_only=True),
        ),
        (
            f"{label} open + arrays(columns=['{ONE_COLUMN}']) ({key})",
            (lambda: spineh5_arrays(path, key, [ONE_COLUMN], all_keys=True)) if have else None,
            lambda: bare(path, key, names=[ONE_COLUMN]),
        ),
    ]
    return cases, [f"{label} {problem}" for problem in problems]
