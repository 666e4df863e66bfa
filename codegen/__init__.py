"""The generator's development entry point: ``python -m codegen [--check]`` renders spineh5's own types.

The generator itself is :mod:`spineh5.codegen` (installed with the package, used by
``spineh5 generate`` for user schemas too); this folder only runs it on the repository's
``schema/`` into ``src/spineh5/generated/``.
"""

from spineh5.codegen import (
    FormatterError,
    Schema,
    SchemaError,
    formatter,
    load_schema,
    render,
    stale_outputs,
    write_outputs,
)

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
