"""Round trips: everything spineh5's HDF5Writer writes comes back equal through HDF5Reader.

Hypothesis draws random events covering every storage case (spec section
2.4: global and per-entry scalars, single objects, object lists, 1-D and 2-D
arrays, flat and jagged lists of arrays), empty lists, NaN and infinities,
unicode, extreme integers, every generated class, lite mode, appends across
writer sessions and split outputs. Every round trip runs for both layouts
(``format_version`` 1 and 2), and the same batches written in both layouts
read back identical.
"""

from __future__ import annotations

import math
import os
import tempfile

import attrs
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from spineh5 import HDF5Writer
from spineh5.generated import REGISTRY, Flash, RunInfo
from spineh5.h5io import read_ranges
from spineh5.reader import HDF5Reader
from spineh5.types.value_rules import META_CLASSES, META_COLUMNS, UNITS, inconsistent_meta

SETTINGS = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SMALL = settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=6)
INT_RANGES = {
    "uint8": (0, 255),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
}
SPECIAL_FLOATS = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1e-300, -1.5]
CHARACTERS = list("aZ09 _-") + ["é", "ß", "✓", "中", "😀", "\U0010fffd", "\n", "\t"]


def draw_value(rng: np.random.Generator, dtype: str):
    """Return one random value of an element dtype, often an extreme one."""
    if dtype == "str":
        return "".join(rng.choice(CHARACTERS, size=rng.integers(0, 6)))
    if dtype == "bool":
        return bool(rng.integers(2))
    if dtype in INT_RANGES:
        low, high = INT_RANGES[dtype]
        choices = [low, high, 0, max(low, -1), int(rng.integers(low, high, endpoint=True, dtype=np.int64))]
        return choices[rng.integers(len(choices))]
    width = np.float32 if dtype == "float32" else np.float64
    if rng.random() < 0.3:
        return float(width(SPECIAL_FLOATS[rng.integers(len(SPECIAL_FLOATS))]))
    return float(width(rng.normal() * 10.0 ** rng.integers(-5, 30 if dtype == "float32" else 300)))


def draw_column(rng: np.random.Generator, column):
    """Return a random value of one column of a generated class."""
    if column.enum is not None:
        members = list(column.enum)
        base = lambda: members[rng.integers(len(members))]  # noqa: E731
    else:
        base = lambda: draw_value(rng, column.dtype)  # noqa: E731
    if column.storage == "fixed":
        return np.array([base() for _ in range(column.length)], dtype=column.numpy_dtype)
    if column.storage == "vlen":
        return np.array([base() for _ in range(rng.integers(0, 5))], dtype=column.numpy_dtype)
    return base()


def make_object(cls: type, seed: int):
    """Return an instance of a generated class with every column drawn from a seeded generator.

    Values the writer refuses (as SPINE's classes and ``validate`` do) are made valid: ``units`` is 'cm' or
    'px', and an ImageMeta has ``upper = lower + size * count`` (or is left unset when that overflows).
    """
    rng = np.random.default_rng(seed)
    values = {column.name: draw_column(rng, column) for column in cls.COLUMNS}
    if "units" in values:
        values["units"] = sorted(UNITS)[rng.integers(len(UNITS))]
    if cls.CLASS_NAME in META_CLASSES:
        with np.errstate(all="ignore"):
            values["upper"] = (values["lower"] + values["size"] * values["count"]).astype(np.float32)
        if len(inconsistent_meta(cls.to_records([cls(**values)]))):
            values = {name: value for name, value in values.items() if name not in META_COLUMNS}
    return cls(**values)


def unique_run_info(data):
    """Return nested lists of entries whose ``run_info`` events count 0, 1, ... in order (run and subrun kept).

    The writer refuses repeated (run, subrun, event) triplets, as SPINE's run map does.
    """
    counter = iter(range(2**62))

    def renumber(item):
        if isinstance(item, list):
            return [renumber(value) for value in item]
        if isinstance(item, dict) and "run_info" in item:
            return {**item, "run_info": attrs.evolve(item["run_info"], event=next(counter))}
        return item

    return renumber(data)


