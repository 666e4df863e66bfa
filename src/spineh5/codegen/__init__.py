"""Code generator: YAML schemas -> typed model -> Jinja2 -> a package of generated object types.

It renders spineh5's own types (``python -m codegen`` in the repository, into
``src/spineh5/generated``) and the types of a user schema (``spineh5 generate``, which
builds on spineh5's own schema as a library: :mod:`.library`). It needs the ``codegen``
extra (Jinja2 and ruff, which formats the output: :mod:`.formatter`); nothing else in
spineh5 imports it.
"""

from . import formatter
from .formatter import FormatterError
from .load import load_schema
from .model import Schema, SchemaError
from .render import render, stale_outputs, write_outputs

__all__ = [
    "FormatterError",
    "Schema",
    "SchemaError",
    "formatter",
    "load_schema",
    "render",
    "stale_outputs",
    "write_outputs",
]
