"""Golden test: the generated dtypes equal the columns SPINE f31056c8 writes, for all 14 types."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

import spineh5.generated as generated
from spineh5.generated import REGISTRY, SCHEMA_VERSION

GOLDEN = json.loads((Path(__file__).parent / "data" / "spine_f31056c8_columns.json").read_text(encoding="utf-8"))
TYPE_NAMES = [
    "RunInfo",
    "Trigger",
    "ImageMeta2D",
    "ImageMeta3D",
    "CRTHit",
    "Flash",
    "Neutrino",
    "Particle",
    "RecoFragment",
    "TruthFragment",
    "RecoParticle",
    "TruthParticle",
    "RecoInteraction",
    "TruthInteraction",
]


def describe(dtype: np.dtype) -> str:
    """Spell one compound member the way the golden file does, from h5py's metadata only."""
    if dtype.subdtype is not None:
        base, shape = dtype.subdtype
        assert len(shape) == 1, f"unexpected multi-dimensional member {shape}"
        assert h5py.check_enum_dtype(base) is None and h5py.check_vlen_dtype(base) is None
        return f"{base.name}[{shape[0]}]"
    if h5py.check_string_dtype(dtype) is not None:
        info = h5py.check_string_dtype(dtype)
        assert info.encoding == "utf-8" and info.length is None, f"expected vlen UTF-8 str, got {info}"
        return "str"
    vlen = h5py.check_vlen_dtype(dtype)
    if vlen is not None:
        element = np.dtype(vlen)
        assert h5py.check_string_dtype(element) is None and element.kind in "biuf"
        return f"vlen<{element.name}>"
    if h5py.check_enum_dtype(dtype) is not None:
        return f"enum<{dtype.name}>"
    assert dtype.kind in "biuf", f"unexpected member dtype {dtype!r}"
    return dtype.name


def columns_of(dtype: np.dtype) -> list[list[str]]:
    return [[name, describe(dtype.fields[name][0])] for name in dtype.names]


def enums_of(dtype: np.dtype) -> dict[str, dict[str, int]]:
    out = {}
    for name in dtype.names:
        members = h5py.check_enum_dtype(dtype.fields[name][0])
        if members is not None:
            out[name] = {member: int(value) for member, value in members.items()}
    return out


def test_golden_file_lists_the_fourteen_types() -> None:
    assert list(GOLDEN) == TYPE_NAMES


def test_registry_holds_exactly_the_fourteen_types() -> None:
    assert sorted(REGISTRY) == sorted(TYPE_NAMES)
    for name, cls in REGISTRY.items():
        assert cls.__name__ == name
        assert cls.CLASS_NAME == name
        assert getattr(generated, name) is cls
        assert name in generated.__all__


def test_schema_version_is_a_positive_int() -> None:
    assert type(SCHEMA_VERSION) is int
    assert SCHEMA_VERSION >= 1


@pytest.mark.parametrize("name", TYPE_NAMES)
def test_full_dtype_matches_spine(name: str) -> None:
    assert columns_of(REGISTRY[name].DTYPE) == GOLDEN[name]["full"]


@pytest.mark.parametrize("name", TYPE_NAMES)
def test_lite_dtype_matches_spine(name: str) -> None:
    assert columns_of(REGISTRY[name].LITE_DTYPE) == GOLDEN[name]["lite"]


@pytest.mark.parametrize("name", TYPE_NAMES)
@pytest.mark.parametrize("lite", [False, True], ids=["full", "lite"])
def test_enum_members_match_spine(name: str, lite: bool) -> None:
    cls = REGISTRY[name]
    dtype = cls.LITE_DTYPE if lite else cls.DTYPE
    expected = {field: members for field, members in GOLDEN[name]["enums"].items() if field in dtype.names}
    assert enums_of(dtype) == expected
    for field, members in expected.items():
        assert dtype.fields[field][0] == np.dtype(np.int64)
        column = next(c for c in cls.COLUMNS if c.name == field)
        assert {member.name: int(member) for member in column.enum} == members


@pytest.mark.parametrize("name", TYPE_NAMES)
def test_dtype_is_built_from_the_columns(name: str) -> None:
    cls = REGISTRY[name]
    assert [c.name for c in cls.COLUMNS] == list(cls.DTYPE.names)
    assert cls.DTYPE == np.dtype([c.h5_dtype() for c in cls.COLUMNS])
    assert cls.LITE_DTYPE == np.dtype([c.h5_dtype() for c in cls.COLUMNS if c.lite])
    # numpy's dtype equality ignores h5py metadata; compare it member by member.
    assert columns_of(cls.DTYPE) == columns_of(np.dtype([c.h5_dtype() for c in cls.COLUMNS]))
    assert enums_of(cls.DTYPE) == enums_of(np.dtype([c.h5_dtype() for c in cls.COLUMNS]))
    assert [describe(cls.DTYPE.fields[c.name][0]) for c in cls.COLUMNS] == [
        c.describe() if c.enum is None else "enum<int64>" for c in cls.COLUMNS
    ]


@pytest.mark.parametrize("name", TYPE_NAMES)
def test_lite_drops_exactly_the_non_lite_columns(name: str) -> None:
    cls = REGISTRY[name]
    dropped = [c.name for c in cls.COLUMNS if not c.lite]
    full = list(cls.DTYPE.names)
    assert list(cls.LITE_DTYPE.names) == [n for n in full if n not in dropped]
    golden_dropped = [n for n, _ in GOLDEN[name]["full"] if n not in {m for m, _ in GOLDEN[name]["lite"]}]
    assert dropped == golden_dropped


@pytest.mark.parametrize("name", TYPE_NAMES)
def test_dtypes_round_trip_through_an_hdf5_dataset(tmp_path: Path, name: str) -> None:
    """h5py must map the dtypes to the same HDF5 types SPINE writes (enum, vlen, string metadata survive)."""
    cls = REGISTRY[name]
    with h5py.File(tmp_path / "golden.h5", "w") as handle:
        handle.create_dataset("full", shape=(0,), dtype=cls.DTYPE)
        handle.create_dataset("lite", shape=(0,), dtype=cls.LITE_DTYPE)
    with h5py.File(tmp_path / "golden.h5", "r") as handle:
        assert columns_of(handle["full"].dtype) == GOLDEN[name]["full"]
        assert columns_of(handle["lite"].dtype) == GOLDEN[name]["lite"]
        assert enums_of(handle["full"].dtype) == GOLDEN[name]["enums"]