def objects(cls: type) -> st.SearchStrategy:
    """Return instances of a generated class (values from a seed Hypothesis draws, for speed)."""
    return st.integers(0, 2**32 - 1).map(lambda seed: make_object(cls, seed))


def arrays(dtype, shape) -> st.SearchStrategy:
    elements = st.floats(width=np.dtype(dtype).itemsize * 8) if np.dtype(dtype).kind == "f" else None
    return hnp.arrays(dtype, shape, elements=elements)


ROWS = st.integers(0, 3)
#: Both on-disk layouts: V1 (region references) and V2 (offset-based product groups).
LAYOUTS = pytest.mark.parametrize("format_version", [1, 2], ids=["v1", "v2"])


@st.composite
def storage_entries(draw) -> dict:
    """One entry with a product of every storage case."""
    return {
        "count": draw(st.one_of(st.sampled_from([-(2**63), 2**63 - 1]), st.integers(-(2**63), 2**63 - 1))),
        "weight": draw(st.floats()),
        "label": draw(TEXT),
        "flag": draw(st.booleans()),
        "small": np.int32(draw(st.integers(-(2**31), 2**31 - 1))),
        "run_info": draw(objects(RunInfo)),
        "flashes": draw(st.lists(objects(Flash), max_size=2)),
        "tensor": draw(arrays(np.float32, st.tuples(ROWS, st.just(3)))),
        "labels": draw(arrays(np.int64, st.tuples(ROWS))),
        "clusts": draw(st.lists(arrays(np.int64, st.tuples(ROWS)), max_size=3)),
        # never empty: a types hint cannot give the width of 2-D list elements
        "edges": draw(st.lists(arrays(np.int32, st.tuples(ROWS, st.just(2))), min_size=1, max_size=2)),
        "jag": [draw(arrays(np.float64, st.tuples(ROWS, st.just(2)))), draw(arrays(np.float64, st.tuples(ROWS)))],
    }


TYPES = {"flashes": "Flash", "clusts": np.int64}


def batches_of(entries: st.SearchStrategy, max_batches: int = 3, max_entries: int = 3) -> st.SearchStrategy:
    batches = st.lists(st.lists(entries, min_size=1, max_size=max_entries), min_size=1, max_size=max_batches)
    return batches.map(unique_run_info)


def batch_data(entries: list[dict], start: int, extra: dict | None = None) -> dict:
    """Return the writer's input for a batch: one list per key, ``index`` and batch-level values."""
    data = {key: [entry[key] for entry in entries] for key in entries[0]}
    data["index"] = list(range(start, start + len(entries)))
    data.update(extra or {})
    return data


def assert_same(expected, actual, where: str) -> None:
    """Compare a written value with the value read back (NaN equal to NaN, dtypes kept)."""
    if isinstance(expected, np.ndarray):
        assert isinstance(actual, np.ndarray), where
        assert actual.dtype == expected.dtype and actual.shape == expected.shape, where
        np.testing.assert_array_equal(actual, expected, err_msg=where)
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), where
        for position, (item, got) in enumerate(zip(expected, actual)):
            assert_same(item, got, f"{where}[{position}]")
    elif hasattr(expected, "COLUMNS"):
        assert type(actual) is type(expected), where
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"
    elif isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(actual), where
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"
        if isinstance(expected, str):
            assert isinstance(actual, str), where


def check_reader(reader: HDF5Reader, expected: list[dict]) -> None:
    assert len(reader) == len(expected)
    for position, entry in enumerate(expected):
        data = reader[position]
        assert set(data) == set(entry) | {"file_index", "file_entry_index"}, position
        for key, value in entry.items():
            assert_same(value, data[key], f"entry {position}, {key!r}")


