"""``spineh5.synthetic``: the benchmark's event mix, valid and self-consistent."""

from __future__ import annotations

import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spineh5 import synthetic
from spineh5.generated import REGISTRY, NuCurrentType, NuInteractionScheme, ParticlePID, ParticleShape
from spineh5.synthetic import EVENT_MIX, PRODUCT_KEYS, entry_rng, make_batches, make_entry, plain_class, to_plain

OBJECT_KEYS = [*EVENT_MIX, "run_info", "meta"]


@pytest.fixture(scope="module")
def entry() -> dict:
    return make_entry(entry_rng(0, 7), 7)


@pytest.fixture(scope="module")
def small() -> dict:
    return make_entry(entry_rng(3, 1), 1, scale=0.02)


def objects_of(entry: dict, key: str) -> list:
    value = entry[key]
    return value if isinstance(value, list) else [value]


def test_event_mix(entry: dict) -> None:
    assert set(entry) == set(PRODUCT_KEYS)
    for key, count in EVENT_MIX.items():
        assert len(entry[key]) == count, key
    assert type(entry["run_info"]).__name__ == "RunInfo"
    assert type(entry["meta"]).__name__ == "ImageMeta3D"
    assert len(entry["clusts"]) == 60
    assert all(a.dtype == np.int64 and a.ndim == 1 for a in entry["clusts"])


def test_voxels(entry: dict) -> None:
    points, depositions, seg = entry["points"], entry["depositions"], entry["seg_label"]
    assert points.shape == (20_000, 3) and points.dtype == np.float32
    assert depositions.shape == (20_000,) and depositions.dtype == np.float32
    assert seg.shape == (20_000,) and seg.dtype == np.int64
    assert (depositions > 0).all()
    assert set(np.unique(seg).tolist()) <= {int(s) for s in ParticleShape if s >= 0}


def test_scale_shrinks_voxels_only(small: dict) -> None:
    assert small["points"].shape == (400, 3)
    for key, count in EVENT_MIX.items():
        assert len(small[key]) == count


def test_image_meta_is_consistent_and_holds_the_points(entry: dict) -> None:
    meta = entry["meta"]
    assert np.allclose(meta.upper, meta.lower + meta.size * meta.count)
    points = entry["points"]
    assert (points >= meta.lower).all() and (points <= meta.upper).all()
    cells = (points - meta.lower) / meta.size - 0.5
    assert np.allclose(cells, np.round(cells), atol=1e-2)  # voxel centres


def assert_partition(indexes: list[np.ndarray], n_voxels: int) -> None:
    merged = np.concatenate(indexes)
    assert len(merged) == n_voxels
    assert np.array_equal(np.sort(merged), np.arange(n_voxels))
    assert all(np.array_equal(index, np.sort(index)) for index in indexes)


@pytest.mark.parametrize(
    "key", ["reco_particles", "truth_particles", "reco_fragments", "truth_fragments", "reco_interactions"]
)
def test_index_arrays_partition_the_voxels(entry: dict, key: str) -> None:
    assert_partition([obj.index for obj in entry[key]], len(entry["points"]))
    assert all(obj.index.dtype == np.int32 for obj in entry[key])


def test_fragments_belong_to_their_particles(entry: dict) -> None:
    particles = entry["reco_particles"]
    for fragment in entry["reco_fragments"]:
        parent = particles[fragment.particle_id]
        assert np.isin(fragment.index, parent.index).all()
        assert fragment.id in parent.fragment_ids
    truth = entry["truth_particles"]
    for fragment in entry["truth_fragments"]:
        assert fragment.id in truth[fragment.particle_id].fragment_ids


def test_enum_values_are_members(entry: dict) -> None:
    for key in EVENT_MIX:
        for obj in entry[key]:
            for column in type(obj).COLUMNS:
                if column.enum is not None:
                    value = getattr(obj, column.name)
                    assert value in set(column.enum), (key, column.name, value)
    assert entry["neutrinos"][0].current_type == NuCurrentType.CC
    assert entry["neutrinos"][0].interaction_scheme == NuInteractionScheme.GENIE


def test_per_pid_arrays(entry: dict) -> None:
    for obj in entry["reco_particles"]:
        for name in ("chi2_per_pid", "csda_ke_per_pid", "mcs_ke_per_pid", "pid_scores"):
            assert getattr(obj, name).shape == (6,)
        assert np.isclose(obj.pid_scores.sum(), 1.0, atol=1e-5)
        if obj.shape == ParticleShape.TRACK:
            assert np.isfinite(obj.csda_ke_per_pid).all()
    for obj in entry["reco_interactions"]:
        assert obj.particle_counts.shape == (6,)
        assert obj.particle_counts.sum() <= obj.num_particles


def test_derived_columns_agree(entry: dict) -> None:
    depositions = entry["depositions"]
    for obj in entry["reco_particles"]:
        assert obj.size == len(obj.index)
        assert np.isclose(obj.depositions_sum, depositions[obj.index].sum(dtype=np.float64))
        assert obj.num_fragments == len(obj.fragment_ids)
        assert np.isclose(obj.p**2, obj.ke**2 + 2 * obj.ke * obj.mass)
        assert np.allclose(obj.momentum, obj.start_dir * obj.p, rtol=1e-4, atol=1e-3)
        assert obj.pdg_code == {0: 22, 1: 11, 2: 13, 3: 211, 4: 2212, 5: 321}[int(obj.pid)]
    tags = ("g", "e", "mu", "pi", "p", "k")
    for obj in entry["reco_interactions"] + entry["truth_interactions"]:
        expected = "".join(f"{n}{t}" for n, t in zip(obj.primary_particle_counts, tags) if n)
        assert obj.topology == expected
        assert obj.num_particles == len(obj.particle_ids)


