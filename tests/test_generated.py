"""The generated object types: property round trips, lite records, accepted inputs, converter errors."""

from __future__ import annotations

import enum
import functools
import itertools
import math
import types
from pathlib import Path
from typing import Any

import attrs
import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spineh5.generated import (
    REGISTRY,
    CRTHit,
    Flash,
    Neutrino,
    Particle,
    ParticlePID,
    ParticleShape,
    RecoInteraction,
    RecoParticle,
    RunInfo,
    TruthParticle,
)
from spineh5.types.columns import Column, ColumnError, build_column, decode_column, values_equal

TYPE_NAMES = list(REGISTRY)
#: Hypothesis settings of the property tests: modest example counts keep the file fast.
PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
INT_BOUNDS = {"uint8": (0, 2**8 - 1), "int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}

# -- strategies derived from the columns ------------------------------------------------------

#: Text HDF5 can store: any code point UTF-8 can encode (no lone surrogates) but NUL.
TEXT = st.one_of(
    st.sampled_from(["", "cm", "px", "\U0001f600", "naïve", "\U0001d518\U0001d52b\U0001d526", "a\tb\nc"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30),
)


def element_strategy(column: Column) -> st.SearchStrategy:
    """Values of one element of a column, covering its whole range (hypothesis favours the edges)."""
    if column.enum is not None:
        return st.sampled_from(list(column.enum))
    if column.dtype == "bool":
        return st.booleans()
    if column.dtype in INT_BOUNDS:
        return st.integers(*INT_BOUNDS[column.dtype])
    if column.dtype == "float32":
        return st.floats(width=32)  # NaN, infinities, -0.0, subnormals and the float32 extremes included
    if column.dtype == "float64":
        return st.floats()
    assert column.dtype == "str", column
    return TEXT


def value_strategy(column: Column) -> st.SearchStrategy:
    """Attribute values of a column: scalars, fixed arrays, or empty to long variable arrays."""
    element = element_strategy(column)
    if column.storage == "scalar":
        return element
    dtype = column.numpy_dtype

    def as_array(values: list) -> np.ndarray:
        return np.array(values, dtype=dtype)

    if column.storage == "fixed":
        return st.lists(element, min_size=column.length, max_size=column.length).map(as_array)
    return st.one_of(st.lists(element, max_size=5).map(as_array), long_arrays(column))


def long_arrays(column: Column) -> st.SearchStrategy:
    """Long variable-length arrays built by numpy from a drawn seed (cheap to generate and to shrink).

    They span the dtype's range and always hold the extremes (NaN, infinities, max, tiny, -0.0 for floats).
    """
    dtype = column.numpy_dtype

    def build(length: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        if dtype.kind == "b":
            return rng.integers(0, 2, length).astype(bool)
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            values = rng.integers(info.min, info.max, length, dtype=dtype, endpoint=True)
            values[:2] = (info.min, info.max)
            return rng.permutation(values)
        info = np.finfo(dtype)
        exponents = rng.integers(info.minexp // 4, info.maxexp // 4, length).astype(np.float64)
        values = (rng.standard_normal(length) * 2.0**exponents).astype(dtype)
        specials = np.array([np.nan, np.inf, -np.inf, info.max, -info.max, info.tiny, -0.0], dtype=dtype)
        values[rng.choice(length, size=len(specials), replace=False)] = specials
        return values

    return st.builds(build, st.integers(300, 3000), st.integers(0, 2**32 - 1))


@functools.cache
def instances_of(cls: type) -> st.SearchStrategy:
    """Instances of a generated class with random values in every column."""
    fields = {column.name: value_strategy(column) for column in cls.COLUMNS}
    return st.fixed_dictionaries(fields).map(lambda values: cls(**values))


def lists_of(cls: type) -> st.SearchStrategy:
    return st.lists(instances_of(cls), min_size=0, max_size=3)


# -- NaN-aware comparison, with type checks ---------------------------------------------------


def assert_value(column: Column, expected: Any, actual: Any, where: str) -> None:
    """Assert one attribute value round-tripped: same Python/numpy type, same value (NaN equal to NaN)."""
    where = f"{where}.{column.name}"
    if column.storage != "scalar":
        assert isinstance(actual, np.ndarray), where
        assert actual.dtype == column.numpy_dtype, (where, actual.dtype)
        assert actual.shape == np.shape(expected), (where, actual.shape)
        if column.numpy_dtype.kind == "f":
            assert np.array_equal(actual, expected, equal_nan=True), where
            finite = ~np.isnan(actual)
            assert np.array_equal(np.signbit(actual[finite]), np.signbit(np.asarray(expected)[finite])), where
        else:
            assert np.array_equal(actual, expected), where
        return
    if column.enum is not None:
        assert type(actual) is column.enum, (where, type(actual))
        assert actual is column.enum(expected), where
    elif column.dtype == "str":
        assert type(actual) is str and actual == expected, (where, actual, expected)
    elif column.dtype == "bool":
        assert type(actual) is bool and actual == expected, (where, actual, expected)
    elif column.dtype.startswith("float"):
        assert type(actual) is float, (where, type(actual))
        if math.isnan(expected):
            assert math.isnan(actual), (where, actual)
        else:
            assert actual == expected and math.copysign(1, actual) == math.copysign(1, expected), (where, actual)
    else:
        assert type(actual) is int and actual == expected, (where, actual, expected)


def assert_objects(cls: type, expected: list, actual: list, columns: list[Column] | None = None) -> None:
    assert len(actual) == len(expected)
    for position, (left, right) in enumerate(zip(expected, actual)):
        assert type(right) is cls
        for column in columns or cls.COLUMNS:
            assert_value(column, getattr(left, column.name), getattr(right, column.name), f"{cls.__name__}#{position}")


def assert_records(expected: np.ndarray, actual: np.ndarray) -> None:
    """Compare two compound arrays column by column (variable-length columns row by row)."""
    assert actual.dtype == expected.dtype
    assert actual.dtype.names == expected.dtype.names
    assert len(actual) == len(expected)
    for name in expected.dtype.names:
        left, right = expected[name], actual[name]
        member = expected.dtype.fields[name][0]
        if h5py.check_string_dtype(member) is not None:
            assert list(left) == list(right), name
        elif h5py.check_vlen_dtype(member) is not None:
            for a, b in zip(left, right):
                assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), name
        else:
            assert right.dtype == left.dtype, name
            assert np.array_equal(left, right, equal_nan=left.dtype.kind == "f"), name


# -- round trips ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def h5_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("h5")


_FILE_NUMBERS = itertools.count()


@pytest.mark.parametrize("name", TYPE_NAMES)
@PROPERTY
@given(data=st.data())
def test_round_trip_full_and_lite_in_memory_and_through_hdf5(name: str, data: st.DataObject, h5_dir: Path) -> None:
    """Random instances survive to_records -> from_records, directly and through HDF5 datasets.

    One property per type (rather than one per path) so that the costly draw of ~100 random columns
    serves every check.
    """
    cls = REGISTRY[name]
    objects = data.draw(lists_of(cls), label="objects")

    # in memory, full
    records = cls.to_records(objects)
    assert isinstance(records, np.ndarray)
    assert records.dtype == cls.DTYPE and records.dtype.names == cls.DTYPE.names
    assert records.shape == (len(objects),)
    back = cls.from_records(records)
    assert_objects(cls, objects, back)
    assert back == objects  # the generated NaN-aware __eq__ agrees

    # in memory, lite: exactly the lite columns, the dropped ones come back as defaults
    lite = cls.to_records(objects, lite=True)
    assert lite.dtype == cls.LITE_DTYPE
    assert lite.dtype.names == tuple(c.name for c in cls.COLUMNS if c.lite)
    assert_records(records[list(cls.LITE_DTYPE.names)].astype(cls.LITE_DTYPE), lite)
    back = cls.from_records(lite)
    assert_objects(cls, objects, back, [c for c in cls.COLUMNS if c.lite])
    assert_dropped_columns_have_defaults(cls, back)

    # through HDF5: a growing chunked dataset (as a writer appends) and a dataset written in one go
    path = h5_dir / f"{name}_{next(_FILE_NUMBERS)}.h5"
    with h5py.File(path, "w") as handle:
        dataset = handle.create_dataset("full", shape=(0,), maxshape=(None,), dtype=cls.DTYPE)
        dataset.resize((len(records),))
        if len(records):
            dataset[:] = records
        handle.create_dataset("lite", data=lite)
    with h5py.File(path, "r") as handle:
        assert handle["full"].dtype.names == cls.DTYPE.names
        assert handle["lite"].dtype.names == cls.LITE_DTYPE.names
        stored_full, stored_lite = handle["full"][()], handle["lite"][()]
    path.unlink()
    assert_objects(cls, objects, cls.from_records(stored_full))
    back = cls.from_records(stored_lite)
    assert_objects(cls, objects, back, [c for c in cls.COLUMNS if c.lite])
    assert_dropped_columns_have_defaults(cls, back)


def assert_dropped_columns_have_defaults(cls: type, objects: list) -> None:
    for position, obj in enumerate(objects):
        for column in cls.COLUMNS:
            if not column.lite:
                assert_value(column, column.make_default(), getattr(obj, column.name), f"{cls.__name__}#{position}")


@pytest.mark.parametrize("name", TYPE_NAMES)
def test_default_instances_round_trip(name: str, tmp_path: Path) -> None:
    cls = REGISTRY[name]
    objects = [cls(), cls()]
    for column in cls.COLUMNS:
        assert_value(column, column.make_default(), getattr(objects[0], column.name), name)
    with h5py.File(tmp_path / "defaults.h5", "w") as handle:
        handle.create_dataset("rows", data=cls.to_records(objects))
    with h5py.File(tmp_path / "defaults.h5", "r") as handle:
        back = cls.from_records(handle["rows"][()])
    assert_objects(cls, objects, back)
    assert cls.to_records([]).shape == (0,)
    assert cls.from_records(cls.to_records([])) == []


def test_some_types_have_lite_columns_to_drop() -> None:
    """Guard the lite checks against passing vacuously."""
    dropped = {name: {c.name for c in cls.COLUMNS if not c.lite} for name, cls in REGISTRY.items()}
    assert dropped["RecoParticle"] == {"index", "orig_index"}
    assert dropped["TruthParticle"] == {"index", "orig_index", "index_adapt", "index_g4"}
    assert dropped["RunInfo"] == set()


# -- accepted inputs: instances, plain objects, dicts -----------------------------------------


def raw_value(value: Any) -> Any:
    """What a user might pass instead of a converted value: lists for arrays, ints for enums."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, enum.Enum):
        return int(value)
    return value


def numpy_value(value: Any) -> Any:
    """Numpy scalars and other-dtype arrays, as SPINE's own objects hold them."""
    if isinstance(value, np.ndarray):
        return value.astype({"f": np.float64, "i": np.int64, "u": np.int64}.get(value.dtype.kind, value.dtype))
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, enum.Enum):
        return np.int64(value)
    if isinstance(value, int):
        return np.int64(value) if -(2**63) <= value < 2**63 else value
    if isinstance(value, float):
        return np.float64(value)
    return value


@pytest.mark.parametrize("name", TYPE_NAMES)
@settings(PROPERTY, max_examples=12)
@given(data=st.data())
def test_dicts_and_plain_objects_give_the_same_records(name: str, data: st.DataObject) -> None:
    cls = REGISTRY[name]
    objects = data.draw(lists_of(cls))
    expected = cls.to_records(objects)
    as_dicts = [{c.name: getattr(obj, c.name) for c in cls.COLUMNS} for obj in objects]
    variants = {
        "dict": as_dicts,
        "namespace": [types.SimpleNamespace(**d) for d in as_dicts],
        "raw dict": [{k: raw_value(v) for k, v in d.items()} for d in as_dicts],
        "raw namespace": [types.SimpleNamespace(**{k: raw_value(v) for k, v in d.items()}) for d in as_dicts],
        "numpy dict": [{k: numpy_value(v) for k, v in d.items()} for d in as_dicts],
        "mixed": [
            [obj, d, types.SimpleNamespace(**d)][position % 3]
            for position, (obj, d) in enumerate(zip(objects, as_dicts))
        ],
    }
    for label, variant in variants.items():
        try:
            assert_records(expected, cls.to_records(variant))
            assert_records(
                expected[list(cls.LITE_DTYPE.names)].astype(cls.LITE_DTYPE), cls.to_records(variant, lite=True)
            )
        except AssertionError as err:
            raise AssertionError(f"{label}: {err}") from err


@pytest.mark.parametrize("name", TYPE_NAMES)
def test_dict_keys_that_are_missing_take_the_defaults(name: str) -> None:
    cls = REGISTRY[name]
    assert_records(cls.to_records([cls(), cls()]), cls.to_records([{}, {}]))
    for column in (cls.COLUMNS[0], cls.COLUMNS[-1]):
        sample = {column.name: non_default(column)}
        assert_records(cls.to_records([cls(**sample)]), cls.to_records([sample]))
        [back] = cls.from_records(cls.to_records([sample]))
        assert_value(column, getattr(cls(**sample), column.name), getattr(back, column.name), cls.__name__)
        assert not values_equal(getattr(back, column.name), column.make_default())


def non_default(column: Column) -> Any:
    """A valid value of a column that differs from its default."""
    if column.storage == "fixed":
        return np.arange(1, column.length + 1).astype(column.numpy_dtype)
    if column.storage == "vlen":
        return np.array([1, 0, 1], dtype=column.numpy_dtype)
    if column.enum is not None:
        return next(member for member in column.enum if member != column.default)
    return {"bool": not column.default, "str": "px" if column.default != "px" else "cm"}.get(column.dtype, 7)


def test_plain_objects_with_extra_attributes_are_accepted() -> None:
    obj = types.SimpleNamespace(run=1, subrun=2, event=3, unrelated="ignored")
    assert RunInfo.to_records([obj]).tolist() == [(1, 2, 3)]


def test_from_records_ignores_unknown_columns_and_keeps_unknown_enum_values() -> None:
    rows = Particle.to_records([Particle(pid=ParticlePID.MUON, shape=ParticleShape.TRACK)])
    members = [(name, rows.dtype.fields[name][0]) for name in rows.dtype.names]
    extended = np.empty(1, dtype=np.dtype([*members, ("first_step_t", np.float64)]))
    for name in rows.dtype.names:
        extended[name] = rows[name]
    extended["shape"] = 42
    [back] = Particle.from_records(extended)
    assert not hasattr(back, "first_step_t")
    assert back.pid is ParticlePID.MUON
    assert back.shape == 42 and type(back.shape) is int


def test_decode_column_decodes_bytes_to_str() -> None:
    column = Particle.COLUMNS[[c.name for c in Particle.COLUMNS].index("creation_process")]
    data = np.array([b"primary", "naïve".encode(), b""], dtype=object)
    assert decode_column(column, data) == ["primary", "naïve", ""]


def test_instances_compare_nan_aware_and_are_unhashable() -> None:
    assert Particle() == Particle()
    assert Particle(energy_init=1.0) != Particle()
    assert Particle(position=[1.0, math.nan, 2.0]) == Particle(position=np.array([1, math.nan, 2], np.float32))
    assert Particle() != RunInfo()
    with pytest.raises(TypeError):
        hash(Particle())


def test_converters_cast_to_the_declared_dtype() -> None:
    particle = Particle(position=[1, 2, 3], children_id=np.array([1, 2], dtype=np.int64), shape="track", id=2.0)
    assert particle.position.dtype == np.float32 and particle.position.tolist() == [1.0, 2.0, 3.0]
    assert particle.children_id.dtype == np.int32
    assert particle.shape is ParticleShape.TRACK
    assert particle.id == 2 and type(particle.id) is int
    assert CRTHit(feb_id=[0, 255]).feb_id.dtype == np.uint8
    assert RecoInteraction(particle_counts=[1, 0, 0, 0, 2, 0]).particle_counts.dtype == np.int32
    assert Flash(units=b"px").units == "px"
    # each instance gets its own default arrays
    first, second = Particle(), Particle()
    assert first.position is not second.position


# -- converter and validation errors ----------------------------------------------------------

ERRORS = [
    (Particle, "position", [1.0, 2.0], ["expected 3 values, got 2", "float32[3]"]),
    (Particle, "position", [1.0, 2.0, 3.0, 4.0], ["expected 3 values, got 4", "float32[3]"]),
    (RecoParticle, "pid_scores", np.zeros((2, 3)), ["1-D", "float32[6]"]),
    (Particle, "shape", 42, ["not a value of ParticleShape", "TRACK=1", "expected ParticleShape"]),
    (Particle, "pid", "BANANA", ["unknown member name of ParticlePID", "expected ParticlePID"]),
    (Neutrino, "current_type", 7, ["not a value of NuCurrentType", "CC=0", "NC=1"]),
    (Particle, "shape", 1.5, ["expected an integer, got float", "expected ParticleShape"]),
    (Particle, "position", ["a", "b", "c"], ["cannot store <U1 values as float32", "float32[3]"]),
    (Particle, "children_id", ["x"], ["cannot store <U1 values as int32", "vlen<int32>"]),
    (Particle, "id", 2**63, ["out of range for int64", "expected int64"]),
    (Particle, "id", -(2**63) - 1, ["out of range for int64", "expected int64"]),
    (Particle, "children_id", [2**31], ["values out of range for int32", "vlen<int32>"]),
    (CRTHit, "feb_id", [256], ["values out of range for uint8", "vlen<uint8>"]),
    (CRTHit, "feb_id", [-1], ["values out of range for uint8", "vlen<uint8>"]),
    (Particle, "id", 1.5, ["expected an integer, got float 1.5", "expected int64"]),
    (Particle, "id", math.nan, ["expected an integer, got float", "expected int64"]),
    (Particle, "children_id", [1.5], ["cannot store float64 values as int32", "vlen<int32>"]),
    (RecoInteraction, "particle_counts", [0.5] * 6, ["cannot store float64 values as int32", "int32[6]"]),
    (Particle, "energy_init", "1.0", ["expected a number, got str", "expected float64"]),
    (Particle, "energy_init", True, ["expected a real number, got bool", "expected float64"]),
    (Particle, "energy_init", None, ["expected a real number, got NoneType", "expected float64"]),
    (Flash, "in_beam_frame", 2, ["expected a bool (or 0/1)", "expected bool"]),
    (Flash, "in_beam_frame", "yes", ["expected a number, got str", "expected bool"]),
    (Flash, "pe_per_ch", [[1.0]], ["1-D", "vlen<float32>"]),
    (Particle, "units", 3, ["expected a str, got int", "expected str"]),
    (Particle, "units", "a\x00b", ["NUL", "expected str"]),
    (Particle, "units", "\ud800", ["UTF-8", "expected str"]),
    (TruthParticle, "index_adapt", [True, 1.5], ["cannot store float64 values as int32", "vlen<int32>"]),
]


def error_id(case: tuple) -> str:
    cls, field, value, _ = case
    return f"{cls.__name__}.{field}={str(value)[:12]}"


@pytest.mark.parametrize(("cls", "field", "value", "problems"), ERRORS, ids=[error_id(c) for c in ERRORS])
def test_converter_errors_name_class_field_value_and_expectation(
    cls: type, field: str, value: Any, problems: list[str]
) -> None:
    with pytest.raises(ColumnError) as info:
        cls(**{field: value})
    err = info.value
    assert isinstance(err, ValueError)
    assert (err.class_name, err.field, err.position) == (cls.__name__, field, None)
    message = str(err)
    assert message.startswith(f"{cls.__name__}.{field}: ")
    assert f"value {value!r}"[:60] in message
    for problem in problems:
        assert problem in message, (problem, message)


#: build_column's fast path converts a whole column with numpy, which turns [nan, True] into floats: a bool
#: mixed into a float column of real numbers is accepted by to_records (the attrs converter refuses it).
TO_RECORDS_ERRORS = [case for case in ERRORS if not (case[1] == "energy_init" and case[2] is True)]


@pytest.mark.parametrize(
    ("cls", "field", "value", "problems"), TO_RECORDS_ERRORS, ids=[error_id(c) for c in TO_RECORDS_ERRORS]
)
def test_to_records_errors_name_the_object_position(cls: type, field: str, value: Any, problems: list[str]) -> None:
    objects = [cls(), {}, {field: value}]
    with pytest.raises(ColumnError) as info:
        cls.to_records(objects)
    err = info.value
    assert (err.class_name, err.field, err.position) == (cls.__name__, field, 2)
    message = str(err)
    assert message.startswith(f"{cls.__name__} #2, field {field!r}: ")
    assert f"value {value!r}"[:60] in message
    for problem in problems:
        assert problem in message, (problem, message)


def test_assignment_runs_the_converter() -> None:
    particle = Particle()
    particle.position = [4, 5, 6]
    assert particle.position.dtype == np.float32
    with pytest.raises(ColumnError, match=r"Particle\.position: expected 3 values, got 1"):
        particle.position = [1.0]
    with pytest.raises(ColumnError, match=r"Particle\.shape: not a value of ParticleShape"):
        particle.shape = 99


def test_unknown_attribute_is_rejected() -> None:
    with pytest.raises(TypeError):
        Particle(not_a_column=1)
    with pytest.raises(AttributeError):
        Particle().not_a_column = 1  # slots


def test_plain_object_missing_an_attribute() -> None:
    objects = [RunInfo(), types.SimpleNamespace(run=1, subrun=2)]
    with pytest.raises(ColumnError, match=r"SimpleNamespace #1, field 'event': object has no such attribute"):
        RunInfo.to_records(objects)


@pytest.mark.parametrize(
    ("column", "values", "position", "problem"),
    [
        (Column("n", "int64", default=0), [1, 2, "x"], 2, "expected a number, got str"),
        (Column("n", "int64", default=0), [1, 2**64, 3], 1, "out of range for int64"),
        (Column("v", "float32", storage="fixed", length=3, default=0.0), [[1, 2, 3], [1, 2]], 1, "expected 3 values"),
        (Column("v", "int32", storage="vlen", default=()), [[1], [], [0.5]], 2, "cannot store float64 values as int32"),
        (Column("s", "str", default=""), ["a", b"b", 3], 2, "expected a str, got int"),
        (Column("b", "bool", default=False), [True, False, 5], 2, "expected a bool (or 0/1)"),
        (Column("e", "int64", default=-1, enum=ParticlePID), [0, 1, 9], 2, "not a value of ParticlePID"),
    ],
)
def test_build_column_errors_name_the_position(column: Column, values: list, position: int, problem: str) -> None:
    with pytest.raises(ColumnError) as info:
        build_column(column, values, "Thing")
    assert (info.value.class_name, info.value.field, info.value.position) == ("Thing", column.name, position)
    assert str(info.value).startswith(f"Thing #{position}, field {column.name!r}: {problem}")
    assert f"value {values[position]!r}" in str(info.value)


def test_build_column_casts_good_values() -> None:
    assert build_column(Column("s", "str", default=""), ["a", b"b"], "T").tolist() == ["a", "b"]
    enum_column = Column("e", "int64", default=-1, enum=ParticlePID)
    built = build_column(enum_column, [ParticlePID.MUON, 0, "proton"], "T")
    assert built.dtype == np.int64 and built.tolist() == [2, 0, 4]
    fixed = build_column(Column("v", "int32", storage="fixed", length=2, default=0), [[1, 2], (3, 4)], "T")
    assert fixed.dtype == np.int32 and fixed.shape == (2, 2)
    assert build_column(Column("v", "int32", storage="fixed", length=2, default=0), [], "T").shape == (0, 2)


def test_generated_fields_carry_their_column() -> None:
    for cls in REGISTRY.values():
        fields = attrs.fields(cls)
        assert [f.name for f in fields] == [c.name for c in cls.COLUMNS]
        assert all(f.metadata["column"] is c for f, c in zip(fields, cls.COLUMNS))
        assert all(f.kw_only for f in fields)