def write(path: str, batches: list[list[dict]], extra=None, **options) -> list[dict]:
    """Write batches (one call each); return the expected entries as read back."""
    expected = []
    with HDF5Writer(path, types=TYPES, **options) as writer:
        for batch in batches:
            batch_extra = extra(len(expected)) if extra else {}
            writer(batch_data(batch, len(expected), batch_extra), {"test": True})
            for entry in batch:
                expected.append({**entry, **batch_extra, "index": len(expected)})
    return expected


@LAYOUTS
@SETTINGS
@given(batches=batches_of(storage_entries(), max_batches=3, max_entries=2), loss=st.floats())
def test_every_storage_case_round_trips(format_version, batches, loss):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "out.h5")
        expected = write(path, batches, extra=lambda start: {"loss": loss}, format_version=format_version)
        with HDF5Reader(path) as reader:
            assert reader.format_version == format_version
            assert reader.cfg == {"test": True}
            assert reader.writer is not None and reader.writer.startswith("spineh5")
            check_reader(reader, expected)
            for position in range(len(reader)):
                assert reader.location(position) == (0, position)
                assert reader[position]["file_entry_index"] == position
            for key in ("flashes", "run_info", "tensor", "labels", "count", "label"):
                check_table(reader, key, [entry[key] for entry in expected])


def check_table(reader: HDF5Reader, key: str, values: list) -> None:
    """The bulk rows of a product, cut at the offsets, equal the per-entry values."""
    rows, offsets = reader.table(key)
    assert len(offsets) == len(values) + 1
    for position, value in enumerate(values):
        part = rows[offsets[position] : offsets[position + 1]]
        if isinstance(value, list):
            assert Flash.from_records(part) == value
        elif hasattr(value, "COLUMNS"):
            assert type(value).from_records(part) == [value]
        elif isinstance(value, np.ndarray):
            np.testing.assert_array_equal(part, value)
        else:
            assert len(part) == 1
            assert_same(value, part[0].item() if isinstance(part[0], np.generic) else part[0], key)


def lite_copy(obj):
    """Return what a lite file gives back for an object: its non-lite columns at their defaults."""
    return attrs.evolve(obj, **{column.name: column.make_default() for column in obj.COLUMNS if not column.lite})


@LAYOUTS
@pytest.mark.parametrize("class_name", sorted(REGISTRY))
@SMALL
@given(data=st.data(), lite=st.booleans())
def test_every_class_round_trips(format_version, class_name, data, lite):
    cls = REGISTRY[class_name]
    entry = st.fixed_dictionaries({"one": objects(cls), "many": st.lists(objects(cls), max_size=3)})
    batches = data.draw(batches_of(entry, max_batches=2, max_entries=2))
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "out.h5")
        expected = []
        with HDF5Writer(path, lite=lite, types={"many": class_name}, format_version=format_version) as writer:
            for batch in batches:
                start = len(expected)
                writer(batch_data(batch, start))
                expected.extend({**entry, "index": start + position} for position, entry in enumerate(batch))
        if lite:
            expected = [
                {
                    "one": lite_copy(entry["one"]),
                    "many": [lite_copy(obj) for obj in entry["many"]],
                    "index": entry["index"],
                }
                for entry in expected
            ]
        with HDF5Reader(path) as reader:
            check_reader(reader, expected)
            rows, offsets = reader.table("many")
            assert len(rows) == sum(len(entry["many"]) for entry in expected)
            for position, entry in enumerate(expected):
                assert cls.from_records(rows[offsets[position] : offsets[position + 1]]) == entry["many"]


@LAYOUTS
@SMALL
@given(
    sessions=st.lists(batches_of(storage_entries(), max_batches=2, max_entries=2), min_size=2, max_size=3).map(
        unique_run_info
    )
)
def test_appends_across_writer_sessions(format_version, sessions):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "out.h5")
        expected: list[dict] = []
        for session in sessions:
            with HDF5Writer(path, append=True, types=TYPES, format_version=format_version) as writer:
                for batch in session:
                    start = len(expected)
                    writer(batch_data(batch, start))
                    expected.extend({**entry, "index": start + k} for k, entry in enumerate(batch))
        with HDF5Reader(path) as reader:
            check_reader(reader, expected)


