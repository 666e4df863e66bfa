"""A realistic synthetic SPINE production: the benchmark's event mix, for demos, tests and benchmarks.

Each entry holds one voxelised LArTPC image and the reconstruction and truth
products SPINE writes for it (issue 5's event mix):

==========================  ==========================================================
key                         content per entry
==========================  ==========================================================
``points``                  float32 (N, 3) voxel centres in cm (N = 20,000 x ``scale``)
``depositions``             float32 (N,) energy per voxel, MeV
``seg_label``               int64 (N,) semantic class of each voxel (a ParticleShape)
``run_info``                one :class:`RunInfo` (unique run/subrun/event per entry)
``meta``                    one :class:`ImageMeta3D` (``upper == lower + size * count``)
``reco_particles``          30 :class:`RecoParticle` whose ``index`` arrays partition the voxels
``truth_particles``         40 :class:`TruthParticle` (another partition of the same voxels)
``reco_fragments``          60 :class:`RecoFragment` (two per reco particle)
``truth_fragments``         60 :class:`TruthFragment`
``reco_interactions``       5 :class:`RecoInteraction` (six particles each)
``truth_interactions``      5 :class:`TruthInteraction`
``particles``               40 :class:`Particle` (the truth particles' LArCV records)
``flashes``                 10 :class:`Flash` (180 PMT channels each)
``crthits``                 10 :class:`CRTHit`
``neutrinos``               1 :class:`Neutrino` (interaction 0 is a numu CC interaction)
``clusts``                  a flat list of 60 int64 cluster index arrays (the reco fragments)
==========================  ==========================================================

Values are random but physically plausible and self-consistent: voxels lie on
the ImageMeta grid, tracks are lines and showers are cones, derived columns
(``size``, ``depositions_sum``, ``ke``, ``momentum``, counts, ``topology``...)
are computed from the stored ones, reco-truth matches are real overlaps, enum
values are members, and every per-PID array has 6 values. Each entry depends
only on ``(seed, index)``, so a production does not change with the batch size.

The modules, one job each: :mod:`.mix` (product keys and object counts),
:mod:`.geometry` (the detector image), :mod:`.pid` (per-PID constants),
:mod:`.kinematics` and :mod:`.image` (the drawn truth and voxels),
:mod:`.reco`, :mod:`.truth`, :mod:`.interactions` and :mod:`.detector`
(constructor rows of each product), :mod:`.matching` (reco-truth overlaps),
:mod:`.columns` (column-value helpers), :mod:`.plain` (plain stand-in objects)
and :mod:`.entries` (entries and batches).
"""

from __future__ import annotations

from .entries import entry_rng, make_batches, make_entry
from .mix import EVENT_MIX, PRODUCT_KEYS, VOXELS_PER_ENTRY
from .plain import plain_class, to_plain

__all__ = [
    "EVENT_MIX",
    "PRODUCT_KEYS",
    "VOXELS_PER_ENTRY",
    "entry_rng",
    "make_batches",
    "make_entry",
    "plain_class",
    "to_plain",
]
