"""The issue-5 event mix, from :mod:`spineh5.synthetic` (the generator the CLI demo uses).

Per entry: 20,000 voxels (``points``, ``depositions``, ``seg_label``), a
RunInfo, an ImageMeta3D, 30 RecoParticles whose ``index`` arrays partition the
voxels, 40 TruthParticles, 60 RecoFragments, 60 TruthFragments, 5
RecoInteractions, 5 TruthInteractions, 40 Particles, 10 Flashes, 10 CRTHits,
1 Neutrino and a flat list of cluster index arrays (``clusts``); batches of 8.

So that compression ratios mean something, the benchmark's depositions are
quantised as a detector's are (charge in steps of :data:`ENERGY_STEP` MeV,
the resolution of an ADC count after calibration), where the demo's are full
float32 noise; voxels are already sorted along the grid, and the index arrays
(``index``, ``clusts``) are sorted and partition those voxels. The demo itself
(:mod:`spineh5.synthetic`, whose files the tests check by digest) is unchanged.
"""

from __future__ import annotations

import numpy as np

from spineh5 import synthetic

#: Step of the quantised depositions, in MeV (1/64: exact in float32, about an ADC count).
ENERGY_STEP = 1.0 / 64

BATCH_SIZE = 8
#: ``key: (storage kind, class name)`` of every product of an entry (kinds of spineh5.products).
OBJECT_CLASSES = {
    "run_info": "RunInfo",
    "meta": "ImageMeta3D",
    "reco_particles": "RecoParticle",
    "truth_particles": "TruthParticle",
    "reco_fragments": "RecoFragment",
    "truth_fragments": "TruthFragment",
    "reco_interactions": "RecoInteraction",
    "truth_interactions": "TruthInteraction",
    "particles": "Particle",
    "flashes": "Flash",
    "crthits": "CRTHit",
    "neutrinos": "Neutrino",
}
KINDS: dict[str, tuple[str, str | None]] = (
    {"index": ("scalar", None)}
    | {key: ("object", OBJECT_CLASSES[key]) for key in ("run_info", "meta")}
    | {key: ("array", None) for key in ("points", "depositions", "seg_label")}
    | {key: ("objects", OBJECT_CLASSES[key]) for key in synthetic.EVENT_MIX}
    | {"clusts": ("flat", None)}
)


def quantised(depositions: np.ndarray) -> np.ndarray:
    """Return depositions rounded to :data:`ENERGY_STEP` (float32, as stored)."""
    return (np.round(depositions / ENERGY_STEP) * ENERGY_STEP).astype(depositions.dtype)


def make_batches(entries: int, as_plain: bool = False, seed: int = 5) -> list[dict[str, list]]:
    """Return the mix as writer batches of :data:`BATCH_SIZE` entries (depositions quantised, see above)."""
    batches = list(synthetic.make_batches(entries, batch_size=BATCH_SIZE, seed=seed, as_plain=as_plain))
    for batch in batches:
        batch["depositions"] = [quantised(values) for values in batch["depositions"]]
    missing = set(KINDS) ^ set(batches[0])
    if missing:
        raise RuntimeError(f"spineh5.synthetic products changed; benchmark kinds differ on {sorted(missing)}")
    return batches
