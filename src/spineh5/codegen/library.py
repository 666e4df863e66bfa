"""spineh5's own schema as a library that user schemas build on, shipped inside the package.

The top-level ``schema/`` folder of the repository is the source of truth; ``python -m codegen``
copies its ``*.yaml`` files here (``spineh5/codegen/schema/``, package data) and
``python -m codegen --check`` fails when the copy differs. A user schema loaded with
:func:`load_library` as its library may name spineh5's enums, groups and types
(``bases: [ParticleBase]``, ``dtype: ParticleShape``) without declaring them.
"""

from __future__ import annotations

import functools
from pathlib import Path

from .load import load_schema
from .model import Schema

#: The shipped copy of spineh5's schema files.
LIBRARY_DIR = Path(__file__).resolve().parent / "schema"


@functools.cache
def load_library() -> Schema:
    """Return spineh5's own schema, loaded from the copy shipped in the package."""
    return load_schema(LIBRARY_DIR)


def _library_files(schema_dir: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(Path(schema_dir).glob("*.yaml"))}


def stale_library(schema_dir: Path) -> list[str]:
    """Return the schema files whose shipped copy is missing, different or left over."""
    want = _library_files(schema_dir)
    have = _library_files(LIBRARY_DIR) if LIBRARY_DIR.is_dir() else {}
    return sorted(name for name in want.keys() | have.keys() if want.get(name) != have.get(name))


def copy_library(schema_dir: Path) -> list[str]:
    """Make the shipped copy equal to ``schema_dir``'s ``*.yaml`` files; return the names written or removed."""
    stale = stale_library(schema_dir)
    LIBRARY_DIR.mkdir(exist_ok=True)
    for name in stale:
        source = Path(schema_dir) / name
        if source.exists():
            (LIBRARY_DIR / name).write_bytes(source.read_bytes())
        else:
            (LIBRARY_DIR / name).unlink()
    load_library.cache_clear()
    return stale
