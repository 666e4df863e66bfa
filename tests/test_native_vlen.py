"""Native variable-length writes (h5io_native): same bytes as h5py's conversions, and a clean fallback."""

from __future__ import annotations

import hashlib

import h5py
import numpy as np
import pytest

from spineh5 import HDF5Writer, h5io, h5io_native
from spineh5.generated import RecoParticle, TruthParticle
from spineh5.layouts.v1_write import create_rows_dataset
from spineh5.synthetic import make_batches


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_mix(path, format_version: int = 1) -> None:
    with HDF5Writer(str(path), format_version=format_version) as writer:
        for batch in make_batches(4, batch_size=2, scale=0.05, seed=11):
            writer(batch, cfg={"base": {"seed": 11}})


@pytest.fixture
def native_calls(monkeypatch):
    """Count the writes that took the native path (a spy on h5io's hook)."""
    calls = {"native": 0, "fallback": 0}
    real = h5io_native.native_rows

    def spy(rows, check_support=True):
        result = real(rows, check_support)
        calls["fallback" if result is None else "native"] += 1
        return result

    monkeypatch.setattr(h5io, "native_rows", spy)
    return calls


def test_native_and_fallback_write_the_same_bytes(tmp_path, monkeypatch, native_calls):
    assert h5io_native.native_supported()
    _write_mix(tmp_path / "native.h5")
    used = native_calls["native"]
    assert used > 0  # the object products went through the native path
    monkeypatch.setenv(h5io_native.ENV_SWITCH, "0")
    assert not h5io_native.native_supported()
    _write_mix(tmp_path / "fallback.h5")
    assert native_calls["native"] == used  # nothing more went native once switched off
    assert _digest(tmp_path / "native.h5") == _digest(tmp_path / "fallback.h5")


def test_failed_self_test_falls_back(tmp_path, monkeypatch, native_calls):
    monkeypatch.setattr(h5io_native, "_SUPPORTED", False)
    _write_mix(tmp_path / "a.h5")
    assert native_calls["native"] == 0 and native_calls["fallback"] > 0
    monkeypatch.setattr(h5io_native, "_SUPPORTED", None)
    monkeypatch.setattr(h5io_native.ctypes, "sizeof", lambda _: 4)  # a 32-bit pointer size: no native path
    assert not h5io_native.native_supported()


def _rows_written(rows: np.ndarray, native: bool, tmp_path, monkeypatch) -> tuple[bytes, np.ndarray]:
    monkeypatch.setenv(h5io_native.ENV_SWITCH, "1" if native else "0")
    path = tmp_path / f"rows_{native}.h5"
    with h5py.File(path, "w") as h5file:
        dataset = create_rows_dataset(h5file, "rows", rows.dtype, 0, {})
        h5io.append_rows(dataset, rows[:2])
        h5io.append_rows(dataset, rows[2:])
    with h5py.File(path, "r") as h5file:
        back = h5file["rows"][()]
    return path.read_bytes(), back


def test_edge_cells_match_h5py(tmp_path, monkeypatch):
    particles = [
        RecoParticle(id=0, index=np.empty(0, np.int32), units="cm"),
        RecoParticle(id=1, index=np.arange(5, dtype=np.int32), match_ids=np.array([7], np.int32), units="px"),
        RecoParticle(id=2, index=np.arange(3, dtype=np.int32), match_overlaps=np.array([0.5], np.float32)),
        RecoParticle(id=3),
    ]
    rows = RecoParticle.to_records(particles)
    truth = TruthParticle.to_records(
        [TruthParticle(creation_process=text, index=np.arange(2, dtype=np.int32)) for text in ("énergie", "", "x")]
    )
    for records in (rows, truth):
        monkeypatch.setenv(h5io_native.ENV_SWITCH, "1")
        assert h5io_native.native_rows(records) is not None
        native_bytes, native_back = _rows_written(records, True, tmp_path, monkeypatch)
        plain_bytes, plain_back = _rows_written(records, False, tmp_path, monkeypatch)
        assert native_bytes == plain_bytes
        for name in (name for name in records.dtype.names if records.dtype[name].kind == "O"):
            assert [np.asarray(v).tolist() for v in native_back[name]] == [
                np.asarray(v).tolist() for v in plain_back[name]
            ], name
    assert native_back["creation_process"][0].decode("utf-8") == "énergie"


