"""Entries and writer-ready batches of the synthetic production."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..generated import (
    CRTHit,
    Flash,
    Neutrino,
    Particle,
    ParticleShape,
    RecoFragment,
    RecoInteraction,
    RecoParticle,
    RunInfo,
    TruthFragment,
    TruthInteraction,
    TruthParticle,
)
from .columns import column_names
from .detector import crthit_rows, flash_rows
from .geometry import image_meta
from .image import Entry, draw_image
from .interactions import reco_interaction_rows, truth_interaction_rows
from .kinematics import draw_kinematics, partition_sizes
from .matching import match_columns
from .mix import PRODUCT_KEYS, VOXELS_PER_ENTRY
from .plain import to_plain
from .reco import reco_fragment_rows, reco_particle_rows
from .truth import add_truth_reco_links, neutrino_row, truth_fragment_rows, truth_particle_rows, truth_ranges

_RUN_NUMBER = 9435
_ENTRIES_PER_SUBRUN = 50


def _build(cls: type, rows: list[dict[str, Any]], as_plain: bool) -> list[Any]:
    """Instantiate ``cls`` from each row, keeping only its columns (plain objects on request).

    The rows go through the generated column builders (``to_records``, which
    validates every value as the constructor would) and back (``from_records``):
    the same instances as ``cls(**row)``, built a column at a time.
    """
    names = column_names(cls)
    records = cls.to_records([{key: value for key, value in row.items() if key in names} for row in rows])
    objects = cls.from_records(records)
    return [to_plain(obj) for obj in objects] if as_plain else objects


def make_entry(rng: np.random.Generator, index: int, scale: float = 1.0, as_plain: bool = False) -> dict[str, Any]:
    """Draw one entry of the event mix.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    index : int
        Entry number; sets the run/subrun/event numbers.
    scale : float, default 1.0
        Factor on the voxel count (20,000 at 1.0); object counts do not change.
    as_plain : bool, default False
        Return plain objects (:func:`plain_class`) instead of generated instances.

    Returns
    -------
    dict
        One value per key of :data:`PRODUCT_KEYS`.
    """
    if scale < 0:
        raise ValueError(f"scale must be >= 0, got {scale}")
    n_voxels = round(VOXELS_PER_ENTRY * scale)
    sizes = partition_sizes(rng, n_voxels)
    kin = draw_kinematics(rng, sizes)
    image = draw_image(rng, kin, sizes)
    entry = Entry(rng, index, kin, image)
    ranges, source = truth_ranges(entry)
    truth = truth_particle_rows(entry, ranges, source)
    reco = reco_particle_rows(entry, kin.pid)
    fragments = reco_fragment_rows(entry, reco)
    truth_fragments, fragment_ids = truth_fragment_rows(entry, truth, ranges)
    match_columns(reco, truth, n_voxels)
    match_columns(truth, reco, n_voxels)
    match_columns(fragments, truth_fragments, n_voxels)
    match_columns(truth_fragments, fragments, n_voxels)
    add_truth_reco_links(truth, reco, fragment_ids)
    neutrino = neutrino_row(entry)
    reco_interactions = reco_interaction_rows(entry, reco)
    truth_interactions = truth_interaction_rows(entry, truth, neutrino)
    match_columns(reco_interactions, truth_interactions, n_voxels)
    match_columns(truth_interactions, reco_interactions, n_voxels)
    seg_label = np.full(n_voxels, ParticleShape.GHOST, dtype=np.int64)
    for row in reco:
        seg_label[row["index"]] = int(row["shape"])
    run_info = RunInfo(run=_RUN_NUMBER, subrun=index // _ENTRIES_PER_SUBRUN, event=index)
    meta = image_meta()
    return {
        "run_info": to_plain(run_info) if as_plain else run_info,
        "meta": to_plain(meta) if as_plain else meta,
        "points": image.points,
        "depositions": image.depositions,
        "seg_label": seg_label,
        "clusts": [row["index"].astype(np.int64) for row in fragments],
        "reco_particles": _build(RecoParticle, reco, as_plain),
        "truth_particles": _build(TruthParticle, truth, as_plain),
        "reco_fragments": _build(RecoFragment, fragments, as_plain),
        "truth_fragments": _build(TruthFragment, truth_fragments, as_plain),
        "reco_interactions": _build(RecoInteraction, reco_interactions, as_plain),
        "truth_interactions": _build(TruthInteraction, truth_interactions, as_plain),
        "particles": _build(Particle, truth, as_plain),
        "flashes": _build(Flash, flash_rows(entry), as_plain),
        "crthits": _build(CRTHit, crthit_rows(entry), as_plain),
        "neutrinos": _build(Neutrino, [neutrino], as_plain),
    }


def entry_rng(seed: int, index: int) -> np.random.Generator:
    """Return the generator of entry ``index`` of the production ``seed``."""
    return np.random.default_rng([seed, index])


def make_batches(
    n_entries: int,
    batch_size: int = 8,
    seed: int = 0,
    scale: float = 1.0,
    as_plain: bool = False,
    start: int = 0,
) -> Iterator[dict[str, list]]:
    """Yield writer-ready batches of the event mix.

    Parameters
    ----------
    n_entries : int
        Total number of entries.
    batch_size : int, default 8
        Entries per batch (the last batch may be shorter).
    seed : int, default 0
        Production seed; entry ``i`` depends only on ``(seed, i)``.
    scale : float, default 1.0
        Factor on the voxel count per entry.
    as_plain : bool, default False
        Use plain objects with the same attributes instead of generated instances.
    start : int, default 0
        Index of the first entry.

    Yields
    ------
    dict
        ``{"index": [ints], key: [one value per entry], ...}`` for every key of
        :data:`PRODUCT_KEYS`; object-list products are lists of lists.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    for first in range(start, start + n_entries, batch_size):
        indexes = list(range(first, min(first + batch_size, start + n_entries)))
        entries = [make_entry(entry_rng(seed, i), i, scale, as_plain) for i in indexes]
        batch: dict[str, list] = {"index": indexes}
        for key in PRODUCT_KEYS:
            batch[key] = [entry[key] for entry in entries]
        yield batch
