"""The ledger of schema versions: which on-disk columns each ``schema_version`` stands for.

``schema/versions.json`` maps every released ``schema_version`` to a fingerprint of
the columns it writes (per concrete type, in order: name, dtype, storage, fixed
length, enum members, lite). A change of the columns that keeps the version is an
error, so a file's ``info.schema_version`` always tells what its columns are. The
ledger lives beside the schema but is not a ``*.yaml`` schema file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .model import Schema, SchemaError, resolve_columns

#: Name of the ledger in a schema folder.
LEDGER = "versions.json"


def fingerprint(schema: Schema) -> str:
    """Return the sha256 of what the schema writes on disk (not docs, defaults or units)."""
    layout = []
    for name in sorted(typedef.name for typedef in schema.concrete_types()):
        columns = [
            [
                field.name,
                field.dtype,
                field.storage,
                field.length,
                [list(member) for member in field.enum.members] if field.enum is not None else None,
                field.lite,
            ]
            for field in resolve_columns(schema.types, name)
        ]
        layout.append([name, columns])
    text = json.dumps(layout, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_ledger(schema_dir: Path) -> dict[str, str]:
    """Return ``{version: fingerprint}`` of a schema folder ({} when it has no ledger)."""
    path = Path(schema_dir) / LEDGER
    if not path.exists():
        return {}
    try:
        ledger = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise SchemaError(f"{LEDGER}: not valid JSON: {err}") from err
    if not isinstance(ledger, dict) or not all(isinstance(v, str) for v in ledger.values()):
        raise SchemaError(f"{LEDGER}: expected an object of version -> fingerprint strings")
    return ledger


def check_version(schema: Schema, schema_dir: Path, record: bool) -> bool:
    """Check the schema's columns against the ledger entry of its ``schema_version``.

    Parameters
    ----------
    schema : Schema
        The loaded schema.
    schema_dir : Path
        Its folder (holding ``versions.json``).
    record : bool
        Record a version the ledger does not know yet (``python -m codegen``);
        with False (``--check``) an unrecorded version is an error.

    Returns
    -------
    bool
        Whether the ledger was written.

    Raises
    ------
    SchemaError
        When the columns differ from the ones recorded for this version (bump
        ``schema_version``), or when ``record`` is False and the version is not
        recorded.
    """
    ledger = read_ledger(schema_dir)
    version = str(schema.version)
    found = fingerprint(schema)
    recorded = ledger.get(version)
    if recorded == found:
        return False
    if recorded is not None:
        raise SchemaError(
            f"the on-disk columns changed but schema_version is still {version} (recorded in {LEDGER}): "
            f"bump schema_version to {max(map(int, ledger)) + 1}, then run `nox -s generate`"
        )
    if not record:
        raise SchemaError(f"schema_version {version} is not recorded in {LEDGER}: run `nox -s generate`")
    if ledger and int(version) <= max(map(int, ledger)):
        raise SchemaError(
            f"schema_version {version} is not newer than the recorded ones ({', '.join(sorted(ledger, key=int))})"
        )
    ledger[version] = found
    (Path(schema_dir) / LEDGER).write_text(json.dumps(ledger, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return True