def test_cells_the_native_path_cannot_take_go_to_h5py(tmp_path, monkeypatch):
    rows = RecoParticle.to_records([RecoParticle(id=i, index=np.arange(i, dtype=np.int32)) for i in range(3)])
    wide = rows.copy()
    cells = np.empty(3, dtype=object)
    cells[:] = [np.arange(i, dtype=np.int64 if i == 2 else np.int32) for i in range(3)]
    wide["index"] = cells  # one cell not of the column's element type: h5py casts it
    assert h5io_native.native_rows(wide) is None
    strange = rows.copy()
    strange["units"][0] = None  # not a string: h5py decides
    assert h5io_native.native_rows(strange) is None
    _, back = _rows_written(wide, True, tmp_path, monkeypatch)
    assert [cell.tolist() for cell in back["index"]] == [[], [0], [0, 1]]
    refs = np.zeros(2, dtype=[("r", h5py.regionref_dtype)])
    assert h5io_native.native_rows(refs) is None  # references are not vlen data
    assert h5io_native.native_rows(np.zeros(2, dtype=[("x", np.int32)])) is None  # nothing to convert


def test_pools_are_owned_by_the_native_rows():
    rows = RecoParticle.to_records([RecoParticle(id=i, index=np.arange(i, dtype=np.int32)) for i in range(4)])
    native = h5io_native.native_rows(rows)
    pool = next(p for p in native.pools if p.dtype == np.int32)
    assert pool.tolist() == [0, 0, 1, 0, 1, 2]
    index_offset = native.mem_type.get_member_offset(native.mem_type.get_member_index(b"index"))
    structs = native.buffer.view(np.uint8).reshape(4, -1)[:, index_offset : index_offset + 16].copy()
    hvl = structs.view(np.uintp).reshape(4, 2)
    assert hvl[:, 0].tolist() == [0, 1, 2, 3]
    assert hvl[0, 1] == 0 and hvl[1, 1] == pool.ctypes.data and hvl[3, 1] == pool.ctypes.data + 3 * 4


def test_pooled_rows_write_the_bytes_of_records(tmp_path, monkeypatch):
    particles = [
        RecoParticle(id=i, index=np.arange(i, dtype=np.int32), units="px" if i % 2 else "cm") for i in range(5)
    ]
    records = RecoParticle.to_records(particles)
    columns = {}
    for name in records.dtype.names:
        field = records.dtype[name]
        if h5py.check_string_dtype(field) is not None:
            columns[name] = records[name].tolist()
        elif field.kind == "O":
            cells = records[name].tolist()
            offsets = np.zeros(len(cells) + 1, np.int64)
            np.cumsum([len(cell) for cell in cells], out=offsets[1:])
            columns[name] = (np.concatenate(cells), offsets)
        else:
            columns[name] = records[name]
    pooled = h5io_native.pooled_rows(records.dtype, columns, len(records))
    assert pooled is not None and len(pooled) == 5
    with_pools = tmp_path / "pooled.h5"
    with h5py.File(with_pools, "w") as h5file:
        h5io.append_rows(create_rows_dataset(h5file, "rows", records.dtype, 0, {}), pooled)
    monkeypatch.setenv(h5io_native.ENV_SWITCH, "0")
    with_records = tmp_path / "records.h5"
    with h5py.File(with_records, "w") as h5file:
        h5io.append_rows(create_rows_dataset(h5file, "rows", records.dtype, 0, {}), records)
    assert with_pools.read_bytes() == with_records.read_bytes()
    assert h5io_native.pooled_rows(records.dtype, columns, len(records)) is None  # switched off: caller builds records
