"""Cross-checks with SPINE itself: its reader loads what we write, its objects write like ours, and its writer
produces the same layout for the same input."""

from __future__ import annotations

import dataclasses
import json

import h5py
import numpy as np
import pytest

spine = pytest.importorskip("spine")

import spine.data as sd  # noqa: E402
from conftest import DATA, FULL, LITE  # noqa: E402
from spine.io.read import HDF5Reader  # noqa: E402
from spine.io.write import HDF5Writer as SpineWriter  # noqa: E402

from spineh5 import HDF5Writer, SpineH5Error  # noqa: E402
from spineh5.format.common import INFO  # noqa: E402
from spineh5.format.schema import SCHEMA, read_class_schemas  # noqa: E402
from spineh5.generated import REGISTRY  # noqa: E402
from spineh5.types.columns import values_equal  # noqa: E402
from spineh5.types.dtypes import describe_dtype  # noqa: E402

#: Object products of the test batches: key -> class (RunInfo and ImageMeta3D are one per entry).
LIST_CLASSES = {
    "trigger": "Trigger",
    "crthits": "CRTHit",
    "flashes": "Flash",
    "neutrinos": "Neutrino",
    "particles": "Particle",
    "reco_fragments": "RecoFragment",
    "truth_fragments": "TruthFragment",
    "reco_particles": "RecoParticle",
    "truth_particles": "TruthParticle",
    "reco_interactions": "RecoInteraction",
    "truth_interactions": "TruthInteraction",
    "metas_2d": "ImageMeta2D",
}


def _column_value(column, rng):
    if column.name == "units":
        return "cm"
    if column.enum is not None:
        return int(rng.choice([int(member) for member in column.enum]))
    if column.dtype == "str":
        return f"s{rng.integers(100)}"

    def draw(shape):
        if column.dtype == "bool":
            return rng.integers(0, 2, shape).astype(bool)
        if column.dtype in ("int32", "int64", "uint8"):
            return rng.integers(0, 100, shape).astype(column.dtype)
        return (rng.random(shape) * 100).astype(column.dtype)

    if column.storage == "fixed":
        return draw(column.length)
    if column.storage == "vlen":
        return draw(int(rng.integers(0, 4)))
    return draw(()).item()


def spine_object(class_name: str, rng):
    """A SPINE object of the class with random valid values in every stored (non-derived) field."""
    if class_name.startswith("ImageMeta"):
        n = 3 if class_name.endswith("3D") else 2
        lower = rng.integers(-5, 5, n).astype(float)
        return getattr(sd, class_name)(lower=lower, upper=lower + 2.0, size=np.full(n, 0.5), count=np.full(n, 4))
    kwargs = {c.name: _column_value(c, rng) for c in REGISTRY[class_name].COLUMNS if not c.derived}
    return getattr(sd, class_name)(**kwargs)


def generated_twin(obj):
    """The generated object with the SPINE object's value for every column (derived ones included)."""
    cls = REGISTRY[type(obj).__name__]
    return cls(**{c.name: getattr(obj, c.name) for c in cls.COLUMNS})


def spine_batch(i0: int, n: int, seed: int = 0, lists: tuple[str, ...] = tuple(LIST_CLASSES)) -> dict:
    """A batch of every storage case made of SPINE objects (ObjectList for empty lists), with the object
    list products ``lists``."""
    rng = np.random.default_rng(seed + 100 * i0)
    ids = list(range(i0, i0 + n))
    batch = {
        "index": ids,
        "file_index": [0] * n,
        "file_entry_index": [100 + i for i in ids],
        "loss": 0.25 * (i0 + 1),
        "acc": [i / 8 for i in ids],
        "name": [f"e{i}" for i in ids],
        "flag": [bool(i % 2) for i in ids],
        "run_info": [sd.RunInfo(run=1, subrun=2, event=i) for i in ids],
        "meta": [spine_object("ImageMeta3D", rng) for _ in ids],
        "data": [rng.random((i % 3, 5)) for i in ids],
        "seg": [rng.integers(0, 5, i % 4) for i in ids],
        "clusts": [
            sd.ObjectList([rng.integers(0, 9, k + 1) for k in range(i % 3)], np.empty(0, np.int64)) for i in ids
        ],
        "jag": [[rng.random((i % 3, 2)), rng.random(i % 4)] for i in ids],
    }
    for key in lists:
        class_name = LIST_CLASSES[key]
        default = getattr(sd, class_name)()
        batch[key] = [
            sd.ObjectList([spine_object(class_name, rng) for _ in range((i + len(key)) % 3)], default) for i in ids
        ]
    return batch


