"""The V2 layout written by ``HDF5Writer(format_version=2)``: golden structure, offsets, appends, refusals.

Every storage case (A-G of the spec, plus ``dummy_ds``) is written from one
batch builder; the tests check the file against the V2 contract
(``spine-v2-format.md``) and against the defects of SPINE's own V2
writer listed in its section 7.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
import yaml
from conftest import CFG, DATA
from conftest import EVERY_CASE_KEYS as KEYS
from conftest import every_case_batch as make_batch
from conftest import write_every_case as write

from spineh5 import HDF5Reader, HDF5Writer
from spineh5.errors import LayoutMismatchError, ProductError
from spineh5.generated import (
    REGISTRY,
    RecoParticle,
    RunInfo,
    TruthParticle,
)
from spineh5.layouts import REGISTRY as LAYOUTS
from spineh5.layouts import layout_class
from spineh5.layouts.v2_write import (
    OFFSET_CHUNK_ROWS,
    V2Layout,
    object_plan,
)

STORED = sorted([*KEYS, "index", "source_file_index", "source_file_entry_index", "flashes"])
#: V2 kind, scalar attribute and class of every stored product (spec section 2.1 table).
GOLDEN_KINDS = {
    "index": ("array", True, None),
    "source_file_index": ("array", True, None),
    "source_file_entry_index": ("array", True, None),
    "loss": ("array", True, None),
    "tag": ("string", True, None),
    "acc": ("array", True, None),
    "nhits": ("array", True, None),
    "flag": ("array", True, None),
    "name": ("string", True, None),
    "run_info": ("objects", True, "RunInfo"),
    "meta": ("objects", True, "ImageMeta3D"),
    "points": ("array", False, None),
    "seg": ("array", False, None),
    "clusts": ("list", False, None),
    "jag": ("multi_list", False, None),
    "reco_particles": ("objects", False, "RecoParticle"),
    "truth_interactions": ("objects", False, "TruthInteraction"),
    "crthits": ("objects", False, "CRTHit"),
    "flashes": ("objects", False, "Flash"),
}


def is_hdf5_bool(type_id: Any) -> bool:
    """Return whether an HDF5 type is h5py's bool: an ENUM over int8 with members FALSE=0, TRUE=1."""
    if type_id.get_class() != h5py.h5t.ENUM or type_id.get_size() != 1:
        return False
    members = [type_id.get_member_name(i) for i in range(type_id.get_nmembers())]
    return members == [b"FALSE", b"TRUE"] and [type_id.get_member_value(i) for i in range(2)] == [0, 1]


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(path: Path) -> dict[str, Any]:
    """Return every dataset's content and every attribute of a file (to show it is untouched)."""
    out: dict[str, Any] = {}
    with h5py.File(path, "r") as h5file:

        def visit(name: str, node: Any) -> None:
            out[name + "@attrs"] = {key: repr(value) for key, value in node.attrs.items()}
            if isinstance(node, h5py.Dataset):
                references = node.dtype.kind == "O" or any(
                    node.dtype.fields[field][0].kind == "O" for field in node.dtype.names or ()
                )
                # reference and vlen values read back as fresh Python objects: compare their shape (and file bytes)
                out[name] = node.shape if references else (node.shape, node[()].tobytes())

        h5file.visititems(visit)
    return out


