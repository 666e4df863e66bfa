"""Plain objects: stand-ins with the class name and column attributes of a generated type."""

from __future__ import annotations

import functools
import types
from typing import Any


@functools.cache
def plain_class(class_name: str) -> type:
    """Return a :class:`types.SimpleNamespace` subclass named ``class_name``.

    The writer stores an object under ``type(obj).__name__``, so instances of
    this class are stored exactly like the generated type of the same name.
    """
    return type(class_name, (types.SimpleNamespace,), {"__module__": __name__, "__slots__": ()})


def to_plain(obj: Any) -> types.SimpleNamespace:
    """Return a plain object with the same class name and column attributes as ``obj``."""
    fields = {column.name: getattr(obj, column.name) for column in type(obj).COLUMNS}
    return plain_class(type(obj).__name__)(**fields)