@LAYOUTS
@SMALL
@given(
    batches=batches_of(storage_entries(), max_batches=3, max_entries=3),
    file_ids=st.lists(st.integers(0, 2), min_size=9, max_size=9).map(sorted),
)
def test_split_outputs_read_back_as_one_sequence(format_version, batches, file_ids):
    with tempfile.TemporaryDirectory() as folder:
        prefixes = [os.path.join(folder, f"input_{number}.root") for number in range(3)]
        writer = HDF5Writer(prefix=prefixes, split=True, types=TYPES, format_version=format_version)
        written: list[dict] = []
        for batch in batches:
            ids = [file_ids[len(written) + k] for k in range(len(batch))]
            extra = {"file_index": ids, "file_entry_index": list(range(len(written), len(written) + len(batch)))}
            writer(batch_data(batch, len(written), extra))
            for k, entry in enumerate(batch):
                written.append({**entry, "file_index": ids[k], "file_entry_index": len(written)})
        writer.finalize()
        files = [name for name in writer.file_names if os.path.exists(name)]
        by_file = [[entry for entry in written if entry["file_index"] == number] for number in range(3)]
        expected = [
            {**entry, "source_file_index": entry["file_index"], "source_file_entry_index": entry["file_entry_index"]}
            for number in range(3)
            for entry in by_file[number]
        ]
        for position, entry in enumerate(expected):
            entry["index"] = position
        with HDF5Reader(os.path.join(folder, "input_*_spine.h5")) as reader:
            assert reader.file_paths == files
            check_reader(reader, expected)
            counts = [len(entries) for entries in by_file if entries]
            assert list(np.diff(reader.file_offsets)) == counts


@LAYOUTS
def test_extreme_values_round_trip(tmp_path, format_version):
    path = str(tmp_path / "extremes.h5")
    entries = [
        {
            "big": 2**63 - 1,
            "tiny": -(2**63),
            "nan": math.nan,
            "inf": -math.inf,
            "text": "héllo wörld ✓ 😀",
            "empty_text": "",
            "parts": [],
            "flat": [],
        },
        {
            "big": 0,
            "tiny": 0,
            "nan": 1.0,
            "inf": math.inf,
            "text": "ascii",
            "empty_text": "x",
            "parts": [Flash(id=2**63 - 1, time=math.nan, pe_per_ch=np.array([np.inf, -np.inf, np.nan], np.float32))],
            "flat": [np.array([-(2**63), 2**63 - 1])],
        },
    ]
    with HDF5Writer(path, types={"parts": "Flash", "flat": np.int64}, format_version=format_version) as writer:
        writer(batch_data(entries, 0))
    expected = [{**entry, "index": position} for position, entry in enumerate(entries)]
    with HDF5Reader(path) as reader:
        check_reader(reader, expected)


