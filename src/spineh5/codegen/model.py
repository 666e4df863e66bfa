"""Typed model of the YAML schemas and the rules that turn it into ordered columns.

The model mirrors what the schema language can say (see ``schema/README.md``):
enumerations, shared field groups and concrete object types, each with ordered
fields. :func:`resolve_columns` applies the ordering rules that make the
generated column order equal SPINE's ``as_dict`` order:

1. The *linearization* of a type (C3, as Python computes an MRO) lists the type,
   then its bases, most-derived first.
2. Plain fields come first, collected base-first (the linearization reversed).
   A field declared again by a more-derived group keeps the position where it
   was first declared and takes the new declaration (default, doc, ...).
3. Derived fields follow, collected most-derived first; the first declaration
   of a name wins, later ones are ignored.
"""

from __future__ import annotations

import math
from typing import Any

import attrs

from ..errors import SpineH5Error
from ..types.elements import ENUM_ELEMENT, NUMERIC_ELEMENTS

#: Element dtypes a field may declare, besides ``str`` and a declared enum (the runtime's table).
NUMERIC_DTYPES = NUMERIC_ELEMENTS
#: Storage kinds a field may declare.
STORAGES = ("scalar", "fixed", "vlen")


class SchemaError(SpineH5Error, ValueError):
    """A schema file is invalid; the message names the file, type, field and problem."""


@attrs.frozen
class Location:
    """Where a declaration lives, used to build error messages."""

    file: str
    owner: str | None = None
    field: str | None = None

    def describe(self) -> str:
        """Return ``file: owner.field`` with the parts that are known."""
        where = self.file
        if self.owner:
            where += f": {self.owner}"
            if self.field:
                where += f".{self.field}"
        return where


@attrs.frozen
class EnumDef:
    """An enumeration: ordered ``NAME -> value`` members."""

    name: str
    doc: str
    members: tuple[tuple[str, int], ...]
    location: Location = attrs.field(eq=False)

    def values(self) -> set[int]:
        """Return the set of member values."""
        return {value for _, value in self.members}


@attrs.frozen
class FieldDef:
    """One declared field of a group or type."""

    name: str
    dtype: str
    storage: str
    length: int | None
    default: Any
    units: str | None
    role: str | None
    doc: str
    lite: bool
    derived: bool
    enum: EnumDef | None = attrs.field(eq=False)
    location: Location = attrs.field(eq=False)
    #: Earlier names of the field (``renamed_from``): files storing one of them read it under ``name``.
    renamed_from: tuple[str, ...] = ()
    #: Stored elements the field may be cast from besides the widening ones (``cast_from``).
    cast_from: tuple[str, ...] = ()

    @property
    def base_dtype(self) -> str:
        """Return the element dtype on disk (``int64`` for enums) or ``str``."""
        return ENUM_ELEMENT if self.enum is not None else self.dtype

    def default_is_nan(self) -> bool:
        """Return whether the default is a float NaN."""
        return isinstance(self.default, float) and math.isnan(self.default)


@attrs.frozen
class TypeDef:
    """A field group (abstract) or an object type (concrete, written to files)."""

    name: str
    doc: str
    bases: tuple[str, ...]
    fields: tuple[FieldDef, ...]
    abstract: bool
    module: str
    location: Location = attrs.field(eq=False)
    #: Earlier class names (``renamed_from``): files storing objects under one of them read as this type.
    renamed_from: tuple[str, ...] = ()


@attrs.frozen
class Schema:
    """Every declaration of every schema file, validated and cross-referenced."""

    version: int
    enums: dict[str, EnumDef]
    types: dict[str, TypeDef]
    files: tuple[str, ...]
    #: The schema this one builds on (spineh5's own, for a user schema): its enums and types are in
    #: ``enums`` and ``types`` so that bases and dtypes resolve, but they are not generated again.
    library: Schema | None = None

    def is_library(self, name: str) -> bool:
        """Return whether an enum or type comes from the library schema."""
        return self.library is not None and (name in self.library.types or name in self.library.enums)

    def own_enums(self) -> list[EnumDef]:
        """Return the enums this schema declares itself (not the library's), in declaration order."""
        return [enum for name, enum in self.enums.items() if not self.is_library(name)]

    def concrete_types(self) -> list[TypeDef]:
        """Return the object types (not groups, not the library's), in declaration order."""
        return [t for t in self.types.values() if not t.abstract and not self.is_library(t.name)]

    def modules(self) -> dict[str, list[TypeDef]]:
        """Return the concrete types grouped by the module they generate into."""
        out: dict[str, list[TypeDef]] = {}
        for typedef in self.concrete_types():
            out.setdefault(typedef.module, []).append(typedef)
        return out


def linearize(schema_types: dict[str, TypeDef], name: str, _stack: tuple[str, ...] = ()) -> list[str]:
    """Return the C3 linearization of a type: itself first, then its bases.

    Raises
    ------
    SchemaError
        On an unknown base, a cycle, or bases that cannot be linearized.
    """
    typedef = schema_types[name]
    if name in _stack:
        cycle = " -> ".join((*_stack[_stack.index(name) :], name))
        raise SchemaError(f"{typedef.location.describe()}: cycle in bases: {cycle}")
    for base in typedef.bases:
        if base not in schema_types:
            raise SchemaError(f"{typedef.location.describe()}: unknown base {base!r}")
    sequences = [linearize(schema_types, base, (*_stack, name)) for base in typedef.bases]
    sequences.append(list(typedef.bases))
    result = [name]
    while any(sequences):
        for seq in sequences:
            if not seq:
                continue
            head = seq[0]
            if not any(head in other[1:] for other in sequences):
                break
        else:
            raise SchemaError(
                f"{typedef.location.describe()}: bases {list(typedef.bases)} cannot be ordered consistently"
            )
        result.append(head)
        for seq in sequences:
            if seq and seq[0] == head:
                del seq[0]
    return result


def resolve_columns(schema_types: dict[str, TypeDef], name: str) -> list[FieldDef]:
    """Return the columns of a type in on-disk order (plain fields, then derived).

    Raises
    ------
    SchemaError
        When a name is declared as a plain field in one group and as a derived
        field in another group of the same type, or when a redeclaration changes
        the dtype or storage.
    """
    order = linearize(schema_types, name)
    plain: dict[str, FieldDef] = {}
    for owner in reversed(order):
        for field in schema_types[owner].fields:
            if field.derived:
                continue
            previous = plain.get(field.name)
            if previous is not None and (
                previous.dtype,
                previous.storage,
                previous.length,
            ) != (field.dtype, field.storage, field.length):
                raise SchemaError(
                    f"{field.location.describe()}: redeclaration changes dtype/storage of a field "
                    f"first declared in {previous.location.owner}"
                )
            plain[field.name] = field
    derived: dict[str, FieldDef] = {}
    for owner in order:
        for field in schema_types[owner].fields:
            if not field.derived:
                continue
            if field.name in plain:
                raise SchemaError(
                    f"{field.location.describe()}: derived field also declared as a plain field "
                    f"in {plain[field.name].location.owner}"
                )
            previous = derived.get(field.name)
            if previous is None:
                derived[field.name] = field
            elif (previous.dtype, previous.storage, previous.length) != (field.dtype, field.storage, field.length):
                raise SchemaError(
                    f"{field.location.describe()}: redeclaration changes dtype/storage of a field "
                    f"first declared in {previous.location.owner}"
                )
    return [*plain.values(), *derived.values()]
