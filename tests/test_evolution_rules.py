"""Schema evolution rules drawn at random (hypothesis), and SPINE's own fixture files read through each rule.

A random schema change is drawn from the allowed rules (keep, remove, rename, widen, a declared cast,
added fields, a renamed class) over an old type with every storage; files of the old type are
written once per layout and read under the changed type, field by field. SPINE's fixtures are read
with spineh5's RecoParticle evolved the same ways (swapped into the registry for the test).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import FULL, HEAD_V2
from evolution_support import runtime_class
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spineh5 import HDF5Reader, HDF5Writer, SchemaEvolutionError, UnknownColumnsWarning
from spineh5.types.columns import Column
from spineh5.types.registry import REGISTRY, register, unregister

#: The old type: one column per rule's case (values chosen so that every allowed cast keeps them).
OLD_COLUMNS = [
    Column("a", "int32", default=0),
    Column("b", "float64", default=0.0),
    Column("c", "uint8", default=0),
    Column("d", "bool", default=False),
    Column("e", "float32", storage="fixed", length=3, default=0.0),
    Column("f", "int32", storage="vlen", default=()),
    Column("g", "str", default=""),
    Column("h", "int64", default=0),
]
OLD_VALUES = [
    [
        {"a": 1, "b": 0.5, "c": 7, "d": True, "e": [1, 2, 3], "f": [1, -2], "g": "x", "h": 40},
        {"a": -2, "b": -3.0, "c": 255, "d": False, "e": [0.5, 0, -1], "f": [], "g": "é", "h": -(2**20)},
    ],
    [],
    [{"a": 2**31 - 1, "b": 1.25, "c": 0, "d": True, "e": [4, 5, 6], "f": [2**31 - 1], "g": "", "h": 0}],
]
#: The widenings of each old column (same storage, a wider element).
WIDER = {
    "a": ["int64"],
    "b": [],
    "c": ["int32", "int64"],
    "d": ["uint8", "int32", "int64"],
    "e": ["float64"],
    "f": ["int64"],
    "g": [],
    "h": [],
}
#: The declared casts (cast_from) the values of each old column survive.
CASTS = {"b": ["float32"], "h": ["int32"], "a": ["float64"]}
#: Narrowings without a rule (refused).
NARROW = {"a": "uint8", "b": "float32", "h": "int32", "e": "int32", "f": "uint8"}
ADDED = [
    Column("n_added", "int64", default=-5),
    Column("x_added", "float32", default=0.25),
    Column("s_added", "str", default="new"),
    Column("v_added", "int64", storage="vlen", default=(1, 2)),
    Column("p_added", "float64", storage="fixed", length=2, default=(3.0, 4.0)),
]


@pytest.fixture(scope="module")
def old_files(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """The old type's files, both layouts (written once)."""
    folder = tmp_path_factory.mktemp("evolution_rules")
    old = runtime_class("EvoRandom", OLD_COLUMNS)
    register(old)
    try:
        paths = {}
        for version in (1, 2):
            paths[version] = folder / f"old_v{version}.h5"
            with HDF5Writer(str(paths[version]), format_version=version) as writer:
                writer({"index": [0, 1, 2], "things": [[old(**v) for v in entry] for entry in OLD_VALUES]})
        return paths
    finally:
        unregister(old)


@st.composite
def changes(draw: st.DrawFn) -> dict[str, Any]:
    """Draw a schema change: per old column a rule, some added columns, maybe a class rename or a refusal."""
    rules = {}
    for column in OLD_COLUMNS:
        options = (
            ["keep", "remove", "rename"] + ["widen"] * bool(WIDER[column.name]) + ["cast"] * (column.name in CASTS)
        )
        rules[column.name] = draw(st.sampled_from(options))
    if all(rule == "remove" for rule in rules.values()):
        rules["a"] = "keep"
    added = draw(st.lists(st.sampled_from(ADDED), unique_by=lambda c: c.name, max_size=3))
    refused = draw(st.sampled_from([None, *NARROW])) if draw(st.integers(0, 4)) == 0 else None
    return {"rules": rules, "added": added, "renamed_class": draw(st.booleans()), "refused": refused}


def _new_type(change: dict[str, Any]) -> tuple[type, dict[str, tuple[str, np.dtype | None]]]:
    """Return the changed type and, per old column kept in some form, ``(new name, new element)``."""
    columns, reading = [], {}
    for old in OLD_COLUMNS:
        rule = change["rules"][old.name]
        if change["refused"] == old.name:
            rule = "narrow"
        if rule == "remove":
            continue
        name, dtype, cast_from, renamed = old.name, old.dtype, (), ()
        if rule == "rename":
            name, renamed = f"{old.name}_new", (old.name,)
        elif rule == "widen":
            dtype = WIDER[old.name][-1]
        elif rule == "cast":
            dtype = CASTS[old.name][0]
            cast_from = (np.dtype("float64" if old.name == "b" else old.numpy_dtype).name,)
        elif rule == "narrow":
            dtype = NARROW[old.name]
        default = (0,) * old.length if old.storage == "fixed" else (() if old.storage == "vlen" else old.default)
        if dtype != old.dtype and old.storage == "scalar":
            default = np.dtype(dtype).type(0).item() if dtype != "bool" else False
        columns.append(Column(name, dtype, old.storage, old.length, default, renamed_from=renamed, cast_from=cast_from))
        reading[old.name] = (name, None if dtype == "str" else np.dtype(dtype))
    columns += change["added"]
    class_name = "EvoRandomRenamed" if change["renamed_class"] else "EvoRandom"
    renamed_from = ("EvoRandom",) if change["renamed_class"] else ()
    return runtime_class(class_name, columns, renamed_from), reading


