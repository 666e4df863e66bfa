"""HDF5Writer: every storage case, option and lifecycle step, checked by reading the file with h5py directly."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import spineh5
from spineh5 import HDF5Reader, HDF5Writer
from spineh5.errors import LayoutMismatchError, ProductError, SpineH5Error
from spineh5.generated import (
    REGISTRY,
    SCHEMA_VERSION,
    Flash,
    ImageMeta3D,
    ParticlePID,
    ParticleShape,
    RecoParticle,
    RunInfo,
    TruthInteraction,
    TruthParticle,
)
from spineh5.publishing import partial_path
from spineh5.types.dtypes import describe_dtype


class ObjectList(list):
    """SPINE's ``ObjectList``: a list with a ``default`` giving the type of an empty list."""

    def __init__(self, items, default):
        super().__init__(items)
        self.default = default


# -- reading a file back, checking every region reference -------------------------------------------------------


def region(ds: h5py.Dataset, ref) -> tuple[int | None, int]:
    """Return ``(first row, row count)`` of a region reference, checking it selects whole rows of ``ds``."""
    assert ref, f"null region reference into {ds.name}"
    assert ds.file[ref].name == ds.name, f"reference points to {ds.file[ref].name}, expected {ds.name}"
    space = h5py.h5r.get_region(ref, ds.id)
    kind = space.get_select_type()
    if kind == h5py.h5s.SEL_NONE:
        return None, 0
    assert kind == h5py.h5s.SEL_HYPERSLABS, f"unexpected selection type {kind}"
    assert space.get_select_hyper_nblocks() == 1
    low, high = space.get_select_bounds()
    count = high[0] - low[0] + 1
    width = 1
    if ds.ndim == 2:
        assert (low[1], high[1]) == (0, ds.shape[1] - 1), "region does not cover every column"
        width = ds.shape[1]
    assert space.get_select_npoints() == count * width
    return int(low[0]), int(count)


def runs(ds: h5py.Dataset, refs) -> list[tuple[int, int]]:
    """Return ``(start, count)`` of consecutive references that tile ``ds`` exactly, in order."""
    spans, position = [], 0
    for ref in np.asarray(refs).ravel():
        start, count = region(ds, ref)
        if count:
            assert start == position, f"{ds.name}: region starts at {start}, expected {position}"
        spans.append((position, count))
        position += count
    assert position == ds.shape[0], f"{ds.name}: references cover {position} of {ds.shape[0]} rows"
    return spans


def _via_ref(ds: h5py.Dataset, ref, expected: np.ndarray) -> None:
    """Check that reading through the reference (as SPINE does) gives exactly ``expected``."""
    got = ds[ref]
    if ds.ndim == 2:
        got = got.reshape(-1, ds.shape[1])
    assert len(got) == len(expected)
    if ds.dtype.names is None:
        assert np.array_equal(got, expected)
    else:
        assert got.tobytes() == expected.tobytes() or all(_equal(got[name], expected[name]) for name in ds.dtype.names)


def _equal(a, b) -> bool:
    if a.dtype == object:
        return all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a, b))
    return np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


def read_back(path) -> list[dict]:
    """Decode every event of a V1 file through its region references, checking that they tile every dataset."""
    with h5py.File(path, "r") as f:
        events = f["events"][()]
        keys = events.dtype.names
        assert set(f) == set(keys) | {"info", "events"}
        entries: list[dict] = [{} for _ in range(len(events))]
        for key in keys:
            node, refs = f[key], events[key]
            if isinstance(node, h5py.Dataset):
                data = node[()]
                for entry, (start, count) in enumerate(runs(node, refs)):
                    rows = data[start : start + count]
                    _via_ref(node, refs[entry], rows)
                    if bool(node.attrs["scalar"]):
                        assert count == 1, f"{key}: scalar product with {count} rows in entry {entry}"
                        entries[entry][key] = rows[0]
                    else:
                        entries[entry][key] = rows
                continue
            index = node["index"]
            if index.ndim == 1:
                elements = node["elements"]
                values = elements[()]
                element_spans = runs(elements, index[()])
                for entry, (start, count) in enumerate(runs(index, refs)):
                    entries[entry][key] = [values[s : s + c] for s, c in element_spans[start : start + count]]
            else:
                parts = [node[f"element_{i}"] for i in range(index.shape[1])]
                columns = [runs(part, index[:, i]) for i, part in enumerate(parts)]
                values = [part[()] for part in parts]
                for entry, (start, count) in enumerate(runs(index, refs)):
                    assert count == 1
                    entries[entry][key] = [
                        values[i][s : s + c] for i, (s, c) in enumerate(col[start] for col in columns)
                    ]
    return entries


def file_digest(path) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


# -- data -------------------------------------------------------------------------------------------------------


META = {"lower": [0.0, 0.0, 0.0], "upper": [10.0, 10.0, 10.0], "size": [1.0, 1.0, 1.0], "count": [10, 10, 10]}


def particles(entry: int) -> list[RecoParticle]:
    return [
        RecoParticle(
            id=j,
            index=np.arange(j + entry, dtype=np.int32),
            pid=ParticlePID(j % 5),
            shape=ParticleShape(j % 2),
            calo_ke=10.0 * j + entry,
            start_point=[entry, j, 1.5],
        )
        for j in range(entry % 3)
    ]


def make_batch(i0: int, n: int, seed: int = 0) -> dict:
    """A batch of every storage case; entry ``i`` of the whole run is ``i0 + k``; entries with i%3 == 0 are empty."""
    rng = np.random.default_rng(seed + i0)
    ids = list(range(i0, i0 + n))
    return {
        "index": ids,
        "loss": 0.5 + i0,  # A: global scalar
        "acc": [i / 10 for i in ids],  # B: float
        "count": [i * 3 for i in ids],  # B: int
        "name": ["e" * (i % 4) + str(i) for i in ids],  # B: str
        "flag": [bool(i % 2) for i in ids],  # B: bool
        "energy": [np.float32(i + 0.25) for i in ids],  # B: numpy float32
        "run_info": [RunInfo(run=1, subrun=2, event=i) for i in ids],  # C
        "meta": [ImageMeta3D(**META) for _ in ids],  # C
        "reco_particles": [particles(i) for i in ids],  # D, empty when i % 3 == 0
        "data": [rng.random((i % 3 * 2, 5)) for i in ids],  # E 2-D, empty first entry
        "seg": [np.arange(i % 4, dtype=np.int64) for i in ids],  # E 1-D
        "clusts": [[np.arange(k + i, dtype=np.int64) for k in range(i % 3)] for i in ids],  # F 1-D
        "points": [[rng.random((k + 1, 3)).astype(np.float32) for k in range(i % 2 + 1)] for i in ids],  # F 2-D
        "jag": [[rng.random((i % 3, 2)), rng.random(i % 4)] for i in ids],  # G
    }


