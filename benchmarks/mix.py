"""The issue-5 event mix, from :mod:`spineh5.synthetic` (the generator the CLI demo uses).

Per entry: 20,000 voxels (``points``, ``depositions``, ``seg_label``), a
RunInfo, an ImageMeta3D, 30 RecoParticles whose ``index`` arrays partition the
voxels, 40 TruthParticles, 60 RecoFragments, 60 TruthFragments, 5
RecoInteractions, 5 TruthInteractions, 40 Particles, 10 Flashes, 10 CRTHits,
1 Neutrino and a flat list of cluster index arrays (``clusts``); batches of 8.
"""

from __future__ import annotations

from spineh5 import synthetic

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


def make_batches(entries: int, as_plain: bool = False, seed: int = 5) -> list[dict[str, list]]:
    """Return the mix as writer batches of :data:`BATCH_SIZE` entries."""
    batches = list(synthetic.make_batches(entries, batch_size=BATCH_SIZE, seed=seed, as_plain=as_plain))
    missing = set(KINDS) ^ set(batches[0])
    if missing:
        raise RuntimeError(f"spineh5.synthetic products changed; benchmark kinds differ on {sorted(missing)}")
    return batches
