"""Generated collections: from_columns checks, object views, and the writer and reader taking and giving them.

Files written from collections must be byte-identical to files written from the same objects, in both
layouts; the V2 layout's direct build from columns must give the bytes of its split of compound rows.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spineh5 import HDF5Reader, HDF5Writer
from spineh5.errors import ColumnError, ProductError
from spineh5.generated import (
    CRTHit,
    CRTHitCollection,
    ParticlePID,
    ParticleShape,
    RecoParticle,
    RecoParticleCollection,
    RunInfo,
    RunInfoCollection,
    TruthInteraction,
    TruthInteractionCollection,
)
from spineh5.layouts.v2_write import V2Layout
from spineh5.types.collection import SchemaCollection, Vlen, collection_of

INT64 = st.integers(-(2**63), 2**63 - 1)
INT32 = st.integers(-(2**31), 2**31 - 1)
FLOATS = st.floats(allow_nan=True, allow_infinity=True)
FLOAT32 = st.floats(width=32, allow_nan=True, allow_infinity=True)
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=6)


def _int32s(max_size: int = 4) -> st.SearchStrategy:
    return st.lists(INT32, max_size=max_size).map(lambda v: np.array(v, np.int32))


def _float32s(max_size: int = 3) -> st.SearchStrategy:
    return st.lists(FLOAT32, max_size=max_size).map(lambda v: np.array(v, np.float32))


reco_particles = st.builds(
    RecoParticle,
    id=INT64,
    units=st.sampled_from(["cm", "px"]),
    index=_int32s(),
    match_ids=_int32s(2),
    match_overlaps=_float32s(),
    shape=st.sampled_from(list(ParticleShape)),
    pid=st.sampled_from(list(ParticlePID)),
    calo_ke=FLOATS,
    start_point=st.lists(FLOAT32, min_size=3, max_size=3),
    is_primary=st.booleans(),
)
crt_hits = st.builds(
    CRTHit,
    id=INT64,
    tagger=TEXT,
    feb_id=st.lists(st.integers(0, 255), max_size=3).map(lambda v: np.array(v, np.uint8)),
    total_pe=FLOATS,
)
truth_interactions = st.builds(
    TruthInteraction,
    id=INT64,
    topology=TEXT,
    creation_process=TEXT,
    index=_int32s(),
    particle_ids=_int32s(2),
    flash_times=_float32s(),
    particle_counts=st.lists(INT32, min_size=6, max_size=6),
)
PRODUCTS = {"reco_particles": reco_particles, "crthits": crt_hits, "truth_interactions": truth_interactions}
TYPES = {"reco_particles": "RecoParticle", "crthits": "CRTHit", "truth_interactions": "TruthInteraction"}


@st.composite
def batches(draw: st.DrawFn) -> list[dict]:
    """Return 1-2 batches of 1-3 entries, each object product a list of 0-3 objects per entry."""
    out, event = [], 0
    for _ in range(draw(st.integers(1, 2))):
        n = draw(st.integers(1, 3))
        batch: dict = {"index": list(range(event, event + n))}
        batch["run_info"] = [RunInfo(run=1, subrun=0, event=event + i) for i in range(n)]
        for key, objects in PRODUCTS.items():
            batch[key] = [draw(st.lists(objects, max_size=3)) for _ in range(n)]
        out.append(batch)
        event += n
    return out


def as_collections(batch: dict, every: int = 1) -> dict:
    """Return ``batch`` with object lists as collections (every ``every``-th entry; the others stay lists)."""
    out = dict(batch)
    out["run_info"] = RunInfoCollection.from_objects(batch["run_info"])
    for key in PRODUCTS:
        collection = batch[key][0][0].COLLECTION if batch[key][0] else None
        out[key] = [
            _collection(key, objects) if position % every == 0 else objects
            for position, objects in enumerate(batch[key])
        ]
        assert collection is None or isinstance(out[key][0], collection)
    return out


def _collection(key: str, objects: list) -> SchemaCollection:
    from spineh5.types.registry import REGISTRY

    return REGISTRY[TYPES[key]].COLLECTION.from_objects(objects)


def write(path: Path, batches: list[dict], format_version: int, **options) -> str:
    """Write ``batches``; return the file's SHA-256."""
    with HDF5Writer(str(path), format_version=format_version, overwrite=True, types=TYPES, **options) as writer:
        for batch in batches:
            writer(batch)
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- files: byte-identical whatever the input form ----------------------------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=batches(), format_version=st.sampled_from([1, 2]), lite=st.booleans())
def test_collections_write_the_bytes_of_their_objects(tmp_path: Path, data, format_version: int, lite: bool) -> None:
    objects = write(tmp_path / "objects.h5", data, format_version, lite=lite)
    columns = write(tmp_path / "columns.h5", [as_collections(b) for b in data], format_version, lite=lite)
    mixed = write(tmp_path / "mixed.h5", [as_collections(b, every=2) for b in data], format_version, lite=lite)
    assert columns == objects
    assert mixed == objects


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=batches(), lite=st.booleans())
def test_v2_built_from_columns_equals_the_split_of_compound_rows(tmp_path: Path, data, lite: bool, monkeypatch) -> None:
    direct = write(tmp_path / "direct.h5", data, 2, lite=lite)
    from_values = write(tmp_path / "values.h5", [_joined(b) for b in data], 2, lite=lite)
    with monkeypatch.context() as patch:
        patch.setattr(V2Layout, "columnar_objects", False)  # the writer hands compound rows, split by the plan
        split = write(tmp_path / "split.h5", data, 2, lite=lite)
    assert direct == split
    assert from_values == split