@pytest.fixture(scope="module")
def base_v2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One file of one 3-entry batch of every case, written once (tests copy it before changing it)."""
    return write(tmp_path_factory.mktemp("v2") / "base.h5", [make_batch(0, 3)])


@pytest.fixture(scope="module")
def base_v2_lite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("v2") / "lite.h5", [make_batch(0, 3)], lite=True)


@pytest.fixture
def v2_file(base_v2: Path, tmp_path: Path) -> Path:
    path = tmp_path / "v2.h5"
    shutil.copyfile(base_v2, path)
    return path


# -- registration and format_version -------------------------------------------------------------------


def test_v2_is_registered() -> None:
    assert LAYOUTS[2].writer is V2Layout
    assert layout_class(2) is V2Layout


@pytest.mark.parametrize("bad", ["2", 2.5, 2.0, 3, 0, True, None, np.float64(2.0)])
def test_unsupported_format_versions_are_refused(tmp_path: Path, bad: Any) -> None:
    with pytest.raises(ValueError, match="format_version"):
        HDF5Writer(str(tmp_path / "x.h5"), format_version=bad)
    assert not (tmp_path / "x.h5").exists()


# -- golden structure ----------------------------------------------------------------------------------


def test_root_info_and_events(v2_file: Path) -> None:
    with h5py.File(v2_file, "r") as h5file:
        assert set(h5file) == {"info", "products", "events"}
        assert dict(h5file.attrs) == {}
        info = h5file["info"]
        attrs = info.attrs
        for name in ("version", "spine_version", "format", "cfg", "writer"):
            assert h5py.check_string_dtype(attrs.get_id(name).dtype).encoding == "utf-8", name
            assert isinstance(attrs[name], str)
            assert attrs.get_id(name).shape == ()
        assert attrs["format"] == "spine_hdf5"
        assert attrs["version"] == attrs["spine_version"]
        assert attrs.get_id("format_version").dtype == np.dtype("<i8")
        assert attrs["format_version"] == 2 and type(attrs["format_version"]) is np.int64
        assert attrs.get_id("schema_version").dtype == np.dtype("<i8")
        assert attrs["complete"] is np.True_
        assert is_hdf5_bool(attrs.get_id("complete").get_type())
        assert yaml.safe_load(attrs["cfg"]) == CFG
        events = h5file["events"]
        assert events.dtype == np.int64 and events.maxshape == (None,)
        assert events[:].tolist() == [0, 1, 2]


def test_products_kinds_scalar_and_class_names(v2_file: Path) -> None:
    with h5py.File(v2_file, "r") as h5file:
        products = h5file["products"]
        assert sorted(products) == STORED
        for key, (kind, scalar, class_name) in GOLDEN_KINDS.items():
            group = products[key]
            assert isinstance(group, h5py.Group), key
            assert group.attrs["kind"] == kind, key
            assert h5py.check_string_dtype(group.attrs.get_id("kind").dtype) is not None
            assert group.attrs["scalar"] is np.bool_(scalar), key
            assert is_hdf5_bool(group.attrs.get_id("scalar").get_type())
            assert group.attrs.get("class_name") == class_name, key
            assert "product_metadata" not in group.attrs


def test_no_vlen_no_references_anywhere_in_products(v2_file: Path) -> None:
    def check(dtype: np.dtype, name: str) -> None:
        if dtype.names:
            for field in dtype.names:
                check(dtype.fields[field][0], f"{name}.{field}")
            return
        base = dtype.subdtype[0] if dtype.subdtype else dtype
        assert h5py.check_vlen_dtype(base) is None, name
        assert h5py.check_string_dtype(base) is None, name
        assert h5py.check_ref_dtype(base) is None, name
        assert base.kind != "O", name

    with h5py.File(v2_file, "r") as h5file:
        datasets: list[tuple[str, h5py.Dataset]] = []
        h5file.visititems(lambda name, node: datasets.append((name, node)) if isinstance(node, h5py.Dataset) else None)
        assert datasets
        for name, dataset in datasets:
            check(dataset.dtype, name)


def test_golden_values_of_the_worked_example(v2_file: Path) -> None:
    """Spec section 5, the same input: the same datasets and values."""
    with h5py.File(v2_file, "r") as h5file:
        p = h5file["products"]
        assert p["acc/values"][:].tolist() == [0.1, 0.2, 0.30000000000000004]
        assert p["acc/event_offsets"][:].tolist() == [0, 1, 2, 3]
        assert p["nhits/values"].dtype == np.int32
        assert p["flag/values"].dtype == np.bool_
        assert is_hdf5_bool(p["flag/values"].id.get_type())
        assert p["loss/values"][:].tolist() == [0.5, 0.5, 0.5]
        assert p["name/values"].dtype == np.uint8
        assert p["name/values"][:].tobytes() == "abé".encode()
        assert p["name/event_offsets"][:].tolist() == [0, 1, 4, 4]
        assert p["tag/values"][:].tobytes() == b"run-Arun-Arun-A"
        assert p["tag/event_offsets"][:].tolist() == [0, 5, 10, 15]
        assert p["points/values"].shape == (3, 3) and p["points/values"].dtype == np.float32
        assert p["points/event_offsets"][:].tolist() == [0, 2, 2, 3]
        assert p["seg/values"][:].tolist() == [0, 1, 2]
        assert p["clusts/values"][:].tolist() == [0, 1, 2, 0, 1, 0]
        assert p["clusts/element_offsets"][:].tolist() == [0, 3, 5, 6]
        assert p["clusts/event_offsets"][:].tolist() == [0, 2, 2, 3]
        assert sorted(p["jag"]) == ["element_0", "element_1"]
        assert dict(p["jag/element_0"].attrs) == {}
        assert p["jag/element_0/values"].shape == (3, 2)
        assert p["jag/element_0/event_offsets"][:].tolist() == [0, 2, 2, 3]
        assert p["jag/element_1/values"][:].tolist() == [0, 1, 2, 0]
        assert p["jag/element_1/event_offsets"][:].tolist() == [0, 3, 4, 4]
        assert p["run_info/fixed"].dtype.names == ("run", "subrun", "event")
        assert p["run_info/event_offsets"][:].tolist() == [0, 1, 2, 3]
        assert list(p["run_info/variables"]) == []
        assert p["flashes/fixed"].shape == (0,)
        assert p["flashes/event_offsets"][:].tolist() == [0, 0, 0, 0]
        assert [p["flashes/variables"][name]["values"].shape for name in ("pool_0", "pool_1")] == [(0,), (0,)]

        reco = p["reco_particles"]
        assert reco["event_offsets"][:].tolist() == [0, 2, 2, 3]
        pools = reco["variables"]
        assert {name: (pools[name].attrs["kind"], pools[name].attrs["fields"]) for name in pools} == {
            "pool_0": ("string", "- units\n"),
            "pool_1": (
                "array",
                "- index\n- orig_index\n- match_ids\n- fragment_ids\n- crt_ids\n- ppn_ids\n- module_ids\n",
            ),
            "pool_2": ("array", "- match_overlaps\n- crt_times\n- crt_scores\n"),
        }
        assert pools["pool_0/values"][:].tobytes() == b"cmcmcm"
        assert pools["pool_1/values"].dtype == np.int32
        assert pools["pool_1/values"][:].tolist() == [0, 1, 2, 0, 1, 0, 2]
        assert pools["pool_2/values"][:].tolist() == [0.5, 0.5, 0.5]
        rows = reco["fixed"][:]
        assert rows["id"].tolist() == [0, 1, 2]
        # the table of spec section 5 (row 1 has no index values; match_ids has one value per row)
        assert rows["_var_offsets_0"].tolist() == [[0, 2], [2, 4], [4, 6]]
        assert rows["_var_offsets_1"].tolist() == [
            [0, 3, 3, 4, 4, 4, 4, 4],
            [4, 4, 4, 5, 5, 5, 5, 5],
            [5, 6, 6, 7, 7, 7, 7, 7],
        ]
        assert rows["_var_offsets_2"].tolist() == [[0, 1, 1, 1], [1, 2, 2, 2], [2, 3, 3, 3]]

        crt = p["crthits/variables"]
        assert crt["pool_0"].attrs["kind"] == "string" and crt["pool_0"].attrs["fields"] == "- units\n- tagger\n"
        assert crt["pool_1"].attrs["kind"] == "array" and crt["pool_1/values"].dtype == np.uint8
        assert crt["pool_0/values"][:].tobytes() == b"cmtopcmtop"


def test_fixed_and_pools_come_from_the_schema_for_every_class() -> None:
    """``fixed`` is the V1 compound minus its VLEN members, in order, then one helper per pool (Appendix A)."""
    for class_name, cls in REGISTRY.items():
        for lite, dtype in ((False, cls.DTYPE), (True, cls.LITE_DTYPE)):
            plan = object_plan(dtype)
            columns = [column for column in cls.COLUMNS if column.name in dtype.names]
            fixed = [c.name for c in columns if c.storage != "vlen" and c.dtype != "str"]
            assert list(plan.fixed_names) == fixed, class_name
            helpers = [name for name in plan.fixed_dtype.names if name.startswith("_var_offsets_")]
            assert list(plan.fixed_dtype.names) == fixed + helpers
            assert helpers == [f"_var_offsets_{i}" for i in range(len(plan.pools))]
            for pool in plan.pools:
                assert plan.fixed_dtype.fields[pool.column][0].shape == (len(pool.fields) + 1,)
                assert plan.fixed_dtype.fields[pool.column][0].base == np.int64
            pooled = [c.name for c in columns if c.storage == "vlen" or c.dtype == "str"]
            assert sorted(f for pool in plan.pools for f in pool.fields) == sorted(pooled), (class_name, lite)
            first = [min(pooled.index(f) for f in pool.fields) for pool in plan.pools]
            assert first == sorted(first), (class_name, lite)


def test_appendix_a_pools() -> None:
    def pools(cls: type, lite: bool = False) -> list[tuple[str, str, list[str]]]:
        plan = object_plan(cls.LITE_DTYPE if lite else cls.DTYPE)
        return [(pool.kind, pool.base.name, list(pool.fields)) for pool in plan.pools]

    assert pools(REGISTRY["CRTHit"]) == [("string", "uint8", ["units", "tagger"]), ("array", "uint8", ["feb_id"])]
    assert pools(REGISTRY["Flash"]) == [("string", "uint8", ["units"]), ("array", "float32", ["pe_per_ch"])]
    assert pools(REGISTRY["RunInfo"]) == []
    truth = pools(REGISTRY["TruthInteraction"])
    assert [kind for kind, _, _ in truth] == ["array", "string", "array"]
    assert truth[0][2][:4] == ["index_adapt", "index_g4", "index", "orig_index"]
    lite = pools(REGISTRY["TruthInteraction"], lite=True)
    assert [kind for kind, _, _ in lite] == ["string", "array", "array"], "lite renumbers the Truth* pools"
    assert "index" not in lite[1][2] and lite[1][2][0] == "match_ids"
    reco_lite = pools(RecoParticle, lite=True)
    assert reco_lite[1][2] == ["match_ids", "fragment_ids", "crt_ids", "ppn_ids", "module_ids"]


def test_fixture_layout_matches_ours_for_unchanged_classes() -> None:
    """SPINE's own V2 file, for classes that did not change after 0.14.1: identical ``fixed`` dtype and pools."""
    with h5py.File(DATA / "spine_head_v2.h5", "r") as h5file:
        for key in ("run_info", "meta", "trigger", "crthits", "flashes", "neutrinos"):
            group = h5file["products"][key]
            plan = object_plan(REGISTRY[group.attrs["class_name"]].DTYPE)
            stored = group["fixed"].dtype
            assert stored.names == plan.fixed_dtype.names, key
            for name in stored.names:
                ours, theirs = plan.fixed_dtype.fields[name][0], stored.fields[name][0]
                assert ours.base.str == theirs.base.str and ours.shape == theirs.shape, (key, name)
                enum_ours, enum_theirs = h5py.check_enum_dtype(ours.base), h5py.check_enum_dtype(theirs.base)
                assert (enum_ours is None) == (enum_theirs is None), (key, name)
            for pool in plan.pools:
                stored_pool = group["variables"][pool.name]
                assert stored_pool.attrs["kind"] == pool.kind and stored_pool.attrs["fields"] == pool.fields_yaml()
                assert stored_pool["values"].dtype == pool.base