def check_entry(got: dict, batch: dict, k: int) -> None:
    """Compare one decoded entry with entry ``k`` of the batch that wrote it."""
    assert got["index"] == batch["index"][k]
    assert got["loss"] == batch["loss"]
    assert got["acc"] == batch["acc"][k]
    assert got["count"] == batch["count"][k]
    assert got["name"].decode() == batch["name"][k]
    assert got["flag"] == batch["flag"][k] and isinstance(got["flag"], np.bool_)
    assert got["energy"] == batch["energy"][k] and got["energy"].dtype == np.float32
    assert RunInfo.from_records(got["run_info"][None]) == [batch["run_info"][k]]
    assert ImageMeta3D.from_records(got["meta"][None]) == [batch["meta"][k]]
    assert RecoParticle.from_records(got["reco_particles"]) == batch["reco_particles"][k]
    assert np.array_equal(got["data"], batch["data"][k]) and got["data"].shape == batch["data"][k].shape
    assert np.array_equal(got["seg"], batch["seg"][k])
    assert len(got["clusts"]) == len(batch["clusts"][k])
    assert all(np.array_equal(a, b) for a, b in zip(got["clusts"], batch["clusts"][k]))
    assert [a.shape for a in got["points"]] == [b.shape for b in batch["points"][k]]
    assert all(np.array_equal(a, b) for a, b in zip(got["points"], batch["points"][k]))
    assert len(got["jag"]) == 2
    assert all(np.array_equal(a, b) and a.shape == b.shape for a, b in zip(got["jag"], batch["jag"][k]))


def write_batches(path, batches, cfg=None, **options) -> HDF5Writer:
    writer = HDF5Writer(str(path), **options)
    for i, batch in enumerate(batches):
        writer(batch, cfg if i == 0 else None)
    writer.finalize()
    return writer


# -- storage cases A-G ------------------------------------------------------------------------------------------


def test_every_storage_case_over_several_batches(tmp_path):
    path = tmp_path / "out.h5"
    batches = [make_batch(0, 3), make_batch(3, 1), make_batch(4, 4)]
    write_batches(path, batches)
    entries = read_back(path)
    assert len(entries) == 8
    flat = [(b, k) for b in batches for k in range(len(b["index"]))]
    for got, (batch, k) in zip(entries, flat):
        check_entry(got, batch, k)

    with h5py.File(path, "r") as f:
        expected = {
            # key: (kind, dtype, scalar, class_name, width)
            "loss": ("float64", True, None, None),
            "acc": ("float64", True, None, None),
            "count": ("int64", True, None, None),
            "name": ("str", True, None, None),
            "flag": ("bool", True, None, None),
            "energy": ("float32", True, None, None),
            "index": ("int64", True, None, None),
            "run_info": (describe_dtype(RunInfo.DTYPE), True, "RunInfo", None),
            "meta": (describe_dtype(ImageMeta3D.DTYPE), True, "ImageMeta3D", None),
            "reco_particles": (describe_dtype(RecoParticle.DTYPE), False, "RecoParticle", None),
            "data": ("float64", False, None, 5),
            "seg": ("int64", False, None, None),
        }
        for key, (dtype, scalar, class_name, width) in expected.items():
            ds = f[key]
            assert isinstance(ds, h5py.Dataset), key
            assert describe_dtype(ds.dtype) == dtype, key
            assert ds.maxshape == ((None, width) if width else (None,)), key
            assert ds.attrs["scalar"] == scalar and isinstance(ds.attrs["scalar"], np.bool_), key
            assert ds.attrs.get("class_name") == class_name, key
            if class_name:
                assert h5py.check_string_dtype(ds.attrs.get_id("class_name").dtype).length is None
        assert f["loss"][()].tolist() == [0.5] * 3 + [3.5] + [4.5] * 4  # A: replicated per entry
        for key, width in (("clusts", 0), ("points", 3)):
            group = f[key]
            assert isinstance(group, h5py.Group) and group.attrs["scalar"] == np.False_
            assert sorted(group) == ["elements", "index"]
            assert group["index"].ndim == 1 and describe_dtype(group["index"].dtype) == "regionref"
            assert group["elements"].maxshape == ((None, width) if width else (None,))
        assert f["clusts"]["elements"].dtype == np.int64 and f["points"]["elements"].dtype == np.float32
        jag = f["jag"]
        assert sorted(jag) == ["element_0", "element_1", "index"] and jag.attrs["scalar"] == np.False_
        assert jag["index"].shape == (8, 2) and jag["element_0"].shape[1:] == (2,) and jag["element_1"].ndim == 1
        assert jag["element_0"].dtype == np.float64


def test_two_dimensional_empty_first_entry(tmp_path):
    path = tmp_path / "out.h5"
    batches = [
        {"index": [0, 1], "data": [np.empty((0, 4)), np.ones((2, 4))]},
        {"index": [2], "data": [np.full((3, 4), 2.0)]},
    ]
    write_batches(path, batches)
    entries = read_back(path)
    assert [e["data"].shape for e in entries] == [(0, 4), (2, 4), (3, 4)]
    assert np.all(entries[2]["data"] == 2.0)
    with h5py.File(path, "r") as f:
        assert f["data"].shape == (5, 4) and f["data"].maxshape == (None, 4)


def test_empty_first_entries_of_lists_are_typed_by_later_entries(tmp_path):
    path = tmp_path / "out.h5"
    batch = {
        "index": [0, 1],
        "parts": [[], [TruthParticle(id=4)]],
        "clusts": [[], [np.arange(2)]],
    }
    write_batches(path, [batch])
    entries = read_back(path)
    assert [len(e["parts"]) for e in entries] == [0, 1]
    assert TruthParticle.from_records(entries[1]["parts"]) == [TruthParticle(id=4)]
    assert [len(e["clusts"]) for e in entries] == [0, 1]


@pytest.mark.parametrize("hint", ["RecoParticle", RecoParticle])
def test_all_empty_first_batch_with_types_hint(tmp_path, hint):
    path = tmp_path / "out.h5"
    batches = [
        {"index": [0, 1], "parts": [[], []], "clusts": [[], []]},
        {"index": [2, 3], "parts": [[RecoParticle(id=1), RecoParticle(id=2)], []], "clusts": [[np.arange(3)], []]},
    ]
    write_batches(path, batches, types={"parts": hint, "clusts": "int64"})
    entries = read_back(path)
    assert [len(e["parts"]) for e in entries] == [0, 0, 2, 0]
    assert RecoParticle.from_records(entries[2]["parts"]) == batches[1]["parts"][0]
    assert [len(e["clusts"]) for e in entries] == [0, 0, 1, 0]
    assert np.array_equal(entries[2]["clusts"][0], np.arange(3))
    with h5py.File(path, "r") as f:
        assert f["parts"].attrs["class_name"] == "RecoParticle"
        assert describe_dtype(f["parts"].dtype) == describe_dtype(RecoParticle.DTYPE)
        assert f["clusts"]["elements"].dtype == np.int64


def test_all_empty_first_batch_with_objectlist_default(tmp_path):
    path = tmp_path / "out.h5"
    batches = [
        {
            "index": [0],
            "inter": [ObjectList([], TruthInteraction())],
            "clusts": [ObjectList([], np.empty(0, np.int32))],
            "points": [ObjectList([], np.empty((0, 3), np.float32))],
        },
        {
            "index": [1],
            "inter": [[TruthInteraction(id=7)]],
            "clusts": [[np.arange(2, dtype=np.int32)]],
            "points": [[np.ones((2, 3), np.float32)]],
        },
    ]
    write_batches(path, batches)
    entries = read_back(path)
    assert len(entries[0]["inter"]) == 0 and TruthInteraction.from_records(entries[1]["inter"])[0].id == 7
    assert entries[0]["clusts"] == [] and np.array_equal(entries[1]["clusts"][0], [0, 1])
    assert entries[0]["points"] == [] and entries[1]["points"][0].shape == (2, 3)
    with h5py.File(path, "r") as f:
        assert f["inter"].attrs["class_name"] == "TruthInteraction"
        assert f["clusts"]["elements"].dtype == np.int32
        assert f["points"]["elements"].maxshape == (None, 3)


