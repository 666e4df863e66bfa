"""The manifest of a production: ``production.json`` beside its shards, and what each shard's state is.

A production is a folder of shards, one HDF5 file each (``<name>_<index:05d>.h5``),
written by :func:`spineh5.parallel.write_production` or by a batch job array,
and its manifest, ``production.json``, which records for every shard, in
order: its path (relative to the manifest), the inputs it was made from, its
entry count, schema version, layout, byte size, products, whether it is
complete and the sha256 of its bytes. A shard is recorded complete only once
its writer finalized it and it validated; the manifest is only ever replaced
whole (temporary file, fsync, ``os.replace``).

This module needs neither dask nor h5py beyond what the core install has:

* :class:`ShardRecord`, :class:`Manifest` (:meth:`Manifest.load`, :meth:`Manifest.save`);
* :func:`file_sha256`: the checksum of a file;
* :func:`shard_state`: ``complete``, ``missing``, ``incomplete`` or ``invalid``, with the reason;
* :func:`production_files`: the shards a manifest or a folder names, in order (what
  :class:`~spineh5.reader.HDF5Reader` reads when given one);
* :func:`check_consistent`: refuse shards whose products or schema versions differ.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Sequence
from typing import Any

import attrs

from ..errors import SpineH5Error
from ..publishing import fsync_directory, partial_path

__all__ = [
    "MANIFEST_FORMAT",
    "MANIFEST_NAME",
    "Manifest",
    "ProductionError",
    "ShardRecord",
    "check_consistent",
    "file_sha256",
    "is_manifest",
    "production_files",
    "shard_name",
    "shard_state",
]

#: File name of a production's manifest, in the shards' folder.
MANIFEST_NAME = "production.json"
#: Value of the manifest's ``format`` key (how a manifest is told from other JSON files).
MANIFEST_FORMAT = "spineh5-production"
#: Version of the manifest's own layout.
MANIFEST_VERSION = 1

#: The states of a shard (:func:`shard_state`).
COMPLETE, MISSING, INCOMPLETE, INVALID = "complete", "missing", "incomplete", "invalid"
STATES = (COMPLETE, MISSING, INCOMPLETE, INVALID)


class ProductionError(SpineH5Error, ValueError):
    """A production cannot be read, written or merged as asked (its message names the shards)."""


def shard_name(name: str, index: int) -> str:
    """Return the file name of shard ``index`` of production ``name``: ``<name>_<index:05d>.h5``."""
    return f"{name}_{index:05d}.h5"


@attrs.define
class ShardRecord:
    """One shard of a manifest.

    Attributes
    ----------
    index : int
        Position of the shard in the production.
    path : str
        The shard file, relative to the manifest's folder.
    inputs : list of str
        What the shard was made from (input files, or a description of a partition).
    complete : bool
        Whether its writer finalized it and it validated.
    entries, bytes : int or None
        Entry count and file size (when complete).
    sha256 : str or None
        Checksum of the file's bytes (when complete).
    schema_version, format_version : int or None
        Schema version and layout written (``info.schema_version``, ``info.format_version``).
    products : list of str or None
        The products the shard stores.
    error : str or None
        Last failure of its partition (first line), when it failed.
    """

    index: int
    path: str
    inputs: list[str] = attrs.Factory(list)
    complete: bool = False
    entries: int | None = None
    bytes: int | None = None
    sha256: str | None = None
    schema_version: int | None = None
    format_version: int | None = None
    products: list[str] | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the record as a JSON-ready dict."""
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ShardRecord:
        """Return a record from its JSON dict (unknown keys are ignored)."""
        known = {field.name for field in attrs.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


@attrs.define
class Manifest:
    """A production's manifest: its name, layout and shards, in order.

    Attributes
    ----------
    path : str
        The manifest file (``<folder>/production.json``).
    name : str
        The production's name (the shards' name stem).
    format_version : int
        Layout the shards are written in.
    shards : list of ShardRecord
        The shards, in production order.
    """

    path: str
    name: str
    format_version: int
    shards: list[ShardRecord] = attrs.Factory(list)

    @property
    def folder(self) -> str:
        """Return the folder of the manifest and its shards."""
        return os.path.dirname(os.path.abspath(self.path))

    def shard_path(self, record: ShardRecord) -> str:
        """Return the absolute path of a shard."""
        return os.path.normpath(os.path.join(self.folder, record.path))

    @classmethod
    def load(cls, path: str | os.PathLike) -> Manifest:
        """Read a manifest.

        Raises
        ------
        ProductionError
            When the file is not valid JSON or not a spineh5 production manifest.
        """
        path = os.fspath(path)
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except json.JSONDecodeError as err:
            raise ProductionError(f"{path}: not a production manifest (invalid JSON: {err})") from None
        if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
            raise ProductionError(f'{path}: not a production manifest (no "format": "{MANIFEST_FORMAT}")')
        return cls(
            path=path,
            name=str(data.get("name", "")),
            format_version=int(data.get("format_version", 1)),
            shards=[ShardRecord.from_json(item) for item in data.get("shards", [])],
        )

    def save(self) -> None:
        """Write the manifest atomically: a temporary file beside it, fsynced, then ``os.replace``."""
        data = {
            "format": MANIFEST_FORMAT,
            "manifest_version": MANIFEST_VERSION,
            "name": self.name,
            "format_version": self.format_version,
            "shards": [record.to_json() for record in self.shards],
        }
        folder = self.folder
        handle, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(self.path)}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(data, stream, indent=1)
                stream.write("\n")
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            if os.path.exists(temporary):
                os.remove(temporary)
            raise
        fsync_directory(folder)

    @property
    def entries(self) -> int:
        """Return the entries of the complete shards."""
        return sum(record.entries or 0 for record in self.shards if record.complete)