def test_layout_is_the_same_for_every_file_of_a_type(base_v2: Path, tmp_path: Path) -> None:
    first = base_v2
    batch = make_batch(1, 4)  # starts with the all-empty pattern, other strings
    types = {"reco_particles": "RecoParticle", "truth_interactions": "TruthInteraction"}
    second = write(tmp_path / "b.h5", [batch], types=types)
    with h5py.File(first, "r") as a, h5py.File(second, "r") as b:
        for key in ("reco_particles", "truth_interactions", "crthits", "flashes", "run_info"):
            ga, gb = a["products"][key], b["products"][key]
            assert ga["fixed"].dtype == gb["fixed"].dtype, key
            assert {n: dict(ga["variables"][n].attrs) for n in ga["variables"]} == {
                n: dict(gb["variables"][n].attrs) for n in gb["variables"]
            }, key


def test_offsets_contracts(tmp_path: Path) -> None:
    """Every offsets dataset: int64, starts at 0, never decreases, one more row than its items, ends at the data."""
    path = write(tmp_path / "two.h5", [make_batch(0, 3), make_batch(3, 4)])
    with h5py.File(path, "r") as h5file:
        n = h5file["events"].shape[0]
        assert n == 7
        checked = 0
        for key, group in h5file["products"].items():
            kind = group.attrs["kind"]
            parts = [group[name] for name in group if name.startswith("element_")] if kind == "multi_list" else [group]
            for part in parts:
                offsets = part["event_offsets"][:]
                assert part["event_offsets"].dtype == np.int64
                assert len(offsets) == n + 1 and offsets[0] == 0 and np.all(np.diff(offsets) >= 0), key
                if kind == "list":
                    elements = part["element_offsets"][:]
                    assert elements[0] == 0 and np.all(np.diff(elements) >= 0)
                    assert offsets[-1] == len(elements) - 1
                    assert elements[-1] == part["values"].shape[0]
                elif kind == "objects":
                    fixed = part["fixed"][:]
                    assert offsets[-1] == len(fixed)
                    for pool in part["variables"].values():
                        column = fixed[f"_var_offsets_{pool.name.rsplit('_', 1)[-1]}"]
                        if not len(fixed):
                            assert pool["values"].shape == (0,)
                            continue
                        assert column[0, 0] == 0 and column[-1, -1] == pool["values"].shape[0]
                        assert np.all(np.diff(column, axis=1) >= 0)
                        assert np.array_equal(column[1:, 0], column[:-1, -1]), "rows packed without gaps"
                else:
                    assert offsets[-1] == part["values"].shape[0]
                checked += 1
        assert checked == len(STORED) + 1  # jag has two elements