def test_all_empty_first_batch_without_hint_is_refused(tmp_path):
    writer = HDF5Writer(str(tmp_path / "out.h5"))
    with pytest.raises(ProductError, match=r"'parts'.*types=") as err:
        writer({"index": [0, 1], "parts": [[], []]})
    assert err.value.key == "parts"


def test_dict_objects_with_types_hint(tmp_path):
    path = tmp_path / "out.h5"
    batch = {"index": [0, 1], "parts": [[{"id": 3, "pid": 2}], []], "info_obj": [{"run": 5}, {"run": 6}]}
    write_batches(path, [batch], types={"parts": "RecoParticle", "info_obj": "RunInfo"})
    entries = read_back(path)
    (particle,) = RecoParticle.from_records(entries[0]["parts"])
    assert particle == RecoParticle(id=3, pid=2)
    assert [RunInfo.from_records(e["info_obj"][None])[0].run for e in entries] == [5, 6]
    with h5py.File(path, "r") as f:
        assert f["info_obj"].attrs["scalar"] == np.True_ and f["info_obj"].attrs["class_name"] == "RunInfo"


def test_scalar_index_is_a_single_entry(tmp_path):
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path))
    writer({"index": 7, "acc": 0.25, "seg": np.arange(3), "parts": [RecoParticle(id=1)]})
    writer({"index": 8, "acc": 0.5, "seg": np.arange(2), "parts": []})
    writer.finalize()
    entries = read_back(path)
    assert [e["index"] for e in entries] == [7, 8]
    assert [e["acc"] for e in entries] == [0.25, 0.5]
    assert [len(e["seg"]) for e in entries] == [3, 2]
    assert [len(e["parts"]) for e in entries] == [1, 0]


def test_global_and_per_entry_scalars_mix_between_batches(tmp_path):
    """SPINE stores a scalar product the same way whether a batch gives one value or one per entry."""
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path))
    writer({"index": [0, 1], "loss": 0.5, "acc": [0.1, 0.2]})
    writer({"index": [2, 3], "loss": [0.7, 0.8], "acc": 0.3})
    writer({"index": 4, "loss": 0.9, "acc": 0.4})
    writer.finalize()
    entries = read_back(path)
    assert [e["loss"] for e in entries] == [0.5, 0.5, 0.7, 0.8, 0.9]
    assert [e["acc"] for e in entries] == [0.1, 0.2, 0.3, 0.3, 0.4]


def test_index_is_always_stored(tmp_path):
    path = tmp_path / "out.h5"
    write_batches(path, [{"index": [4, 5], "acc": [1.0, 2.0], "other": [1, 2]}], keys=["acc"])
    with h5py.File(path, "r") as f:
        assert sorted(f["events"].dtype.names) == ["acc", "index"]
        assert f["index"][()].tolist() == [4, 5] and f["index"].attrs["scalar"] == np.True_
        assert "other" not in f


# -- info, attributes, events -----------------------------------------------------------------------------------


def _is_vlen_str_attr(attrs, name) -> bool:
    string = h5py.check_string_dtype(attrs.get_id(name).dtype)
    return string is not None and string.length is None


def test_info_attributes_and_complete_flag(tmp_path):
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path))
    cfg = {"base": {"iterations": 1, "seed": 3}, "io": {"writer": {"name": "hdf5"}}}
    writer(make_batch(0, 2), cfg)
    writer.flush()
    with h5py.File(partial_path(path), "r") as f:
        info = f["info"]
        assert isinstance(info, h5py.Group)
        assert info.attrs["complete"] == np.False_ and isinstance(info.attrs["complete"], np.bool_)
        assert info.attrs["version"] == "0.14.1" and _is_vlen_str_attr(info.attrs, "version")
        assert info.attrs["cfg"] == yaml.dump(cfg) and _is_vlen_str_attr(info.attrs, "cfg")
        assert yaml.safe_load(info.attrs["cfg"]) == cfg
        assert info.attrs["writer"] == f"spineh5 {spineh5.__version__}" and _is_vlen_str_attr(info.attrs, "writer")
        assert info.attrs["schema_version"] == SCHEMA_VERSION
        assert list(f.attrs) == []
    writer(make_batch(2, 2), {"ignored": True})
    writer.finalize()
    with h5py.File(path, "r") as f:
        assert f["info"].attrs["complete"] == np.True_
        assert yaml.safe_load(f["info"].attrs["cfg"]) == cfg  # only the first call's cfg is stored
        assert len(f["events"]) == 4


def test_cfg_defaults_to_empty_yaml(tmp_path):
    path = tmp_path / "out.h5"
    write_batches(path, [{"index": [0], "acc": [1.0]}])
    with h5py.File(path, "r") as f:
        assert f["info"].attrs["cfg"] == "{}\n" and _is_vlen_str_attr(f["info"].attrs, "cfg")


def test_events_fields_are_sorted_and_region_references(tmp_path):
    path = tmp_path / "out.h5"
    batch = make_batch(0, 2)
    write_batches(path, [dict(reversed(list(batch.items())))])
    with h5py.File(path, "r") as f:
        events = f["events"]
        names = events.dtype.names
        assert list(names) == sorted(batch)
        assert all(describe_dtype(events.dtype.fields[name][0]) == "regionref" for name in names)
        assert events.maxshape == (None,) and events.ndim == 1


_ORDER_SCRIPT = """
import sys, h5py
from spineh5 import HDF5Writer
w = HDF5Writer(sys.argv[1])
w({k: [1.0] for k in ["zeta", "alpha", "mid", "beta", "omega", "gamma"]} | {"index": [0]})
w.finalize()
with h5py.File(sys.argv[1], "r") as f:
    print(",".join(f["events"].dtype.names))
"""