def assert_identical(a, b, where: str) -> None:
    """Values read from two files are identical: same types, dtypes and shapes; NaN equal to NaN."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for key in a:
            assert_identical(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for position, (x, y) in enumerate(zip(a, b)):
            assert_identical(x, y, f"{where}[{position}]")
    elif hasattr(a, "COLUMNS"):
        assert type(a) is type(b) and a == b, where
        for column in a.COLUMNS:
            x, y = getattr(a, column.name), getattr(b, column.name)
            assert type(x) is type(y) and getattr(x, "dtype", None) == getattr(y, "dtype", None), where
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    else:
        assert type(a) is type(b), (where, type(a), type(b))
        assert a == b or (a != a and b != b), (where, a, b)  # NaN equal to NaN


@SETTINGS
@given(batches=batches_of(storage_entries(), max_batches=3, max_entries=2), lite=st.booleans(), loss=st.floats())
def test_the_same_batches_written_as_v1_and_v2_read_back_identical(batches, lite, loss):
    with tempfile.TemporaryDirectory() as folder:
        paths = [os.path.join(folder, f"v{version}.h5") for version in (1, 2)]
        for version, path in zip((1, 2), paths):
            write(path, batches, extra=lambda start: {"loss": loss}, format_version=version, lite=lite)
        for build_classes in (True, False):
            with (
                HDF5Reader(paths[0], build_classes=build_classes) as v1,
                HDF5Reader(paths[1], build_classes=build_classes) as v2,
            ):
                assert (v1.format_version, v2.format_version) == (1, 2)
                assert len(v1) == len(v2) and v1.cfg == v2.cfg and sorted(v1.keys) == sorted(v2.keys)
                for position in range(len(v1)):
                    assert_identical(v1[position], v2[position], f"entry {position}")
                for key in ("flashes", "run_info", "tensor", "label", "count"):
                    rows1, offsets1 = v1.table(key)
                    rows2, offsets2 = v2.table(key)
                    np.testing.assert_array_equal(offsets1, offsets2)
                    if rows1.dtype.names:
                        assert sorted(rows1.dtype.names) == sorted(rows2.dtype.names), key
                        for name in rows1.dtype.names:
                            assert_identical(list(rows1[name]), list(rows2[name]), f"{key}.{name}")
                    else:
                        assert_identical(list(rows1), list(rows2), key)


# -- the bulk reader's range reads ----------------------------------------------------------------------


@SETTINGS
@given(
    rows=st.integers(1, 3000),
    ranges=st.lists(st.tuples(st.integers(0, 2999), st.integers(0, 40)), max_size=8),
    width=st.sampled_from([0, 3]),
)
def test_read_ranges_matches_numpy(rows, ranges, width):
    import h5py

    data = np.arange(rows * max(width, 1), dtype=np.int64).reshape((rows, width) if width else (rows,))
    starts = np.array([min(start, rows) for start, _ in ranges], dtype=np.int64)
    stops = np.array([min(start + length, rows) for start, length in ranges], dtype=np.int64)
    with tempfile.TemporaryFile() as handle, h5py.File(handle, "w") as h5file:
        dataset = h5file.create_dataset("data", data=data)
        got, offsets = read_ranges(dataset, starts, stops)
    want = [data[start:stop] for start, stop in zip(starts, stops)]
    np.testing.assert_array_equal(np.diff(offsets), [len(part) for part in want])
    if want:
        np.testing.assert_array_equal(got, np.concatenate(want))
    else:
        assert len(got) == 0


def test_read_ranges_sparse_selection_reads_once(tmp_path):
    import h5py

    rows = np.zeros(20000, dtype=[("a", np.int64), ("b", h5py.vlen_dtype(np.int32))])
    rows["a"] = np.arange(20000)
    for position in range(20000):
        rows["b"][position] = np.arange(position % 7, dtype=np.int32)
    with h5py.File(tmp_path / "sparse.h5", "w") as h5file:
        dataset = h5file.create_dataset("rows", data=rows)
        got, offsets = read_ranges(dataset, np.array([19997, 2, 19997]), np.array([19999, 4, 19998]))
        np.testing.assert_array_equal(got["a"], [19997, 19998, 2, 3, 19997])
        np.testing.assert_array_equal(got["b"][1], np.arange(19998 % 7))
        np.testing.assert_array_equal(got["b"][3], np.arange(3))
        np.testing.assert_array_equal(offsets, [0, 2, 4, 5])
        columns, _ = read_ranges(dataset, np.array([19997, 2]), np.array([19999, 4]), ["a"])
        assert columns.dtype.names == ("a",)
        np.testing.assert_array_equal(columns["a"], [19997, 19998, 2, 3])