def test_offset_datasets_get_sensible_chunks(v2_file: Path) -> None:
    """SPINE chunks every offsets dataset as (1,): one 8-byte chunk per boundary (spec section 7, item 7)."""
    with h5py.File(v2_file, "r") as h5file:
        offsets: list[h5py.Dataset] = []
        values: list[h5py.Dataset] = []

        def visit(name: str, node: Any) -> None:
            if isinstance(node, h5py.Dataset):
                (offsets if name.endswith("_offsets") else values).append(node)

        h5file["products"].visititems(visit)
        assert len(offsets) > 20
        for dataset in offsets:
            assert dataset.chunks == (OFFSET_CHUNK_ROWS,) and dataset.maxshape == (None,), dataset.name
            assert dataset.compression is None
        for dataset in values:
            assert dataset.chunks is not None and dataset.maxshape[0] is None
            row_bytes = dataset.dtype.itemsize * int(np.prod(dataset.shape[1:], dtype=np.int64))
            assert dataset.chunks[0] * row_bytes >= 1024, dataset.name
        assert h5file["events"].chunks == (OFFSET_CHUNK_ROWS,)
    assert OFFSET_CHUNK_ROWS >= 512


def test_chunk_and_compression_options_apply_to_values(tmp_path: Path) -> None:
    path = write(tmp_path / "c.h5", [make_batch()], compression="gzip", chunk_rows={"points": 100, "jag": 10})
    with h5py.File(path, "r") as h5file:
        p = h5file["products"]
        assert p["points/values"].chunks == (100, 3) and p["points/values"].compression == "gzip"
        assert p["jag/element_0/values"].chunks == (10, 2) and p["jag/element_1/values"].chunks == (10,)
        assert p["reco_particles/fixed"].compression == "gzip"
        assert p["points/event_offsets"].compression is None