def test_events_field_order_does_not_depend_on_hash_seed(tmp_path):
    orders = set()
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        path = tmp_path / f"seed{seed}.h5"
        out = subprocess.run([sys.executable, "-c", _ORDER_SCRIPT, str(path)], env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        orders.add(out.stdout.strip())
    assert orders == {"alpha,beta,gamma,index,mid,omega,zeta"}


# -- lite, keys, provenance, dummy datasets ---------------------------------------------------------------------


@pytest.mark.parametrize("lite", [False, True])
def test_lite_uses_lite_dtypes(tmp_path, lite):
    path = tmp_path / "out.h5"
    batch = {
        "index": [0],
        "parts": [[RecoParticle(id=1, index=np.arange(4, dtype=np.int32))]],
        "truth": [[TruthParticle(id=2, index_adapt=np.arange(2, dtype=np.int32))]],
        "run_info": [RunInfo(run=3)],
    }
    write_batches(path, [batch], lite=lite)
    with h5py.File(path, "r") as f:
        for key, cls in (("parts", RecoParticle), ("truth", TruthParticle), ("run_info", RunInfo)):
            expected = cls.LITE_DTYPE if lite else cls.DTYPE
            assert describe_dtype(f[key].dtype) == describe_dtype(expected), key
        assert ("index" in f["parts"].dtype.names) is not lite
        assert ("index_adapt" in f["truth"].dtype.names) is not lite
        assert f["parts"]["id"].tolist() == [1]
    (particle,) = RecoParticle.from_records(read_back(path)[0]["parts"])
    assert particle.id == 1 and len(particle.index) == (0 if lite else 4)


def test_keys_and_skip_keys_are_exclusive(tmp_path):
    with pytest.raises(ValueError, match="exclusive"):
        HDF5Writer(str(tmp_path / "out.h5"), keys=["a"], skip_keys=["b"])
    assert not (tmp_path / "out.h5").exists()


def test_keys_missing_from_data(tmp_path):
    writer = HDF5Writer(str(tmp_path / "out.h5"), keys=["acc", "nope"])
    with pytest.raises(KeyError, match="nope"):
        writer({"index": [0], "acc": [1.0]})
    assert not (tmp_path / "out.h5").exists()


def test_skip_keys_missing_from_data(tmp_path):
    writer = HDF5Writer(str(tmp_path / "out.h5"), skip_keys=["nope"])
    with pytest.raises(KeyError, match="nope"):
        writer({"index": [0], "acc": [1.0]})


def test_skip_keys_removes_products_and_provenance(tmp_path):
    path = tmp_path / "out.h5"
    batch = {"index": [0, 1], "acc": [1.0, 2.0], "seg": [np.arange(2)] * 2, "file_index": [0, 0]}
    write_batches(path, [batch, {**batch, "index": [2, 3]}], skip_keys=["seg", "source_file_index"])
    with h5py.File(path, "r") as f:
        assert sorted(f["events"].dtype.names) == ["acc", "file_index", "index"]
        assert len(f["events"]) == 4


def test_source_provenance_with_explicit_keys(tmp_path):
    path = tmp_path / "out.h5"
    batch = {"index": [0, 1], "acc": [1.0, 2.0], "file_index": [3, 3], "file_entry_index": [10, 11]}
    write_batches(path, [batch], keys=["acc"])
    with h5py.File(path, "r") as f:
        names = sorted(f["events"].dtype.names)
        assert names == ["acc", "index", "source_file_entry_index", "source_file_index"]
        assert f["source_file_index"][()].tolist() == [3, 3] and f["source_file_index"].attrs["scalar"]
        assert f["source_file_entry_index"][()].tolist() == [10, 11]
    entries = read_back(path)
    assert [e["source_file_entry_index"] for e in entries] == [10, 11]


def test_source_provenance_without_keys_stores_file_indexes_too(tmp_path):
    path = tmp_path / "out.h5"
    batch = {"index": [0, 1], "acc": [1.0, 2.0], "file_index": [3, 4], "file_entry_index": [10, 11]}
    write_batches(path, [batch])
    with h5py.File(path, "r") as f:
        for key, values in (("file_index", [3, 4]), ("file_entry_index", [10, 11])):
            assert f[key][()].tolist() == values
            assert f[f"source_{key}"][()].tolist() == values


def test_existing_source_provenance_is_kept(tmp_path):
    path = tmp_path / "out.h5"
    batch = {"index": [0], "file_index": [3], "source_file_index": [9], "file_entry_index": [1]}
    write_batches(path, [batch])
    with h5py.File(path, "r") as f:
        assert f["source_file_index"][()].tolist() == [9] and f["file_index"][()].tolist() == [3]


def test_with_source_provenance_copies_without_mutating():
    writer = HDF5Writer("unused.h5")
    data = {"index": [0], "file_index": [2]}
    out = writer.with_source_provenance(data)
    assert out["source_file_index"] == [2] and "source_file_entry_index" not in out
    assert "source_file_index" not in data


@pytest.mark.parametrize("keys", [None, ["acc"]])
def test_dummy_ds(tmp_path, keys):
    path = tmp_path / "out.h5"
    batches = [{"index": [0, 1], "acc": [1.0, 2.0]}, {"index": [2], "acc": [3.0]}]
    write_batches(path, batches, keys=keys, dummy_ds={"flashes": "Flash", "crthits": "CRTHit"})
    with h5py.File(path, "r") as f:
        assert sorted(f["events"].dtype.names) == ["acc", "crthits", "flashes", "index"]
        for key, cls in (("flashes", "Flash"), ("crthits", "CRTHit")):
            ds = f[key]
            assert ds.shape == (0,) and ds.dtype.names is not None
            assert describe_dtype(ds.dtype) == describe_dtype(REGISTRY[cls].DTYPE)
            assert ds.attrs["class_name"] == cls and ds.attrs["scalar"] == np.False_
            for ref in f["events"][key]:
                assert region(ds, ref) == (None, 0)
    entries = read_back(path)
    assert [len(e["flashes"]) for e in entries] == [0, 0, 0]


def test_dummy_ds_conflicting_with_a_product(tmp_path):
    writer = HDF5Writer(str(tmp_path / "out.h5"), dummy_ds={"flashes": "Flash"})
    with pytest.raises(ProductError, match="flashes"):
        writer({"index": [0], "flashes": [[Flash()]]})


def test_dummy_ds_unknown_class(tmp_path):
    with pytest.raises(ValueError, match="NoSuchClass"):
        HDF5Writer(str(tmp_path / "out.h5"), dummy_ds={"x": "NoSuchClass"})


# -- append ------------------------------------------------------------------------------------------------------


def test_append_adds_entries(tmp_path):
    path = tmp_path / "out.h5"
    first = [make_batch(0, 2), make_batch(2, 2)]
    write_batches(path, first, cfg={"a": 1})
    second = [make_batch(4, 3), make_batch(7, 1)]
    writer = HDF5Writer(str(path), append=True)
    writer(second[0], {"b": 2})
    writer.flush()
    with h5py.File(path, "r") as f:
        assert f["info"].attrs["complete"] == np.False_
        assert len(f["events"]) == 7
    writer(second[1])
    writer.finalize()
    with h5py.File(path, "r") as f:
        assert f["info"].attrs["complete"] == np.True_
        assert yaml.safe_load(f["info"].attrs["cfg"]) == {"a": 1}
        assert f["info"].attrs["version"] == "0.14.1"
    entries = read_back(path)
    flat = [(b, k) for b in first + second for k in range(len(b["index"]))]
    assert len(entries) == len(flat) == 8
    for got, (batch, k) in zip(entries, flat):
        check_entry(got, batch, k)


def test_append_all_empty_first_batch_takes_types_from_file(tmp_path):
    path = tmp_path / "out.h5"
    write_batches(path, [{"index": [0], "parts": [[RecoParticle(id=1)]]}])
    write_batches(path, [{"index": [1], "parts": [[]]}, {"index": [2], "parts": [[RecoParticle(id=2)]]}], append=True)
    entries = read_back(path)
    assert [len(e["parts"]) for e in entries] == [1, 0, 1]


def test_append_creates_a_missing_file(tmp_path):
    path = tmp_path / "new.h5"
    write_batches(path, [make_batch(0, 2)], append=True)
    assert len(read_back(path)) == 2


def _write_reference(path) -> None:
    batch = {
        "index": [0, 1],
        "acc": [1.0, 2.0],
        "seg": [np.arange(2), np.arange(3)],
        "data": [np.ones((1, 3)), np.ones((2, 3))],
        "parts": [[RecoParticle(id=1)], []],
        "clusts": [[np.arange(2)], []],
    }
    write_batches(path, [batch])


_GOOD = {
    "index": [5],
    "acc": [3.0],
    "seg": [np.arange(2)],
    "data": [np.ones((1, 3))],
    "parts": [[RecoParticle(id=2)]],
    "clusts": [[np.arange(1)]],
}


@pytest.mark.parametrize(
    ("change", "options", "named"),
    [
        ({"extra": [1.0]}, {}, "extra"),  # a product the file does not have
        ({"acc": None}, {}, "acc"),  # a product of the file missing from the data
        ({"acc": [np.arange(2)]}, {}, "acc"),  # kind: scalar -> array
        ({"seg": [np.arange(2.5)]}, {}, "seg"),  # dtype int64 -> float64
        ({"data": [np.ones((1, 4))]}, {}, "data"),  # width 3 -> 4
        ({"parts": [[TruthParticle(id=2)]]}, {}, "parts"),  # class
        ({"clusts": [[np.arange(2.0)]]}, {}, "clusts"),  # flat elements dtype
        ({}, {"lite": True}, "parts"),  # lite dtype of an object product
    ],
)
@pytest.mark.parametrize("keep_open", [True, False])
def test_append_refuses_mismatch_and_leaves_file_untouched(tmp_path, change, options, named, keep_open):
    path = tmp_path / "out.h5"
    _write_reference(path)
    digest = file_digest(path)
    data = {k: v for k, v in {**_GOOD, **change}.items() if v is not None}
    writer = HDF5Writer(str(path), append=True, keep_open=keep_open, **options)
    with pytest.raises(LayoutMismatchError, match=named):
        writer(data)
    writer.close()
    assert file_digest(path) == digest
    with h5py.File(path, "r") as f:
        assert f["info"].attrs["complete"] == np.True_ and len(f["events"]) == 2


def test_split_append_refusal_touches_no_file(tmp_path):
    prefixes = [str(tmp_path / "a.root"), str(tmp_path / "b.root")]
    writer = HDF5Writer(prefix=prefixes, split=True)
    writer({"index": [0, 1], "file_index": [0, 1], "acc": [1.0, 2.0]})
    writer.finalize()
    names = writer.file_names
    with h5py.File(names[1], "a") as f:  # file 1 now stores another dtype
        del f["acc"]
        f.create_dataset("acc", data=np.arange(1), maxshape=(None,))
        f["acc"].attrs["scalar"] = np.True_
    digests = [file_digest(name) for name in names]
    writer = HDF5Writer(prefix=prefixes, split=True, append=True)
    with pytest.raises(LayoutMismatchError, match="'acc'"):
        writer({"index": [2, 3], "file_index": [0, 1], "acc": [3.0, 4.0]})
    writer.close()
    assert [file_digest(name) for name in names] == digests
    assert _complete(names[0])


def test_append_accepts_identical_layout(tmp_path):
    path = tmp_path / "out.h5"
    _write_reference(path)
    write_batches(path, [_GOOD], append=True)
    entries = read_back(path)
    assert len(entries) == 3 and entries[2]["acc"] == 3.0


# -- split -------------------------------------------------------------------------------------------------------


def _complete(path) -> bool:
    with h5py.File(path, "r") as f:
        return bool(f["info"].attrs["complete"])


def test_split_routes_entries_and_finalizes_earlier_files(tmp_path):
    prefixes = [str(tmp_path / f"in{i}.root") for i in range(3)]
    writer = HDF5Writer(prefix=prefixes, split=True)
    names = [str(tmp_path / f"in{i}_spine.h5") for i in range(3)]
    assert writer.file_names == names
    writer({"index": [0, 1], "file_index": [0, 0], "acc": [0.0, 1.0]})
    writer({"index": [2, 3], "file_index": [0, 2], "acc": [2.0, 3.0]})
    writer.flush()
    assert not os.path.exists(names[1])  # no entry went there
    assert not _complete(partial_path(names[0])) and not _complete(partial_path(names[2]))
    writer({"index": [4], "file_index": [2], "acc": [4.0]})
    assert _complete(names[0])  # moved past file 0
    assert not _complete(partial_path(names[2]))
    writer.finalize()
    assert _complete(names[2])
    assert [e["acc"] for e in read_back(names[0])] == [0.0, 1.0, 2.0]
    assert [e["acc"] for e in read_back(names[2])] == [3.0, 4.0]
    assert [e["file_index"] for e in read_back(names[2])] == [2, 2]


def test_split_with_file_name_numbers_the_files(tmp_path):
    prefixes = ["a.root", "b.root"]
    writer = HDF5Writer(str(tmp_path / "out.h5"), prefix=prefixes, split=True)
    assert writer.file_names == [str(tmp_path / "out_0.h5"), str(tmp_path / "out_1.h5")]
    writer({"index": [0, 1], "file_index": [1, 0], "acc": [0.0, 1.0]})
    writer.finalize()
    assert [e["acc"] for e in read_back(tmp_path / "out_0.h5")] == [1.0]
    assert [e["acc"] for e in read_back(tmp_path / "out_1.h5")] == [0.0]


def test_split_out_of_order_file_indexes_keep_working(tmp_path):
    """Like SPINE, files are finalized early only while the writer moves monotonically to higher ids."""
    prefixes = [str(tmp_path / f"in{i}.root") for i in range(3)]
    writer = HDF5Writer(prefix=prefixes, split=True)
    for index, file_index in enumerate([1, 0, 2, 1, 0]):
        writer({"index": [index], "file_index": [file_index], "acc": [float(index)]})
    writer.finalize()
    names = writer.file_names
    assert [e["acc"] for e in read_back(names[0])] == [1.0, 4.0]
    assert [e["acc"] for e in read_back(names[1])] == [0.0, 3.0]
    assert [e["acc"] for e in read_back(names[2])] == [2.0]
    assert all(_complete(name) for name in names)


def test_split_needs_file_index(tmp_path):
    writer = HDF5Writer(prefix=[str(tmp_path / "a.root"), str(tmp_path / "b.root")], split=True)
    with pytest.raises(ProductError, match="file_index") as err:
        writer({"index": [0], "acc": [1.0]})
    assert err.value.key == "file_index"


def test_split_file_index_out_of_range(tmp_path):
    writer = HDF5Writer(prefix=[str(tmp_path / "a.root"), str(tmp_path / "b.root")], split=True)
    with pytest.raises(ProductError, match=r"'file_index', entry 1"):
        writer({"index": [0, 1], "file_index": [0, 2], "acc": [1.0, 2.0]})


def test_split_with_one_prefix_needs_no_file_index(tmp_path):
    writer = HDF5Writer(prefix=[str(tmp_path / "a.root")], split=True)
    writer({"index": [0], "acc": [1.0]})
    writer.finalize()
    assert [e["acc"] for e in read_back(tmp_path / "a_spine.h5")] == [1.0]


# -- files, handles and lifecycle -------------------------------------------------------------------------------


def test_existing_file_needs_overwrite(tmp_path):
    path = tmp_path / "out.h5"
    path.write_bytes(b"not hdf5")
    with pytest.raises(FileExistsError) as refused:
        HDF5Writer(str(path))
    assert isinstance(refused.value, SpineH5Error)  # one error root, and still a FileExistsError
    assert path.read_bytes() == b"not hdf5"
    writer = HDF5Writer(str(path), overwrite=True)
    assert path.read_bytes() == b"not hdf5"  # replaced when the new file is published
    writer({"index": [0], "acc": [1.0]})
    writer.finalize()
    assert len(read_back(path)) == 1


def test_output_directory_is_created(tmp_path):
    writer = HDF5Writer("out.h5", directory=str(tmp_path / "sub" / "dir"))
    writer({"index": [0], "acc": [1.0]})
    writer.finalize()
    assert len(read_back(tmp_path / "sub" / "dir" / "out.h5")) == 1


def test_keep_open_false_closes_between_calls(tmp_path):
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path), keep_open=False)
    batches = [make_batch(0, 2), make_batch(2, 3)]
    for batch in batches:
        writer(batch)
        assert writer._handles == {}
        with h5py.File(partial_path(path), "r+") as f:  # not held open by the writer
            assert len(f["events"]) == len(batch["index"]) + (2 if batch is batches[1] else 0)
    writer.finalize()
    assert _complete(path)
    for got, (batch, k) in zip(read_back(path), [(b, k) for b in batches for k in range(len(b["index"]))]):
        check_entry(got, batch, k)


