"""V1 writes from collections: native rows pointing into the collections' own pools, same bytes as objects.

The collection path must not go back to per-row cells (``split_rows``) nor to compound records while the
native path is on, must point into the values it was given (no copy), must refuse offsets that would point
outside a pool, and must write the same bytes through h5py's conversions when the native path is off.
"""

from __future__ import annotations

import gc
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_collections import PRODUCTS, _joined, as_collections, batches, write

from spineh5 import h5io, h5io_native, payload
from spineh5.generated import RecoParticle, RecoParticleCollection
from spineh5.layouts.v1_write import create_rows_dataset
from spineh5.types import collection as collection_module
from spineh5.types.collection import Vlen
from spineh5.types.column_arrays import split_rows


@pytest.fixture
def pooled_calls(monkeypatch):
    """Count the collection writes that took the native path, and fail on any per-row cell split."""
    calls = {"native": 0, "refused": 0}
    real = payload.pooled_rows

    def spy(dtype, columns, count):
        result = real(dtype, columns, count)
        if h5io_native._plan(dtype) is not None:  # a compound without vlen members has nothing to point at
            calls["refused" if result is None else "native"] += 1
        return result

    def no_split(column):
        raise AssertionError("the V1 collection path split a column into per-row cells")

    monkeypatch.setattr(payload, "pooled_rows", spy)
    monkeypatch.setattr(collection_module, "split_rows", no_split)
    return calls


def _mixed(batch: dict) -> dict:
    """Return ``batch`` with the object lists as collections of both forms (per-row cells and values+offsets).

    Every form alone is compared with objects by test_collections; here they are joined in one product.
    """
    cells, pools = as_collections(batch), _joined(batch)
    out = dict(cells)
    for key in PRODUCTS:
        out[key] = [pools[key][entry] if entry % 2 else cells[key][entry] for entry in range(len(batch[key]))]
    return out


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=batches(), lite=st.booleans())
def test_v1_collections_go_native_and_write_the_bytes_of_objects(
    tmp_path: Path, data, lite: bool, pooled_calls, monkeypatch
) -> None:
    monkeypatch.setenv(h5io_native.ENV_SWITCH, "1")
    objects = write(tmp_path / "objects.h5", data, 1, lite=lite)
    before = dict(pooled_calls)  # the fixture's counts run over every example
    assert write(tmp_path / "mixed.h5", [_mixed(b) for b in data], 1, lite=lite) == objects
    assert pooled_calls["native"] > before["native"] and pooled_calls["refused"] == before["refused"]
    with monkeypatch.context() as patch:
        patch.setenv(h5io_native.ENV_SWITCH, "0")  # the fallback: records through h5py's conversions
        patch.setattr(collection_module, "split_rows", split_rows)  # which the records of the fallback use
        assert write(tmp_path / "fallback.h5", [_joined(b) for b in data], 1, lite=lite) == objects


def _particles(sizes: list[int], start: int = 0) -> list[RecoParticle]:
    return [
        RecoParticle(id=start + i, index=np.arange(size, dtype=np.int32) + 10 * (start + i), units="cm")
        for i, size in enumerate(sizes)
    ]


def _written(tmp_path: Path, name: str, rows) -> tuple[bytes, np.ndarray]:
    path = tmp_path / name
    with h5py.File(path, "w") as h5file:
        h5io.append_rows(create_rows_dataset(h5file, "rows", RecoParticle.DTYPE, 0, {}), rows)
    with h5py.File(path, "r") as h5file:
        back = h5file["rows"][()]
    return path.read_bytes(), back