def generated_batch(batch: dict) -> dict:
    """The same batch with every SPINE object replaced by its generated twin (plain lists)."""
    out = {}
    for key, value in batch.items():
        if key in ("run_info", "meta"):
            out[key] = [generated_twin(obj) for obj in value]
        elif key in LIST_CLASSES:
            out[key] = [[generated_twin(obj) for obj in entry] for entry in value]
        elif key == "clusts":
            out[key] = [list(entry) for entry in value]
        else:
            out[key] = value
    return out


TYPES = {key: class_name for key, class_name in LIST_CLASSES.items()} | {"clusts": "int64"}


def snapshot(path, skip_info=()) -> dict:
    """Every object of a file with its attributes, dtype description, shape and content."""
    out = {}
    with h5py.File(path, "r") as f:

        def canon(value):
            if isinstance(value, h5py.RegionReference):
                space = h5py.h5r.get_region(value, f.id)
                none = space.get_select_type() == h5py.h5s.SEL_NONE
                return (h5py.h5r.get_name(value, f.id), None if none else space.get_select_bounds())
            if isinstance(value, np.void):
                return tuple(canon(v) for v in value)
            if isinstance(value, np.ndarray):
                return (value.dtype.str, value.shape, [canon(v) for v in value.ravel().tolist()])
            if isinstance(value, float) and value != value:
                return "nan"
            return value

        def visit(name, node):
            attrs = {k: canon(node.attrs[k]) for k in node.attrs if not (name == "info" and k in skip_info)}
            if isinstance(node, h5py.Dataset):
                out[name] = (node.shape, describe_dtype(node.dtype), attrs, [canon(row) for row in node[()]])
            else:
                out[name] = attrs

        f.visititems(visit)
    return out


def assert_same_object(read, original) -> None:
    cls = REGISTRY[type(original).__name__]
    assert type(read).__name__ == cls.CLASS_NAME
    for column in cls.COLUMNS:
        if not column.derived:
            assert values_equal(getattr(read, column.name), getattr(original, column.name)), column.name


def assert_spine_reads(path, batches, **reader_options) -> None:
    """SPINE's HDF5Reader opens the file and rebuilds every entry with the values written."""
    with h5py.File(path, "r") as f:
        stored = set(f["events"].dtype.names)
        classes = {f[key].attrs["class_name"] for key in stored if "class_name" in f[key].attrs}
        # the stored schema of each class (spineh5's files; none in SPINE's), which SPINE ignores
        assert set(read_class_schemas(f)) == (classes if "writer" in f["info"].attrs else set())
    reader = HDF5Reader(str(path), **reader_options)
    expected = [(b, k) for b in batches for k in range(len(b["index"]))]
    assert len(reader) == len(expected)
    for i, (batch, k) in enumerate(expected):
        entry = reader[i]
        assert stored <= set(entry)
        for key, value in batch.items():
            if key not in stored or key == "index":
                continue
            got, want = entry[key], value if np.isscalar(value) else value[k]
            if key in ("run_info", "meta"):
                assert_same_object(got, want)
            elif key in LIST_CLASSES:
                assert isinstance(got, list) and len(got) == len(want), key
                for read_obj, obj in zip(got, want):
                    assert_same_object(read_obj, obj)
            elif key in ("clusts", "jag"):
                assert len(got) == len(want), key
                assert all(np.array_equal(a, b) and a.shape == b.shape for a, b in zip(got, want)), key
            elif key == "name":
                assert got == want.encode()
            elif isinstance(want, np.ndarray):
                assert got.shape == want.shape and np.array_equal(got, want), key
            else:
                assert got == want, key
        assert entry["index"] == i


