"""Load the YAML schema files into the typed model, validating every declaration.

Every problem raises :class:`~spineh5.codegen.model.SchemaError` with a message that
names the file, the type or group, the field and what is wrong.
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..types.elements import FLOAT_MAX, INT_RANGES
from .model import (
    NUMERIC_DTYPES,
    STORAGES,
    EnumDef,
    FieldDef,
    Location,
    Schema,
    SchemaError,
    TypeDef,
    linearize,
    resolve_columns,
)

FILE_KEYS = {"schema_version", "enums", "groups", "types"}
TYPE_KEYS = {"doc", "bases", "fields", "renamed_from"}
FIELD_KEYS = {"name", "dtype", "storage", "length", "default", "units", "role", "doc", "lite", "derived"} | {
    "renamed_from",
    "cast_from",
}
#: Geometric roles of an array field (SPINE names their ``scalar_dict`` components ``_x``, ``_y``, ``_z``).
ROLES = ("position", "vector")
ENUM_KEYS = {"doc", "members"}
#: Names a generated class body or its base ``SchemaObject`` (``spineh5.types.objects``) uses:
#: a field of that name would shadow them.
RESERVED_FIELD_NAMES = frozenset(
    {"column", "math", "CLASS_NAME", "COLUMNS", "DTYPE", "LITE_DTYPE", "to_records", "from_records"}
    | {"_LITE_COLUMNS", "_FULL_COLUMNS", "COLLECTION", "RENAMED_FROM"}
)
#: Names the generated collections (``spineh5.types.collection.SchemaCollection``) use: a field of that name
#: could not be reached as a collection attribute.
RESERVED_FIELD_NAMES |= frozenset(
    {"OBJECT_TYPE", "from_columns", "from_objects", "concat", "take", "to_objects", "equals"}
)


def is_identifier(name: Any) -> bool:
    """Return whether ``name`` is a usable Python identifier (and no keyword)."""
    return isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)


def _require_mapping(value: Any, where: Location, what: str) -> dict:
    if not isinstance(value, dict):
        raise SchemaError(f"{where.describe()}: {what} must be a mapping, got {type(value).__name__}")
    return value


def _check_keys(mapping: dict, allowed: set[str], where: Location, what: str) -> None:
    unknown = sorted(set(map(str, mapping)) - allowed)
    if unknown:
        raise SchemaError(f"{where.describe()}: unknown {what} key(s) {unknown}; allowed: {sorted(allowed)}")


def schema_paths(source: str | Path | Sequence[str | Path]) -> list[Path]:
    """Return the schema files of a folder (its ``*.yaml``, sorted by name) or of a list of files and folders."""
    sources = [source] if isinstance(source, (str, Path)) else list(source)
    paths: list[Path] = []
    for item in map(Path, sources):
        if item.is_dir():
            found = sorted(item.glob("*.yaml"))
            if not found:
                raise SchemaError(f"{item}: no *.yaml schema files found")
            paths.extend(found)
        elif item.is_file():
            paths.append(item)
        else:
            raise SchemaError(f"{item}: no such schema file or folder")
    names = [path.name for path in paths]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise SchemaError(f"schema file name(s) {twice} given twice: each file names a generated module")
    return paths


def load_schema(source: str | Path | Sequence[str | Path], library: Schema | None = None) -> Schema:
    """Read schema files into a :class:`Schema`.

    Parameters
    ----------
    source : str, Path or sequence of them
        A folder (every ``*.yaml`` in it, sorted by name), or schema files and folders.
    library : Schema, optional
        A schema whose enums, groups and types this one may name (``bases``, ``dtype``)
        without declaring them: spineh5's own (:func:`spineh5.codegen.library.load_library`).

    Returns
    -------
    Schema
        The validated schema, types in file order then declaration order.
    """
    documents = []
    for path in schema_paths(source):
        try:
            content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as err:
            raise SchemaError(f"{path.name}: not valid YAML: {_one_line(err)}") from err
        where = Location(path.name)
        _require_mapping(content, where, "the file")
        _check_keys(content, FILE_KEYS, where, "top-level")
        documents.append((path, content))
    return build_schema(documents, library)


def _one_line(err: Exception) -> str:
    """Return an error's message on one line."""
    return " ".join(str(err).split())