def test_concat_keeps_the_parts_pools_and_the_rows_point_into_them(tmp_path: Path, monkeypatch) -> None:
    parts = [
        RecoParticleCollection.from_objects(_particles([2, 0, 3])),
        RecoParticleCollection.from_objects([]),
        RecoParticleCollection.from_columns(
            id=[7, 8], index=(np.array([-1, 5, 6, 7, -1], np.int32), np.array([1, 3, 4]))
        ),
    ]
    copied = RecoParticleCollection.concat(parts)
    assert copied.vlen_pools("index") == [copied.column("index")]  # joined now, a copy of the parts' values
    joined = RecoParticleCollection.concat(parts, copy=False)
    pools = joined.vlen_pools("index")
    assert [pool.values.tolist() for pool in pools] == [[0, 1, 20, 21, 22], [], [5, 6, 7]]
    native = payload._pooled_records(_spec(), joined, lite=False)
    assert isinstance(native, h5io_native.NativeRows)
    assert any(kept is pools[2].values for kept in native.pools)  # pointed at, not copied
    native_bytes, back = _written(tmp_path, "native.h5", native)
    assert [cell.tolist() for cell in back["index"]] == [[0, 1], [], [20, 21, 22], [5, 6], [7]]
    monkeypatch.setenv(h5io_native.ENV_SWITCH, "0")
    assert _written(tmp_path, "records.h5", joined.to_records())[0] == native_bytes
    assert joined.column("index").values.tolist() == [0, 1, 20, 21, 22, 5, 6, 7]  # joined on use
    assert joined.vlen_pools("index") == [joined.column("index")]
    parts[2].column("index").values[:] = 0  # the copied concat does not share the parts' values
    assert copied.column("index").values.tolist() == [0, 1, 20, 21, 22, 5, 6, 7]


def _spec():
    class Spec:
        object_type = RecoParticle

    return Spec()


def test_the_pools_outlive_the_collection(tmp_path: Path) -> None:
    collection = RecoParticleCollection.concat(
        [
            RecoParticleCollection.from_columns(id=[i], index=(np.arange(100, dtype=np.int32) * i, [0, 100]))
            for i in (1, 2)
        ],
        copy=False,
    )
    native = payload._pooled_records(_spec(), collection, lite=False)
    del collection
    gc.collect()
    for _ in range(3):  # reuse freed memory, if anything had freed the pools
        np.full(1000, -1, np.int32)
    _, back = _written(tmp_path, "kept.h5", native)
    assert back["index"][1].tolist() == (np.arange(100) * 2).tolist()


def _fixed_columns(count: int) -> dict:
    records = RecoParticle.to_records(_particles([0] * count))
    columns = {name: records[name] for name in records.dtype.names if records.dtype[name].kind != "O"}
    for name in records.dtype.names:
        if h5py.check_string_dtype(records.dtype[name]) is not None:
            columns[name] = records[name].tolist()
        elif records.dtype[name].kind == "O":
            columns[name] = (np.zeros(0, h5py.check_vlen_dtype(records.dtype[name])), np.zeros(count + 1, np.int64))
    return columns


@pytest.mark.parametrize(
    "index",
    [
        (np.arange(4, dtype=np.int32), np.array([0, 2, 5])),  # past the end of the values
        (np.arange(4, dtype=np.int32), np.array([-1, 2, 4])),  # before their start
        (np.arange(4, dtype=np.int32), np.array([0, 3, 2])),  # a row ending before it starts
        (np.arange(4, dtype=np.int32), np.array([0, 4])),  # one row short
        [(np.arange(2, dtype=np.int32), np.array([0, 2])), (np.arange(2, dtype=np.int32), np.array([0, 3]))],
        (np.arange(4, dtype=np.int32), np.array([0.0, 2.0, 4.0])),  # offsets that are not integers
        (np.arange(4, dtype=np.int32).reshape(2, 2), np.array([0, 1, 2])),  # values that are not 1-D
    ],
)
def test_pooled_rows_refuse_offsets_outside_their_pool(index) -> None:
    columns = _fixed_columns(2)
    columns["index"] = index
    assert h5io_native.pooled_rows(RecoParticle.DTYPE, columns, 2) is None


def test_pooled_rows_point_into_several_pools_from_any_offset(tmp_path: Path, monkeypatch) -> None:
    columns = _fixed_columns(3)
    first, second = np.arange(6, dtype=np.int32), np.array([40, 41], np.int32)
    columns["index"] = [(first, np.array([2, 2, 5])), Vlen(second, np.array([0, 2]))]
    native = h5io_native.pooled_rows(RecoParticle.DTYPE, columns, 3)
    assert native is not None and any(pool is first for pool in native.pools)
    _, back = _written(tmp_path, "pools.h5", native)
    assert [cell.tolist() for cell in back["index"]] == [[], [2, 3, 4], [40, 41]]
