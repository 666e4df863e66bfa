"""What opening a reader reads, and the cheap paths behind the analysis arrays.

Opening reads only the ``info`` attributes it needs and no product until one
is used; ``fixed_only`` never parses V2 pools; a stored compound's dtype is
built once per type; pool fields sharing one pool are compacted exactly.
Counting is done by wrapping the functions that read, so each test fails when
the read comes back.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import awkward as ak
import h5py
import numpy as np
import pytest
from conftest import every_case_batch, write_every_case

from spineh5 import h5io
from spineh5.format import v2_products
from spineh5.format.common import read_info
from spineh5.input_files import OPEN_INFO
from spineh5.layouts import v2_objects
from spineh5.layouts.v2_objects import PoolField
from spineh5.reader import HDF5Reader
from spineh5.views import awkward_view


@pytest.fixture(scope="module", params=[1, 2], ids=["v1", "v2"])
def written(request, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp(f"lazy_v{request.param}")
    return write_every_case(folder / "a.h5", [every_case_batch(0, 4)], format_version=request.param)


def _open(path: Path, **options) -> HDF5Reader:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return HDF5Reader(str(path), **options)


def _attribute_reads(monkeypatch) -> list[tuple[str, str]]:
    """Record ``(object name, attribute name)`` of every attribute h5py's high-level API reads."""
    reads: list[tuple[str, str]] = []
    original = h5py.AttributeManager.__getitem__

    def counted(self, name):
        reads.append((h5py.h5i.get_name(self._id).decode(), name))
        return original(self, name)

    monkeypatch.setattr(h5py.AttributeManager, "__getitem__", counted)
    return reads


def test_opening_reads_only_the_info_it_needs(written: Path, monkeypatch) -> None:
    reads = _attribute_reads(monkeypatch)
    reader = _open(written)
    info_reads = {name for owner, name in reads if owner == "/info"}
    assert info_reads <= set(OPEN_INFO)
    assert "cfg" not in info_reads
    reader.close()
    with h5py.File(written, "r") as h5file:
        full = read_info(h5file, str(written))
    assert reader.info == full  # read on first use, after close too
    assert len(reader._open) == 0  # through a handle closed again
    assert reader.version == full.get("spine_version", full.get("version"))
    assert reader.writer == full["writer"]
    assert reader.cfg is not None


def test_opening_v2_inspects_no_product_until_used(tmp_path: Path, monkeypatch) -> None:
    path = write_every_case(tmp_path / "a.h5", [every_case_batch(0, 4)], format_version=2)
    kinds: list[str] = []
    original = v2_products.member_kind

    def counted(products, name):
        kinds.append(name)
        return original(products, name)

    monkeypatch.setattr("spineh5.layouts.v2_read.member_kind", counted)
    reads = _attribute_reads(monkeypatch)
    with _open(path, keys=["reco_particles"]) as reader:
        assert set(kinds) == {"reco_particles"}  # only the requested product's kind
        assert not [owner for owner, _ in reads if owner.startswith("/products")]
        reader.table("reco_particles", fixed_only=True)
        assert {owner for owner, _ in reads if owner.startswith("/products")} <= {"/products/reco_particles"}


def test_fixed_only_parses_no_pool(tmp_path: Path, monkeypatch) -> None:
    path = write_every_case(tmp_path / "a.h5", [every_case_batch(0, 4)], format_version=2)
    with _open(path) as reader:
        rows, offsets = reader.table("reco_particles")
        fixed_names = [name for name in rows.dtype.names if rows.dtype.fields[name][0].kind != "O"]

    def refused(*args, **kwargs):
        raise AssertionError("a pool was parsed")

    monkeypatch.setattr(v2_objects, "parse_pools", refused)
    with _open(path) as reader:
        fixed, fixed_offsets = reader.table("reco_particles", fixed_only=True)
        assert list(fixed.dtype.names) == fixed_names
        np.testing.assert_array_equal(fixed_offsets, offsets)
        for name in fixed_names:
            np.testing.assert_array_equal(fixed[name], rows[name])
        array = reader.arrays("reco_particles", columns=fixed_names)
        assert ak.fields(array.reco_particles) == fixed_names


def test_dataset_dtype_is_built_once_per_stored_type(written: Path, monkeypatch) -> None:
    with h5py.File(written, "r") as h5file:
        name = "reco_particles" if "reco_particles" in h5file else None
        dataset = h5file["products/reco_particles/fixed"] if name is None else h5file[name]
        first = h5io.dataset_dtype(dataset)
        assert first == dataset.dtype and first.names == dataset.dtype.names
    built = []
    original = h5py.Dataset.dtype

    monkeypatch.setattr(h5py.Dataset, "dtype", property(lambda self: built.append(1) or original.fget(self)))
    with h5py.File(written, "r") as h5file:  # a new dataset object of the same stored type
        dataset = h5file["products/reco_particles/fixed"] if name is None else h5file[name]
        assert h5io.dataset_dtype(dataset) is first
    assert built == []


def _spans(values: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> list[list]:
    return [values[a:b].tolist() for a, b in zip(starts.tolist(), stops.tolist())]


@pytest.mark.parametrize("per_row", [1, 3, 200], ids=["short", "mixed", "long"])
def test_pool_fields_sharing_a_pool_are_read_exactly_without_a_copy(per_row: int) -> None:
    rng = np.random.default_rng(7)
    rows, width = 50, 3
    lengths = rng.integers(0, 2 * per_row + 1, size=(rows, width))
    lengths[5] = 0  # a row with every field empty
    bounds = np.zeros((rows, width + 1), dtype=np.int64)
    ends = np.cumsum(lengths.ravel()).reshape(rows, width)
    bounds[:, 1:] = ends
    bounds[1:, 0] = ends[:-1, -1]
    values = rng.normal(size=int(ends[-1, -1])).astype(np.float32)
    for position in range(width):
        starts, stops = bounds[:, position].copy(), bounds[:, position + 1].copy()
        layout = awkward_view._pool_field(PoolField(values, starts, stops, False), None)
        assert isinstance(layout, ak.contents.ListArray)  # the shared pool as read, not compacted per field
        assert np.shares_memory(layout.content.data, values)
        assert ak.to_list(ak.Array(layout)) == _spans(values, starts, stops)


def test_v1_table_opens_no_referenced_object_when_the_heap_names_the_target(tmp_path: Path, monkeypatch) -> None:
    path = write_every_case(tmp_path / "a.h5", [every_case_batch(0, 4)], format_version=1)
    with _open(path) as reader:
        want, want_offsets = reader.table("reco_particles")
    opened = []
    original = h5py.h5r.dereference

    def counted(*args, **kwargs):
        opened.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(h5py.h5r, "dereference", counted)
    with _open(path) as reader:
        rows, offsets = reader.table("reco_particles")
    assert opened == []  # each reference's heap object names the target dataset: no object opened
    np.testing.assert_array_equal(offsets, want_offsets)
    assert rows.dtype.names == want.dtype.names
    for name in want.dtype.names:
        np.testing.assert_equal([np.asarray(v) for v in rows[name]], [np.asarray(v) for v in want[name]])