# -- SPINE's reader loads what we write -------------------------------------------------------------------------


@pytest.mark.parametrize("objects", ["generated", "spine"])
def test_spine_reader_rebuilds_every_storage_case(tmp_path, objects):
    path = tmp_path / "out.h5"
    batches = [spine_batch(0, 3), spine_batch(3, 2)]
    inputs = batches if objects == "spine" else [generated_batch(b) for b in batches]
    writer = HDF5Writer(str(path), types=TYPES)
    for i, batch in enumerate(inputs):
        writer(batch, {"base": {"seed": 1}} if i == 0 else None)
    writer.finalize()
    assert_spine_reads(path, batches)
    reader = HDF5Reader(str(path))
    assert reader.cfg == {"base": {"seed": 1}}


def test_spine_objects_and_generated_objects_give_identical_datasets(tmp_path):
    batches = [spine_batch(0, 3, seed=7), spine_batch(3, 3, seed=7)]
    paths = {}
    for kind, inputs in (("spine", batches), ("generated", [generated_batch(b) for b in batches])):
        paths[kind] = tmp_path / f"{kind}.h5"
        writer = HDF5Writer(str(paths[kind]), types=TYPES if kind == "generated" else None)
        for batch in inputs:
            writer(batch)
        writer.finalize()
    left, right = snapshot(paths["spine"]), snapshot(paths["generated"])
    assert left.keys() == right.keys()
    for name in left:
        assert left[name] == right[name], name


def test_spine_reader_reads_lite_files(tmp_path):
    path = tmp_path / "lite.h5"
    batch = spine_batch(0, 3)
    writer = HDF5Writer(str(path), lite=True)
    writer(batch)
    writer.finalize()
    reader = HDF5Reader(str(path))
    for i in range(3):
        for obj, read in zip(batch["reco_particles"][i], reader[i]["reco_particles"]):
            assert read.id == obj.id and len(read.index) == 0  # index is not in lite files


def test_spine_reader_reads_dummy_ds_without_keys(tmp_path):
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path), dummy_ds={"flashes": "Flash"})
    writer({"index": [0, 1], "acc": [0.5, 1.5]})
    writer.finalize()
    reader = HDF5Reader(str(path))
    assert [reader[i]["flashes"] for i in range(2)] == [[], []]
    assert [reader[i]["acc"] for i in range(2)] == [0.5, 1.5]


def test_spine_reader_reads_append_and_split_outputs(tmp_path):
    path = tmp_path / "out.h5"
    lists = ("reco_particles", "flashes")
    batches = [spine_batch(0, 2, lists=lists), spine_batch(2, 2, lists=lists)]
    for batch in batches:
        writer = HDF5Writer(str(path), append=True)
        writer(batch)
        writer.finalize()
    assert_spine_reads(path, batches)

    prefixes = [str(tmp_path / "a.root"), str(tmp_path / "b.root")]
    writer = HDF5Writer(prefix=prefixes, split=True)
    split = spine_batch(0, 4, lists=lists)
    split["file_index"] = [0, 0, 1, 1]
    writer(split)
    writer.finalize()
    halves = [{k: (v if np.isscalar(v) else v[:2]) for k, v in split.items()}]
    assert_spine_reads(tmp_path / "a_spine.h5", halves)
    reader = HDF5Reader(str(tmp_path / "b_spine.h5"))
    assert [reader[i]["file_entry_index"] for i in range(2)] == [102, 103]