def build_schema(documents: list[tuple[Path, dict]], library: Schema | None = None) -> Schema:
    """Build and validate a :class:`Schema` from parsed YAML documents (on top of a ``library`` schema)."""
    versions = [(path.name, doc["schema_version"]) for path, doc in documents if "schema_version" in doc]
    if len(versions) != 1:
        found = ", ".join(name for name, _ in versions) or "none"
        raise SchemaError(f"schema_version must be declared in exactly one file (found in: {found})")
    version_file, version = versions[0]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise SchemaError(f"{version_file}: schema_version must be a positive integer, got {version!r}")

    enums: dict[str, EnumDef] = dict(library.enums) if library else {}
    for path, doc in documents:
        for name, body in _require_mapping(doc.get("enums", {}), Location(path.name), "enums").items():
            enum = _load_enum(path.name, name, body)
            if name in enums:
                raise SchemaError(f"{path.name}: enum {name!r} already declared in {_origin(enums[name], library)}")
            enums[name] = enum

    types: dict[str, TypeDef] = dict(library.types) if library else {}
    own: list[str] = []
    for path, doc in documents:
        for section, abstract in (("groups", True), ("types", False)):
            entries = _require_mapping(doc.get(section, {}), Location(path.name), section)
            for name, body in entries.items():
                typedef = _load_type(path, name, body, abstract, enums)
                if name in types:
                    raise SchemaError(f"{path.name}: {name!r} already declared in {_origin(types[name], library)}")
                if name in enums:
                    raise SchemaError(f"{path.name}: type {name!r} has the name of an enum")
                types[name] = typedef
                own.append(name)

    for name in own:
        linearize(types, name)
        check_renames(types[name], resolve_columns(types, name))
    check_class_renames(types, own)
    if not any(not types[name].abstract for name in own):
        raise SchemaError("the schema declares no object type (section 'types')")
    return Schema(version=version, enums=enums, types=types, files=tuple(p.name for p, _ in documents), library=library)


def _origin(declaration: EnumDef | TypeDef, library: Schema | None) -> str:
    """Return the file a declaration comes from, saying when it is the library's (spineh5's schema)."""
    if library is not None and (
        library.enums.get(declaration.name) is declaration or library.types.get(declaration.name) is declaration
    ):
        return f"{declaration.location.file} of spineh5's own schema (choose another name)"
    return declaration.location.file


def _doc(body: dict, where: Location) -> str:
    """Return a declaration's ``doc``: one line of text that can sit inside a docstring."""
    doc = body.get("doc", "")
    if not isinstance(doc, str):
        raise SchemaError(f"{where.describe()}: doc must be a string, got {doc!r}")
    for bad, what in (("\n", "a line break"), ('"""', "triple quotes"), ("\\", "a backslash")):
        if bad in doc.strip():
            raise SchemaError(f"{where.describe()}: doc must not contain {what}")
    return doc.strip()


def _load_enum(file: str, name: Any, body: Any) -> EnumDef:
    where = Location(file, str(name))
    if not is_identifier(name):
        raise SchemaError(f"{file}: enum name {name!r} is not a valid identifier")
    body = _require_mapping(body, where, "an enum")
    _check_keys(body, ENUM_KEYS, where, "enum")
    members = _require_mapping(body.get("members"), where, "members")
    if not members:
        raise SchemaError(f"{where.describe()}: enum has no members")
    seen: dict[int, str] = {}
    for member, value in members.items():
        if not is_identifier(member):
            raise SchemaError(f"{where.describe()}: member name {member!r} is not a valid identifier")
        if not isinstance(value, int) or isinstance(value, bool):
            raise SchemaError(f"{where.describe()}: member {member} must have an integer value, got {value!r}")
        if value in seen:
            raise SchemaError(f"{where.describe()}: members {seen[value]} and {member} share the value {value}")
        seen[value] = member
    return EnumDef(name, _doc(body, where), tuple(members.items()), where)


def _load_type(path: Path, name: Any, body: Any, abstract: bool, enums: dict[str, EnumDef]) -> TypeDef:
    file = path.name
    kind = "group" if abstract else "type"
    if not is_identifier(name):
        raise SchemaError(f"{file}: {kind} name {name!r} is not a valid identifier")
    where = Location(file, name)
    body = _require_mapping(body, where, f"a {kind}")
    _check_keys(body, TYPE_KEYS, where, kind)
    bases = body.get("bases", []) or []
    if not isinstance(bases, list) or not all(isinstance(b, str) for b in bases):
        raise SchemaError(f"{where.describe()}: bases must be a list of names, got {bases!r}")
    if len(set(bases)) != len(bases):
        raise SchemaError(f"{where.describe()}: a base is listed twice in {bases}")
    raw_fields = body.get("fields", []) or []
    if not isinstance(raw_fields, list):
        raise SchemaError(f"{where.describe()}: fields must be a list")
    fields: list[FieldDef] = []
    names: set[str] = set()
    for position, raw in enumerate(raw_fields):
        field = _load_field(file, name, position, raw, enums)
        if field.name in names:
            raise SchemaError(f"{Location(file, name, field.name).describe()}: duplicate field")
        names.add(field.name)
        fields.append(field)
    module = path.stem
    if not abstract and not is_identifier(module):
        raise SchemaError(f"{file}: file name {path.stem!r} must be a valid module name")
    renamed_from = _names(body, "renamed_from", where)
    if renamed_from and abstract:
        raise SchemaError(f"{where.describe()}: renamed_from applies to types (class names on disk), not to groups")
    return TypeDef(name, _doc(body, where), tuple(bases), tuple(fields), abstract, module, where, renamed_from)


