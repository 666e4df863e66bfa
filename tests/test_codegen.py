"""The generator: one test per schema error, the column ordering rules, and deterministic output."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # codegen is a development tool, not part of the installed package
    sys.path.insert(0, str(ROOT))

from codegen import SchemaError, load_schema, render, stale_outputs, write_outputs  # noqa: E402
from spineh5.codegen.model import resolve_columns  # noqa: E402
from spineh5.types.registry import unregister  # noqa: E402

SCHEMA_DIR = ROOT / "schema"
GENERATED_DIR = ROOT / "src" / "spineh5" / "generated"

SPINE = """\
schema_version: 1
enums:
  Color:
    doc: A colour.
    members:
      UNKNOWN: -1
      RED: 0
      BLUE: 1
"""


def make_schema(directory: Path, objects: str | None = None, spine: str | None = SPINE, **others: str) -> Path:
    """Write a small schema folder: ``spine.yaml`` (version + enums), ``objects.yaml`` and any other files."""
    directory.mkdir(parents=True, exist_ok=True)
    if spine is not None:
        (directory / "spine.yaml").write_text(spine, encoding="utf-8")
    if objects is not None:
        (directory / "objects.yaml").write_text(textwrap.dedent(objects), encoding="utf-8")
    for name, text in others.items():
        (directory / name.replace("__", ".")).write_text(textwrap.dedent(text), encoding="utf-8")
    return directory


def schema_error(tmp_path: Path, objects: str | None = None, spine: str | None = SPINE, **others: str) -> str:
    """Load a schema that must be invalid; return the error message."""
    with pytest.raises(SchemaError) as info:
        load_schema(make_schema(tmp_path / "schema", objects, spine, **others))
    return str(info.value)


def assert_names(message: str, *parts: str) -> None:
    for part in parts:
        assert part in message, f"{part!r} missing from error message {message!r}"


def one_field(field: str, type_name: str = "Thing") -> str:
    """``objects.yaml`` declaring one type with one field given as a YAML flow mapping."""
    return f"types:\n  {type_name}:\n    doc: A thing.\n    fields:\n      - {field}\n"


# -- a valid schema ---------------------------------------------------------------------------


def test_a_valid_small_schema_loads(tmp_path: Path) -> None:
    schema = load_schema(
        make_schema(
            tmp_path,
            one_field("{name: color, dtype: Color, default: BLUE, units: cm, doc: The colour}")
            + "      - {name: points, dtype: float32, storage: fixed, length: 3, default: .nan, units: instance}\n"
            + "      - {name: ids, dtype: int32, storage: vlen, lite: false}\n",
        )
    )
    assert schema.version == 1
    assert list(schema.enums) == ["Color"]
    [thing] = schema.concrete_types()
    color, points, ids = thing.fields
    assert (color.name, color.dtype, color.default, color.enum.name, color.units) == (
        "color",
        "Color",
        1,
        "Color",
        "cm",
    )
    assert color.base_dtype == "int64"
    assert (points.storage, points.length, points.units) == ("fixed", 3, "instance")
    assert points.default_is_nan()
    assert (ids.storage, ids.default, ids.lite) == ("vlen", (), False)
    assert thing.module == "objects"


# -- one test per schema error ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float16", "string", "Colour", "int", "[int32]"])
def test_unknown_dtype(tmp_path: Path, dtype: str) -> None:
    message = schema_error(tmp_path, one_field(f"{{name: x, dtype: '{dtype}', default: 0}}"))
    assert_names(message, "objects.yaml", "Thing", ".x", f"unknown dtype {dtype!r}", "Color", "float32")


def test_unknown_storage(tmp_path: Path) -> None:
    message = schema_error(tmp_path, one_field("{name: x, dtype: int64, storage: array, default: 0}"))
    assert_names(message, "objects.yaml", "Thing.x", "unknown storage 'array'", "vlen")


def test_duplicate_field(tmp_path: Path) -> None:
    message = schema_error(
        tmp_path, one_field("{name: x, dtype: int64, default: 0}") + "      - {name: x, dtype: int64, default: 1}\n"
    )
    assert_names(message, "objects.yaml", "Thing.x", "duplicate field")


def test_duplicate_field_plain_and_derived_in_one_type(tmp_path: Path) -> None:
    message = schema_error(
        tmp_path,
        one_field("{name: x, dtype: int64, default: 0}")
        + "      - {name: x, dtype: int64, default: 0, derived: true}\n",
    )
    assert_names(message, "objects.yaml", "Thing.x", "duplicate field")


def test_fixed_length_missing(tmp_path: Path) -> None:
    message = schema_error(tmp_path, one_field("{name: pos, dtype: float32, storage: fixed, default: 0.0}"))
    assert_names(message, "objects.yaml", "Thing.pos", "storage 'fixed' needs a length")


@pytest.mark.parametrize("length", ["0", "-3"])
def test_fixed_length_not_positive(tmp_path: Path, length: str) -> None:
    message = schema_error(
        tmp_path, one_field(f"{{name: pos, dtype: float32, storage: fixed, length: {length}, default: 0.0}}")
    )
    assert_names(message, "objects.yaml", "Thing.pos", "fixed length must be a positive integer", f"got {length}")


@pytest.mark.parametrize(("length", "shown"), [("'3'", "'3'"), ("2.5", "2.5"), ("true", "True"), ("[3]", "[3]")])
def test_fixed_length_not_an_integer(tmp_path: Path, length: str, shown: str) -> None:
    message = schema_error(
        tmp_path, one_field(f"{{name: pos, dtype: float32, storage: fixed, length: {length}, default: 0.0}}")
    )
    assert_names(message, "objects.yaml", "Thing.pos", "fixed length must be a positive integer", f"got {shown}")


@pytest.mark.parametrize("storage", ["", "storage: scalar, ", "storage: vlen, "])
def test_length_without_fixed_storage(tmp_path: Path, storage: str) -> None:
    default = "" if "vlen" in storage else "default: 0, "
    message = schema_error(tmp_path, one_field(f"{{name: n, dtype: int32, {storage}{default}length: 3}}"))
    assert_names(message, "objects.yaml", "Thing.n", "length is only allowed with storage 'fixed'")


@pytest.mark.parametrize(
    ("dtype", "default", "shown"),
    [
        ("int64", "'abc'", "'abc' (str)"),
        ("int64", "1.5", "1.5 (float)"),
        ("int64", "2.0", "2.0 (float)"),
        ("int64", "true", "True (bool)"),
        ("int64", "1e5", "'1e5' (str)"),  # PyYAML reads 1e5 (no dot, no exponent sign) as a string
        ("int64", "9223372036854775808", "9223372036854775808 (int)"),
        ("int32", "2147483648", "2147483648 (int)"),
        ("int32", "-2147483649", "-2147483649 (int)"),
        ("uint8", "-1", "-1 (int)"),
        ("uint8", "256", "256 (int)"),
        ("bool", "1", "1 (int)"),
        ("bool", "'true'", "'true' (str)"),
        ("float64", "'fast'", "'fast' (str)"),
        ("float64", "false", "False (bool)"),
        ("float64", "'nan'", "'nan' (str)"),
        ("float64", "1" + "0" * 400, "1" + "0" * 400 + " (int)"),  # too large for a float
        ("float32", "1.0e+39", "1e+39 (float)"),
        ("str", "3", "3 (int)"),
        ("str", "null", "None (NoneType)"),
        ("str", "[a]", "['a'] (list)"),
    ],
)
def test_default_of_the_wrong_type(tmp_path: Path, dtype: str, default: str, shown: str) -> None:
    message = schema_error(tmp_path, one_field(f"{{name: value, dtype: {dtype}, default: {default}}}"))
    assert_names(message, "objects.yaml", "Thing.value", f"default {shown}", f"is not a valid {dtype}")


@pytest.mark.parametrize(
    ("field", "problem"),
    [
        ("{name: v, dtype: float32, storage: fixed, length: 3, default: [1.0, 'a', 3.0]}", "default 'a' (str)"),
        ("{name: v, dtype: float32, storage: fixed, length: 3, default: 'x'}", "default 'x' (str)"),
        ("{name: v, dtype: float32, storage: fixed, length: 3, default: [1.0, 2.0]}", "default has 2 values"),
        ("{name: v, dtype: int32, storage: vlen, default: 5}", "default of a vlen field must be a list"),
        ("{name: v, dtype: int32, storage: vlen, default: [1, 1.5]}", "default 1.5 (float)"),
        ("{name: v, dtype: bool, storage: vlen, default: [true, 3]}", "default 3 (int)"),
    ],
)
def test_default_of_the_wrong_type_for_arrays(tmp_path: Path, field: str, problem: str) -> None:
    message = schema_error(tmp_path, one_field(field))
    assert_names(message, "objects.yaml", "Thing.v", problem)


def test_missing_default_of_a_scalar(tmp_path: Path) -> None:
    message = schema_error(tmp_path, one_field("{name: n, dtype: int64}"))
    assert_names(message, "objects.yaml", "Thing.n", "missing default")


@pytest.mark.parametrize(
    ("default", "problem"),
    [
        ("PURPLE", "default 'PURPLE' is not a member of enum Color"),
        ("red", "default 'red' is not a member of enum Color"),
        ("7", "default 7 is not a value of enum Color [-1, 0, 1]"),
        ("1.0", "default 1.0 (float) is not a valid Color"),
        ("true", "default True (bool) is not a valid Color"),
    ],
)
def test_default_not_a_member_of_its_enum(tmp_path: Path, default: str, problem: str) -> None:
    message = schema_error(tmp_path, one_field(f"{{name: color, dtype: Color, default: {default}}}"))
    assert_names(message, "objects.yaml", "Thing.color", problem)


def test_enum_default_by_name_or_value_is_accepted(tmp_path: Path) -> None:
    schema = load_schema(
        make_schema(
            tmp_path,
            one_field("{name: a, dtype: Color, default: BLUE}")
            + "      - {name: b, dtype: Color, default: -1}\n"
            + "      - {name: c, dtype: Color, storage: fixed, length: 2, default: [RED, 1]}\n",
        )
    )
    assert [f.default for f in schema.types["Thing"].fields] == [1, -1, (0, 1)]


def test_unknown_base(tmp_path: Path) -> None:
    message = schema_error(tmp_path, "types:\n  Thing:\n    bases: [Missing]\n    fields: []\n")
    assert_names(message, "objects.yaml", "Thing", "unknown base 'Missing'")


def test_unknown_base_of_a_group(tmp_path: Path) -> None:
    message = schema_error(tmp_path, "groups:\n  Mid:\n    bases: [Nowhere]\ntypes:\n  Thing:\n    bases: [Mid]\n")
    assert_names(message, "objects.yaml", "Mid", "unknown base 'Nowhere'")


def test_an_enum_is_not_a_base(tmp_path: Path) -> None:
    message = schema_error(tmp_path, "types:\n  Thing:\n    bases: [Color]\n")
    assert_names(message, "objects.yaml", "Thing", "unknown base 'Color'")


@pytest.mark.parametrize(
    ("groups", "cycle"),
    [
        ("  A:\n    bases: [A]\n", "A -> A"),
        ("  A:\n    bases: [B]\n  B:\n    bases: [A]\n", "A -> B -> A"),
        ("  A:\n    bases: [B]\n  B:\n    bases: [C]\n  C:\n    bases: [A]\n", "A -> B -> C -> A"),
    ],
    ids=["self", "two", "three"],
)
def test_cycle_in_bases(tmp_path: Path, groups: str, cycle: str) -> None:
    message = schema_error(tmp_path, f"groups:\n{groups}types:\n  Thing:\n    bases: [A]\n")
    assert_names(message, "objects.yaml", "A", "cycle in bases", cycle)


def test_bases_that_cannot_be_linearized(tmp_path: Path) -> None:
    groups = "groups:\n  A:\n    fields: []\n  B:\n    bases: [A]\n"
    message = schema_error(tmp_path, groups + "types:\n  Thing:\n    bases: [A, B]\n")
    assert_names(message, "objects.yaml", "Thing", "bases ['A', 'B'] cannot be ordered consistently")


def test_a_base_listed_twice(tmp_path: Path) -> None:
    message = schema_error(tmp_path, "groups:\n  A: {}\ntypes:\n  Thing:\n    bases: [A, A]\n")
    assert_names(message, "objects.yaml", "Thing", "a base is listed twice")


@pytest.mark.parametrize("name", ["1Thing", "Bad-Name", "class", "has space"])
def test_invalid_type_name(tmp_path: Path, name: str) -> None:
    message = schema_error(tmp_path, f"types:\n  '{name}':\n    fields: []\n")
    assert_names(message, "objects.yaml", f"type name {name!r} is not a valid identifier")


def test_invalid_group_name(tmp_path: Path) -> None:
    message = schema_error(tmp_path, "groups:\n  'pos-data':\n    fields: []\ntypes:\n  Thing: {}\n")
    assert_names(message, "objects.yaml", "group name 'pos-data' is not a valid identifier")


@pytest.mark.parametrize("name", ["2x", "bad-name", "has space", "class", "lambda", "None", ""])
def test_invalid_field_name(tmp_path: Path, name: str) -> None:
    message = schema_error(
        tmp_path, one_field("{name: ok, dtype: int64, default: 0}") + f"      - {{name: '{name}', dtype: int64}}\n"
    )
    assert_names(message, "objects.yaml", "Thing", f"field 1 has an invalid name {name!r}")


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("column", "is reserved by the generated code"),
        ("math", "is reserved by the generated code"),
        ("to_records", "is reserved by the generated code"),
        ("DTYPE", "is reserved by the generated code"),
        ("Color", "is the name of an enum"),
    ],
)
def test_field_name_the_generated_class_uses(tmp_path: Path, name: str, problem: str) -> None:
    message = schema_error(tmp_path, one_field(f"{{name: {name}, dtype: int64, default: 0}}"))
    assert_names(message, "objects.yaml", f"Thing.{name}", f"field name {name!r} {problem}")


def test_missing_field_name(tmp_path: Path) -> None:
    message = schema_error(tmp_path, one_field("{dtype: int64, default: 0}"))
    assert_names(message, "objects.yaml", "Thing", "field 0 has an invalid name None")


@pytest.mark.parametrize("member", ["not valid", "1ST", "class", "None"])
def test_invalid_enum_member(tmp_path: Path, member: str) -> None:
    spine = SPINE + f"  Shade:\n    members:\n      LIGHT: 0\n      '{member}': 1\n"
    message = schema_error(tmp_path, one_field("{name: x, dtype: int64, default: 0}"), spine)
    assert_names(message, "spine.yaml", "Shade", f"member name {member!r} is not a valid identifier")


def test_invalid_enum_name(tmp_path: Path) -> None:
    spine = SPINE + "  'my-enum':\n    members: {A: 0}\n"
    message = schema_error(tmp_path, one_field("{name: x, dtype: int64, default: 0}"), spine)
    assert_names(message, "spine.yaml", "enum name 'my-enum' is not a valid identifier")


@pytest.mark.parametrize(
    ("members", "problem"),
    [
        ("{A: 0, B: 0}", "members A and B share the value 0"),
        ("{A: 0, B: '1'}", "member B must have an integer value, got '1'"),
        ("{A: 0, B: true}", "member B must have an integer value, got True"),
        ("{}", "enum has no members"),
        ("[A, B]", "members must be a mapping, got list"),
    ],
)
def test_invalid_enum_members(tmp_path: Path, members: str, problem: str) -> None:
    spine = SPINE + f"  Shade:\n    members: {members}\n"
    message = schema_error(tmp_path, one_field("{name: x, dtype: int64, default: 0}"), spine)
    assert_names(message, "spine.yaml", "Shade", problem)


def test_invalid_module_name(tmp_path: Path) -> None:
    message = schema_error(tmp_path, None, **{"my-objects__yaml": one_field("{name: x, dtype: int64, default: 0}")})
    assert_names(message, "my-objects.yaml", "file name 'my-objects' must be a valid module name")


def test_schema_version_missing(tmp_path: Path) -> None:
    spine = SPINE.replace("schema_version: 1\n", "")
    message = schema_error(tmp_path, one_field("{name: x, dtype: int64, default: 0}"), spine)
    assert_names(message, "schema_version must be declared in exactly one file", "found in: none")


def test_schema_version_duplicated(tmp_path: Path) -> None:
    objects = "schema_version: 1\n" + one_field("{name: x, dtype: int64, default: 0}")
    message = schema_error(tmp_path, objects)
    assert_names(message, "schema_version must be declared in exactly one file", "objects.yaml, spine.yaml")


@pytest.mark.parametrize(
    ("version", "shown"), [("0", "0"), ("-1", "-1"), ("'1'", "'1'"), ("1.0", "1.0"), ("true", "True")]
)
def test_schema_version_not_a_positive_integer(tmp_path: Path, version: str, shown: str) -> None:
    spine = SPINE.replace("schema_version: 1", f"schema_version: {version}")
    message = schema_error(tmp_path, one_field("{name: x, dtype: int64, default: 0}"), spine)
    assert_names(message, "spine.yaml", "schema_version must be a positive integer", f"got {shown}")


def test_unknown_top_level_key(tmp_path: Path) -> None:
    message = schema_error(tmp_path, "type:\n  Thing: {}\n")
    assert_names(message, "objects.yaml", "unknown top-level key(s) ['type']", "'types'")


def test_unknown_type_key(tmp_path: Path) -> None:
    message = schema_error(tmp_path, "types:\n  Thing:\n    base: [A]\n    field: []\n")
    assert_names(message, "objects.yaml", "Thing", "unknown type key(s) ['base', 'field']", "'bases'")


def test_unknown_group_key(tmp_path: Path) -> None:
    message = schema_error(tmp_path, "groups:\n  Mid:\n    docs: x\ntypes:\n  Thing:\n    bases: [Mid]\n")
    assert_names(message, "objects.yaml", "Mid", "unknown group key(s) ['docs']")


def test_unknown_field_key(tmp_path: Path) -> None:
    message = schema_error(tmp_path, one_field("{name: x, dtype: int64, default_value: 0, unit: cm}"))
    assert_names(message, "objects.yaml", "Thing.x", "unknown field key(s) ['default_value', 'unit']", "'default'")


def test_unknown_enum_key(tmp_path: Path) -> None:
    spine = SPINE + "  Shade:\n    values: {A: 0}\n"
    message = schema_error(tmp_path, one_field("{name: x, dtype: int64, default: 0}"), spine)
    assert_names(message, "spine.yaml", "Shade", "unknown enum key(s) ['values']", "'members'")


@pytest.mark.parametrize(
    ("field", "problem"),
    [
        ("{name: s, dtype: str, storage: vlen}", "str fields must have storage 'scalar'"),
        ("{name: s, dtype: str, storage: fixed, length: 2, default: a}", "str fields must have storage 'scalar'"),
        ("{name: f, dtype: bool, default: false, lite: 'no'}", "lite must be true or false, got 'no'"),
        ("{name: f, dtype: bool, default: false, derived: 1}", "derived must be true or false, got 1"),
        ("{name: f, dtype: float64, default: 0.0, units: 5}", "units must be a string, got 5"),
    ],
)
def test_invalid_field_settings(tmp_path: Path, field: str, problem: str) -> None:
    message = schema_error(tmp_path, one_field(field))
    assert_names(message, "objects.yaml", "Thing.", problem)


@pytest.mark.parametrize(
    ("redeclared", "problem"),
    [
        ("{name: x, dtype: float64, default: 0.0}", "changes dtype/storage"),
        ("{name: x, dtype: int32, default: 0}", "changes dtype/storage"),
        ("{name: x, dtype: int64, storage: fixed, length: 3, default: 0}", "changes dtype/storage"),
    ],
    ids=["float64", "int32", "fixed"],
)
def test_redeclaration_changing_the_dtype(tmp_path: Path, redeclared: str, problem: str) -> None:
    objects = (
        "groups:\n  Base:\n    fields:\n      - {name: x, dtype: int64, default: 0}\n"
        f"types:\n  Thing:\n    bases: [Base]\n    fields:\n      - {redeclared}\n"
    )
    message = schema_error(tmp_path, objects)
    assert_names(message, "objects.yaml", "Thing.x", problem, "first declared in Base")


def test_redeclaration_changing_the_fixed_length(tmp_path: Path) -> None:
    objects = (
        "groups:\n  Base:\n    fields:\n      - {name: p, dtype: float32, storage: fixed, length: 3, default: 0.0}\n"
        "types:\n  Thing:\n    bases: [Base]\n    fields:\n"
        "      - {name: p, dtype: float32, storage: fixed, length: 2, default: 0.0}\n"
    )
    message = schema_error(tmp_path, objects)
    assert_names(message, "objects.yaml", "Thing.p", "changes dtype/storage", "first declared in Base")


def test_redeclaration_of_a_derived_field_changing_the_dtype(tmp_path: Path) -> None:
    objects = (
        "groups:\n  Base:\n    fields:\n      - {name: n, dtype: int64, default: 0, derived: true}\n"
        "types:\n  Thing:\n    bases: [Base]\n    fields:\n"
        "      - {name: n, dtype: float64, default: 0.0, derived: true}\n"
    )
    message = schema_error(tmp_path, objects)
    assert_names(message, "objects.yaml", "Base.n", "changes dtype/storage", "first declared in Thing")


@pytest.mark.parametrize("order", ["[Plain, Derived]", "[Derived, Plain]"])
def test_derived_and_plain_field_of_the_same_name(tmp_path: Path, order: str) -> None:
    objects = (
        "groups:\n"
        "  Plain:\n    fields:\n      - {name: size, dtype: int64, default: 0}\n"
        "  Derived:\n    fields:\n      - {name: size, dtype: int64, default: 0, derived: true}\n"
        f"types:\n  Thing:\n    bases: {order}\n"
    )
    message = schema_error(tmp_path, objects)
    assert_names(message, "objects.yaml", "Derived.size", "derived field also declared as a plain field in Plain")


def test_derived_in_a_base_and_plain_in_the_type(tmp_path: Path) -> None:
    objects = (
        "groups:\n  Derived:\n    fields:\n      - {name: size, dtype: int64, default: 0, derived: true}\n"
        "types:\n  Thing:\n    bases: [Derived]\n    fields:\n      - {name: size, dtype: int64, default: 0}\n"
    )
    message = schema_error(tmp_path, objects)
    assert_names(message, "objects.yaml", "Derived.size", "also declared as a plain field in Thing")


def test_declared_twice_across_files(tmp_path: Path) -> None:
    message = schema_error(
        tmp_path, one_field("{name: x, dtype: int64, default: 0}"), more__yaml="types:\n  Thing: {}\n"
    )
    assert_names(message, "objects.yaml", "'Thing' already declared in more.yaml")


def test_enum_declared_twice_across_files(tmp_path: Path) -> None:
    message = schema_error(
        tmp_path,
        one_field("{name: x, dtype: int64, default: 0}"),
        colors__yaml="enums:\n  Color:\n    members: {A: 0}\n",
    )
    assert_names(message, "spine.yaml", "enum 'Color' already declared in colors.yaml")


def test_type_named_like_an_enum(tmp_path: Path) -> None:
    message = schema_error(tmp_path, "types:\n  Color:\n    fields: []\n")
    assert_names(message, "objects.yaml", "type 'Color' has the name of an enum")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("types: [Thing]\n", "objects.yaml: types must be a mapping, got list"),
        ("- 1\n- 2\n", "objects.yaml: the file must be a mapping, got list"),
        ("types:\n  Thing: [1]\n", "objects.yaml: Thing: a type must be a mapping, got list"),
        ("types:\n  Thing:\n    fields: {x: 1}\n", "objects.yaml: Thing: fields must be a list"),
        ("types:\n  Thing:\n    fields: [x]\n", "objects.yaml: Thing.<field 0>: a field must be a mapping, got str"),
        ("types:\n  Thing:\n    bases: A\n", "objects.yaml: Thing: bases must be a list of names, got 'A'"),
        ("types:\n  Thing: {fields: [\n", "objects.yaml: not valid YAML"),
    ],
    ids=["types-list", "file-list", "type-list", "fields-mapping", "field-str", "bases-str", "bad-yaml"],
)
def test_malformed_structure(tmp_path: Path, text: str, problem: str) -> None:
    assert_names(schema_error(tmp_path, text), problem)


def test_no_object_type(tmp_path: Path) -> None:
    message = schema_error(tmp_path, "groups:\n  Mid:\n    fields: []\n")
    assert_names(message, "declares no object type")


def test_empty_schema_folder(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match=r"no \*\.yaml schema files found"):
        load_schema(tmp_path)


# -- column ordering rules --------------------------------------------------------------------


def test_column_ordering_rules(tmp_path: Path) -> None:
    """Plain fields base-first keeping their first position, derived fields most-derived first (first wins)."""
    objects = """\
        groups:
          Root:
            fields:
              - {name: units, dtype: str, default: cm}
              - {name: root_derived, dtype: int64, default: 0, derived: true}
              - {name: shared_derived, dtype: int64, default: 1, derived: true, doc: from Root}
          Left:
            bases: [Root]
            fields:
              - {name: left, dtype: int64, default: 0}
              - {name: shared, dtype: float64, default: 0.0, doc: from Left}
              - {name: left_derived, dtype: int64, default: 0, derived: true}
          Right:
            bases: [Root]
            fields:
              - {name: right, dtype: int64, default: 0}
              - {name: shared, dtype: float64, default: .nan, doc: from Right}
              - {name: shared_derived, dtype: int64, default: 2, derived: true, doc: from Right}
        types:
          Thing:
            bases: [Left, Right]
            fields:
              - {name: own, dtype: int64, default: 0}
              - {name: own_derived, dtype: int64, default: 0, derived: true}
        """
    schema = load_schema(make_schema(tmp_path, objects))
    columns = resolve_columns(schema.types, "Thing")
    # linearization: Thing, Left, Right, Root -> plain fields from Root, Right, Left, Thing
    assert [c.name for c in columns] == [
        "units",
        "right",
        "shared",
        "left",
        "own",
        "own_derived",
        "left_derived",
        "shared_derived",
        "root_derived",
    ]
    by_name = {c.name: c for c in columns}
    # 'shared' keeps the position of its first (Right) declaration and takes Left's, the more derived one
    assert by_name["shared"].doc == "from Left"
    assert by_name["shared"].default == 0.0
    # the most-derived declaration of a derived field wins
    assert by_name["shared_derived"].doc == "from Right"
    assert by_name["shared_derived"].default == 2


def test_the_real_schema_orders_reco_particle_like_spine() -> None:
    columns = [c.name for c in resolve_columns(load_schema(SCHEMA_DIR).types, "RecoParticle")]
    assert columns[:3] == ["is_truth", "units", "id"]  # RecoBase, then PosDataBase, then OutBase
    assert columns.index("start_dedx") < columns.index("pdg_code")  # plain before derived
    assert columns[-3:] == ["size", "depositions_sum", "module_ids"]  # OutBase's derived fields come last


# -- rendering and writing --------------------------------------------------------------------


def test_regenerating_is_byte_identical_to_the_committed_code() -> None:
    outputs = render(load_schema(SCHEMA_DIR), "schema")
    assert sorted(outputs) == sorted(p.name for p in GENERATED_DIR.glob("*.py"))
    for name, text in outputs.items():
        assert (GENERATED_DIR / name).read_bytes() == text.encode("utf-8"), f"src/spineh5/generated/{name} is stale"
    assert stale_outputs(outputs, GENERATED_DIR) == []


def test_rendering_is_deterministic() -> None:
    first = render(load_schema(SCHEMA_DIR), "schema")
    second = render(load_schema(SCHEMA_DIR), "schema")
    assert list(first) == list(second)
    assert first == second


def test_rendered_modules_compile_and_carry_the_header() -> None:
    schema = load_schema(SCHEMA_DIR)
    outputs = render(schema, "schema")
    assert set(outputs) == {"enums.py", "__init__.py", *(f"{module}.py" for module in schema.modules())}
    for name, text in outputs.items():
        compile(text, name, "exec")
        assert text.startswith("# Generated by codegen from schema/")
        assert text.splitlines()[0].endswith(f"(schema_version {schema.version}).")
        assert "Do not edit by hand" in text.splitlines()[1]
        assert text.endswith("\n") and not text.endswith("\n\n")


def test_write_outputs_touches_only_changed_files(tmp_path: Path) -> None:
    outputs = render(load_schema(SCHEMA_DIR), "schema")
    target = tmp_path / "generated"
    written = write_outputs(outputs, target)
    assert sorted(p.name for p in written) == sorted(outputs)
    old = 1_000_000_000_000_000_000  # 2001-09-09, in ns
    for path in target.iterdir():
        os.utime(path, ns=(old, old))
    assert write_outputs(outputs, target) == []
    assert all(path.stat().st_mtime_ns == old for path in target.iterdir())

    (target / "larcv.py").write_text("# edited\n", encoding="utf-8")
    (target / "leftover.py").write_text("# no longer generated\n", encoding="utf-8")
    (target / "notes.txt").write_text("not python\n", encoding="utf-8")
    os.utime(target / "larcv.py", ns=(old, old))
    changed = write_outputs(outputs, target)
    assert changed == [target / "larcv.py", target / "leftover.py"]
    assert not (target / "leftover.py").exists()
    assert (target / "notes.txt").exists()
    assert (target / "larcv.py").read_text(encoding="utf-8") == outputs["larcv.py"]
    for name in ("enums.py", "output.py", "__init__.py"):
        assert (target / name).stat().st_mtime_ns == old


def test_stale_outputs_names_modified_missing_and_extra_files(tmp_path: Path) -> None:
    outputs = render(load_schema(SCHEMA_DIR), "schema")
    target = tmp_path / "generated"
    write_outputs(outputs, target)
    assert stale_outputs(outputs, target) == []
    (target / "output.py").write_text(outputs["output.py"] + "\n", encoding="utf-8")
    (target / "enums.py").unlink()
    (target / "extra.py").write_text("", encoding="utf-8")
    assert stale_outputs(outputs, target) == ["enums.py", "output.py", "extra.py"]


def run_codegen(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "codegen", *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def test_check_passes_on_the_repository() -> None:
    result = run_codegen("--check")
    assert result.returncode == 0, result.stderr
    assert "is up to date (4 files)" in result.stdout


def test_check_fails_on_a_modified_generated_file(tmp_path: Path) -> None:
    copy = tmp_path / "generated"
    shutil.copytree(GENERATED_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert run_codegen("--check", "--out", str(copy)).returncode == 0
    text = (copy / "larcv.py").read_text(encoding="utf-8")
    (copy / "larcv.py").write_text(text.replace("Run number of the event", "Run number"), encoding="utf-8")
    result = run_codegen("--check", "--out", str(copy))
    assert result.returncode == 1
    assert "stale generated code" in result.stderr and "larcv.py" in result.stderr
    # regenerating repairs it, touching only that file
    result = run_codegen("--out", str(copy))
    assert result.returncode == 0 and "(1 changed)" in result.stdout
    assert run_codegen("--check", "--out", str(copy)).returncode == 0


def test_codegen_reports_a_schema_error(tmp_path: Path) -> None:
    schema = make_schema(tmp_path / "schema", one_field("{name: x, dtype: float16, default: 0}"))
    result = run_codegen("--schema", str(schema), "--out", str(tmp_path / "out"), "--check")
    assert result.returncode == 2
    assert "schema error: objects.yaml: Thing.x: unknown dtype 'float16'" in result.stderr
    assert not (tmp_path / "out").exists()


def test_codegen_needs_ruff_and_says_so(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    from codegen import FormatterError, formatter
    from codegen.__main__ import main

    monkeypatch.setattr(formatter, "find_spec", lambda name: None)
    monkeypatch.setattr(formatter, "which", lambda name: None)
    with pytest.raises(FormatterError, match="ruff is not installed"):
        render(load_schema(SCHEMA_DIR), "schema")
    assert main(["--check"]) == 3
    assert "cannot format the generated code: ruff is not installed" in capsys.readouterr().err


# -- a custom schema renders into working, formatted code -------------------------------------

LONG_SCHEMA = """\
types:
  AnObjectTypeWithALongName:
    doc: Exercises the code paths the SPINE schema does not (long lines, uint8 scalars, fixed enums).
    fields:
      - {name: a_rather_long_field_name_forcing_line_wraps, dtype: int64, default: 0, doc: "It's \\"quoted\\""}
      - {name: another_long_field_name_forcing_line_wraps, dtype: uint8, default: 255, lite: false}
      - {name: colors, dtype: Color, storage: fixed, length: 2, default: [RED, BLUE], doc: Arguments on their own line}
      - {name: color, dtype: Color, default: UNKNOWN}
      - {name: label, dtype: str, default: "quote \\" and backslash \\\\ and tab\\t", derived: true}
      - {name: weights, dtype: float64, storage: vlen, default: [.inf, -.inf, .nan, 1.5],
         doc: "One argument per line, as they do not fit on one"}
  Short:
    fields:
      - {name: x, dtype: bool, default: true}
  AnotherObjectTypeWithALongName:
    bases: [Short]
  YetAnotherObjectTypeWithALongName:
    bases: [Short]
  AFourthObjectTypeWithAnEvenLongerName:
    bases: [Short]
"""
EXTRA_TYPES = {
    "AnotherObjectTypeWithALongName",
    "YetAnotherObjectTypeWithALongName",
    "AFourthObjectTypeWithAnEvenLongerName",
}


def import_generated(directory: Path, name: str):
    """Import a generated folder as a subpackage of ``spineh5`` (its code imports ``..types``)."""
    spec = importlib.util.spec_from_file_location(
        f"spineh5.{name}", directory / "__init__.py", submodule_search_locations=[str(directory)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        for key in [k for k in sys.modules if k == spec.name or k.startswith(spec.name + ".")]:
            del sys.modules[key]
    unregister(*module.REGISTRY.values())  # its import registered the classes; keep the registry spineh5's own
    return module


def test_a_custom_schema_renders_into_working_code(tmp_path: Path) -> None:
    schema = load_schema(make_schema(tmp_path / "schema", LONG_SCHEMA))
    outputs = render(schema, "schema")
    target = tmp_path / "custom_generated"
    write_outputs(outputs, target)
    module = import_generated(target, "_test_custom_generated")
    long_type = module.AnObjectTypeWithALongName
    assert set(module.REGISTRY) == {"AnObjectTypeWithALongName", "Short", *EXTRA_TYPES}
    assert [c.name for c in module.YetAnotherObjectTypeWithALongName.COLUMNS] == ["x"]
    assert [c.name for c in long_type.COLUMNS][-1] == "label"  # derived last
    assert long_type.DTYPE == np.dtype([c.h5_dtype() for c in long_type.COLUMNS])
    colors_dtype = long_type.DTYPE.fields["colors"][0]
    assert colors_dtype.shape == (2,)
    assert h5py.check_enum_dtype(colors_dtype.base) == {"UNKNOWN": -1, "RED": 0, "BLUE": 1}
    assert h5py.check_vlen_dtype(long_type.DTYPE.fields["weights"][0]) == np.dtype(np.float64)
    obj = long_type()
    assert obj.another_long_field_name_forcing_line_wraps == 255
    assert obj.colors.tolist() == [0, 1]
    assert obj.color is module.Color.UNKNOWN
    assert obj.label == 'quote " and backslash \\ and tab\t'
    assert long_type.COLUMNS[0].doc == 'It\'s "quoted"'
    assert obj.weights.dtype == np.float64
    np.testing.assert_array_equal(obj.weights, [np.inf, -np.inf, np.nan, 1.5])
    records = long_type.to_records([obj, {"color": "RED"}])
    assert records.dtype == long_type.DTYPE
    back = long_type.from_records(records)
    assert back[0] == obj
    assert back[1].color is module.Color.RED
    lite = long_type.to_records([obj], lite=True)
    assert "another_long_field_name_forcing_line_wraps" not in lite.dtype.names


def ruff() -> str | None:
    candidate = Path(sys.executable).with_name("ruff")
    return str(candidate) if candidate.exists() else shutil.which("ruff")


@pytest.mark.skipif(ruff() is None, reason="ruff is not installed")
def test_generated_code_is_ruff_clean_even_with_long_names(tmp_path: Path) -> None:
    """The formatter hook lays the rendered code out with `ruff format`; check with the project's configuration."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    write_outputs(
        render(load_schema(make_schema(tmp_path / "schema", LONG_SCHEMA)), "schema"), tmp_path / "src/generated"
    )
    (tmp_path / "src" / "__init__.py").write_text('"""Package."""\n', encoding="utf-8")
    lines = (tmp_path / "src/generated/objects.py").read_text(encoding="utf-8").splitlines()
    # all three layouts of a call are exercised: one line, items on one line, one item per line
    assert '    color: Color = column("int64", default=-1, enum=Color)' in lines
    assert (
        '        "int64", storage="fixed", length=2, default=(0, 1), enum=Color, doc="Arguments on their own line"'
        in lines
    )
    assert "        default=(math.inf, -math.inf, math.nan, 1.5)," in lines
    init = (tmp_path / "src/generated/__init__.py").read_text(encoding="utf-8")
    assert "from .objects import (\n    AFourthObjectTypeWithAnEvenLongerName,\n" in init  # isort's wrapped import
    assert "    color: Color = column(" not in lines
    for command in (["format", "--check", "--diff"], ["check", "--no-cache"]):
        result = subprocess.run(
            [ruff(), *command, "src/generated"], cwd=tmp_path, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        ('"a\\nb"', "a line break"),
        ('\'say """hi\'', "triple quotes"),
        ("'C:\\path'", "a backslash"),
        ("[1, 2]", "doc must be a string"),
    ],
)
def test_field_doc_that_cannot_sit_in_a_docstring(tmp_path: Path, doc: str, problem: str) -> None:
    message = schema_error(tmp_path, one_field(f"{{name: x, dtype: int64, default: 0, doc: {doc}}}"))
    assert_names(message, "objects.yaml", "Thing.x", problem)


