"""``HDF5Writer.from_specs``: a writer whose storage is given, and ``info.complete`` through the layouts."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from spineh5 import HDF5Reader, HDF5Writer
from spineh5.errors import ProductError
from spineh5.generated import Flash, RecoParticle
from spineh5.layouts import layout_class
from spineh5.products import Kind, ProductSpec

SPECS = {
    "pairs": ProductSpec("pairs", Kind.FLAT, np.dtype(np.int32), None, (2,)),
    "flashes": ProductSpec("flashes", Kind.OBJECTS, Flash.DTYPE, "Flash"),
}


def _empty_batch() -> dict:
    return {"index": [0, 1], "pairs": [[], []], "flashes": [[], []]}


@pytest.mark.parametrize("format_version", [1, 2])
def test_specs_decide_what_an_all_empty_first_batch_cannot(tmp_path: Path, format_version: int) -> None:
    with pytest.raises(ProductError, match="every entry of the first batch is empty"):
        HDF5Writer(str(tmp_path / "inferred.h5"), format_version=format_version)(_empty_batch())
    given = tmp_path / "given.h5"
    with HDF5Writer.from_specs(str(given), SPECS, format_version=format_version) as writer:
        writer(_empty_batch())
        writer({"index": [2], "pairs": [[np.array([[1, 2]], np.int32)]], "flashes": [[Flash(id=4)]]})
    with HDF5Reader(str(given)) as reader:
        assert reader.spec("pairs").widths == (2,) and reader.spec("flashes").class_name == "Flash"
        assert [len(reader[i]["pairs"]) for i in range(3)] == [0, 0, 1]
        assert reader[2]["flashes"][0].id == 4


@pytest.mark.parametrize("format_version", [1, 2])
def test_specs_write_the_file_the_hints_write(tmp_path: Path, format_version: int) -> None:
    hinted, given = tmp_path / "hinted.h5", tmp_path / "given.h5"
    types = {"pairs": np.empty((0, 2), np.int32), "flashes": "Flash"}
    with HDF5Writer(str(hinted), keys=list(SPECS), types=types, format_version=format_version) as writer:
        writer(_empty_batch(), {"x": 1})
    with HDF5Writer.from_specs(str(given), SPECS, format_version=format_version) as writer:
        writer(_empty_batch(), {"x": 1})
    assert hinted.read_bytes() == given.read_bytes()


def test_specs_must_be_product_specs_of_their_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="specs\\['other'\\]"):
        HDF5Writer.from_specs(str(tmp_path / "out.h5"), {"other": SPECS["pairs"]})
    with pytest.raises(ValueError, match="specs\\['pairs'\\]"):
        HDF5Writer.from_specs(str(tmp_path / "out.h5"), {"pairs": "int32"})
    assert not (tmp_path / "out.h5").exists()


def test_specs_give_the_keys_unless_skip_keys_is_given(tmp_path: Path) -> None:
    parts = ProductSpec("parts", Kind.OBJECTS, RecoParticle.DTYPE, "RecoParticle")
    data = {"index": [0], "parts": [[]], "seg": [np.arange(3)], "name": ["a"]}
    with HDF5Writer.from_specs(str(tmp_path / "keys.h5"), {"parts": parts}) as writer:
        writer(data)
    with HDF5Writer.from_specs(str(tmp_path / "skip.h5"), {"parts": parts}, skip_keys=["name"]) as writer:
        writer(data)
    with HDF5Reader(str(tmp_path / "keys.h5")) as keys, HDF5Reader(str(tmp_path / "skip.h5")) as skip:
        assert sorted(keys.keys) == ["index", "parts"]
        assert sorted(skip.keys) == ["index", "parts", "seg"] and skip.spec("seg").kind is Kind.ARRAY


@pytest.mark.parametrize("format_version", [1, 2])
def test_mark_complete_sets_an_hdf5_boolean(tmp_path: Path, format_version: int) -> None:
    path = tmp_path / "out.h5"
    with HDF5Writer(str(path), format_version=format_version) as writer:
        writer({"index": [0]})
    with h5py.File(path, "r+") as h5file:
        assert h5file["info"].attrs["complete"] is np.True_
        layout_class(format_version)(h5file).mark_complete(False)
        assert h5file["info"].attrs["complete"] is np.False_
        layout_class(format_version)(h5file).mark_complete()
        assert h5file["info"].attrs["complete"] is np.True_