def _expected(value: Any, dtype: np.dtype | None) -> Any:
    return value if dtype is None else np.asarray(value).astype(dtype)


def _check_reads(path: Path, cls: type, change: dict[str, Any], reading: dict) -> None:
    with HDF5Reader(str(path)) as reader:
        if change["refused"] is not None:
            with pytest.raises(SchemaEvolutionError, match=rf"{cls.CLASS_NAME}\.{change['refused']}"):
                reader[0]
            return
        rows, _ = reader.table("things")
        for position, entry in enumerate(OLD_VALUES):
            objects = reader[position]["things"]
            assert [type(o) for o in objects] == [cls] * len(entry)
            for obj, old in zip(objects, entry):
                for old_name, value in old.items():
                    if old_name not in reading:
                        assert not hasattr(obj, old_name)
                        continue
                    name, dtype = reading[old_name]
                    got = getattr(obj, name)
                    want = _expected(value, dtype)
                    assert np.array_equal(np.asarray(got), want), (old_name, name, got, want)
                    if dtype is not None and isinstance(got, np.ndarray):
                        assert got.dtype == dtype
                for column in change["added"]:
                    assert np.array_equal(np.asarray(getattr(obj, column.name)), np.asarray(column.make_default()))
        removed = [name for name in change["rules"] if name not in reading]
        assert set(removed) <= set(rows.dtype.names)  # removed columns stay reachable in the table
        for column in change["added"]:
            assert column.name in rows.dtype.names


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(change=changes())
def test_random_schema_change_reads_old_files_field_by_field(old_files: dict[int, Path], change: dict) -> None:
    cls, reading = _new_type(change)
    register(cls)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnknownColumnsWarning)
            for path in old_files.values():
                _check_reads(path, cls, change, reading)
    finally:
        unregister(cls)


# -- SPINE's own files through each rule ---------------------------------------------------------------------

SPINE_FILES = pytest.mark.parametrize("path", [FULL, HEAD_V2], ids=["f31056c8_V1", "head_V2"])


def _stock_particles(path: Path) -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownColumnsWarning)
        with HDF5Reader(str(path), keys=["reco_particles"]) as reader:
            return [p for entry in reader for p in entry["reco_particles"]]


def _evolved_particles(path: Path, monkeypatch: pytest.MonkeyPatch, cls: type, name: str = "RecoParticle") -> list:
    stock = REGISTRY["RecoParticle"]
    monkeypatch.delitem(REGISTRY._classes, "RecoParticle")
    monkeypatch.setitem(REGISTRY._classes, name, cls)
    if cls.RENAMED_FROM:
        monkeypatch.setitem(REGISTRY._aliases, "RecoParticle", cls)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownColumnsWarning)
        with HDF5Reader(str(path), keys=["reco_particles"]) as reader:
            particles = [p for entry in reader for p in entry["reco_particles"]]
            rows, _ = reader.table("reco_particles")
    assert stock is not cls
    return particles, rows


def _columns(edit: dict[str, dict]) -> list[Column]:
    """RecoParticle's columns with some replaced (``{name: Column fields to change}``, None to remove)."""
    from spineh5.generated import RecoParticle

    out = []
    for column in RecoParticle.COLUMNS:
        if column.name in edit:
            if edit[column.name] is None:
                continue
            fields = {f: getattr(column, f) for f in ("name", "dtype", "storage", "length", "default", "enum")}
            fields.update(edit[column.name])
            column = Column(**fields)
        out.append(column)
    return out


@SPINE_FILES
def test_spine_file_with_an_added_field(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stock = _stock_particles(path)
    cls = runtime_class("RecoParticle", [*_columns({}), Column("evo_score", "float32", default=0.5)])
    particles, rows = _evolved_particles(path, monkeypatch, cls)
    assert len(particles) == len(stock) > 0
    assert all(p.evo_score == 0.5 for p in particles) and rows["evo_score"].tolist() == [0.5] * len(stock)
    assert [p.calo_ke for p in particles] == [p.calo_ke for p in stock]


@SPINE_FILES
def test_spine_file_with_renamed_widened_and_removed_fields(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stock = _stock_particles(path)
    edit = {
        "calo_ke": {"name": "calorimetric_ke", "renamed_from": ("calo_ke",)},
        "start_point": {"dtype": "float64"},
        "index": {"dtype": "int64"},
        "pid_scores": None,
    }
    particles, rows = _evolved_particles(path, monkeypatch, runtime_class("RecoParticle", _columns(edit)))
    for new, old in zip(particles, stock):
        assert np.array_equal(new.calorimetric_ke, old.calo_ke, equal_nan=True)
        assert new.start_point.dtype == np.float64
        assert np.array_equal(new.start_point, old.start_point.astype(np.float64), equal_nan=True)
        assert new.index.dtype == np.int64 and np.array_equal(new.index, old.index)
        assert not hasattr(new, "pid_scores")
    assert "pid_scores" in rows.dtype.names and "calorimetric_ke" in rows.dtype.names


@SPINE_FILES
def test_spine_file_read_as_a_renamed_class(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stock = _stock_particles(path)
    cls = runtime_class("RecoTrackCandidate", _columns({}), renamed_from=["RecoParticle"])
    particles, _ = _evolved_particles(path, monkeypatch, cls, name="RecoTrackCandidate")
    assert [type(p) for p in particles] == [cls] * len(stock)
    assert [p.id for p in particles] == [p.id for p in stock]


@SPINE_FILES
def test_spine_file_narrowing_is_refused(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cls = runtime_class("RecoParticle", _columns({"calo_ke": {"dtype": "float32", "default": 0.0}}))
    with pytest.raises(SchemaEvolutionError, match=r"RecoParticle\.calo_ke: the file stores float64, .* float32"):
        _evolved_particles(path, monkeypatch, cls)