def test_spine_reader_reads_empty_first_entries(tmp_path):
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path))
    writer(
        {
            "index": [0, 1],
            "data": [np.empty((0, 3)), np.ones((2, 3))],
            "parts": [sd.ObjectList([], sd.RecoParticle()), sd.ObjectList([], sd.RecoParticle())],
            "clusts": [sd.ObjectList([], np.empty(0, np.int32))] * 2,
        }
    )
    writer({"index": [2], "data": [np.zeros((1, 3))], "parts": [[sd.RecoParticle(id=5)]], "clusts": [[np.arange(3)]]})
    writer.finalize()
    reader = HDF5Reader(str(path))
    assert [reader[i]["data"].shape for i in range(3)] == [(0, 3), (2, 3), (1, 3)]
    assert [len(reader[i]["parts"]) for i in range(3)] == [0, 0, 1] and reader[2]["parts"][0].id == 5
    assert [len(reader[i]["clusts"]) for i in range(3)] == [0, 0, 1]


def test_spine_reader_reads_per_entry_api_output(tmp_path):
    path = tmp_path / "out.h5"
    batch = spine_batch(0, 2)
    writer = HDF5Writer(str(path), publish="in_place")
    writer.create(batch, {"x": 1})
    with h5py.File(path, "a") as f:
        data = writer.with_source_provenance(batch)
        for batch_id in range(2):
            writer.append_entry(f, data, batch_id)
    writer.finalize()
    assert_spine_reads(path, [batch])


def test_meta_alias_is_written_as_imagemeta3d(tmp_path):
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path))
    writer({"index": [0], "meta": [sd.Meta(lower=np.zeros(3), upper=np.ones(3), size=np.ones(3), count=np.ones(3))]})
    writer.finalize()
    with h5py.File(path, "r") as f:
        assert f["meta"].attrs["class_name"] == "ImageMeta3D"
    assert isinstance(HDF5Reader(str(path))[0]["meta"], sd.ImageMeta3D)


# -- our writer against SPINE's writer --------------------------------------------------------------------------


def worked_example() -> dict:
    """The input of the spec's worked example (section 2.4.1), with some non-default object values."""
    rng = np.random.default_rng(3)
    return {
        "index": np.arange(2),
        "file_index": [0, 0],
        "file_entry_index": [5, 6],
        "loss": 0.5,
        "acc": [0.1, 0.2],
        "name": ["a", "bb"],
        "flag": [True, False],
        "run_info": [sd.RunInfo(run=1, subrun=1, event=i) for i in range(2)],
        "meta": [spine_object("ImageMeta3D", rng) for _ in range(2)],
        "data": [rng.random((4, 5)), rng.random((0, 5))],
        "seg": [np.arange(4), np.arange(2)],
        "reco_particles": [
            [spine_object("RecoParticle", rng), spine_object("RecoParticle", rng)],
            sd.ObjectList([], sd.RecoParticle()),
        ],
        "truth_interactions": [[spine_object("TruthInteraction", rng)], sd.ObjectList([], sd.TruthInteraction())],
        "clusts": [[np.arange(3), np.arange(2)], sd.ObjectList([], np.empty(0, np.int64))],
        "jag": [[rng.random((3, 2)), rng.random(2)], [rng.random((1, 2)), rng.random(4)]],
    }


#: Columns whose dtype SPINE infers from values while we take it from the schema (spec section 1.1).
VALUE_TYPED = {
    "reco_particles": {"momentum"},
    "truth_particles": {"reco_momentum", "mass"},
    "truth_interactions": set(),
}


def _compound_parts(ds, key):
    skip = VALUE_TYPED.get(key, set())
    return [(name, describe_dtype(ds.dtype.fields[name][0])) for name in ds.dtype.names if name not in skip]