def test_matches_are_real_overlaps(entry: dict) -> None:
    reco, truth = entry["reco_particles"], entry["truth_particles"]
    for obj in reco:
        assert obj.is_matched == bool(len(obj.match_ids))
        for match, overlap in zip(obj.match_ids, obj.match_overlaps):
            other = truth[match].index
            iou = len(np.intersect1d(obj.index, other)) / len(np.union1d(obj.index, other))
            assert np.isclose(overlap, iou, rtol=1e-5)


def test_neutrino_interaction(entry: dict) -> None:
    (neutrino,) = entry["neutrinos"]
    interaction = entry["truth_interactions"][0]
    assert interaction.nu_id == 0 and neutrino.interaction_id == 0
    assert np.allclose(interaction.vertex, neutrino.position)
    assert entry["truth_particles"][0].pid == ParticlePID.MUON


def test_every_product_converts_to_records(entry: dict, small: dict) -> None:
    for data in (entry, small):
        for key in OBJECT_KEYS:
            objects = objects_of(data, key)
            cls = REGISTRY[type(objects[0]).__name__]
            records = cls.to_records(objects)
            assert records.dtype == cls.DTYPE and len(records) == len(objects)
            assert cls.to_records(objects, lite=True).dtype == cls.LITE_DTYPE


def test_zero_scale_gives_empty_index_arrays() -> None:
    data = make_entry(entry_rng(0, 0), 0, scale=0.0)
    assert data["points"].shape == (0, 3)
    assert all(len(obj.index) == 0 for obj in data["reco_particles"])
    for key in OBJECT_KEYS:
        objects = objects_of(data, key)
        type(objects[0]).to_records(objects)


def test_plain_objects_match_generated() -> None:
    generated = make_entry(entry_rng(5, 2), 2, scale=0.02)
    plain = make_entry(entry_rng(5, 2), 2, scale=0.02, as_plain=True)
    for key in OBJECT_KEYS:
        for gen, obj in zip(objects_of(generated, key), objects_of(plain, key)):
            assert type(obj).__name__ == type(gen).__name__
            assert isinstance(obj, types.SimpleNamespace)
            cls = type(gen)
            assert cls.from_records(cls.to_records([obj])) == [gen]


def test_plain_class_is_cached_and_named() -> None:
    assert plain_class("RecoParticle") is plain_class("RecoParticle")
    assert plain_class("RecoParticle").__name__ == "RecoParticle"
    obj = to_plain(REGISTRY["RunInfo"](run=1, subrun=2, event=3))
    assert (obj.run, obj.subrun, obj.event) == (1, 2, 3)


def test_batches() -> None:
    batches = list(make_batches(10, batch_size=4, scale=0.01))
    assert [b["index"] for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    for batch in batches:
        assert set(batch) == {"index", *PRODUCT_KEYS}
        n = len(batch["index"])
        assert all(len(batch[key]) == n for key in PRODUCT_KEYS)
        assert all(isinstance(entry, list) for entry in batch["reco_particles"])
    triplets = {(r.run, r.subrun, r.event) for b in batches for r in b["run_info"]}
    assert len(triplets) == 10


def test_entries_do_not_depend_on_the_batch_size() -> None:
    by_three = [p for b in make_batches(5, batch_size=3, seed=9, scale=0.01) for p in b["points"]]
    by_two = [p for b in make_batches(5, batch_size=2, seed=9, scale=0.01) for p in b["points"]]
    assert all(np.array_equal(a, b) for a, b in zip(by_three, by_two))
    other = next(make_batches(1, seed=10, scale=0.01))["points"][0]
    assert not np.array_equal(by_two[0], other)


def test_start_offsets_the_indexes() -> None:
    batch = next(make_batches(2, batch_size=2, start=100, scale=0.01))
    assert batch["index"] == [100, 101]
    assert batch["run_info"][0].event == 100


@pytest.mark.parametrize(("kwargs", "message"), [({"batch_size": 0}, "batch_size"), ({"scale": -1.0}, "scale")])
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        next(make_batches(2, **kwargs))


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), scale=st.floats(0.0, 0.05))
def test_partition_holds_for_any_seed(seed: int, scale: float) -> None:
    data = make_entry(entry_rng(seed, 0), 0, scale=scale)
    n_voxels = len(data["points"])
    assert_partition([obj.index for obj in data["reco_particles"]], n_voxels)
    assert_partition([obj.index for obj in data["truth_particles"]], n_voxels)
    meta = data["meta"]
    assert np.allclose(meta.upper, meta.lower + meta.size * meta.count)


def test_spine_accepts_the_values(small: dict) -> None:
    spine_data = pytest.importorskip("spine.data")
    for key in OBJECT_KEYS:
        objects = objects_of(small, key)
        records = type(objects[0]).to_records(objects)
        spine_class = getattr(spine_data, type(objects[0]).__name__)
        for row in records[:5]:
            spine_class.from_dict(dict(zip(records.dtype.names, row)))


def test_module_constants() -> None:
    assert synthetic.VOXELS_PER_ENTRY == 20_000
    assert sum(EVENT_MIX.values()) == 261