def test_flush_frequency_counts_entries_per_file(tmp_path, monkeypatch):
    flushes = []
    original = h5py.File.flush
    monkeypatch.setattr(h5py.File, "flush", lambda self: (flushes.append(self.filename), original(self))[1])
    writer = HDF5Writer(str(tmp_path / "out.h5"), flush_frequency=3)
    counts = []
    for i in range(4):
        writer({"index": [2 * i, 2 * i + 1], "acc": [1.0, 2.0]})
        counts.append(len(flushes))
    assert counts == [0, 2, 2, 4]  # products and events after 4 and after 8 entries (the structure is closed)
    writer.finalize()


def test_flush_frequency_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="flush_frequency"):
        HDF5Writer(str(tmp_path / "out.h5"), flush_frequency=0)


def test_context_manager_finalizes_on_clean_exit(tmp_path):
    path = tmp_path / "out.h5"
    with HDF5Writer(str(path)) as writer:
        writer(make_batch(0, 2))
    assert _complete(path)
    assert writer._handles == {}


def test_context_manager_does_not_finalize_on_exception(tmp_path):
    path = tmp_path / "out.h5"
    with pytest.raises(RuntimeError, match="boom"), HDF5Writer(str(path)) as writer:
        writer(make_batch(0, 2))
        raise RuntimeError("boom")
    assert not _complete(partial_path(path))
    assert len(read_back(partial_path(path))) == 2