def _write_both(tmp_path, lite=False):
    keys = [k for k in worked_example() if k not in ("file_index", "file_entry_index")]
    cfg = {"base": {"iterations": 1}}
    ref = tmp_path / "spine.h5"
    spine_writer = SpineWriter(str(ref), keys=keys, dummy_ds={"flashes": "Flash"}, lite=lite)
    spine_writer(worked_example(), cfg)
    spine_writer.finalize()
    spine_writer.close()
    ours = tmp_path / "ours.h5"
    writer = HDF5Writer(str(ours), keys=keys, dummy_ds={"flashes": "Flash"}, lite=lite)
    writer(worked_example(), cfg)
    writer.finalize()
    return ref, ours


@pytest.mark.parametrize("lite", [False, True])
def test_worked_example_layout_matches_spine_writer(tmp_path, lite):
    ref, ours = _write_both(tmp_path, lite)
    with h5py.File(ref, "r") as a, h5py.File(ours, "r") as b:
        names_a, names_b = [], []
        a.visit(names_a.append)
        b.visit(names_b.append)
        assert f"{INFO}/{SCHEMA}" in names_b  # spineh5's stored schema, a member of info SPINE never reads
        names_b.remove(f"{INFO}/{SCHEMA}")
        assert sorted(names_a) == sorted(names_b)
        assert set(a["events"].dtype.names) == set(b["events"].dtype.names)
        assert list(b["events"].dtype.names) == sorted(b["events"].dtype.names)  # ours: sorted, SPINE: set order
        assert len(b["events"].dtype.names) == 16
        info_a, info_b = dict(a["info"].attrs), dict(b["info"].attrs)
        assert set(info_b) - set(info_a) == {"writer", "schema_version"}
        for attr in info_a:
            assert info_a[attr] == info_b[attr], attr
            assert describe_dtype(a["info"].attrs.get_id(attr).dtype) == describe_dtype(
                b["info"].attrs.get_id(attr).dtype
            ), attr
        for name in names_a:
            node_a, node_b = a[name], b[name]
            assert type(node_a) is type(node_b), name
            if name == "info":
                continue
            assert dict(node_a.attrs) == dict(node_b.attrs), name
            for attr in node_a.attrs:
                assert describe_dtype(node_a.attrs.get_id(attr).dtype) == describe_dtype(
                    node_b.attrs.get_id(attr).dtype
                ), (name, attr)
            if isinstance(node_a, h5py.Group):
                continue
            assert node_a.shape == node_b.shape and node_a.maxshape == node_b.maxshape, name
            if node_a.dtype.names is None or name == "events":
                if name != "events":
                    assert describe_dtype(node_a.dtype) == describe_dtype(node_b.dtype), name
                    assert not (node_a.compression or node_b.compression)
                continue
            assert _compound_parts(node_a, name) == _compound_parts(node_b, name), name
            assert node_a.dtype.names == node_b.dtype.names, name


def test_worked_example_values_match_spine_writer(tmp_path):
    ref, ours = _write_both(tmp_path)
    reference = snapshot(ref, skip_info=("writer", "schema_version"))
    written = snapshot(ours, skip_info=("writer", "schema_version"))
    assert written.pop(f"{INFO}/{SCHEMA}")  # spineh5's stored schema, a member of info SPINE never reads
    assert reference.keys() == written.keys()
    for name in reference:
        if name == "events":
            # same selections per key, in a different field order
            with h5py.File(ref, "r") as a:
                order_a = a["events"].dtype.names
            with h5py.File(ours, "r") as b:
                order_b = b["events"].dtype.names
            rows_a = [dict(zip(order_a, row)) for row in reference[name][3]]
            rows_b = [dict(zip(order_b, row)) for row in written[name][3]]
            assert rows_a == rows_b
            continue
        if name in VALUE_TYPED:
            with h5py.File(ref, "r") as a, h5py.File(ours, "r") as b:
                rows_a, rows_b = a[name][()], b[name][()]
                for column in rows_a.dtype.names:
                    left, right = rows_a[column], rows_b[column]
                    if column in VALUE_TYPED[name]:
                        assert np.allclose(left, right, rtol=1e-6, equal_nan=True), column
                    elif left.dtype == object:
                        assert all(np.array_equal(x, y) for x, y in zip(left, right)), column
                    else:
                        assert np.array_equal(left, right, equal_nan=left.dtype.kind == "f"), column
            continue
        assert reference[name] == written[name], name
    assert_spine_reads(ours, [worked_example()], skip_unknown_attrs=False)


