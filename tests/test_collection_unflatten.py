"""``SchemaCollection.unflatten``: one collection for a batch, cut into per-entry views the writer joins back."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spineh5 import HDF5Writer
from spineh5.errors import ColumnError, SpineH5Error
from spineh5.generated import RecoParticle, RecoParticleCollection, RunInfo

INDEX = st.lists(st.integers(-(2**31), 2**31 - 1), max_size=4).map(lambda v: np.array(v, np.int32))
PARTICLE = st.builds(
    RecoParticle,
    id=st.integers(0, 2**40),
    index=INDEX,
    calo_ke=st.floats(width=32, allow_nan=True),
    units=st.sampled_from(["cm", "px"]),
)
ENTRIES = st.lists(st.lists(PARTICLE, max_size=3), min_size=1, max_size=5)


def _batch(entries: list[list], start: int, particles) -> dict:
    count = len(entries)
    return {
        "index": list(range(start, start + count)),
        "run_info": [RunInfo(run=1, subrun=0, event=start + i) for i in range(count)],
        "reco_particles": particles,
    }


def _write(path: Path, batches: list[dict], version: int) -> str:
    with HDF5Writer(str(path), format_version=version, overwrite=True, types={"reco_particles": "RecoParticle"}) as w:
        for batch in batches:
            w(batch)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _flat(entries: list[list]) -> tuple[RecoParticleCollection, list[int]]:
    """One collection of every entry's particles (built from columns: values + offsets), and the counts."""
    built = RecoParticleCollection.from_objects([p for objects in entries for p in objects])
    columns = {
        column.name: built.column(column.name) for column in RecoParticleCollection.COLUMNS
    }  # Vlen: (values, offsets)
    return RecoParticleCollection.from_columns(columns), [len(objects) for objects in entries]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=ENTRIES, second=ENTRIES, version=st.sampled_from([1, 2]))
def test_unflattened_batches_write_the_bytes_of_their_objects(tmp_path: Path, first, second, version: int) -> None:
    objects = [_batch(first, 0, first), _batch(second, len(first), second)]
    views = []
    for entries, start in ((first, 0), (second, len(first))):
        flat, counts = _flat(entries)
        views.append(_batch(entries, start, flat.unflatten(counts)))
    assert _write(tmp_path / "views.h5", views, version) == _write(tmp_path / "objects.h5", objects, version)


@settings(max_examples=30, deadline=None)
@given(entries=ENTRIES)
def test_each_view_holds_its_entry(entries) -> None:
    flat, counts = _flat(entries)
    parts = flat.unflatten(counts)
    assert [len(part) for part in parts] == counts
    for part, objects in zip(parts, entries):
        assert part.equals(objects)
        index = part.column("index")  # variable-length: offsets start at 0 for each view
        assert index.offsets[0] == 0 and len(index.offsets) == len(objects) + 1


def test_consecutive_views_join_back_without_a_copy() -> None:
    flat, _ = _flat([[RecoParticle(id=i, index=np.arange(i, dtype=np.int32)) for i in range(6)]])
    parts = flat.unflatten([2, 0, 3, 1])
    assert RecoParticleCollection.concat(parts) is flat
    middle = RecoParticleCollection.concat(parts[1:3])
    assert middle.column("index").values.base is not None  # a slice of flat's values, not a copy
    assert middle.equals(flat.to_objects()[2:5])
    shuffled = RecoParticleCollection.concat([parts[2], parts[0]])  # not consecutive: joined by copy
    assert shuffled.equals(flat.to_objects()[2:5] + flat.to_objects()[0:2])


@pytest.mark.parametrize(
    ("counts", "problem"),
    [([1, 1], "add up to 2, the collection has 3 rows"), ([4, -1], "must not be negative"), ([[3]], "1-D")],
)
def test_bad_counts_are_refused_in_one_line(counts, problem: str) -> None:
    flat, _ = _flat([[RecoParticle(id=i) for i in range(3)]])
    with pytest.raises(ColumnError, match=problem) as refused:
        flat.unflatten(counts)
    assert isinstance(refused.value, SpineH5Error) and "RecoParticle" in str(refused.value)
    assert "\n" not in str(refused.value)


def test_the_writer_joins_a_batch_of_views_into_the_flat_collection(tmp_path: Path, monkeypatch) -> None:
    entries = [[RecoParticle(id=1, index=np.arange(3, dtype=np.int32))], [], [RecoParticle(id=2), RecoParticle(id=3)]]
    flat, counts = _flat(entries)
    joined = []
    original = RecoParticleCollection.concat.__func__

    def spy(cls, parts, copy=True):
        result = original(cls, parts, copy)
        joined.append(result)
        return result

    monkeypatch.setattr(RecoParticleCollection, "concat", classmethod(spy))
    _write(tmp_path / "v.h5", [_batch(entries, 0, flat.unflatten(counts))], 2)
    assert any(result is flat for result in joined)
