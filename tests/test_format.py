"""The on-disk vocabulary of :mod:`spineh5.format`: layout detection, attribute text, parsers and their findings."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from spineh5 import HDF5Writer
from spineh5.format.common import attr_string, attr_text, detect_layout, layout_from_info, plain_value, truthy
from spineh5.format.v1 import inspect_product
from spineh5.format.v2 import object_plan, parse_pools, stored_pools
from spineh5.generated import RecoParticle
from spineh5.products import Kind

DATA = Path(__file__).parent / "data"


def test_a_v1_file_with_an_empty_products_group_is_v1(tmp_path: Path) -> None:
    path = tmp_path / "v1.h5"
    with h5py.File(path, "w") as h5file:
        h5file.create_group("info").attrs["format_version"] = np.int64(1)
        h5file.create_group("products")
    with h5py.File(path, "r") as h5file:
        assert detect_layout(h5file) == (1, "info.format_version = 1")


@pytest.mark.parametrize(
    ("info", "version"),
    [(None, 1), ({}, 1), ({"format_version": 2}, 2), ({"format_version": "2"}, 2), ({"format_version": 7}, 7)],
)
def test_layout_follows_spine_rule(info: dict | None, version: int) -> None:
    assert layout_from_info(info).version == version


def test_a_non_integer_format_version_is_reported_not_raised() -> None:
    version, reason = layout_from_info({"format_version": "two"})
    assert version is None and reason == "info.format_version 'two' is not an integer"


def test_every_fixture_has_a_layout() -> None:
    for path in sorted(DATA.glob("*.h5")):
        with h5py.File(path, "r") as h5file:
            version, reason = detect_layout(h5file)
        assert version in (1, 2), (path.name, reason)


def test_attribute_text() -> None:
    assert attr_string(b"ab\xff") == "ab\ufffd"
    assert attr_string(np.int64(3)) is None
    with pytest.raises(TypeError):
        attr_string(np.int64(3), strict=True)
    with pytest.raises(UnicodeDecodeError):
        attr_string(b"\xff", strict=True)
    assert attr_string(None, strict=True) is None
    assert plain_value(np.int64(3)) == 3 and type(plain_value(np.int64(3))) is int
    assert attr_text(np.array(2)) == "2" and attr_text(b"x") == "x"
    assert truthy(np.bool_(True)) and not truthy(np.int8(0)) and not truthy(np.array([1, 2]))


def test_pools_report_every_problem(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "p.h5", "w") as h5file:
        variables = h5file.create_group("variables")
        good = variables.create_group("pool_0")
        good.attrs["kind"] = "string"
        good.attrs["fields"] = "- units\n"
        good.create_dataset("values", data=np.zeros(3, np.uint8))
        bad = variables.create_group("pool_1")
        bad.attrs["fields"] = "{a: 1}"
        variables.create_dataset("pool_x", data=np.zeros(1))
        report = parse_pools(variables)
        assert [pool.fields for pool, _ in report.pools] == [("units",)]
        problems = {member.name: member.problems for member in report.members}
        assert problems["pool_0"] == ()
        assert problems["pool_1"] == (
            "no string 'kind' attribute",
            "'fields' is not a YAML list of field names ('{a: 1}')",
            "no 'values' dataset",
        )
        assert problems["pool_x"] == ("not a group: every member of 'variables' must be a pool group",)
        with pytest.raises(ValueError, match="variable pool 'pool_1': no string 'kind' attribute"):
            stored_pools(variables)


def test_v1_product_inspection(tmp_path: Path) -> None:
    path = tmp_path / "w.h5"
    with HDF5Writer(str(path)) as writer:
        writer({"index": [0], "particles": [[RecoParticle()]]}, {"a": 1})
    with h5py.File(path, "r") as h5file:
        product = inspect_product(h5file["particles"])
        assert product.kind is Kind.OBJECTS and product.class_name == "RecoParticle" and product.problems == ()
        assert product.spec("particles").dtype.names == RecoParticle.DTYPE.names
    assert object_plan(RecoParticle.DTYPE) is object_plan(RecoParticle.DTYPE)


def test_registry_dispatch_and_mark_complete(tmp_path: Path) -> None:
    from spineh5.layouts import REGISTRY, file_format_version, layout_class, read_layout
    from spineh5.reader import HDF5Reader

    assert sorted(REGISTRY) == [1, 2]
    for version, entry in REGISTRY.items():
        assert layout_class(version) is entry.writer and entry.writer.read_class is entry.reader
        path = tmp_path / f"v{version}.h5"
        with HDF5Writer(str(path), format_version=version) as writer:
            writer({"index": [0], "particles": [[RecoParticle()]]}, {"a": 1})
        with h5py.File(path, "a") as h5file:
            assert file_format_version(h5file) == version
            assert isinstance(read_layout(h5file, str(path)), entry.reader)
            entry.writer(h5file).mark_complete(False)
            assert h5file["info"].attrs["complete"] is np.False_
            if version == 1:
                h5file.create_group("products")  # an empty V2-looking group does not make a V1 file V2
        with pytest.raises(Exception, match="incomplete"):
            HDF5Reader(str(path))
        with HDF5Reader(str(path), ignore_incomplete=True) as reader:
            assert reader.format_version == version and len(reader) == 1