def test_close_without_finalize_leaves_file_incomplete(tmp_path):
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path))
    writer(make_batch(0, 2))
    writer.close()
    assert not path.exists() and not _complete(partial_path(path))
    writer(make_batch(2, 1))  # reopens
    writer.finalize()
    assert _complete(path) and len(read_back(path)) == 3


def test_writing_after_finalize_raises(tmp_path):
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path))
    writer(make_batch(0, 2))
    writer.finalize()
    digest = file_digest(path)
    with pytest.raises(RuntimeError, match="finalized"):
        writer(make_batch(2, 1))
    assert file_digest(path) == digest


def test_handles_are_not_used_across_processes(tmp_path):
    """A forked child must not write through (or close) the parent's open handles."""
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path))
    writer(make_batch(0, 2))
    parent_pid = writer._handles_pid
    writer._handles_pid = parent_pid + 100_000  # as seen from a forked child
    with pytest.raises(RuntimeError, match="process"):
        writer(make_batch(2, 1))
    with pytest.raises(RuntimeError, match="process"):
        writer.finalize()
    handle = next(iter(writer._handles.values()))
    writer.close()  # drops the inherited handles without closing them
    assert writer._handles == {} and handle.id.valid
    handle.close()
    assert len(read_back(partial_path(path))) == 2 and not _complete(partial_path(path))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_is_refused(tmp_path):
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path))
    writer(make_batch(1, 2))
    pid = os.fork()
    if pid == 0:  # child: must refuse, and must not touch the parent's file
        code = 3
        try:
            writer(make_batch(3, 1))
        except RuntimeError:
            code = 0
        except BaseException:
            code = 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    writer(make_batch(3, 1))
    writer.finalize()
    assert len(read_back(path)) == 3


def test_handle_guard_allows_same_process(tmp_path):
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path))
    writer(make_batch(1, 1))
    writer._check_handle_pid()
    writer(make_batch(2, 1))
    writer.finalize()
    assert len(read_back(path)) == 2


def test_compression_and_chunk_rows(tmp_path):
    path = tmp_path / "out.h5"
    batch = {"index": [0, 1], "data": [np.ones((3, 4))] * 2, "clusts": [[np.arange(3)]] * 2}
    write_batches(path, [batch], compression="gzip", compression_opts=4, chunk_rows={"data": 8})
    with h5py.File(path, "r") as f:
        assert f["data"].compression == "gzip" and f["data"].compression_opts == 4
        assert f["data"].chunks == (8, 4)
        assert f["clusts"]["elements"].compression == "gzip"
    assert len(read_back(path)) == 2


@pytest.mark.parametrize("format_version", [1, 2])
def test_chunk_rows_for_jagged_lists_of_2d_arrays(tmp_path, format_version):
    path = tmp_path / "out.h5"
    batch = {"index": [0, 1], "jag": [[np.ones((3, 2)), np.ones(4)]] * 2, "pts": [np.ones((5, 3))] * 2}
    write_batches(path, [batch], chunk_rows={"jag": 10, "pts": 100}, format_version=format_version)
    with h5py.File(path, "r") as f:
        if format_version == 1:
            assert f["jag/element_0"].chunks == (10, 2)
            assert f["jag/element_1"].chunks == (10,)
            assert f["pts"].chunks == (100, 3)
    entries = [HDF5Reader(str(path))[i] for i in range(2)]
    assert all(np.array_equal(entry["jag"][0], np.ones((3, 2))) for entry in entries)


# -- introspection API ------------------------------------------------------------------------------------------


def test_get_object_dtype_comes_from_the_schema(tmp_path):
    writer = HDF5Writer(str(tmp_path / "out.h5"))
    lite = HDF5Writer(str(tmp_path / "lite.h5"), lite=True)
    odd = RecoParticle(calo_ke=np.float32(5.0), start_point=np.array([1, 2, 3], dtype=np.float64))
    for obj in (RecoParticle(), odd, "RecoParticle"):
        assert describe_dtype(np.dtype(writer.get_object_dtype(obj))) == describe_dtype(RecoParticle.DTYPE)
        assert describe_dtype(np.dtype(lite.get_object_dtype(obj))) == describe_dtype(RecoParticle.LITE_DTYPE)
    for name, cls in REGISTRY.items():
        assert [n for n, _ in writer.get_object_dtype(cls())] == list(cls.DTYPE.names), name
    with pytest.raises(ValueError, match="Nope"):
        writer.get_object_dtype("Nope")


