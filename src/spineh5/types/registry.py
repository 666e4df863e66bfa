"""The class-name registry: which generated class the reader and writer use for an HDF5 ``class_name``.

Every generated package registers its object types when it is imported (its
``__init__`` calls :func:`register`): spineh5's own (:mod:`spineh5.generated`, loaded on
the first look-up) and those of a user package rendered by ``spineh5 generate``. The
writer stores an object under its class name; the reader and the decoders look that
name up here. Two classes may not share a name: the second is refused with an error
naming both modules.

A class renamed in its schema (``renamed_from`` at the type level) keeps its earlier
names as *aliases*: :meth:`ClassRegistry.resolve` reads files storing an old name as
the new class, unless a class of that name is itself registered. Aliases are not
keys of the mapping (the writer stores only current names).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from ..errors import SpineH5Error

__all__ = ["REGISTRY", "ClassNameClashError", "register", "unregister"]

#: The package of spineh5's own generated types, imported on the first look-up.
BUILTIN_PACKAGE = "spineh5.generated"


class ClassNameClashError(SpineH5Error, ValueError):
    """Two generated classes of different modules have the same class name."""


class ClassRegistry(Mapping):
    """A read-only mapping ``class name -> generated class``; :func:`register` adds to it."""

    def __init__(self) -> None:
        self._classes: dict[str, type] = {}
        self._aliases: dict[str, type] = {}
        self._builtin_loaded = False

    def _load_builtin(self) -> None:
        if not self._builtin_loaded:
            self._builtin_loaded = True
            importlib.import_module(BUILTIN_PACKAGE)

    def __getitem__(self, name: str) -> type:
        self._load_builtin()
        return self._classes[name]

    def __iter__(self) -> Iterator[str]:
        self._load_builtin()
        return iter(list(self._classes))

    def __len__(self) -> int:
        self._load_builtin()
        return len(self._classes)

    def resolve(self, name: str) -> type | None:
        """Return the class stored under ``name``: the class of that name, else the class renamed from it."""
        self._load_builtin()
        return self._classes.get(name) or self._aliases.get(name)

    def __repr__(self) -> str:
        return f"ClassRegistry({sorted(self)})"


#: Every registered class, by its ``CLASS_NAME``.
REGISTRY = ClassRegistry()


def _origin(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def register(*classes: type) -> None:
    """Register generated classes under their ``CLASS_NAME`` (all of them, or none on a clash).

    A class registered again, or a class of the same module and name (the module
    was imported anew or reloaded), replaces the previous one.

    Raises
    ------
    ClassNameClashError
        When a name is already registered by a class of another module, or two of
        ``classes`` share a name.
    """
    known = REGISTRY._classes
    pending: dict[str, type] = {}
    for cls in classes:
        name = cls.CLASS_NAME
        other = pending.get(name) or known.get(name)
        if other is not None and other is not cls and _origin(other) != _origin(cls):
            raise ClassNameClashError(
                f"cannot register {_origin(cls)}: the class name {name!r} is already registered by "
                f"{_origin(other)}; HDF5 files store objects by class name, so rename one of the types "
                "in its schema and generate again"
            )
        pending[name] = cls
    aliases: dict[str, type] = {}
    for cls in pending.values():
        for old in getattr(cls, "RENAMED_FROM", ()):
            other = aliases.get(old) or REGISTRY._aliases.get(old)
            if other is not None and other is not cls and _origin(other) != _origin(cls):
                raise ClassNameClashError(
                    f"cannot register {_origin(cls)}: it is renamed from {old!r}, as {_origin(other)} is; "
                    "files storing that name would have two readers, so keep renamed_from on one of them"
                )
            aliases[old] = cls
    known.update(pending)
    REGISTRY._aliases.update(aliases)


def unregister(*classes: type) -> None:
    """Remove registered classes (those registered under their name; others are ignored)."""
    known = REGISTRY._classes
    for cls in classes:
        if known.get(cls.CLASS_NAME) is cls:
            del known[cls.CLASS_NAME]
        for old in getattr(cls, "RENAMED_FROM", ()):
            if REGISTRY._aliases.get(old) is cls:
                del REGISTRY._aliases[old]