def test_type_doc_that_cannot_sit_in_a_docstring(tmp_path: Path) -> None:
    objects = 'types:\n  Thing:\n    doc: "two\\nlines"\n    fields:\n      - {name: x, dtype: int64, default: 0}\n'
    message = schema_error(tmp_path, objects)
    assert_names(message, "objects.yaml", "Thing", "a line break")


# -- schema_version must change with the on-disk columns (schema/versions.json) -----------------------


def _schema_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "schema"
    shutil.copytree(SCHEMA_DIR, copy)
    return copy


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_repository_records_its_schema_version() -> None:
    from spineh5.codegen.versions import fingerprint, read_ledger

    schema = load_schema(SCHEMA_DIR)
    assert read_ledger(SCHEMA_DIR)[str(schema.version)] == fingerprint(schema)


def test_a_column_change_without_a_version_bump_fails(tmp_path: Path) -> None:
    schema = _schema_copy(tmp_path)
    out = tmp_path / "out"
    # RunInfo.run int64 -> int32: a retyped column
    _edit(schema / "larcv.yaml", "- name: run\n        dtype: int64", "- name: run\n        dtype: int32")
    for args in (["--check"], []):
        result = run_codegen("--schema", str(schema), "--out", str(out), *args)
        assert result.returncode == 2, result.stdout
        assert "the on-disk columns changed but schema_version is still 2" in result.stderr
        assert "bump schema_version to 3" in result.stderr
    assert not out.exists()
    _edit(schema / "spine.yaml", "schema_version: 2", "schema_version: 3")
    assert run_codegen("--schema", str(schema), "--out", str(out), "--check").returncode == 2  # not recorded yet
    result = run_codegen("--schema", str(schema), "--out", str(out))
    assert result.returncode == 0 and "recorded schema_version 3" in result.stdout, result.stderr
    assert run_codegen("--schema", str(schema), "--out", str(out), "--check").returncode == 0


def test_docs_and_defaults_need_no_version_bump(tmp_path: Path) -> None:
    from spineh5.codegen.versions import fingerprint

    schema = _schema_copy(tmp_path)
    before = fingerprint(load_schema(schema))
    _edit(schema / "larcv.yaml", "Run number of the event", "The run")
    assert fingerprint(load_schema(schema)) == before


def test_an_older_version_number_is_refused(tmp_path: Path) -> None:
    schema = _schema_copy(tmp_path)
    _edit(schema / "larcv.yaml", "- name: run\n        dtype: int64", "- name: run\n        dtype: int32")
    _edit(schema / "spine.yaml", "schema_version: 2", "schema_version: 1")
    result = run_codegen("--schema", str(schema), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "still 1" in result.stderr