def _joined(batch: dict) -> dict:
    """Return ``batch`` with collections whose variable-length fields are values and offsets (not per-row arrays)."""
    out = as_collections(batch)
    for key in PRODUCTS:
        joined = []
        for collection in out[key]:
            columns = {c.name: collection.column(c.name) for c in collection.COLUMNS}
            joined.append(type(collection).from_columns(columns))
        out[key] = joined
    return out


def test_empty_entries_and_batches_of_collections_write_the_same_bytes(tmp_path: Path) -> None:
    batch = {
        "index": [0, 1, 2],
        "run_info": [RunInfo(run=1, subrun=0, event=e) for e in range(3)],
        "reco_particles": [[], [RecoParticle(id=1, index=np.arange(3, dtype=np.int32))], []],
        "crthits": [[], [], []],
        "truth_interactions": [[], [], []],
    }
    columns = as_collections(batch)
    columns["crthits"] = [CRTHitCollection.from_objects([]) for _ in range(3)]
    columns["truth_interactions"] = [TruthInteractionCollection.from_columns() for _ in range(3)]
    for version in (1, 2):
        assert write(tmp_path / "c.h5", [columns], version) == write(tmp_path / "o.h5", [batch], version)


def test_an_empty_collection_says_its_class_in_the_first_batch(tmp_path: Path) -> None:
    """A list of objects that is empty everywhere needs a types hint; an empty collection knows its class."""
    batch = {"index": [0], "parts": [RecoParticleCollection.from_columns()]}
    with HDF5Writer(str(tmp_path / "e.h5"), format_version=2) as writer:
        writer(batch)
    with h5py.File(tmp_path / "e.h5") as f:
        assert f["products/parts"].attrs["class_name"] == "RecoParticle"


def test_the_per_key_api_takes_collections(tmp_path: Path) -> None:
    batch = {
        "index": [0, 1],
        "run_info": [RunInfo(run=1, subrun=0, event=e) for e in range(2)],
        "reco_particles": [[RecoParticle(id=3, index=np.arange(2, dtype=np.int32))], []],
    }
    columns = dict(batch, reco_particles=[RecoParticleCollection.from_objects(o) for o in batch["reco_particles"]])
    digests = []
    for name, data in (("o", batch), ("c", columns)):
        path = tmp_path / f"{name}.h5"
        writer = HDF5Writer(str(path), overwrite=True, publish="in_place")  # the per-key API opens the final name
        writer.create(data, {})
        with h5py.File(path, "a") as f:
            for batch_id in range(2):
                writer.append_entry(f, writer.with_source_provenance(data), batch_id)
        writer.finalize()
        digests.append(hashlib.sha256(path.read_bytes()).hexdigest())
    assert digests[0] == digests[1]


def test_a_collection_of_another_class_is_refused(tmp_path: Path) -> None:
    batch = {"index": [0], "parts": [[RecoParticle(id=1)]]}
    with HDF5Writer(str(tmp_path / "w.h5"), format_version=2) as writer:
        writer(batch)
        with pytest.raises(ProductError, match=r"parts.*collection of CRTHit.*stores RecoParticle"):
            writer({"index": [1], "parts": [CRTHitCollection.from_objects([CRTHit()])]})


@pytest.mark.parametrize("format_version", [1, 2])
def test_a_refused_unit_in_a_collection_names_the_entry_and_row(tmp_path: Path, format_version: int) -> None:
    parts = [
        RecoParticleCollection.from_objects([RecoParticle()]),
        RecoParticleCollection.from_columns(units=["cm", "mm"]),
    ]
    with HDF5Writer(str(tmp_path / "u.h5"), format_version=format_version) as writer:
        with pytest.raises(ProductError, match=r"RecoParticle #1, field 'units': 'mm'") as caught:
            writer({"index": [0, 1], "parts": parts})
    assert caught.value.entry == 1


