"""Concatenate the shards of a production into one file: the logic behind ``spineh5 merge``.

:func:`merge` reads the shards, in order, as one :class:`~spineh5.reader.HDF5Reader`
and writes them again with :class:`~spineh5.writer.HDF5Writer` through
:mod:`spineh5.conversion`'s machinery (stored specs, lite-ness, stored
``index``, configuration, temporary file moved into place), so region
references (V1) and offsets (V2) are those the writer computes for the merged
file. Before a byte is written it refuses

* shards that are not complete (a manifest's missing, incomplete or invalid
  shards; a file whose ``info.complete`` is False), unless ``allow_incomplete``
  (incomplete files are then read anyway, missing shards left out);
* shards whose products or schema versions differ, unless ``allow_mismatch``
  (the products every shard holds are then merged);
* a (run, subrun, event) triplet held twice, unless ``allow_duplicates``,

each with a message naming the shards. The merged file's ``info`` records its
inputs: ``merged_from``, a JSON list of the shard paths, in order.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import numpy as np

from ..conversion import ConvertError, OutputExistsError, _check_target, _write, detect_lite
from ..errors import SpineH5Error
from .manifest import COMPLETE, INVALID, MISSING, Manifest, ProductionError, check_consistent, shard_state

__all__ = ["MERGED_FROM", "MergeError", "MergeResult", "merge"]

#: ``info`` attribute of a merged file: the JSON list of the shards it was merged from, in order.
MERGED_FROM = "merged_from"


class MergeError(ProductionError):
    """Shards cannot be merged as asked (the message names them)."""


@attrs.frozen
class MergeResult:
    """What :func:`merge` did.

    Attributes
    ----------
    target : str
        The merged file.
    shards : tuple of str
        The shards merged, in order.
    entries : int
        Entries written.
    format_version : int
        Layout of the merged file.
    seconds : float
        Wall time.
    notes : tuple of str
        What was left out (missing shards, products not in every shard), one line each.
    """

    target: str
    shards: tuple[str, ...]
    entries: int
    format_version: int
    seconds: float
    notes: tuple[str, ...] = ()


def _named(paths: Sequence[str], limit: int = 5) -> str:
    names = [os.path.basename(path) for path in paths]
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _manifest_shards(path: str, allow_incomplete: bool, notes: list[str]) -> list[str]:
    """Return the shards of a manifest to merge, refusing those not complete unless ``allow_incomplete``."""
    manifest = Manifest.load(path)
    states = [(manifest.shard_path(record), *shard_state(manifest, record)) for record in manifest.shards]
    invalid = [shard for shard, state, _ in states if state == INVALID]
    if invalid:
        raise MergeError(f"{path}: shards {_named(invalid)} changed since they were recorded complete; rewrite them")
    pending = [shard for shard, state, _ in states if state != COMPLETE]
    if pending and not allow_incomplete:
        raise MergeError(
            f"{path}: {len(pending)} shards are not complete ({_named(pending)}); "
            "finish them, or allow incomplete shards"
        )
    missing = [shard for shard, state, _ in states if state == MISSING or not os.path.exists(shard)]
    if missing:
        notes.append(f"left out {len(missing)} shards without a file: {_named(missing)}")
    return [shard for shard, _, _ in states if shard not in missing]


def _incomplete(paths: Sequence[str]) -> list[str]:
    """Return the files whose ``info.complete`` is False (or that cannot be opened)."""
    from ..format.common import COMPLETE as COMPLETE_ATTR
    from ..format.common import read_info
    from ..input_files import open_h5

    found = []
    for path in paths:
        try:
            with open_h5(path) as h5file:
                info = read_info(h5file, path) or {}
        except (OSError, SpineH5Error):
            found.append(path)
            continue
        if COMPLETE_ATTR in info and not info[COMPLETE_ATTR]:
            found.append(path)
    return found


def _duplicates(reader: Any, key: str) -> str | None:
    """Return a sentence naming the first repeated (run, subrun, event) triplet and its shards, or None."""
    rows, _ = reader.table(key, columns=["run", "subrun", "event"])
    if not len(rows):
        return None
    triplets = np.stack([np.asarray(rows[name], dtype=np.int64) for name in ("run", "subrun", "event")], axis=1)
    unique, first, counts = np.unique(triplets, axis=0, return_index=True, return_counts=True)
    repeated = np.flatnonzero(counts > 1)
    if not len(repeated):
        return None
    triplet = unique[repeated[0]]
    where = np.flatnonzero((triplets == triplet).all(axis=1))
    places = [reader.location(int(position)) for position in where[:2]]
    text = ", ".join(
        f"entry {entry} of shard {file_id} ({os.path.basename(reader.file_paths[file_id])})"
        for file_id, entry in places
    )
    return f"{len(repeated)} (run, subrun, event) triplets repeat, first {tuple(int(v) for v in triplet)} ({text})"


def merge(
    target: str | os.PathLike,
    shards: Sequence[str | os.PathLike] | None = None,
    manifest: str | os.PathLike | None = None,
    format_version: int | None = None,
    *,
    allow_incomplete: bool = False,
    allow_mismatch: bool = False,
    allow_duplicates: bool = False,
    overwrite: bool = False,
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
    run_info_key: str = "run_info",
) -> MergeResult:
    """Concatenate shards into one file, in order.

    Parameters
    ----------
    target : str or path
        The merged file.
    shards : sequence of str or path, optional
        Shard files and glob patterns, in order (exclusive with ``manifest``).
    manifest : str or path, optional
        A production manifest (or its folder): its shards, in manifest order.
    format_version : int, optional
        Layout of the merged file (default: the first shard's).
    allow_incomplete, allow_mismatch, allow_duplicates : bool, default False
        Merge incomplete shards, shards of different products or schema
        versions (their common products), repeated (run, subrun, event) triplets.
    overwrite : bool, default False
        Replace ``target`` if it exists (once the merge succeeded).
    batch_size : int, default 64
        Entries read and written at a time.
    progress : callable, optional
        ``progress(entries_done, entries_total)``.
    run_info_key : str, default 'run_info'
        Product holding the triplets.

    Returns
    -------
    MergeResult

    Raises
    ------
    MergeError
        For each refusal above, a missing input, or a shard that cannot be written.
    """
    from ..input_files import resolve_paths
    from ..reader import HDF5Reader

    started = time.perf_counter()
    if (shards is None) == (manifest is None):
        raise MergeError("give either shard files or a manifest")
    notes: list[str] = []
    target = os.fspath(target)
    if manifest is not None:
        manifest = os.fspath(manifest)
        if os.path.isdir(manifest):
            from .manifest import MANIFEST_NAME

            manifest = os.path.join(manifest, MANIFEST_NAME)
        paths = _manifest_shards(manifest, allow_incomplete, notes)
    else:
        try:
            paths = [path for item in shards for path in resolve_paths([item])]
        except (FileNotFoundError, ValueError) as err:
            raise MergeError(str(err)) from None
    if not paths:
        raise MergeError("no shard to merge")
    incomplete = _incomplete(paths)
    if incomplete and not allow_incomplete:
        raise MergeError(f"shards {_named(incomplete)} are not complete (or unreadable); refusing to merge them")
    try:
        reader = HDF5Reader(paths, ignore_incomplete=allow_incomplete, run_info_key=run_info_key)
    except (SpineH5Error, OSError, KeyError) as err:
        raise MergeError(f"cannot read the shards: {err}") from None
    try:
        products = [reader._file_keys[file_id] for file_id in range(len(paths))]
        try:
            check_consistent(paths, products, reader._schema_versions)
        except ProductionError as err:
            if not allow_mismatch:
                raise MergeError(f"{err}; refusing to merge them") from None
            common = set.intersection(*(set(keys) for keys in products))
            left = sorted(set().union(*products) - common)
            notes.append(f"products not in every shard, left out: {', '.join(left)}")
            reader.close()
            reader = HDF5Reader(paths, keys=sorted(common), ignore_incomplete=allow_incomplete)
        return _merge(
            reader,
            target,
            paths,
            format_version,
            allow_duplicates,
            overwrite,
            batch_size,
            progress,
            notes,
            started,
            run_info_key,
        )
    finally:
        reader.close()


def _merge(
    reader: Any,
    target: str,
    paths: list[str],
    format_version: int | None,
    allow_duplicates: bool,
    overwrite: bool,
    batch_size: int,
    progress: Callable[[int, int], None] | None,
    notes: list[str],
    started: float,
    run_info_key: str,
) -> MergeResult:
    if run_info_key in reader.keys and not allow_duplicates:
        repeated = _duplicates(reader, run_info_key)
        if repeated:
            raise MergeError(f"{repeated}; refusing to merge them")
    version = reader.format_version if format_version is None else int(format_version)
    try:
        _check_target(paths[0], target, overwrite)
    except OutputExistsError:
        raise
    except ConvertError as err:
        raise MergeError(str(err)) from None
    if len(reader) == 0:
        raise MergeError(f"the shards ({_named(paths)}) hold no entry")
    specs = {key: reader.spec(key, reader._first_file_with(key)) for key in reader.keys}
    extra = {MERGED_FROM: json.dumps([os.fspath(path) for path in paths])}
    try:
        _write(
            reader,
            specs,
            target,
            version,
            batch_size,
            detect_lite(specs),
            progress,
            extra_info=extra,
            allow_duplicates=allow_duplicates,
            what=f"merge into {target}",
        )
    except ConvertError as err:
        raise MergeError(str(err)) from None
    return MergeResult(target, tuple(paths), len(reader), version, time.perf_counter() - started, tuple(notes))
