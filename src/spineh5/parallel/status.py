"""Which shards of a production are complete, missing, incomplete or invalid: behind ``spineh5 status``.

:func:`production_status` reads a manifest (or the ``production.json`` of a
folder) and checks each shard's file (:func:`~.manifest.shard_state`: present,
recorded complete, same size and sha256). A folder without a manifest is
judged from its files alone: ``*.h5`` files marked complete
(``info.complete``) are complete, the others incomplete, unreadable ones
invalid, and hidden partial files (``.<name>.partial``) incomplete.
"""

from __future__ import annotations

import os

import attrs

from ..publishing import final_path, is_partial
from .manifest import COMPLETE, INCOMPLETE, INVALID, MANIFEST_NAME, STATES, Manifest, shard_state

__all__ = ["ProductionStatus", "ShardStatus", "production_status"]


@attrs.frozen
class ShardStatus:
    """One shard's state.

    Attributes
    ----------
    path : str
        The shard file.
    state : str
        ``complete``, ``missing``, ``incomplete`` or ``invalid``.
    reason : str
        Why it is not complete (empty when it is).
    entries : int or None
        Its entries, when known.
    inputs : tuple of str
        What it is made from (its own path, for a folder without a manifest).
    """

    path: str
    state: str
    reason: str
    entries: int | None
    inputs: tuple[str, ...]


@attrs.frozen
class ProductionStatus:
    """The state of every shard of a production, in order.

    Attributes
    ----------
    source : str
        The manifest or folder read.
    shards : tuple of ShardStatus
    has_manifest : bool
        Whether a manifest was read.
    """

    source: str
    shards: tuple[ShardStatus, ...]
    has_manifest: bool

    def counts(self) -> dict[str, int]:
        """Return the number of shards in each state (every state present, in :data:`STATES` order)."""
        return {state: sum(shard.state == state for shard in self.shards) for state in STATES}

    @property
    def entries(self) -> int:
        """Return the entries of the complete shards."""
        return sum(shard.entries or 0 for shard in self.shards if shard.state == COMPLETE)

    @property
    def complete(self) -> bool:
        """Return whether every shard is complete."""
        return all(shard.state == COMPLETE for shard in self.shards)

    def resubmit(self) -> list[str]:
        """Return the inputs of the shards that are not complete, in order, each once."""
        inputs = [item for shard in self.shards if shard.state != COMPLETE for item in shard.inputs]
        return list(dict.fromkeys(inputs))


def production_status(path: str | os.PathLike, verify: bool = True) -> ProductionStatus:
    """Return the state of every shard of a manifest or a folder.

    Parameters
    ----------
    path : str or path
        A manifest, or a folder (its ``production.json``, else its files).
    verify : bool, default True
        Check the sha256 of complete shards (else their size only).

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ProductionError
        When a manifest cannot be read.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such manifest or folder")
    manifest_path = os.path.join(path, MANIFEST_NAME) if os.path.isdir(path) else path
    if not os.path.isfile(manifest_path):
        return _folder_status(path)
    manifest = Manifest.load(manifest_path)
    shards = []
    for record in manifest.shards:
        state, reason = shard_state(manifest, record, verify)
        entries = record.entries if state == COMPLETE else None
        shards.append(ShardStatus(manifest.shard_path(record), state, reason, entries, tuple(record.inputs)))
    return ProductionStatus(manifest_path, tuple(shards), True)


def _folder_status(folder: str) -> ProductionStatus:
    from ..format.common import COMPLETE as COMPLETE_ATTR
    from ..format.common import read_info
    from ..input_files import _natural_key, open_h5
    from ..layouts import read_layout

    names = sorted(
        (name for name in os.listdir(folder) if name.endswith(".h5") or is_partial(name)),
        key=lambda name: _natural_key(os.path.basename(final_path(name)) if is_partial(name) else name),
    )
    shards = []
    for name in names:
        path = os.path.join(folder, name)
        if is_partial(name):
            final = final_path(path)
            if not os.path.exists(final):
                shards.append(ShardStatus(final, INCOMPLETE, "only its partial file exists", None, (final,)))
            continue
        try:
            with open_h5(path) as h5file:
                info = read_info(h5file, path)
                entries = read_layout(h5file, path, info).entry_count()
        except Exception as err:  # noqa: BLE001 - any unreadable file is invalid
            shards.append(ShardStatus(path, INVALID, str(err).splitlines()[0], None, (path,)))
            continue
        if info is not None and COMPLETE_ATTR in info and not info[COMPLETE_ATTR]:
            shards.append(ShardStatus(path, INCOMPLETE, "marked incomplete (info.complete is False)", None, (path,)))
        else:
            shards.append(ShardStatus(path, COMPLETE, "", int(entries), (path,)))
    return ProductionStatus(folder, tuple(shards), False)