def _load_field(file: str, owner: str, position: int, raw: Any, enums: dict[str, EnumDef]) -> FieldDef:
    raw = _require_mapping(raw, Location(file, owner, f"<field {position}>"), "a field")
    name = raw.get("name")
    if not is_identifier(name):
        raise SchemaError(f"{Location(file, owner).describe()}: field {position} has an invalid name {name!r}")
    where = Location(file, owner, name)
    if name in RESERVED_FIELD_NAMES:
        raise SchemaError(f"{where.describe()}: field name {name!r} is reserved by the generated code")
    if name in enums:
        raise SchemaError(f"{where.describe()}: field name {name!r} is the name of an enum")
    _check_keys(raw, FIELD_KEYS, where, "field")
    dtype = raw.get("dtype")
    enum = enums.get(dtype) if isinstance(dtype, str) else None
    if dtype not in NUMERIC_DTYPES and dtype != "str" and enum is None:
        raise SchemaError(
            f"{where.describe()}: unknown dtype {dtype!r}; expected one of "
            f"{[*NUMERIC_DTYPES, 'str']} or a declared enum {sorted(enums)}"
        )
    storage = raw.get("storage", "scalar")
    if storage not in STORAGES:
        raise SchemaError(f"{where.describe()}: unknown storage {storage!r}; expected one of {list(STORAGES)}")
    length = raw.get("length")
    if storage == "fixed":
        if length is None:
            raise SchemaError(f"{where.describe()}: storage 'fixed' needs a length")
        if not isinstance(length, int) or isinstance(length, bool) or length <= 0:
            raise SchemaError(f"{where.describe()}: fixed length must be a positive integer, got {length!r}")
    elif length is not None:
        raise SchemaError(f"{where.describe()}: length is only allowed with storage 'fixed'")
    if dtype == "str" and storage != "scalar":
        raise SchemaError(f"{where.describe()}: str fields must have storage 'scalar'")
    for flag in ("lite", "derived"):
        if flag in raw and not isinstance(raw[flag], bool):
            raise SchemaError(f"{where.describe()}: {flag} must be true or false, got {raw[flag]!r}")
    default = _check_default(where, raw, dtype, storage, length, enum)
    units = raw.get("units")
    if units is not None and not isinstance(units, str):
        raise SchemaError(f"{where.describe()}: units must be a string, got {units!r}")
    role = raw.get("role")
    if role is not None and role not in ROLES:
        raise SchemaError(f"{where.describe()}: unknown role {role!r}; expected one of {list(ROLES)}")
    if role is not None and (storage != "fixed" or dtype not in NUMERIC_DTYPES or length > 3):
        raise SchemaError(f"{where.describe()}: role {role!r} needs a numeric fixed array of length 2 or 3")
    renamed_from = _names(raw, "renamed_from", where)
    if name in renamed_from:
        raise SchemaError(f"{where.describe()}: renamed_from names the field itself")
    cast_from = _cast_from(raw, where, dtype, enum)
    return FieldDef(
        name=name,
        dtype=dtype,
        storage=storage,
        length=length,
        default=default,
        units=units,
        role=role,
        doc=_doc(raw, where),
        lite=raw.get("lite", True),
        derived=raw.get("derived", False),
        enum=enum,
        location=where,
        renamed_from=renamed_from,
        cast_from=cast_from,
    )


def _check_default(
    where: Location, raw: dict, dtype: str, storage: str, length: int | None, enum: EnumDef | None
) -> Any:
    """Validate the declared default against the dtype and storage; return it normalized."""
    if storage == "vlen":
        default = raw.get("default", [])
        if not isinstance(default, list):
            raise SchemaError(f"{where.describe()}: default of a vlen field must be a list, got {default!r}")
        for item in default:
            _check_element(where, item, dtype, enum)
        return tuple(default)
    if "default" not in raw:
        raise SchemaError(f"{where.describe()}: missing default")
    default = raw["default"]
    if storage == "fixed":
        if isinstance(default, list):
            if len(default) != length:
                raise SchemaError(
                    f"{where.describe()}: default has {len(default)} values, the fixed length is {length}"
                )
            return tuple(_check_element(where, item, dtype, enum) for item in default)
        return _check_element(where, default, dtype, enum)
    return _check_element(where, default, dtype, enum)


