"""Write one shard of a production with ``HDF5Writer``, and describe a finished shard for the manifest.

Runs where the partition runs (a Dask worker): :func:`write_shard` writes
every batch the partition gives to the shard's own file, finalizes the writer
(which publishes the file under its final name) and only then
:func:`describe_shard` checks it (readable, marked complete, no ``validate``
error, entry count) and returns its :class:`~.manifest.ShardRecord`. Any
failure raises, so Dask retries the partition; nothing is recorded for it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from .manifest import ProductionError, ShardRecord, file_sha256

__all__ = ["ShardTask", "describe_shard", "write_shard"]


@attrs.frozen
class ShardTask:
    """What one partition writes: shard ``index`` at ``path``, from ``inputs``.

    Attributes
    ----------
    index : int
        Position of the shard in the production.
    path : str
        Absolute path of the shard file.
    relative : str
        Its path relative to the manifest.
    inputs : tuple of str
        What the shard is made from.
    format_version : int
        Layout written.
    cfg : dict or None
        Configuration stored in the shard (``info.cfg``).
    writer_options : dict
        Other :class:`~spineh5.writer.HDF5Writer` arguments (``keys``, ``lite``, ``compression``...).
    """

    index: int
    path: str
    relative: str
    inputs: tuple[str, ...]
    format_version: int = 1
    cfg: dict | None = None
    writer_options: Mapping[str, Any] = attrs.Factory(dict)


def _batches(produced: Any) -> Iterable[Mapping[str, Any]]:
    """Return the batches a partition produced: one batch (a mapping) or an iterable of batches."""
    if isinstance(produced, Mapping):
        return [produced]
    if produced is None:
        return []
    return produced


def write_shard(task: ShardTask, produced: Any = None, producer: Callable[[str], Any] | None = None) -> ShardRecord:
    """Write one shard and return its record (complete); raise on any failure.

    Parameters
    ----------
    task : ShardTask
        The shard.
    produced : mapping or iterable of mappings, optional
        The partition's batches (writer input dicts), already computed.
    producer : callable, optional
        Called with the shard's single input to produce its batches (instead of ``produced``).

    Raises
    ------
    ProductionError
        When the partition gives no entry, or the written shard does not validate.
    """
    from ..writer import HDF5Writer

    if producer is not None:
        produced = producer(*task.inputs)
    writer = HDF5Writer(task.path, overwrite=True, format_version=task.format_version, **dict(task.writer_options))
    try:
        written = 0
        for batch in _batches(produced):
            writer(dict(batch), task.cfg)
            written += 1
        if not written:
            raise ProductionError(f"shard {task.relative}: its partition gave no batch")
        writer.finalize()
    except BaseException:
        writer.close()
        raise
    return describe_shard(task)


def describe_shard(task: ShardTask) -> ShardRecord:
    """Check a finalized shard and return its complete record.

    Raises
    ------
    ProductionError
        When the file is unreadable, not marked complete, or ``validate`` finds an error in it.
    """
    from ..reader import HDF5Reader
    from ..validation import ERROR, validate

    problems = [problem for problem in validate(task.path) if problem.severity == ERROR]
    if problems:
        raise ProductionError(f"shard {task.relative} does not validate: {problems[0]}")
    with HDF5Reader(task.path) as reader:
        entries = len(reader)
        info = reader.info or {}
        products = sorted(reader.keys)
        format_version = reader.format_version
    schema = info.get("schema_version")
    return ShardRecord(
        index=task.index,
        path=task.relative,
        inputs=list(task.inputs),
        complete=True,
        entries=entries,
        bytes=os.path.getsize(task.path),
        sha256=file_sha256(task.path),
        schema_version=None if schema is None else int(schema),
        format_version=int(format_version),
        products=products,
    )
