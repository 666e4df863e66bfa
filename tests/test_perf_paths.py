"""The write path's fast paths give the same results and errors as the checks they skip (no timing here)."""

from __future__ import annotations

import types

import h5py
import numpy as np
import pytest

from spineh5 import HDF5Writer
from spineh5 import h5io as h5write
from spineh5.errors import ProductError
from spineh5.generated import ParticleShape, RecoParticle, TruthParticle
from spineh5.layouts.v1_write import V1Layout
from spineh5.payload import prepare
from spineh5.products import Kind, ProductSpec
from spineh5.types.columns import ColumnError, build_column

COLUMNS = {column.name: column for column in RecoParticle.COLUMNS}


def test_vlen_column_keeps_ready_arrays_and_casts_or_refuses_others():
    arrays = [np.arange(3, dtype=np.int32), np.empty(0, np.int32), np.arange(3, dtype=np.int32)]
    built = build_column(COLUMNS["index"], arrays, "RecoParticle")
    assert built.dtype == object and built.shape == (3,)
    assert all(a is b for a, b in zip(built, arrays))  # no copies of ready arrays
    mixed = build_column(COLUMNS["index"], [np.arange(2, dtype=np.int64), [4, 5]], "RecoParticle")
    assert [a.dtype for a in mixed] == [np.int32, np.int32] and mixed[1].tolist() == [4, 5]
    with pytest.raises(ColumnError, match=r"RecoParticle #1, field 'index'"):
        build_column(COLUMNS["index"], [np.arange(2, dtype=np.int32), np.zeros((2, 2), np.int32)], "RecoParticle")
    with pytest.raises(ColumnError, match=r"RecoParticle #2, field 'index'"):
        build_column(COLUMNS["index"], [np.zeros(1, np.int32)] * 2 + [np.array([1.5])], "RecoParticle")


def test_str_column_checks_every_distinct_value():
    built = build_column(COLUMNS["units"], ["cm"] * 4, "RecoParticle")
    assert built.tolist() == ["cm"] * 4
    with pytest.raises(ColumnError, match=r"RecoParticle #3, field 'units'.*NUL"):
        build_column(COLUMNS["units"], ["cm", "cm", "px", "c\x00m", "cm"], "RecoParticle")


def test_enum_column_from_members_ints_and_bad_values():
    members = [ParticleShape.TRACK, ParticleShape.SHOWER, ParticleShape.UNKNOWN]
    assert build_column(COLUMNS["shape"], members, "RecoParticle").tolist() == [1, 0, -1]
    assert build_column(COLUMNS["shape"], [1, 0, -1], "RecoParticle").dtype == np.int64
    with pytest.raises(ColumnError, match=r"RecoParticle #1, field 'shape'"):
        build_column(COLUMNS["shape"], [ParticleShape.TRACK, 42], "RecoParticle")


def _objects_spec() -> ProductSpec:
    return ProductSpec("reco_particles", Kind.OBJECTS, RecoParticle.DTYPE, "RecoParticle")


def test_object_checks_still_name_the_bad_item():
    spec = _objects_spec()
    good = [RecoParticle(id=i) for i in range(3)]
    assert len(prepare(spec, [good, good], 2, False).rows) == 6
    with pytest.raises(ProductError, match=r"item 2 is a TruthParticle") as err:
        prepare(spec, [good, [*good[:2], TruthParticle()]], 2, False)
    assert err.value.entry == 1
    odd = types.SimpleNamespace(**{c.name: getattr(good[0], c.name) for c in RecoParticle.COLUMNS})
    plain = type("RecoParticle", (types.SimpleNamespace,), {})(**vars(odd))
    sized = type("RecoParticle", (types.SimpleNamespace,), {})(**vars(odd))
    sized.__len__ = lambda: 1  # an instance attribute: is_object checks every object, not only its type
    assert len(prepare(spec, [[plain, plain]], 1, False).rows) == 2
    with pytest.raises(ProductError, match=r"item 1 is a RecoParticle, expected a RecoParticle object"):
        prepare(spec, [[plain, sized]], 1, False)


def test_flat_lists_fast_path_matches_checked_path():
    spec = ProductSpec("clusts", Kind.FLAT, np.dtype(np.int64), None, (0,))
    ready = [[np.arange(3, dtype=np.int64), np.arange(2, dtype=np.int64)], []]
    payload = prepare(spec, ready, 2, False)
    assert payload.rows.tolist() == [0, 1, 2, 0, 1] and payload.element_counts.tolist() == [3, 2]
    cast = prepare(spec, [[np.arange(3, dtype=np.int32)]], 1, False)
    assert cast.rows.dtype == np.int64
    with pytest.raises(ProductError, match=r"array 1 has shape \(2, 2\)"):
        prepare(spec, [[np.arange(3, dtype=np.int64), np.zeros((2, 2), np.int64)]], 1, False)
    wide = ProductSpec("pairs", Kind.FLAT, np.dtype(np.float32), None, (2,))
    with pytest.raises(ProductError, match=r"array 0 has shape \(1, 3\)"):
        prepare(wide, [[np.zeros((1, 3), np.float32)]], 1, False)


def _batch(i0: int) -> dict:
    ids = [i0, i0 + 1]
    return {
        "index": ids,
        "parts": [[RecoParticle(id=i, index=np.arange(i % 3, dtype=np.int32))] for i in ids],
        "seg": [np.arange(i % 4, dtype=np.int64) for i in ids],
    }


def test_datasets_opened_once_per_open_file_and_reopened_after_close(tmp_path):
    path = str(tmp_path / "out.h5")
    writer = HDF5Writer(path, publish="in_place")
    writer(_batch(0))
    writer.close()
    specs = writer.specs
    with h5py.File(path, "a") as h5:
        layout = V1Layout(h5)
        for i0 in (2, 4):
            layout.append({key: prepare(spec, _batch(i0)[key], 2, False) for key, spec in specs.items()}, 2)
            if i0 == 2:
                cached = dict(h5write.dataset_cache(h5))
        assert cached and all(h5write.dataset_cache(h5)[name] is ds for name, ds in cached.items())
    assert not any(dataset.id.valid for dataset in cached.values())  # closed with the file
    writer = HDF5Writer(path, append=True)
    writer(_batch(6))
    writer(_batch(8))
    writer.finalize()
    with h5py.File(path, "r") as h5:
        assert h5["events"].shape == (10,) and h5["index"][()].tolist() == list(range(10))
        assert h5["seg"].shape == (sum(i % 4 for i in range(10)),)
        for entry, event in enumerate(h5["events"][()]):
            assert h5["parts"][event["parts"]]["id"].tolist() == [entry]