def _check_element(where: Location, value: Any, dtype: str, enum: EnumDef | None) -> Any:
    wrong = f"{where.describe()}: default {value!r} ({type(value).__name__}) is not a valid {dtype}"
    if enum is not None:
        if isinstance(value, str):
            members = dict(enum.members)
            if value not in members:
                raise SchemaError(f"{where.describe()}: default {value!r} is not a member of enum {enum.name}")
            return members[value]
        if not isinstance(value, int) or isinstance(value, bool):
            raise SchemaError(wrong)
        if value not in enum.values():
            raise SchemaError(
                f"{where.describe()}: default {value} is not a value of enum {enum.name} {sorted(enum.values())}"
            )
        return value
    if dtype == "str":
        if not isinstance(value, str):
            raise SchemaError(wrong)
        return value
    if dtype == "bool":
        if not isinstance(value, bool):
            raise SchemaError(wrong)
        return value
    if dtype in INT_RANGES:
        low, high = INT_RANGES[dtype]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise SchemaError(wrong)
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SchemaError(wrong)
    try:
        value = float(value)
    except OverflowError:
        raise SchemaError(wrong) from None
    if math.isfinite(value) and abs(value) > FLOAT_MAX[dtype]:
        raise SchemaError(wrong)
    return value


def _names(body: dict, key: str, where: Location) -> tuple[str, ...]:
    """Return ``renamed_from``: one identifier or a list of them (earlier names, most recent first)."""
    value = body.get(key, [])
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(is_identifier(name) for name in names):
        raise SchemaError(f"{where.describe()}: {key} must be a name or a list of names, got {value!r}")
    if len(set(names)) != len(names):
        raise SchemaError(f"{where.describe()}: a name is listed twice in {key} {names}")
    return tuple(names)


def _cast_from(raw: dict, where: Location, dtype: str, enum: EnumDef | None) -> tuple[str, ...]:
    """Return ``cast_from``: numeric elements (numpy names) a file may store the numeric field as."""
    value = raw.get("cast_from", [])
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list):
        raise SchemaError(f"{where.describe()}: cast_from must be a dtype or a list of dtypes, got {value!r}")
    if names and (dtype == "str" or enum is not None):
        raise SchemaError(f"{where.describe()}: cast_from applies to numeric fields only (not {dtype})")
    for name in names:
        if not _numeric_numpy_name(name):
            raise SchemaError(
                f"{where.describe()}: cast_from {name!r} is not a numeric dtype (bool, int8..int64, "
                "uint8..uint64, float16..float64)"
            )
        if name == dtype:
            raise SchemaError(f"{where.describe()}: cast_from {name!r} is the field's own dtype")
    return tuple(names)


def _numeric_numpy_name(name: object) -> bool:
    if not isinstance(name, str):
        return False
    try:
        dtype = np.dtype(name)
    except TypeError:
        return False
    return dtype.kind in "biuf" and dtype.name == name


def check_renames(typedef: TypeDef, columns: list[FieldDef]) -> None:
    """Refuse a ``renamed_from`` naming a current column of the type, or an old name two columns claim."""
    names = {field.name for field in columns}
    claimed: dict[str, str] = {}
    for field in columns:
        for old in field.renamed_from:
            if old in names:
                raise SchemaError(
                    f"{field.location.describe()}: renamed_from {old!r} is a field of {typedef.name}: "
                    "a file storing it would have two readings"
                )
            if old in claimed:
                raise SchemaError(
                    f"{field.location.describe()}: renamed_from {old!r} is already claimed by {claimed[old]}"
                )
            claimed[old] = field.name


def check_class_renames(types: dict[str, TypeDef], own: list[str]) -> None:
    """Refuse a type-level ``renamed_from`` naming a declared type, or an old name two types claim."""
    claimed: dict[str, str] = {}
    for name in own:
        typedef = types[name]
        for old in typedef.renamed_from:
            if old in types:
                raise SchemaError(
                    f"{typedef.location.describe()}: renamed_from {old!r} is a declared type (or group) name"
                )
            if old in claimed:
                raise SchemaError(
                    f"{typedef.location.describe()}: renamed_from {old!r} is already claimed by {claimed[old]}"
                )
            claimed[old] = name