# -- reading back what was written -------------------------------------------------------------------


def test_empty_object_lists_read_back_as_empty_lists(v2_file: Path) -> None:
    """Spec section 7, item 1: SPINE cannot read back entries whose object list is empty."""
    with HDF5Reader(str(v2_file)) as reader:
        entry = reader[1]
        for key in ("reco_particles", "truth_interactions", "crthits", "flashes"):
            assert entry[key] == [] and isinstance(entry[key], list), key
        assert reader.spec("reco_particles").class_name == "RecoParticle"
        assert [reader[i]["flashes"] for i in range(3)] == [[], [], []]
        assert entry["clusts"] == [] and entry["points"].shape == (0, 3) and entry["seg"].dtype == np.int64
        assert [part.shape for part in entry["jag"]] == [(0, 2), (1,)]
        full = reader[0]
        assert [type(obj) for obj in full["reco_particles"]] == [RecoParticle, RecoParticle]


def test_first_entry_empty_takes_its_class_from_a_hint(tmp_path: Path) -> None:
    batch = make_batch(1, 2)  # entry pattern 1 first: every list empty
    types = {"reco_particles": "RecoParticle", "truth_interactions": "TruthInteraction", "clusts": "int64"}
    path = write(tmp_path / "hint.h5", [batch], types=types)
    with h5py.File(path, "r") as h5file:
        assert h5file["products/reco_particles"].attrs["class_name"] == "RecoParticle"
        assert h5file["products/reco_particles/event_offsets"][:].tolist() == [0, 0, 1]
    with HDF5Reader(str(path)) as reader:
        assert reader[0]["reco_particles"] == []
        assert [obj.id for obj in reader[1]["reco_particles"]] == [2]