def _default_valued(batch: dict) -> dict:
    """The batch with objects whose derived columns keep the dtypes of a default instance."""
    out = dict(batch)
    out["reco_particles"] = [[sd.RecoParticle(id=1), sd.RecoParticle(id=2)], batch["reco_particles"][1]]
    out["truth_interactions"] = [[sd.TruthInteraction(id=3)], batch["truth_interactions"][1]]
    return out


def _from_event(batch: dict, first: int) -> dict:
    """Return the batch with its run_info events renumbered from ``first``."""
    for position, info in enumerate(batch["run_info"]):
        info.event = first + position
    return batch


def _append_to_spine_file(tmp_path, make):
    keys = [k for k in worked_example() if k not in ("file_index", "file_entry_index")]
    path = tmp_path / "spine.h5"
    spine_writer = SpineWriter(str(path), keys=keys, dummy_ds={"flashes": "Flash"})
    spine_writer(make(), {"base": {"iterations": 1}})
    spine_writer.finalize()
    spine_writer.close()
    writer = HDF5Writer(str(path), append=True, keys=keys, dummy_ds={"flashes": "Flash"})
    writer(_from_event(make(), 2))  # the appended entries repeat no (run, subrun, event) triplet
    writer.finalize()
    assert_spine_reads(path, [make(), _from_event(make(), 2)])
    with h5py.File(path, "r") as f:
        assert "writer" not in f["info"].attrs  # the file's info is SPINE's, untouched but for complete
        assert f["info"].attrs["complete"] == np.True_


def test_append_to_a_file_written_by_spine(tmp_path):
    _append_to_spine_file(tmp_path, lambda: _default_valued(worked_example()))


def test_append_to_a_file_written_by_spine_with_value_typed_columns(tmp_path):
    _append_to_spine_file(tmp_path, worked_example)


def test_data_formats_match_spine(tmp_path):
    batch = worked_example()
    ours = HDF5Writer(str(tmp_path / "ours.h5"))
    theirs = SpineWriter(str(tmp_path / "spine.h5"))
    for key in batch:
        mine, reference = ours.get_data_type(batch, key), theirs.get_data_type(batch, key)
        assert mine.class_name == reference.class_name, key
        assert bool(mine.scalar) == bool(reference.scalar), key
        assert bool(mine.merge) == bool(reference.merge), key
        assert isinstance(mine.width, list) == isinstance(reference.width, list), key
        if isinstance(reference.width, list):
            assert set(mine.width) == set(reference.width) if mine.merge else mine.width == reference.width, key
        else:
            assert mine.width == reference.width, key
        if reference.class_name is None:
            assert describe_dtype(np.dtype(mine.dtype)) == describe_dtype(np.dtype(reference.dtype)), key
    types, object_dtypes = ours.get_data_types(batch, list(batch))
    spine_types, spine_object_dtypes = theirs.get_data_types(batch, set(batch))
    assert types.keys() == spine_types.keys()
    assert len(object_dtypes) == len(spine_object_dtypes)


#: Derived columns whose dtype SPINE infers from each object's values: a default instance gives another dtype
#: than a real event. The schema declares what SPINE writes for real events (``spine_f31056c8.h5``, see
#: docs/format/spine-v1-format.md section 2), which test_real_events_get_spines_dtypes checks.
VALUE_INFERRED = {
    ("Particle", "mass"),
    ("TruthFragment", "mass"),
    ("RecoParticle", "momentum"),
    ("TruthParticle", "ke"),
    ("TruthParticle", "reco_momentum"),
    ("TruthParticle", "mass"),
}


