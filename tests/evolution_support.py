"""What the schema-evolution tests and their fixture script share: test schemas, their packages, the old data.

The test schemas live in ``tests/schemas/evo_*`` (``evo_old`` wrote the committed fixtures
``tests/data/evolution/evo_old_v1.h5`` and ``evo_old_v2.h5``; the others evolve from it).
:func:`schema_package` renders one with ``spineh5 generate``'s machinery into a folder and
:func:`using` imports it with its types registered, forgetting them on exit (two test
schemas declare the same class names, so only one is registered at a time).
:func:`runtime_class` builds an object type from :class:`~spineh5.types.columns.Column`
descriptions the way generated code does (``@object_type`` over ``column(...)``), for
schema changes drawn at random.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from spineh5 import HDF5Writer
from spineh5.types.columns import Column
from spineh5.types.objects import SchemaObject, column, object_type
from spineh5.types.registry import register, unregister

TESTS = Path(__file__).resolve().parent
SCHEMAS = TESTS / "schemas"
FIXTURES = TESTS / "data" / "evolution"
#: The committed old-schema files, by layout (format_version).
OLD_FILES = {version: FIXTURES / f"evo_old_v{version}.h5" for version in (1, 2)}


def schema_package(name: str, root: Path) -> Path:
    """Render the test schema ``tests/schemas/<name>`` into the package ``root/<name>`` (once per root)."""
    from spineh5.codegen.library import load_library
    from spineh5.codegen.run import generate

    out = root / name
    if not (out / "__init__.py").exists():
        generate(SCHEMAS / name, out, package=name, library=load_library(), check=False)
    return out


@contextlib.contextmanager
def using(name: str, root: Path) -> Iterator[ModuleType]:
    """Import the generated test package ``name`` (rendered under ``root``) with its types registered."""
    schema_package(name, root)
    sys.path.insert(0, str(root))
    try:
        module = sys.modules.get(name) or importlib.import_module(name)
        register(*module.REGISTRY.values())
        try:
            yield module
        finally:
            unregister(*module.REGISTRY.values())
    finally:
        sys.path.remove(str(root))


def runtime_class(name: str, columns: Sequence[Column], renamed_from: Sequence[str] = ()) -> type:
    """Return an object type of ``columns``, built as generated code builds one (not registered)."""
    body: dict[str, Any] = {
        "DTYPE": np.dtype([c.h5_dtype() for c in columns]),
        "LITE_DTYPE": np.dtype([c.h5_dtype() for c in columns if c.lite]),
        "RENAMED_FROM": tuple(renamed_from),
        "__module__": f"evolution_runtime_{name}",
    }
    for c in columns:
        fields = ("storage", "length", "default", "units", "lite", "derived", "enum", "doc")
        options = {field: getattr(c, field) for field in fields}
        body[c.name] = column(c.dtype, renamed_from=c.renamed_from, cast_from=c.cast_from, **options)
    return object_type(type(name, (SchemaObject,), body))


#: The values of the old fixtures, per entry: EvoTrack and EvoCluster fields (entry 1 holds no track).
OLD_TRACKS: list[list[dict[str, Any]]] = [
    [
        {"id": 0, "length": 12.5, "charge": -3, "npts": 40, "energy": 105.25, "legacy_flag": True,
         "shape": 1, "start": [1.0, 2.0, 3.0], "index": [1, 2, 3], "label": "mu"},
        {"id": 1, "length": 0.75, "charge": 2**31 - 1, "npts": 1, "energy": math.nan, "legacy_flag": False,
         "shape": 0, "start": [math.nan, 0.5, -1.0], "index": [], "label": "é"},
    ],
    [],
    [
        {"id": 0, "length": 3.0e5, "charge": -(2**31), "npts": 2**31 - 1, "energy": -1.0, "legacy_flag": True,
         "shape": -1, "start": [0.0, 0.0, 0.0], "index": [2**31 - 1, -(2**31)], "label": ""},
    ],
]  # fmt: skip
OLD_CLUSTERS: list[list[dict[str, Any]]] = [
    [{"id": 0, "size": 10, "seed": 255}],
    [{"id": 0, "size": 2**31 - 1, "seed": 0}, {"id": 1, "size": 0, "seed": 7}],
    [],
]


def old_batch(package: ModuleType) -> dict[str, Any]:
    """Return the batch of the old fixtures, built with the evo_old package's classes."""
    return {
        "index": list(range(len(OLD_TRACKS))),
        "tracks": [[package.EvoTrack(**fields) for fields in entry] for entry in OLD_TRACKS],
        "clusters": [[package.EvoCluster(**fields) for fields in entry] for entry in OLD_CLUSTERS],
    }


def write_old_fixtures(root: Path, folder: Path = FIXTURES) -> list[Path]:
    """Write the old-schema fixtures (both layouts) into ``folder`` with the evo_old package."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with using("evo_old", root) as package:
        for version, path in OLD_FILES.items():
            target = folder / path.name
            with HDF5Writer(
                str(target), overwrite=True, format_version=version, checksum=False, chunk_rows=4, compression="gzip"
            ) as writer:
                writer(old_batch(package))
            written.append(target)
    return written