# -- the reader returns collections ------------------------------------------------------------------------


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=batches(), format_version=st.sampled_from([1, 2]))
def test_the_reader_returns_collections_equal_to_its_objects(tmp_path: Path, data, format_version: int) -> None:
    path = tmp_path / "r.h5"
    write(path, data, format_version)
    objects, columns = HDF5Reader(str(path)), HDF5Reader(str(path), build_classes="collection")
    written = [entry for batch in data for entry in range(len(batch["index"]))]
    assert len(columns) == len(written)
    for entry in range(len(columns)):
        left, right = objects[entry], columns[entry]
        assert right["run_info"] == left["run_info"]  # one object per entry stays an object
        for key in PRODUCTS:
            assert isinstance(right[key], SchemaCollection)
            assert right[key].equals(left[key])
            assert list(right[key]) == left[key]


def test_the_reader_refuses_an_unknown_build_classes(tmp_path: Path) -> None:
    path = tmp_path / "r.h5"
    write(path, [{"index": [0], "run_info": [RunInfo()], **{k: [[]] for k in PRODUCTS}}], 2)
    with pytest.raises(ValueError, match="build_classes must be True, False or 'collection'"):
        HDF5Reader(str(path), build_classes="columns")


# -- from_columns: what it accepts and refuses -------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.lists(reco_particles, max_size=5))
def test_from_columns_of_the_objects_columns_gives_the_objects(objects: list) -> None:
    collection = RecoParticleCollection.from_objects(objects)
    columns = {
        "id": [obj.id for obj in objects],
        "units": np.array([obj.units for obj in objects], dtype=object),
        "calo_ke": np.array([obj.calo_ke for obj in objects]),
        "shape": [obj.shape for obj in objects],
        "pid": np.array([int(obj.pid) for obj in objects], dtype=np.int64),
        "is_primary": np.array([obj.is_primary for obj in objects], dtype=bool),
        "start_point": np.array([obj.start_point for obj in objects], np.float64).reshape(-1, 3),
        "index": [obj.index for obj in objects],
        "match_ids": (
            np.concatenate([obj.match_ids for obj in objects] or [np.empty(0, np.int64)]),
            np.cumsum([0] + [len(obj.match_ids) for obj in objects]),
        ),
        "match_overlaps": [obj.match_overlaps.tolist() for obj in objects],
    }
    built = RecoParticleCollection.from_columns(**columns)
    assert built == collection
    assert built.equals(objects)
    assert built.to_objects() == objects
    assert [built[i] for i in range(len(objects))] == objects
    if objects:
        assert built[-1] == objects[-1]
        assert built[1:].equals(objects[1:])
        assert RecoParticleCollection.concat([built[:1], built[1:]]) == built


def _object_error(cls, rows: list[dict]) -> str:
    with pytest.raises(ColumnError) as caught:
        cls.to_records(rows)
    return str(caught.value)


@pytest.mark.parametrize(
    ("field", "values", "message"),
    [
        ("id", [1, 2, 3.5], "RecoParticle #2, field 'id': expected an integer"),
        ("id", np.array([0, 2**63], dtype=np.uint64), "RecoParticle #1, field 'id'"),
        ("shape", [1, 2, 99], "RecoParticle #2, field 'shape': not a value of ParticleShape"),
        ("shape", ["track", "nope"], "RecoParticle #1, field 'shape': unknown member name"),
        ("is_primary", [0, 1, 2], "RecoParticle #2, field 'is_primary': expected a bool"),
        ("calo_ke", np.array([True, False]), "RecoParticle #0, field 'calo_ke'"),
        ("units", ["cm", "a\x00b"], "RecoParticle #1, field 'units': HDF5 strings cannot hold NUL"),
        ("units", ["cm", 3], "RecoParticle #1, field 'units': expected a str"),
        ("start_point", np.ones((2, 2)), "RecoParticle #0, field 'start_point': expected 3 values, got 2"),
        ("index", [[1, 2], [1.5]], "RecoParticle #1, field 'index': cannot store float64 values as int32"),
        ("index", [[1], [2**40]], "RecoParticle #1, field 'index': values out of range for int32"),
    ],
)
def test_from_columns_refuses_what_the_object_path_refuses(field: str, values, message: str) -> None:
    with pytest.raises(ColumnError) as caught:
        RecoParticleCollection.from_columns(**{field: values})
    assert str(caught.value).startswith(message)
    assert caught.value.field == field
    rows = [{field: value} for value in list(values)]
    assert str(caught.value) == _object_error(RecoParticle, rows)  # the same words as the object path


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"id": [1, 2], "pid": [1, 2, 3]}, "RecoParticle.pid: has 3 rows, field 'id' has 2"),
        ({"idd": [1]}, "RecoParticle.idd: is not a field of RecoParticle (close match: 'id')"),
        ({"id": 5}, "RecoParticle.id: expected one value per row, got a scalar 5"),
        ({"index": ([1, 2, 3], [0, 2, 1])}, "RecoParticle #1, field 'index': offsets decrease"),
        ({"index": ([1, 2, 3], [0, 4])}, "RecoParticle.index: offsets span [0, 4], values hold 3"),
        ({"index": ([1.5, 2, 3], [0, 2, 3])}, "RecoParticle #0, field 'index': cannot store float64 values as int32"),
    ],
)
def test_from_columns_names_the_field_and_row_of_shape_problems(columns: dict, message: str) -> None:
    with pytest.raises(ColumnError) as caught:
        RecoParticleCollection.from_columns(**columns)
    assert str(caught.value).startswith(message)