def _column_table(dtype: np.dtype) -> list[tuple[str, str]]:
    return [(name, describe_dtype(dtype.fields[name][0])) for name in dtype.names]


@pytest.mark.parametrize("lite", [False, True])
def test_object_dtypes_match_spine_for_default_objects(tmp_path, lite):
    ours = HDF5Writer(str(tmp_path / "ours.h5"), lite=lite)
    theirs = SpineWriter(str(tmp_path / "spine.h5"), lite=lite)
    golden = json.loads((DATA / "spine_f31056c8_columns.json").read_text())
    for class_name in REGISTRY:
        obj = getattr(sd, class_name)()
        expected = _column_table(np.dtype(theirs.get_object_dtype(obj)))
        real = dict(golden[class_name]["lite" if lite else "full"])
        expected = [(name, real[name] if (class_name, name) in VALUE_INFERRED else text) for name, text in expected]
        assert _column_table(np.dtype(ours.get_object_dtype(obj))) == expected, class_name
        assert {f.name for f in dataclasses.fields(obj)} >= {
            c.name for c in REGISTRY[class_name].COLUMNS if not c.derived
        }


def _dataset_dtypes(path) -> dict:
    """Every dataset's dtype; for ``events`` its set of fields (SPINE orders them as a Python set, we sort them)."""
    out: dict = {}

    def visit(name, node):
        if isinstance(node, h5py.Dataset):
            out[name] = sorted(_column_table(node.dtype)) if name == "events" else describe_dtype(node.dtype)

    with h5py.File(path, "r") as h5file:
        h5file.visititems(visit)
    return out


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # SPINE recomputes derived columns of invalid particles
@pytest.mark.parametrize(("source", "lite"), [(FULL, False), (LITE, True)])
def test_real_events_get_spines_dtypes(tmp_path, source, lite):
    """Real events, written once by SPINE's own writer (the fixture) and again by spineh5 from the objects SPINE's
    reader rebuilds, have identical dtypes in every dataset, the value-inferred derived columns included.

    (Writing SPINE's *rebuilt* objects with SPINE's writer again is no reference: its reader recomputes derived
    columns such as ``Particle.mass`` with other dtypes than its chain gave them.)"""
    reader = HDF5Reader(str(source), skip_unknown_attrs=True)
    entries = [reader[i] for i in range(len(reader))]
    runtime = {"index", "source_file_name", "source_file_size", "source_file_mtime_ns"}  # added by SPINE's reader
    keys = [key for key in entries[0] if key not in runtime]
    path = tmp_path / "ours.h5"
    with HDF5Writer(str(path), keys=keys, lite=lite) as writer:
        writer({key: [entry[key] for entry in entries] for key in ["index", *keys]}, {"base": {"seed": 5}})
    spine_dtypes, our_dtypes = _dataset_dtypes(source), _dataset_dtypes(path)
    assert set(our_dtypes) == set(spine_dtypes)
    for name, text in spine_dtypes.items():
        assert our_dtypes[name] == text, name
    assert "momentum: float64[3]" in our_dtypes["reco_particles"] and "mass: float32" in our_dtypes["truth_particles"]


# -- SPINE's writer behaviours (issue 12) ---------------------------------------------------------------------


def test_stored_keys_are_a_set_as_in_spine(tmp_path):
    data = {"index": [0], "acc": [1.0], "file_index": [0], "file_entry_index": [3]}
    for options in ({}, {"keys": ["acc"]}, {"skip_keys": ["acc"]}, {"dummy_ds": {"flashes": "Flash"}}):
        ours = HDF5Writer(str(tmp_path / "ours.h5"), **options).get_stored_keys(data)
        theirs = SpineWriter(str(tmp_path / "spine.h5"), **options).get_stored_keys(data)
        assert isinstance(ours, set) and ours == theirs, options