def file_sha256(path: str | os.PathLike) -> str:
    """Return the sha256 (hex) of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def shard_state(manifest: Manifest, record: ShardRecord, verify: bool = True) -> tuple[str, str]:
    """Return the state of a shard of a manifest and why, checking its file.

    Parameters
    ----------
    manifest : Manifest
        The production.
    record : ShardRecord
        One of its shards.
    verify : bool, default True
        Check the sha256 of a complete shard (else its size only).

    Returns
    -------
    (str, str)
        ``complete``, ``missing`` (no file, nor a partial one), ``incomplete`` (not recorded
        complete: never written, being written, failed or killed) or
        ``invalid`` (recorded complete, but its file changed), and a reason
        (empty for a complete shard).
    """
    path = manifest.shard_path(record)
    if not os.path.exists(path):
        if os.path.exists(partial_path(path)):
            return INCOMPLETE, "only its partial file exists (its writer did not finish)"
        return MISSING, "its file is gone (it was recorded complete)" if record.complete else "no file"
    if not record.complete:
        reason = f"failed: {record.error}" if record.error else "present, but not recorded complete"
        return INCOMPLETE, reason
    size = os.path.getsize(path)
    if record.bytes is not None and size != record.bytes:
        return INVALID, f"{size} bytes, {record.bytes} recorded"
    if verify and record.sha256 is not None and file_sha256(path) != record.sha256:
        return INVALID, "its sha256 differs from the recorded one"
    return COMPLETE, ""


def is_manifest(path: str | os.PathLike) -> bool:
    """Return whether ``path`` is a file named like a manifest (``*.json``)."""
    path = os.fspath(path)
    return path.endswith(".json") and os.path.isfile(path)


def _natural_key(path: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path)]


def production_files(path: str | os.PathLike) -> list[str]:
    """Return the shard files of a manifest, or of a folder, in production order.

    A folder holding ``production.json`` is read through it; any other folder
    gives its ``*.h5`` files in natural order (hidden partial files excluded).

    Raises
    ------
    ProductionError
        When a manifest lists a shard that is not complete, or a folder holds no ``*.h5`` file.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        manifest = os.path.join(path, MANIFEST_NAME)
        if os.path.isfile(manifest):
            return production_files(manifest)
        found = sorted(
            (
                os.path.join(path, name)
                for name in os.listdir(path)
                if name.endswith(".h5") and not name.startswith(".")
            ),
            key=_natural_key,
        )
        if not found:
            raise ProductionError(f"{path}: the folder holds no *.h5 file and no {MANIFEST_NAME}")
        return found
    manifest = Manifest.load(path)
    if not manifest.shards:
        raise ProductionError(f"{path}: the manifest lists no shard")
    pending = [record.path for record in manifest.shards if not record.complete]
    if pending:
        listed = ", ".join(pending[:5]) + (f" and {len(pending) - 5} more" if len(pending) > 5 else "")
        raise ProductionError(
            f"{path}: {len(pending)} of {len(manifest.shards)} shards are not complete ({listed}); "
            f"see `spineh5 status {path}`"
        )
    return [manifest.shard_path(record) for record in manifest.shards]


def _groups(values: Sequence[Any], paths: Sequence[str]) -> str:
    """Return ``a.h5, b.h5: X; c.h5: Y`` (paths grouped by value, at most 3 named per group)."""
    grouped: dict[Any, list[str]] = {}
    for value, path in zip(values, paths):
        grouped.setdefault(value, []).append(os.path.basename(path))
    parts = []
    for value, names in grouped.items():
        shown = ", ".join(names[:3]) + (f" (+{len(names) - 3})" if len(names) > 3 else "")
        parts.append(f"{shown}: {value}")
    return "; ".join(parts)


def check_consistent(paths: Sequence[str], products: Sequence[Sequence[str]], schema_versions: Sequence[Any]) -> None:
    """Refuse shards that do not make one production: different products or schema versions.

    Parameters
    ----------
    paths : sequence of str
        The shards, in order.
    products : sequence of sequences of str
        The products each shard stores.
    schema_versions : sequence
        Each shard's ``info.schema_version`` (None when absent).

    Raises
    ------
    ProductionError
        Naming the shards of each variant.
    """
    keys = [", ".join(sorted(stored)) or "(none)" for stored in products]
    if len(set(keys)) > 1:
        raise ProductionError(f"the shards hold different products: {_groups(keys, paths)}")
    versions = [None if version is None else int(version) for version in schema_versions]
    if len(set(versions)) > 1:
        text = [f"schema version {version}" for version in versions]
        raise ProductionError(f"the shards were written with different schemas: {_groups(text, paths)}")