def test_lite_files(base_v2_lite: Path) -> None:
    path = base_v2_lite
    with h5py.File(path, "r") as h5file:
        fields = yaml.safe_load(h5file["products/reco_particles/variables/pool_1"].attrs["fields"])
        assert "index" not in fields and "orig_index" not in fields
        assert h5file["products/truth_interactions/variables/pool_0"].attrs["kind"] == "string"
    with HDF5Reader(str(path)) as reader:
        particle = reader[0]["reco_particles"][0]
        assert particle.index.size == 0 and particle.match_ids.tolist() == [0]


# -- appends ---------------------------------------------------------------------------------------------


def test_append_from_a_new_writer_session_for_every_kind(tmp_path: Path) -> None:
    """Spec section 7, items 2-3: SPINE's cross-session appends fail or corrupt the file."""
    path = write(tmp_path / "a.h5", [make_batch(0, 3)])
    write(path, [make_batch(3, 3), make_batch(6, 2)], append=True)
    reference = write(tmp_path / "ref.h5", [make_batch(0, 3), make_batch(3, 3), make_batch(6, 2)])
    with h5py.File(path, "r") as h5file:
        assert h5file["events"][:].tolist() == list(range(8))
        assert h5file["info"].attrs["complete"]
        assert h5file["products/reco_particles/event_offsets"][:].tolist() == [0, 2, 2, 3, 5, 5, 6, 8, 8]
        column = h5file["products/reco_particles/fixed"]["_var_offsets_1"]
        assert np.array_equal(column[1:, 0], column[:-1, -1]), "pool offsets continue across sessions"
    assert snapshot(path) == snapshot(reference)
    with HDF5Reader(str(path)) as appended, HDF5Reader(str(reference)) as whole:
        assert len(appended) == 8
        for i in range(8):
            a, b = appended[i], whole[i]
            assert a.keys() == b.keys()
            for key in KEYS:
                assert _same(a[key], b[key]), (i, key)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    return type(a) is type(b) and a == b


def test_batches_of_one_session_append_in_place(tmp_path: Path) -> None:
    path = write(tmp_path / "s.h5", [make_batch(0, 2), make_batch(2, 1), make_batch(3, 3)])
    with h5py.File(path, "r") as h5file:
        assert h5file["events"][:].tolist() == list(range(6))
        assert h5file["products/clusts/event_offsets"][:].tolist() == [0, 2, 2, 3, 5, 5, 6]
        assert h5file["products/name/values"][:].tobytes() == "abéabé".encode()


def _refused(path: Path, batch: dict, match: str, **options: Any) -> None:
    """The append is refused with a message naming the difference, and the file keeps every byte."""
    digest = file_hash(path)
    with pytest.raises(LayoutMismatchError, match=match):
        write(path, [batch], append=True, **options)
    assert file_hash(path) == digest


