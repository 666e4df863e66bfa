"""Code generator: YAML schemas -> typed model -> Jinja2 -> ``src/spineh5/generated``.

A development tool: nothing under ``src/`` imports it. It shares the runtime's
element-dtype table (``src/spineh5/types/elements.py``, loaded by path) and formats
its output with ruff (:mod:`codegen.formatter`).
"""

from .formatter import FormatterError
from .load import load_schema
from .model import Schema, SchemaError
from .render import render, stale_outputs, write_outputs

__all__ = ["FormatterError", "Schema", "SchemaError", "load_schema", "render", "stale_outputs", "write_outputs"]
