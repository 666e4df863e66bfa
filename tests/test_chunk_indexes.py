"""``h5io.allocate_chunk_indexes`` (low-level) does exactly what the high-level resize/write/resize did."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from spineh5.h5io import allocate_chunk_indexes


def _structure(path: Path) -> None:
    """Make empty chunked datasets of every kind a layout creates (plain, compound, 2-D, vlen, string)."""
    compound = np.dtype([("a", np.int64), ("b", np.float32, (3,)), ("c", np.bool_)])
    with h5py.File(path, "w") as h5:
        group = h5.create_group("products/x")
        group.create_dataset("fixed", shape=(0,), maxshape=(None,), dtype=compound, chunks=(64,))
        group.create_dataset("values", shape=(0, 3), maxshape=(None, 3), dtype=np.float32, chunks=(32, 3))
        group.create_dataset("offsets", data=np.zeros(1, np.int64), maxshape=(None,), chunks=(1024,))
        vlen = np.dtype([("v", h5py.vlen_dtype(np.int32)), ("s", h5py.string_dtype())])
        group.create_dataset("rows", shape=(0,), maxshape=(None,), dtype=vlen, chunks=(16,))
        h5.create_dataset("events", shape=(0,), maxshape=(None,), dtype=np.int64, chunks=(1024,), fletcher32=True)
        h5.create_dataset("filled", shape=(0, 2), maxshape=(None, 2), dtype=np.int32, chunks=(8, 2), fillvalue=-7)
        h5.create_dataset("bounded", shape=(0,), maxshape=(8,), dtype=np.int64, chunks=(8,))  # bounded: left alone
        h5.create_dataset("contiguous", data=np.arange(4))


def _high_level_reference(h5file: h5py.File) -> None:
    """The previous implementation, kept here as the definition of what the index allocation writes."""
    datasets: list[h5py.Dataset] = []
    h5file.visititems(lambda _, item: datasets.append(item) if isinstance(item, h5py.Dataset) else None)
    for dataset in datasets:
        if dataset.chunks is None or dataset.shape[0] != 0 or dataset.maxshape[0] is not None:
            continue
        dataset.resize(1, axis=0)
        dataset[0:1] = dataset[0:1]
        dataset.resize(0, axis=0)


def _made_with(path: Path, allocate, cache_bytes: int | None = None) -> bytes:
    _structure(path)
    if allocate is not None:
        with h5py.File(path, "a", rdcc_nbytes=cache_bytes) as h5:
            allocate(h5)
    return path.read_bytes()


@pytest.mark.parametrize("cache_bytes", [None, 0])  # 0: no chunk cache, the fill row goes to the file
def test_allocation_writes_the_bytes_of_the_high_level_reference(tmp_path: Path, cache_bytes: int | None) -> None:
    fast = _made_with(tmp_path / "fast.h5", allocate_chunk_indexes, cache_bytes)
    reference = _made_with(tmp_path / "reference.h5", _high_level_reference, cache_bytes)
    untouched = _made_with(tmp_path / "untouched.h5", None)
    assert fast == reference
    assert fast != untouched  # the allocation did happen (the indexes take space)


@pytest.mark.parametrize("native", [True, False])
def test_vlen_datasets_take_the_native_row_and_fall_back(tmp_path: Path, monkeypatch, native: bool) -> None:
    """Compound datasets with vlen/string members get a native empty row (no h5py conversion) unless switched off."""
    from spineh5 import h5io
    from spineh5.h5io_native import ENV_SWITCH

    if not native:
        monkeypatch.setenv(ENV_SWITCH, "0")
    high_level = []
    original = h5io._allocate_high_level
    monkeypatch.setattr(
        h5io, "_allocate_high_level", lambda dataset: (high_level.append(dataset.name), original(dataset))
    )
    fast = _made_with(tmp_path / "fast.h5", allocate_chunk_indexes)
    assert high_level == ([] if native else ["/products/x/rows"])
    assert fast == _made_with(tmp_path / "reference.h5", _high_level_reference)


def test_allocation_leaves_every_dataset_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "f.h5"
    _made_with(path, allocate_chunk_indexes)
    with h5py.File(path, "r") as h5:
        assert h5["products/x/fixed"].shape == (0,)
        assert h5["products/x/values"].shape == (0, 3)
        assert h5["products/x/rows"].shape == (0,)
        assert h5["events"].shape == (0,)
        assert h5["products/x/offsets"][()].tolist() == [0]
        assert h5["contiguous"][()].tolist() == [0, 1, 2, 3]
        assert h5["filled"].shape == (0, 2) and h5["filled"].fillvalue == -7