def _replace(batch: dict, key: str, value: Any) -> dict:
    return {**batch, key: value}


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda b: _replace(b, "acc", [np.zeros(2) for _ in range(3)]), r"'acc': stored as scalar, data is array"),
        (
            lambda b: _replace(b, "points", [p.astype(np.float64) for p in b["points"]]),
            r"'points': stored dtype float32",
        ),
        (lambda b: _replace(b, "points", [np.zeros((len(p), 4), np.float32) for p in b["points"]]), r"widths"),
        (lambda b: _replace(b, "nhits", [int(v) for v in b["nhits"]]), r"'nhits': stored dtype int32 differs"),
        (
            lambda b: _replace(b, "reco_particles", [[TruthParticle(id=1)] for _ in range(3)]),
            r"'reco_particles': stores RecoParticle objects, data has TruthParticle",
        ),
        (lambda b: _replace(b, "run_info", [[RunInfo()] for _ in range(3)]), r"'run_info': stored as object, data is"),
        (lambda b: _replace(b, "clusts", [[np.zeros(2, np.float32)]] * 3), r"'clusts': stored dtype int64"),
        (lambda b: _replace(b, "name", [np.int64(1)] * 3), r"'name': stored dtype str"),
    ],
    ids=["kind", "dtype", "width", "scalar-dtype", "class", "object-vs-list", "list-dtype", "string"],
)
def test_append_refuses_a_different_batch_before_writing(v2_file: Path, change: Any, match: str) -> None:
    _refused(v2_file, change(make_batch(3)), match)


def test_append_refuses_extra_and_missing_keys(v2_file: Path) -> None:
    path = v2_file
    _refused(
        path,
        {**make_batch(3), "extra": [1.0, 2.0, 3.0]},
        r"products not in the file: \['extra'\]",
        keys=[*KEYS, "extra"],
    )
    _refused(
        path,
        make_batch(3),
        r"products in the file but not in the data: \['seg'\]",
        keys=[k for k in KEYS if k != "seg"],
    )


def test_append_refuses_another_lite_setting(v2_file: Path, base_v2_lite: Path, tmp_path: Path) -> None:
    full = v2_file
    _refused(
        full,
        make_batch(3),
        r"'reco_particles': the file stores lite=False RecoParticle rows, data is lite=True",
        lite=True,
    )
    lite = tmp_path / "lite.h5"
    shutil.copyfile(base_v2_lite, lite)
    _refused(lite, make_batch(3), r"the file stores lite=True", lite=False)


@pytest.mark.parametrize(("first", "second"), [(1, 2), (2, 1)])
def test_mixed_version_appends_are_refused(tmp_path: Path, first: int, second: int) -> None:
    path = write(tmp_path / "m.h5", [make_batch()], format_version=first)
    digest = file_hash(path)
    with pytest.raises(
        LayoutMismatchError, match=f"format_version={first} file, this writer writes format_version={second}"
    ):
        write(path, [make_batch(3)], format_version=second, append=True)
    assert file_hash(path) == digest


def test_append_to_spine_fixture_is_refused_naming_the_later_columns() -> None:
    """SPINE's later classes have columns our schema lacks: appending our rows would misalign them."""
    with h5py.File(DATA / "spine_head_v2.h5", "r") as h5file:
        layout = V2Layout(h5file)
        specs = {key: layout.stored_spec(key) for key in layout.stored_keys()}
        assert layout.differences(specs) == []
        problems = layout.differences({**specs, "particles": _spec_of("particles", "Particle")})
    assert len(problems) == 1
    assert "'particles': stored Particle columns differ" in problems[0]
    assert "columns only in the file: ['first_step_t', 'last_step_t']" in problems[0]


def _spec_of(key: str, class_name: str) -> Any:
    from spineh5.products import Kind, object_spec

    return object_spec(key, Kind.OBJECTS, class_name, False)


def test_a_stored_key_missing_from_a_later_batch_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "s.h5"
    writer = HDF5Writer(str(path), keys=KEYS, dummy_ds={"flashes": "Flash"}, format_version=2, publish="in_place")
    writer(make_batch(0, 3), cfg=CFG)
    writer.flush()
    before = snapshot(path)
    broken = make_batch(3, 3)
    del broken["seg"]
    with pytest.raises(ProductError, match="seg"):
        writer(broken)
    writer.close()
    assert snapshot(path) == before


