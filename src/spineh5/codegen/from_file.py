"""``spineh5 generate --from-file``: the classes a file records (``info/schema``), rendered again as a package.

As podio-dump's ``--dump-edm``, this rebuilds the types needed to read a file from
the file alone. Each stored record carries a self-contained YAML document (the
class, its columns flattened in on-disk order, the enums they use; see
:mod:`spineh5.types.class_schema`). The documents of the classes that are not
spineh5's own are gathered into one schema folder, one file per module the classes
were generated in, and rendered by the generator's usual run (:func:`.run.generate`)
on top of spineh5's schema: enums spineh5 declares are taken from it (refused when
the file's members differ), spineh5's own classes are left to spineh5's types.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import attrs
import h5py
import yaml

from ..format.schema import read_class_schemas
from .library import load_library
from .model import Schema, SchemaError
from .run import Outcome, generate

__all__ = ["FromFileOutcome", "generate_from_file", "schema_documents"]


@attrs.frozen
class FromFileOutcome:
    """What :func:`generate_from_file` did.

    Attributes
    ----------
    outcome : Outcome
        The generator run.
    skipped : tuple of str
        The classes of the file that are spineh5's own (read with spineh5's types, not generated).
    """

    outcome: Outcome
    skipped: tuple[str, ...]


def _document(name: str, record: dict[str, Any], path: str) -> dict[str, Any]:
    try:
        document = yaml.safe_load(record.get("yaml") or "")
    except yaml.YAMLError as err:
        raise SchemaError(f"{path}: the stored YAML of class {name} is not valid YAML ({err})") from err
    if not isinstance(document, dict) or name not in (document.get("types") or {}):
        raise SchemaError(f"{path}: the stored YAML of class {name} does not declare it")
    return document


def schema_documents(
    records: dict[str, dict[str, Any]], library: Schema, path: str = "the file"
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Return the schema files (``{file name: document}``) that declare the records' non-library classes.

    Returns
    -------
    tuple
        The documents, one per module, the first holding ``schema_version``
        (the newest version of the records), and the classes left out as spineh5's own.

    Raises
    ------
    SchemaError
        When no class is left, a stored YAML is unusable, or an enum differs from
        spineh5's (or between two classes) under the same name.
    """
    skipped = sorted(name for name in records if name in library.types)
    wanted = {name: record for name, record in records.items() if name not in library.types}
    if not wanted:
        raise SchemaError(
            f"{path} records only spineh5's own classes ({', '.join(skipped) or 'none'}): read it with spineh5's types"
        )
    files: dict[str, dict[str, Any]] = {}
    enums: dict[str, dict[str, Any]] = {}
    for name, record in wanted.items():
        document = _document(name, record, path)
        for enum_name, body in (document.get("enums") or {}).items():
            members = body.get("members") if isinstance(body, dict) else None
            if enum_name in library.enums:
                if tuple((members or {}).items()) != library.enums[enum_name].members:
                    raise SchemaError(
                        f"{path}: class {name} uses enum {enum_name} with members {members}, "
                        f"which differ from spineh5's {dict(library.enums[enum_name].members)}"
                    )
                continue
            if enum_name in enums and enums[enum_name] != body:
                raise SchemaError(f"{path}: enum {enum_name} is stored with different members by two classes")
            enums[enum_name] = body
        module = str(record.get("module") or "types").rpartition(".")[2]
        files.setdefault(f"{module}.yaml", {"types": {}})["types"][name] = document["types"][name]
    version = max(int(record.get("schema_version") or 1) for record in wanted.values())
    first = next(iter(files.values()))
    first_items = {"schema_version": version, **({"enums": enums} if enums else {})}
    files[next(iter(files))] = {**first_items, **first}
    return files, skipped


def generate_from_file(path: str | os.PathLike, out: Path, package: str | None = None) -> FromFileOutcome:
    """Render the non-spineh5 classes a file records into the package folder ``out``.

    Parameters
    ----------
    path : str or path-like
        A file written by spineh5 (it records its classes in ``info/schema``).
    out : Path
        The package folder to write.
    package : str, optional
        Import name of the package (default: the folder's name).

    Raises
    ------
    SchemaError
        When the file records no schema, only spineh5's own classes, or unusable YAML.
    OSError
        When the file cannot be opened.
    """
    path = os.fspath(path)
    with h5py.File(path, "r") as h5file:
        records = read_class_schemas(h5file)
    if not records:
        raise SchemaError(f"{path} records no schema (written by SPINE, or by spineh5 before it stored schemas)")
    library = load_library()
    files, skipped = schema_documents(records, library, path)
    with tempfile.TemporaryDirectory(prefix="spineh5-from-file-") as temporary:
        folder = Path(temporary) / Path(path).name  # the generated headers cite <file name>/<module>.yaml
        folder.mkdir()
        for name, document in files.items():
            (folder / name).write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
        outcome = generate(folder, Path(out), package=package or Path(out).name, library=library)
    return FromFileOutcome(outcome, tuple(skipped))
