"""What an entry of the synthetic production holds: its product keys and object counts."""

from __future__ import annotations

#: Voxels per entry at ``scale=1``.
VOXELS_PER_ENTRY = 20_000
#: Number of objects per entry for each object-list product.
EVENT_MIX: dict[str, int] = {
    "reco_particles": 30,
    "truth_particles": 40,
    "reco_fragments": 60,
    "truth_fragments": 60,
    "reco_interactions": 5,
    "truth_interactions": 5,
    "particles": 40,
    "flashes": 10,
    "crthits": 10,
    "neutrinos": 1,
}
#: Every product key of an entry, in a stable order.
PRODUCT_KEYS: tuple[str, ...] = (
    "run_info",
    "meta",
    "points",
    "depositions",
    "seg_label",
    "clusts",
    *EVENT_MIX,
)

N_INTERACTIONS = EVENT_MIX["reco_interactions"]
N_RECO = EVENT_MIX["reco_particles"]
N_TRUTH = EVENT_MIX["truth_particles"]
N_FLASHES = EVENT_MIX["flashes"]
N_CRT = EVENT_MIX["crthits"]