def test_layout_refuses_a_batch_without_every_stored_product(v2_file: Path) -> None:
    """The layout itself never half-writes a batch (SPINE silently skips a missing product)."""
    from spineh5.payload import prepare

    path = v2_file
    before = snapshot(path)
    with h5py.File(path, "a") as h5file:
        layout = V2Layout(h5file)
        batch = make_batch(3)
        specs = {key: layout.stored_spec(key) for key in layout.stored_keys()}
        payloads = {key: prepare(specs[key], batch[key], 3, False) for key in KEYS}
        with pytest.raises(LayoutMismatchError, match=r"missing from the batch: \['flashes', 'index'"):
            layout.append(payloads, 3)
    assert snapshot(path) == before


def test_failed_append_is_rolled_back(v2_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from spineh5.layouts import v2_write as layout_v2

    path = v2_file
    before = snapshot(path)
    calls = {"n": 0}
    original = layout_v2._append_rows

    def failing(dataset: h5py.Dataset, rows: np.ndarray, *args: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 25:
            raise OSError("disk full")
        return original(dataset, rows, *args)

    monkeypatch.setattr(layout_v2, "_append_rows", failing)
    writer = HDF5Writer(str(path), keys=KEYS, dummy_ds={"flashes": "Flash"}, format_version=2, append=True)
    with pytest.raises(OSError, match="disk full"):
        writer(make_batch(3))
    writer.close()
    assert calls["n"] == 25
    after = snapshot(path)
    after["info@attrs"] = before["info@attrs"]  # only `complete` was set to False by the append
    assert after == before


def test_append_refuses_typed_products_and_damaged_offsets(v2_file: Path) -> None:
    path = v2_file
    with h5py.File(path, "a") as h5file:
        h5file["products/points"].attrs["product_metadata"] = "product_type: tensor\n"
        h5file["products/seg/event_offsets"].resize(3, axis=0)
    with h5py.File(path, "r") as h5file:
        layout = V2Layout(h5file)
        specs = {key: layout.stored_spec(key) for key in layout.stored_keys()}
        problems = layout.differences(specs)
    assert any("'points': a SPINE typed product" in p for p in problems), problems
    assert any("'seg'" in p and "has 3 rows, expected entries + 1 = 4" in p for p in problems), problems


def test_append_refuses_a_file_without_products(tmp_path: Path) -> None:
    path = tmp_path / "bare.h5"
    with h5py.File(path, "w") as h5file:
        h5file.create_group("info").attrs["format_version"] = np.int64(2)
        h5file.create_dataset("events", data=np.zeros(0, np.int64), maxshape=(None,))
    _refused(path, make_batch(), "has no V2 'products' group")


def test_per_key_v1_api_refuses_v2_files(v2_file: Path) -> None:
    with h5py.File(v2_file, "a") as h5file, pytest.raises(LayoutMismatchError, match="format_version=2"):
        HDF5Writer.store(h5file, np.zeros(1, dtype=[("seg", h5py.regionref_dtype)])[0], "seg", np.arange(3))


def test_split_files_each_hold_their_entries(tmp_path: Path) -> None:
    batch = {**make_batch(0, 3), "file_index": [0, 0, 1]}
    names = [str(tmp_path / "in_a.root"), str(tmp_path / "in_b.root")]
    writer = HDF5Writer(
        prefix=names, split=True, keys=KEYS, dummy_ds={"flashes": "Flash"}, format_version=2, keep_open=False
    )
    with writer:
        writer(batch, cfg=CFG)
    paths = writer.file_names
    with h5py.File(paths[0], "r") as first, h5py.File(paths[1], "r") as second:
        assert first["events"][:].tolist() == [0, 1] and second["events"][:].tolist() == [0]
        assert first["products/reco_particles/event_offsets"][:].tolist() == [0, 2, 2]
        assert second["products/reco_particles/event_offsets"][:].tolist() == [0, 1]
        assert second["products/reco_particles/fixed"]["_var_offsets_1"][0, 0] == 0, "offsets start at 0 per file"
    with HDF5Reader(paths) as reader:
        assert [obj.id for obj in reader[2]["reco_particles"]] == [2]