def test_get_data_type_and_data_format(tmp_path):
    writer = HDF5Writer(str(tmp_path / "out.h5"))
    batch = make_batch(1, 3)
    fmt = {key: writer.get_data_type(batch, key) for key in batch}
    assert isinstance(fmt["acc"], HDF5Writer.DataFormat)
    table = {
        # key: (class_name, merge, scalar)
        "loss": (None, False, True),
        "acc": (None, False, True),
        "name": (None, False, True),
        "run_info": ("RunInfo", False, True),
        "reco_particles": ("RecoParticle", False, False),
        "data": (None, False, False),
        "seg": (None, False, False),
        "clusts": (None, True, False),
        "points": (None, True, False),
        "jag": (None, False, False),
    }
    for key, (class_name, merge, scalar) in table.items():
        assert (fmt[key].class_name, fmt[key].merge, fmt[key].scalar) == (class_name, merge, scalar), key
    assert fmt["data"].width == 5 and fmt["seg"].width == 0 and fmt["acc"].width == 0
    assert isinstance(fmt["jag"].width, list) and fmt["jag"].width == [2, 0]
    assert isinstance(fmt["clusts"].width, list) and set(fmt["clusts"].width) == {0}
    assert isinstance(fmt["points"].width, list) and set(fmt["points"].width) == {3}
    assert describe_dtype(np.dtype(fmt["reco_particles"].dtype)) == describe_dtype(RecoParticle.DTYPE)
    assert fmt["data"].dtype == np.float64 and fmt["points"].dtype == np.float32
    assert h5py.check_string_dtype(np.dtype(fmt["name"].dtype)) is not None

    types, object_dtypes = writer.get_data_types(batch, ["acc", "run_info", "reco_particles", "meta"])
    assert set(types) == {"acc", "run_info", "reco_particles", "meta"}
    assert sorted(describe_dtype(np.dtype(d)) for d in object_dtypes) == sorted(
        describe_dtype(cls.DTYPE) for cls in (RunInfo, RecoParticle, ImageMeta3D)
    )


def test_get_stored_keys(tmp_path):
    writer = HDF5Writer(str(tmp_path / "out.h5"), keys=["acc"], dummy_ds={"fl": "Flash"})
    data = {"index": [0], "acc": [1.0], "seg": [np.arange(2)], "file_index": [0], "source_file_index": [0]}
    assert sorted(writer.get_stored_keys(data)) == ["acc", "fl", "index", "source_file_index"]
    assert sorted(HDF5Writer(str(tmp_path / "b.h5")).get_stored_keys(data)) == sorted(data)
    assert HDF5Writer.name == "hdf5"
    assert dict(HDF5Writer.source_index_keys) == {
        "file_index": "source_file_index",
        "file_entry_index": "source_file_entry_index",
    }


# -- SPINE's per-entry API --------------------------------------------------------------------------------------


def test_append_entry_and_append_key(tmp_path):
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path), publish="in_place")
    batch = make_batch(0, 3)
    writer.create(batch, {"x": 1})
    with h5py.File(path, "a") as f:
        for batch_id in range(3):
            writer.append_entry(f, batch, batch_id)
        event = np.empty(1, f["events"].dtype)
        extra = make_batch(3, 1)
        for key in writer.keys:
            writer.append_key(f, event, extra, key, 0)
        events = f["events"]
        events.resize(len(events) + 1, axis=0)
        events[-1] = event
    writer.finalize()
    entries = read_back(path)
    assert len(entries) == 4
    for k in range(3):
        check_entry(entries[k], batch, k)
    check_entry(entries[3], extra, 0)


def test_static_store_methods_follow_spine_conventions(tmp_path):
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path), publish="in_place")
    first = {
        "index": [0],
        "acc": [0.5],
        "name": ["a"],
        "run_info": [RunInfo(run=1)],
        "parts": [[RecoParticle(id=1)]],
        "seg": [np.arange(3)],
        "data": [np.ones((2, 4))],
        "clusts": [[np.arange(2)]],
        "jag": [[np.ones((1, 2)), np.arange(3.0)]],
    }
    writer(first)
    writer.close()
    with h5py.File(path, "a") as f:
        event = np.empty(1, f["events"].dtype)
        # SPINE's append_key wraps scalar products as one-row arrays before calling store/store_objects
        HDF5Writer.store(f, event, "index", np.asarray([1]))
        HDF5Writer.store(f, event, "acc", np.asarray([0.75]))
        HDF5Writer.store(f, event, "name", np.asarray(["bb"], dtype=object))
        HDF5Writer.store_objects(f, event, "run_info", np.asarray([RunInfo(run=2)]), RunInfo.DTYPE, False)
        HDF5Writer.store_objects(f, event, "parts", [RecoParticle(id=2), RecoParticle(id=3)], RecoParticle.DTYPE)
        HDF5Writer.store(f, event, "seg", np.arange(5))
        HDF5Writer.store(f, event, "data", np.zeros((3, 4)))
        HDF5Writer.store_flat(f, event, "clusts", [np.arange(1), np.arange(4)])
        HDF5Writer.store_jagged(f, event, "jag", [np.zeros((2, 2)), np.arange(1.0)])
        events = f["events"]
        events.resize(2, axis=0)
        events[1] = event
    entries = read_back(path)
    got = entries[1]
    assert got["index"] == 1 and got["acc"] == 0.75 and got["name"] == b"bb"
    assert RunInfo.from_records(got["run_info"][None])[0].run == 2
    assert [p.id for p in RecoParticle.from_records(got["parts"])] == [2, 3]
    assert got["seg"].tolist() == list(range(5)) and got["data"].shape == (3, 4)
    assert [len(a) for a in got["clusts"]] == [1, 4]
    assert got["jag"][0].shape == (2, 2) and got["jag"][1].tolist() == [0.0]


# -- hypothesis: random batches of every storage case -----------------------------------------------------------


#: Text HDF5 can store as UTF-8: no NUL, no lone surrogates (refused by the writer, see test_writer_errors).
_STORABLE_CHARACTERS = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))


@st.composite
def runs_of_batches(draw):
    width = draw(st.integers(1, 4))
    n_batches = draw(st.integers(1, 3))
    batches = []
    for _ in range(n_batches):
        n = draw(st.integers(1, 4))
        entries = []
        for _ in range(n):
            entries.append(
                {
                    "n_parts": draw(st.integers(0, 3)),
                    "seg": draw(st.integers(0, 4)),
                    "data": draw(st.integers(0, 3)),
                    "clusts": draw(st.lists(st.integers(0, 3), max_size=3)),
                    "points": draw(st.lists(st.integers(0, 2), max_size=2)),
                    "jag": (draw(st.integers(0, 3)), draw(st.integers(0, 3))),
                    "text": draw(st.text(_STORABLE_CHARACTERS, max_size=5)),
                    "value": draw(st.integers(-(2**62), 2**62)),
                }
            )
        batches.append((draw(st.floats(allow_nan=False, allow_infinity=False)), entries))
    return width, batches, draw(st.integers(0, 2**32 - 1))


