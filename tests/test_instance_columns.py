"""Reading the columns of generated instances a group at a time (``types.instance_columns``).

The grouped read must give exactly what :func:`build_column` gives column by column, and must leave to
it (so that its errors name the object and the field) whatever the converters could not vouch for.
"""

from __future__ import annotations

import enum
import operator

import numpy as np
import pytest

from spineh5.errors import ColumnError
from spineh5.generated import RecoParticle, RecoParticleCollection, TruthParticle, TruthParticleCollection
from spineh5.synthetic import make_batches
from spineh5.types.columns import Column, build_column, values_equal
from spineh5.types.instance_columns import _all_members, _fits, _members_table, instance_columns


def _objects(key: str) -> list:
    batch = next(iter(make_batches(3, batch_size=3, scale=0.05, seed=11)))
    return [obj for entry in batch[key] for obj in entry]


@pytest.mark.parametrize(("key", "cls"), [("reco_particles", RecoParticle), ("truth_particles", TruthParticle)])
@pytest.mark.parametrize("lite", [False, True])
def test_grouped_columns_equal_the_column_by_column_build(key: str, cls: type, lite: bool) -> None:
    objects = _objects(key)
    wanted = cls._LITE_COLUMNS if lite else cls._FULL_COLUMNS
    read = instance_columns(cls, objects, wanted)
    storages = {column.storage for column in wanted if column.name in read}
    assert storages == {"scalar", "fixed", "vlen"}  # every kind is read in groups
    assert not any(column.dtype == "str" for column in wanted if column.name in read)
    for column in wanted:
        if column.name not in read:
            continue
        expected = build_column(column, list(map(operator.attrgetter(column.name), objects)), cls.CLASS_NAME)
        got = read[column.name]
        assert got.dtype == expected.dtype, column.name
        assert got.shape == expected.shape, column.name
        if column.storage == "vlen":
            assert all(values_equal(a, b) and a.dtype == b.dtype for a, b in zip(got, expected)), column.name
        else:
            assert values_equal(got, expected), column.name


def test_records_and_collections_from_instances_match_those_from_dicts() -> None:
    objects = _objects("truth_particles")
    as_dicts = [{c.name: getattr(obj, c.name) for c in TruthParticle.COLUMNS} for obj in objects]
    assert instance_columns(TruthParticle, as_dicts, TruthParticle._FULL_COLUMNS) == {}  # dicts: column by column
    assert TruthParticle.to_records(objects).tobytes() == TruthParticle.to_records(as_dicts).tobytes()
    from_instances = TruthParticleCollection.from_objects(objects)
    assert from_instances.equals(TruthParticleCollection.from_objects(as_dicts))
    assert from_instances.to_records().tobytes() == TruthParticle.to_records(objects).tobytes()


def test_mixed_types_are_read_column_by_column() -> None:
    objects = _objects("reco_particles")
    assert instance_columns(RecoParticle, [*objects, TruthParticle()], RecoParticle._FULL_COLUMNS) == {}
    assert instance_columns(TruthParticle, objects, TruthParticle._FULL_COLUMNS) == {}


def test_an_unknown_enum_value_set_around_the_converter_is_still_refused_at_its_object() -> None:
    objects = _objects("reco_particles")
    object.__setattr__(objects[2], "pid", 77)  # what an object rebuilt from a file holds for an unknown value
    read = instance_columns(RecoParticle, objects, RecoParticle._FULL_COLUMNS)
    assert "pid" not in read and "shape" in read
    with pytest.raises(ColumnError) as caught:
        RecoParticleCollection.from_objects(objects)
    assert (caught.value.field, caught.value.position) == ("pid", 2)
    with pytest.raises(ColumnError) as caught:
        RecoParticle.to_records(objects)
    assert (caught.value.field, caught.value.position) == ("pid", 2)


def test_arrays_of_another_dtype_set_around_the_converter_take_the_checked_path() -> None:
    objects = _objects("reco_particles")
    fixed = next(c for c in RecoParticle.COLUMNS if c.storage == "fixed" and c.dtype == "float32")
    vlen = next(c for c in RecoParticle.COLUMNS if c.storage == "vlen" and c.numpy_dtype.kind in "iu")
    object.__setattr__(objects[1], fixed.name, np.arange(fixed.length, dtype=np.float64))
    assert fixed.name not in instance_columns(RecoParticle, objects, RecoParticle._FULL_COLUMNS)
    built = RecoParticle.to_records(objects)  # the float64 array is cast as the converter would cast it
    assert built[fixed.name][1].tolist() == list(range(fixed.length))
    object.__setattr__(objects[1], vlen.name, np.arange(3, dtype=np.float64) + 0.5)
    assert vlen.name not in instance_columns(RecoParticle, objects, RecoParticle._FULL_COLUMNS)
    for build in (RecoParticle.to_records, RecoParticleCollection.from_objects):
        with pytest.raises(ColumnError) as caught:  # non-integral values: refused at their object, as before
            build(objects)
        assert (caught.value.field, caught.value.position) == (vlen.name, 1)


def test_concat_of_collections_from_objects_keeps_their_rows_arrays() -> None:
    objects = _objects("reco_particles")
    parts = [RecoParticleCollection.from_objects(objects[:3]), RecoParticleCollection.from_objects(objects[3:])]
    joined = RecoParticleCollection.concat(parts)
    vlen = [c.name for c in RecoParticle.COLUMNS if c.storage == "vlen"]
    assert all(joined.has_cells(name) for name in vlen)  # joined as rows: no values-and-offsets round trip
    whole = RecoParticleCollection.from_objects(objects)
    assert joined.equals(whole)
    assert joined.to_records().tobytes() == whole.to_records().tobytes()
    columnar = RecoParticleCollection.from_columns({name: whole.column(name) for name in vlen})
    mixed = RecoParticleCollection.concat([parts[0], columnar.take(np.arange(3, len(objects)))])
    assert not any(mixed.has_cells(name) for name in vlen)
    for name in vlen:
        assert values_equal(mixed.column(name).values, whole.column(name).values)
        assert values_equal(mixed.column(name).offsets, whole.column(name).offsets)


def test_enumerations_with_far_apart_values_are_checked_too() -> None:
    wide = enum.IntEnum("Wide", {"LOW": -5, "HIGH": 10**9})
    low, table = _members_table(Column("w", "int64", enum=wide))
    assert _all_members(np.array([-5, 10**9, -5]), low, table)
    assert not _all_members(np.array([-5, 3]), low, table)
    low, table = _members_table(Column("w", "int64", enum=enum.IntEnum("Near", {"A": -1, "B": 2})))
    assert _all_members(np.array([2, -1]), low, table)
    assert not any(_all_members(np.array([value]), low, table) for value in (-2, 0, 1, 3))


def test_a_bool_column_holding_another_int_around_the_converter_is_refused_at_its_object() -> None:
    objects = _objects("reco_particles")
    object.__setattr__(objects[4], "is_truth", 5)
    read = instance_columns(RecoParticle, objects, RecoParticle._FULL_COLUMNS)
    assert "is_truth" not in read and "id" in read
    with pytest.raises(ColumnError) as caught:
        RecoParticle.to_records(objects)
    assert (caught.value.field, caught.value.position) == ("is_truth", 4)


def test_narrow_integers_are_range_checked() -> None:
    assert _fits(np.array([0, 255]), np.dtype(np.uint8)) and not _fits(np.array([0, 256]), np.dtype(np.uint8))
    assert not _fits(np.array([-(2**31) - 1]), np.dtype(np.int32)) and _fits(np.array([1, 0]), np.dtype(bool))
