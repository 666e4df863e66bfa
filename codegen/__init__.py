"""Code generator: YAML schemas -> typed model -> Jinja2 -> ``src/spineh5/generated``.

A development tool: nothing under ``src/`` imports it.
"""

from .load import load_schema
from .model import Schema, SchemaError
from .render import render, stale_outputs, write_outputs

__all__ = ["Schema", "SchemaError", "load_schema", "render", "stale_outputs", "write_outputs"]