def _build(width, batches, seed):
    rng = np.random.default_rng(seed)
    out, next_index = [], 0
    for loss, entries in batches:
        n = len(entries)
        out.append(
            {
                "index": list(range(next_index, next_index + n)),
                "loss": loss,
                "value": [e["value"] for e in entries],
                "text": [e["text"] for e in entries],
                "run_info": [RunInfo(run=int(rng.integers(100)), event=next_index + i) for i, e in enumerate(entries)],
                "parts": [
                    ObjectList(
                        [
                            RecoParticle(id=j, index=rng.integers(0, 50, size=j).astype(np.int32), calo_ke=rng.random())
                            for j in range(e["n_parts"])
                        ],
                        RecoParticle(),
                    )
                    for e in entries
                ],
                "seg": [rng.integers(0, 9, e["seg"]) for e in entries],
                "data": [rng.random((e["data"], width)) for e in entries],
                "clusts": [
                    ObjectList([rng.integers(0, 9, c) for c in e["clusts"]], np.empty(0, np.int64)) for e in entries
                ],
                "points": [
                    ObjectList([rng.random((c, width)) for c in e["points"]], np.empty((0, width))) for e in entries
                ],
                "jag": [[rng.random((e["jag"][0], width + 1)), rng.random(e["jag"][1])] for e in entries],
            }
        )
        next_index += n
    return out


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs_of_batches())
def test_random_batches_resolve_to_exactly_the_written_rows(spec):
    width, batches, seed = spec
    data = _build(width, batches, seed)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "out.h5")
        write_batches(path, data)
        entries = read_back(path)  # also checks that the references tile every dataset in order
    expected = [(b, k) for b in data for k in range(len(b["index"]))]
    assert len(entries) == len(expected)
    for got, (batch, k) in zip(entries, expected):
        assert got["index"] == batch["index"][k]
        assert got["loss"] == batch["loss"]
        assert got["value"] == batch["value"][k]
        assert got["text"].decode() == batch["text"][k]
        assert RunInfo.from_records(got["run_info"][None]) == [batch["run_info"][k]]
        assert RecoParticle.from_records(got["parts"]) == list(batch["parts"][k])
        assert np.array_equal(got["seg"], batch["seg"][k])
        assert got["data"].shape == batch["data"][k].shape and np.array_equal(got["data"], batch["data"][k])
        for key in ("clusts", "points", "jag"):
            assert [a.shape for a in got[key]] == [a.shape for a in batch[key][k]], key
            assert all(np.array_equal(a, b) for a, b in zip(got[key], batch[key][k])), key


@pytest.mark.parametrize("format_version", [1, 2])
def test_types_hint_example_array_gives_the_width_of_a_flat_list(tmp_path, format_version):
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path), types={"pairs": np.empty((0, 2), np.int32)}, format_version=format_version)
    writer({"index": [0], "pairs": [[]]})
    writer({"index": [1], "pairs": [[np.zeros((1, 2), np.int32), np.ones((3, 2), np.int32)]]})
    writer.finalize()
    reader = HDF5Reader(str(path))
    assert len(reader[0]["pairs"]) == 0
    got = reader[1]["pairs"]
    assert [a.shape for a in got] == [(1, 2), (3, 2)] and got[1].dtype == np.int32


def test_one_dict_per_entry_is_an_object_with_a_class_hint(tmp_path):
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path), types={"run_info": "RunInfo"})
    writer({"index": [0, 1], "run_info": [{"run": 1}, {"run": 2, "event": 5}]})
    writer.finalize()
    with h5py.File(path, "r") as f:
        assert f["run_info"].attrs["class_name"] == "RunInfo" and bool(f["run_info"].attrs["scalar"])
    assert HDF5Reader(str(path))[1]["run_info"] == RunInfo(run=2, event=5)


def test_one_dict_per_entry_without_a_hint_is_refused_before_writing(tmp_path):
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path))
    with pytest.raises(ProductError, match=r"product 'run_info'.*types=\{'run_info': 'ClassName'\}"):
        writer({"index": [0], "run_info": [{"run": 1}]})
    assert not path.exists()


def test_initialize_datasets_from_the_data_types_matches_create(tmp_path):
    batch = {
        "index": [0, 1],
        "run_info": [RunInfo(run=1), RunInfo(run=2)],
        "points": [np.ones((2, 3), np.float32), np.ones((1, 3), np.float32)],
        "reco_particles": [[RecoParticle(id=0)], []],
        "clusts": [[np.arange(3)], []],
        "jag": [[np.ones((2, 2)), np.ones(3)]] * 2,
    }
    created = tmp_path / "created.h5"
    write_batches(created, [batch])
    writer = HDF5Writer(str(tmp_path / "unused.h5"))
    type_dict, _ = writer.get_data_types(batch, list(batch))
    manual = tmp_path / "manual.h5"
    with h5py.File(manual, "w") as out_file:
        writer.initialize_datasets(out_file, type_dict)

    def layout(path):
        found = {}
        with h5py.File(path, "r") as f:
            f.visititems(
                lambda name, node: found.__setitem__(
                    name,
                    (
                        type(node).__name__,
                        describe_dtype(node.dtype) if isinstance(node, h5py.Dataset) else None,
                        node.shape[1:] if isinstance(node, h5py.Dataset) else None,
                        sorted((k, str(v)) for k, v in node.attrs.items() if k != "complete"),
                    ),
                )
            )
        return found

    got, expected = layout(manual), layout(created)
    assert got.keys() == expected.keys()
    for name in expected:
        if name != "info":
            assert got[name] == expected[name], name
    with h5py.File(manual, "r") as f:
        assert len(f["events"]) == 0 and f["info"].attrs["complete"] == np.False_


# -- configuration of appending sessions ------------------------------------------------------------------------


def _run_batch(i0: int, n: int) -> dict:
    return {
        "index": list(range(i0, i0 + n)),
        "acc": [0.5] * n,
        "run_info": [RunInfo(event=i) for i in range(i0, n + i0)],
    }


def test_append_with_another_cfg_records_it_in_the_history(tmp_path):
    path = str(tmp_path / "cfg.h5")
    with HDF5Writer(path) as writer:
        writer(_run_batch(0, 3), cfg={"base": {"seed": 1}})
    with HDF5Writer(path, append=True) as writer:  # the same cfg: nothing to record
        writer(_run_batch(3, 1), cfg={"base": {"seed": 1}})
    with HDF5Writer(path, append=True) as writer:
        writer(_run_batch(4, 2), cfg={"base": {"seed": 2}})
    with HDF5Writer(path, append=True) as writer:  # no cfg given: nothing to record
        writer(_run_batch(6, 1))
    with HDF5Reader(path) as reader:
        assert len(reader) == 7
        assert reader.cfg == {"base": {"seed": 1}}  # info.cfg stays the creating session's (SPINE reads it)
        history = reader.cfg_history
    assert [session["cfg"] for session in history] == [{"base": {"seed": 1}}, {"base": {"seed": 2}}]
    assert [session["first_entry"] for session in history] == [0, 4]
    assert history[0]["time"] is None and history[1]["time"].endswith("+00:00")
    assert all(session["writer"].startswith("spineh5 ") for session in history)
    with h5py.File(path, "r") as h5file:
        assert yaml.safe_load(h5file["info"].attrs["cfg"]) == {"base": {"seed": 1}}


def test_cfg_history_of_a_file_without_one(tmp_path):
    path = str(tmp_path / "plain.h5")
    with HDF5Writer(path) as writer:
        writer(_run_batch(0, 2), cfg={"a": 1})
    with HDF5Reader(path) as reader:
        assert [session["cfg"] for session in reader.cfg_history] == [{"a": 1}]