@pytest.mark.parametrize("given", ["Flash", "class", "object", "spine object"])
def test_dummy_ds_holds_default_instances_as_in_spine(tmp_path, given):
    from spineh5.generated import Flash

    kind = {"Flash": "Flash", "class": Flash, "object": Flash(), "spine object": sd.Flash()}[given]
    ours = HDF5Writer(str(tmp_path / "ours.h5"), dummy_ds={"flashes": kind})
    theirs = SpineWriter(str(tmp_path / "spine.h5"), dummy_ds={"flashes": "Flash"})
    assert isinstance(ours.dummy_ds["flashes"], Flash) and ours.dummy_ds["flashes"] == Flash()
    assert type(theirs.dummy_ds["flashes"]).__name__ == type(ours.dummy_ds["flashes"]).__name__
    ours({"index": [0, 1], "acc": [1.0, 2.0]})
    ours.finalize()
    with h5py.File(tmp_path / "ours.h5", "r") as h5file:
        assert h5file["flashes"].attrs["class_name"] == "Flash" and len(h5file["flashes"]) == 0


def test_unknown_dummy_ds_class_is_refused(tmp_path):
    with pytest.raises(ValueError, match="dummy_ds\\['x'\\]: unknown class 'Nope'"):
        HDF5Writer(str(tmp_path / "ours.h5"), dummy_ds={"x": "Nope"})


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"index": [0], "text": ["hello"]}, "text"),  # a list of strings: one string per entry
        ({"text": ["hello"]}, "text"),
        ({"index": [0], "text": "hello"}, "text"),  # one string for the batch
        ({"index": [0], "jag": [[np.ones((4, 2)), np.ones((4, 3))]]}, "jag"),  # 2-D arrays of widths 2 and 3
    ],
)
def test_data_format_of_strings_and_ragged_widths_match_spine(tmp_path, data, key):
    mine = HDF5Writer(str(tmp_path / "ours.h5")).get_data_type(data, key)
    reference = SpineWriter(str(tmp_path / "spine.h5")).get_data_type(data, key)
    assert (mine.class_name, bool(mine.scalar), bool(mine.merge), mine.width) == (
        reference.class_name,
        bool(reference.scalar),
        bool(reference.merge),
        reference.width,
    )
    assert describe_dtype(np.dtype(mine.dtype)) == describe_dtype(np.dtype(reference.dtype))


def test_missing_key_raises_key_error_like_spine(tmp_path):
    data = {"index": [0], "acc": [1.0]}
    with pytest.raises(KeyError):
        SpineWriter(str(tmp_path / "spine.h5")).get_data_type(data, "missing")
    with pytest.raises(KeyError, match="missing"):
        HDF5Writer(str(tmp_path / "ours.h5")).get_data_type(data, "missing")


@pytest.mark.parametrize(
    ("data", "builtin"),
    [
        ({"a": [1.0]}, KeyError),  # no index
        ({"index": [0], "a": [np.ones((2, 2, 2))]}, TypeError),  # a 3-d array
        ({"index": [0], "a": [np.array(["x"])]}, TypeError),  # an array of text
    ],
    ids=["no-index", "3d-array", "text-array"],
)
def test_misuse_raises_what_spine_raises(tmp_path, data, builtin):
    """Where SPINE's writer raised a built-in exception, ours derives from it too (and stays a SpineH5Error)."""
    with pytest.raises(builtin):
        SpineWriter(str(tmp_path / "spine.h5"))(dict(data))
    path = tmp_path / "ours.h5"
    with pytest.raises(builtin) as err:
        HDF5Writer(str(path))(dict(data))
    assert isinstance(err.value, SpineH5Error)
    assert str(err.value).startswith(f"product {err.value.key!r}: ") and err.value.key == (
        "index" if "index" not in data else "a"
    )
    assert not path.exists()  # refused before the file was created