def test_from_columns_casts_as_the_object_path_does() -> None:
    built = RecoParticleCollection.from_columns(
        id=np.array([1.0, -2.0]),  # integral floats become integers
        is_primary=[0, 1],
        shape=["track", ParticleShape.SHOWER],
        calo_ke=np.array([2**53 + 1, 1], dtype=np.int64),
        start_point=np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int16),
        index=(np.array([9, 1, 2, 3], dtype=np.int64), np.array([1, 3, 4])),  # offsets need not start at 0
    )
    objects = [
        RecoParticle(id=1, is_primary=False, shape="track", calo_ke=2**53 + 1, start_point=[1, 2, 3], index=[1, 2]),
        RecoParticle(id=-2, is_primary=True, shape=0, calo_ke=1, start_point=[4, 5, 6], index=[3]),
    ]
    assert built.equals(objects)
    assert built.id.dtype == np.int64 and built.shape.tolist() == [1, 0]
    assert isinstance(built.index, Vlen) and built.index.offsets.tolist() == [0, 2, 3]
    assert built["index"] is built.column("index")
    assert built[0].shape is ParticleShape.TRACK and built[0].index.dtype == np.int32


def test_object_views_are_copies_and_columns_default() -> None:
    built = RecoParticleCollection.from_columns(id=[4, 5])
    view = built[0]
    view.start_point[0] = 7.0
    assert np.isnan(built.start_point[0, 0])
    assert built[1] == RecoParticle(id=5)
    assert built.index.offsets.tolist() == [0, 0, 0]
    with pytest.raises(IndexError):
        built[2]
    with pytest.raises(AttributeError):
        built.no_such_field  # noqa: B018
    assert repr(built) == "<RecoParticleCollection of 2 RecoParticle>"
    assert RecoParticle.COLLECTION is RecoParticleCollection


@pytest.mark.parametrize("run_length", [1, 200])  # short runs take one index array, long ones slices
def test_multi_field_pools_from_values_and_offsets_keep_the_pool_order(tmp_path: Path, run_length: int) -> None:
    rng = np.random.default_rng(run_length)
    objects = [
        TruthInteraction(
            id=i,
            index=rng.integers(0, 1000, rng.integers(0, 2 * run_length)).astype(np.int32),
            particle_ids=rng.integers(0, 9, rng.integers(0, 2 * run_length)).astype(np.int32),
            topology="é" * i,
        )
        for i in range(6)
    ]
    joined = {c.name: TruthInteractionCollection.from_objects(objects).column(c.name) for c in TruthInteraction.COLUMNS}
    batch = {"index": [0], "run_info": [RunInfo()], "truth_interactions": [objects]}
    columns = dict(batch, truth_interactions=[TruthInteractionCollection.from_columns(joined)])
    assert write(tmp_path / "c.h5", [columns], 2) == write(tmp_path / "o.h5", [batch], 2)


def test_a_type_generated_before_collections_gets_one(tmp_path: Path) -> None:
    """Packages generated by an earlier spineh5 have no COLLECTION: the writer and reader make one."""
    import attrs

    from spineh5.types.objects import SchemaObject, column, object_type
    from spineh5.types.registry import register, unregister

    @object_type
    class OldType(SchemaObject):
        DTYPE = np.dtype([("id", np.int64), ("hits", h5py.vlen_dtype(np.int32))])
        LITE_DTYPE = DTYPE
        id: int = column("int64", default=-1)
        hits: np.ndarray = column("int32", storage="vlen")

    register(OldType)
    try:
        made = collection_of(OldType)
        assert collection_of(OldType) is made and made.__name__ == "OldTypeCollection"
        objects = [[OldType(id=1, hits=[1, 2])], []]
        for version in (1, 2):
            path = tmp_path / f"old{version}.h5"
            with HDF5Writer(str(path), format_version=version, overwrite=True) as writer:
                writer({"index": [0, 1], "old": objects})
            read = HDF5Reader(str(path), build_classes="collection")
            assert [read[i]["old"].equals(objects[i]) for i in range(2)] == [True, True]
        assert attrs.has(OldType)
    finally:
        unregister(OldType)
