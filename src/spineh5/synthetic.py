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
"""

from __future__ import annotations

import functools
import types
from collections.abc import Iterator, Sequence
from typing import Any

import attrs
import numpy as np

from .generated import (
    CRTHit,
    Flash,
    ImageMeta3D,
    Neutrino,
    NuCurrentType,
    NuInteractionScheme,
    Particle,
    ParticlePID,
    ParticleShape,
    RecoFragment,
    RecoInteraction,
    RecoParticle,
    RunInfo,
    TruthFragment,
    TruthInteraction,
    TruthParticle,
)

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

_N_INTERACTIONS = EVENT_MIX["reco_interactions"]
_N_RECO = EVENT_MIX["reco_particles"]
_N_TRUTH = EVENT_MIX["truth_particles"]
_N_FLASHES = EVENT_MIX["flashes"]
_N_CRT = EVENT_MIX["crthits"]
_PMT_CHANNELS = 180
_RUN_NUMBER = 9435
_ENTRIES_PER_SUBRUN = 50

#: Detector image: 0.3 cm voxels over a 720 x 360 x 1800 cm box.
_VOXEL_SIZE = np.full(3, 0.3, dtype=np.float32)
_VOXEL_COUNT = np.array([2400, 1200, 6000], dtype=np.int64)
_LOWER = np.array([-400.0, -200.0, -900.0], dtype=np.float32)
_UPPER = (_LOWER + _VOXEL_SIZE * _VOXEL_COUNT).astype(np.float32)
_CATHODE_X = float(_LOWER[0] + _UPPER[0]) / 2.0

#: Per-PID constants, indexed by ParticlePID value (photon, electron, muon, pion, proton, kaon).
_PID_MASS = np.array([0.0, 0.511998, 105.658, 139.570, 938.272, 493.677])  # SPINE's constants
_PID_PDG = np.array([22, 11, 13, 211, 2212, 321])
_PID_TAG = ("g", "e", "mu", "pi", "p", "k")
_TRACK_PIDS = (ParticlePID.MUON, ParticlePID.PION, ParticlePID.PROTON, ParticlePID.KAON)
#: Mean energy loss per cm for the range estimate (MeV/cm), per PID.
_PID_DEDX = np.array([2.0, 2.1, 2.1, 2.4, 4.5, 3.2])
_SECONDARY_PROCESSES = ("muIoni", "eIoni", "conv", "compt", "hadElastic", "protonInelastic", "Decay")
_CRT_TAGGERS = ("volTaggerTopHigh_0", "volTaggerTopLow_0", "volTaggerSideLeft_0", "volTaggerSideRight_0")


# -- plain objects ------------------------------------------------------------------------------


@functools.cache
def plain_class(class_name: str) -> type:
    """Return a :class:`types.SimpleNamespace` subclass named ``class_name``.

    The writer stores an object under ``type(obj).__name__``, so instances of
    this class are stored exactly like the generated type of the same name.
    """
    return type(class_name, (types.SimpleNamespace,), {"__module__": __name__, "__slots__": ()})


def to_plain(obj: Any) -> types.SimpleNamespace:
    """Return a plain object with the same class name and column attributes as ``obj``."""
    fields = {column.name: getattr(obj, column.name) for column in type(obj).COLUMNS}
    return plain_class(type(obj).__name__)(**fields)


# -- small helpers -------------------------------------------------------------------------------


def _unit(vectors: np.ndarray) -> np.ndarray:
    """Return the rows of ``vectors`` scaled to unit length (zero rows stay zero)."""
    norm = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.divide(vectors, norm, out=np.zeros_like(vectors), where=norm > 0)


def _random_dirs(rng: np.random.Generator, count: int) -> np.ndarray:
    """Return ``count`` isotropic unit vectors (float64)."""
    return _unit(rng.normal(size=(count, 3)))


@functools.cache
def _names(cls: type) -> frozenset[str]:
    """Return the column names of a generated class."""
    return frozenset(column.name for column in cls.COLUMNS)


def _f32(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


def _i32(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.int32)


def _in_box(points: np.ndarray, margin: float) -> bool:
    """Return whether every point lies inside the detector box shrunk by ``margin`` cm."""
    if len(points) == 0:
        return True
    return bool(np.all(points >= _LOWER + margin) and np.all(points <= _UPPER - margin))


def _softmax(logits: np.ndarray) -> np.ndarray:
    weights = np.exp(logits - logits.max())
    return weights / weights.sum()


def _kinetic_energy_to_momentum(ke: np.ndarray, mass: np.ndarray) -> np.ndarray:
    return np.sqrt(ke * ke + 2.0 * ke * mass)


def _topology(counts: np.ndarray) -> str:
    return "".join(f"{count}{tag}" for count, tag in zip(counts, _PID_TAG) if count)


def _pid_counts(pids: Sequence[int]) -> np.ndarray:
    counts = np.zeros(6, dtype=np.int32)
    for pid in pids:
        if pid >= 0:
            counts[pid] += 1
    return counts


# -- the voxel image -----------------------------------------------------------------------------


@attrs.define
class _Image:
    """Voxels of one entry and the partition of their generation order into particles."""

    points: np.ndarray  # file order
    depositions: np.ndarray  # file order
    module: np.ndarray  # file order, module (TPC side) of each voxel
    position: np.ndarray  # generation order -> file order
    bounds: np.ndarray  # (_N_RECO + 1,) generation-order boundaries of the reco particles

    def index(self, start: int, stop: int) -> np.ndarray:
        """Return the sorted file positions of the voxels generated in ``[start, stop)``."""
        return np.sort(self.position[start:stop]).astype(np.int32)


@attrs.define
class _Kinematics:
    """Generated truth of the reco particles (one row each)."""

    interaction: np.ndarray
    primary: np.ndarray
    pid: np.ndarray
    shape: np.ndarray
    start: np.ndarray
    direction: np.ndarray
    length: np.ndarray
    end: np.ndarray
    vertex: np.ndarray  # (_N_INTERACTIONS, 3)
    times: np.ndarray  # (_N_INTERACTIONS,) in ns


def _kinematics(rng: np.random.Generator, sizes: np.ndarray) -> _Kinematics:
    """Draw interactions (vertex, time) and particles (PID, shape, direction, length)."""
    per = _N_RECO // _N_INTERACTIONS
    interaction = np.repeat(np.arange(_N_INTERACTIONS), per)
    primary = np.tile(np.arange(per) < 3, _N_INTERACTIONS)
    vertex = rng.uniform(_LOWER + 60.0, _UPPER - 60.0, size=(_N_INTERACTIONS, 3))
    times = np.concatenate([[rng.normal(1600.0, 5.0)], rng.uniform(-1.5e6, 1.5e6, _N_INTERACTIONS - 1)])
    pid = rng.choice(6, size=_N_RECO, p=[0.15, 0.15, 0.15, 0.15, 0.35, 0.05])
    pid[::per] = ParticlePID.MUON
    shape = np.where(pid <= ParticlePID.ELECTRON, ParticleShape.SHOWER, ParticleShape.TRACK)
    showers = shape == ParticleShape.SHOWER
    special = rng.choice(
        [ParticleShape.SHOWER, ParticleShape.MICHEL, ParticleShape.DELTA, ParticleShape.LOWE],
        size=_N_RECO,
        p=[0.7, 0.1, 0.1, 0.1],
    )
    shape = np.where(showers & ~primary, special, shape)
    direction = _random_dirs(rng, _N_RECO)
    direction[::per] = _unit(direction[::per] + np.array([0.0, 0.0, 1.5]))  # muons go forward-ish
    length = np.where(showers, rng.uniform(15.0, 90.0, _N_RECO), np.maximum(sizes, 1) * 0.25)
    start = vertex[interaction].copy()
    secondary = np.flatnonzero(~primary)
    parents = interaction[secondary] * per + rng.integers(0, 3, secondary.size)
    fractions = rng.uniform(0.2, 1.0, secondary.size)[:, None]
    start[secondary] = start[parents] + direction[parents] * length[parents, None] * fractions
    start = np.clip(start, _LOWER + 1.0, _UPPER - 1.0)
    end = np.clip(start + direction * length[:, None], _LOWER + 1.0, _UPPER - 1.0)
    length = np.linalg.norm(end - start, axis=1)
    return _Kinematics(interaction, primary, pid, shape, start, direction, length, end, vertex, times)


def _image(rng: np.random.Generator, kin: _Kinematics, sizes: np.ndarray) -> _Image:
    """Draw the voxels of every particle, snap them to the grid and sort them like SPINE does."""
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    total = int(bounds[-1])
    owner = np.repeat(np.arange(_N_RECO), sizes)
    along = rng.uniform(0.0, 1.0, total)
    showers = kin.shape[owner] != ParticleShape.TRACK
    spread = np.where(showers, 0.5 + 6.0 * along, 0.4)
    points = kin.start[owner] + (kin.end - kin.start)[owner] * along[:, None]
    points += rng.normal(size=(total, 3)) * spread[:, None]
    points = np.clip(points, _LOWER, _UPPER - 1e-3)
    cells = np.floor((points - _LOWER) / _VOXEL_SIZE)
    points = (_LOWER + (cells + 0.5) * _VOXEL_SIZE).astype(np.float32)
    depositions = np.where(showers, rng.gamma(2.0, 0.3, total), rng.gamma(4.0, 0.15, total)).astype(np.float32)
    order = np.lexsort((points[:, 2], points[:, 1], points[:, 0]))
    position = np.empty(total, dtype=np.int64)
    position[order] = np.arange(total)
    points = points[order]
    return _Image(
        points=points,
        depositions=depositions[order],
        module=(points[:, 0] >= _CATHODE_X).astype(np.int32),
        position=position,
        bounds=bounds,
    )


def _partition_sizes(rng: np.random.Generator, n_voxels: int) -> np.ndarray:
    weights = rng.dirichlet(np.full(_N_RECO, 0.8))
    return rng.multinomial(n_voxels, weights)


# -- matching ------------------------------------------------------------------------------------


def _labels(n_voxels: int, indexes: Sequence[np.ndarray]) -> np.ndarray:
    """Return the owner of each voxel (-1 for none) given disjoint index arrays."""
    labels = np.full(n_voxels, -1, dtype=np.int64)
    for owner, index in enumerate(indexes):
        labels[index] = owner
    return labels


def _match(index: np.ndarray, labels: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the best-overlapping owner in ``labels`` of ``index`` and its IoU (empty if none)."""
    owners = labels[index]
    owners = owners[owners >= 0]
    if owners.size == 0:
        return np.empty(0, np.int32), np.empty(0, np.float32)
    counts = np.bincount(owners, minlength=len(sizes))
    best = int(np.argmax(counts))
    union = len(index) + sizes[best] - counts[best]
    return _i32([best]), _f32([counts[best] / union])


def _match_all(indexes: Sequence[np.ndarray], others: Sequence[np.ndarray], n_voxels: int) -> list[tuple]:
    labels = _labels(n_voxels, others)
    sizes = np.array([len(other) for other in others])
    return [_match(index, labels, sizes) for index in indexes]


# -- object builders -----------------------------------------------------------------------------


@attrs.define
class _Entry:
    """Everything drawn for one entry, shared by the object builders."""

    rng: np.random.Generator
    index: int
    kin: _Kinematics
    image: _Image

    @property
    def n_voxels(self) -> int:
        return len(self.image.points)

    def sums(self, index: np.ndarray) -> dict[str, Any]:
        """Return the voxel-derived columns of an object covering ``index``."""
        return {
            "size": len(index),
            "depositions_sum": float(self.image.depositions[index].sum(dtype=np.float64)),
            "module_ids": np.unique(self.image.module[index]).astype(np.int32),
        }


def _reco_particles(entry: _Entry, truth_pid: np.ndarray) -> list[dict[str, Any]]:
    """Return the constructor arguments of the reco particles."""
    rng, kin = entry.rng, entry.kin
    mistakes = rng.uniform(size=_N_RECO) < 0.1
    pid = np.where(mistakes, rng.integers(0, 6, _N_RECO), truth_pid)
    out = []
    for i in range(_N_RECO):
        index = entry.image.index(*entry.image.bounds[i : i + 2])
        sums = entry.sums(index)
        track = kin.shape[i] == ParticleShape.TRACK
        mass = _PID_MASS[pid[i]]
        calo = sums["depositions_sum"] * rng.normal(1.0, 0.05)
        csda = float(kin.length[i] * _PID_DEDX[pid[i]])
        mcs = csda * rng.normal(1.0, 0.12)
        contained = _in_box(entry.image.points[index], 5.0) and _in_box(kin.end[i : i + 1], 5.0)
        ke = (csda if contained else mcs) if track else calo
        start_dir = _unit(kin.direction[i] + rng.normal(0, 0.02, 3)).astype(np.float32)
        p = float(_kinetic_energy_to_momentum(ke, mass))
        logits = rng.normal(0.0, 1.0, 6)
        logits[pid[i]] += 4.0
        chi2 = rng.uniform(20.0, 200.0, 6)
        chi2[pid[i]] = rng.uniform(1.0, 15.0)
        score = rng.uniform(0.8, 1.0) if kin.primary[i] else rng.uniform(0.0, 0.2)
        crt = kin.interaction[i] > 0 and kin.primary[i] and rng.uniform() < 0.6
        row = {
            "units": "cm",
            "id": i,
            "is_contained": contained,
            "is_time_contained": bool(rng.uniform() < 0.95),
            "is_cathode_crosser": len(sums["module_ids"]) > 1,
            "cathode_offset": float(rng.normal(0.0, 0.5)) if len(sums["module_ids"]) > 1 else np.nan,
            "index": index,
            "orig_index": index,
            "interaction_id": int(kin.interaction[i]),
            "chi2_pid": int(np.argmin(chi2)) if track else -1,
            "is_primary": bool(kin.primary[i]),
            "is_crt_matched": bool(crt),
            "is_valid": True,
            "length": float(kin.length[i]),
            "calo_ke": float(calo),
            "csda_ke": csda if track else np.nan,
            "mcs_ke": float(mcs) if track else np.nan,
            "shape": ParticleShape(int(kin.shape[i])),
            "pid": ParticlePID(int(pid[i])),
            "fragment_ids": _i32([2 * i, 2 * i + 1]),
            "start_point": _f32(kin.start[i]),
            "end_point": _f32(kin.end[i]),
            "chi2_per_pid": _f32(chi2) if track else np.full(6, np.nan, np.float32),
            "csda_ke_per_pid": _f32(kin.length[i] * _PID_DEDX) if track else np.full(6, np.nan, np.float32),
            "mcs_ke_per_pid": _f32(mcs * _PID_DEDX / _PID_DEDX[pid[i]]) if track else np.full(6, np.nan, np.float32),
            "crt_ids": _i32([kin.interaction[i] % _N_CRT]) if crt else _i32([]),
            "crt_times": _f32([kin.times[kin.interaction[i]] * 1e-3]) if crt else _f32([]),
            "crt_scores": _f32([rng.uniform(0.5, 1.0)]) if crt else _f32([]),
            "start_dedx": float(rng.gamma(8.0, 0.3) if track else rng.choice([2.1, 4.2]) * rng.normal(1, 0.1)),
            "end_dedx": float(rng.gamma(10.0, 0.5)) if track else np.nan,
            "vertex_distance": float(np.linalg.norm(kin.start[i] - kin.vertex[kin.interaction[i]])),
            "start_straightness": float(rng.uniform(0.85, 1.0) if track else rng.uniform(0.3, 0.9)),
            "directional_spread": float(rng.uniform(0.0, 0.1) if track else rng.uniform(0.1, 0.6)),
            "axial_spread": float(rng.uniform(-1.0, 1.0)),
            "start_dir": start_dir,
            "end_dir": (-start_dir).astype(np.float32) if track else start_dir,
            "pid_scores": _f32(_softmax(logits)),
            "primary_scores": _f32([1.0 - score, score]),
            "ppn_ids": _i32(np.sort(rng.choice(64, rng.integers(0, 3), replace=False))),
            "pdg_code": int(_PID_PDG[pid[i]]),
            "mass": float(mass),
            "ke": float(ke),
            "momentum": (start_dir * p).astype(np.float32),
            "p": p,
            "num_fragments": 2,
            **sums,
        }
        out.append(row)
    return out


def _split_in_two(start: int, stop: int) -> tuple[tuple[int, int], tuple[int, int]]:
    middle = (start + stop) // 2
    return (start, middle), (middle, stop)


def _reco_fragments(entry: _Entry, particles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the constructor arguments of the reco fragments (two per reco particle)."""
    rng, kin = entry.rng, entry.kin
    out = []
    for i, particle in enumerate(particles):
        halves = _split_in_two(*entry.image.bounds[i : i + 2])
        middle = (kin.start[i] + kin.end[i]) / 2.0
        for half, ((lo, hi), (start, end)) in enumerate(zip(halves, ((kin.start[i], middle), (middle, kin.end[i])))):
            index = entry.image.index(lo, hi)
            primary = bool(particle["is_primary"] and half == 0)
            score = rng.uniform(0.8, 1.0) if primary else rng.uniform(0.0, 0.2)
            out.append(
                {
                    "units": "cm",
                    "id": 2 * i + half,
                    "is_contained": particle["is_contained"],
                    "is_time_contained": particle["is_time_contained"],
                    "index": index,
                    "orig_index": index,
                    "particle_id": i,
                    "interaction_id": particle["interaction_id"],
                    "is_primary": primary,
                    "length": float(np.linalg.norm(end - start)),
                    "shape": particle["shape"],
                    "start_point": _f32(start),
                    "end_point": _f32(end),
                    "start_dir": particle["start_dir"],
                    "end_dir": particle["end_dir"],
                    "primary_scores": _f32([1.0 - score, score]),
                    **entry.sums(index),
                }
            )
    return out


def _truth_ranges(entry: _Entry) -> tuple[list[tuple[int, int]], list[int]]:
    """Split the ten largest reco particles in two: 40 truth voxel ranges and their reco particle."""
    sizes = np.diff(entry.image.bounds)
    split = set(np.argsort(-sizes, kind="stable")[: _N_TRUTH - _N_RECO].tolist())
    ranges, source = [], []
    for i in range(_N_RECO):
        lo, hi = int(entry.image.bounds[i]), int(entry.image.bounds[i + 1])
        parts = _split_in_two(lo, hi) if i in split else ((lo, hi),)
        ranges.extend(parts)
        source.extend([i] * len(parts))
    return ranges, source


def _truth_particles(entry: _Entry, ranges: list[tuple[int, int]], source: list[int]) -> list[dict[str, Any]]:
    """Return the shared LArCV/TruthParticle arguments of the 40 truth particles."""
    rng, kin = entry.rng, entry.kin
    first_of = {}
    for t, i in enumerate(source):
        first_of.setdefault(i, t)
    out = []
    g4_offset = 0
    for t, ((lo, hi), i) in enumerate(zip(ranges, source)):
        index = entry.image.index(lo, hi)
        sums = entry.sums(index)
        pid = int(kin.pid[i])
        primary = bool(kin.primary[i]) and first_of[i] == t
        fraction = (hi - lo) / max(entry.image.bounds[i + 1] - entry.image.bounds[i], 1)
        length = float(kin.length[i] * fraction)
        ke = float(length * _PID_DEDX[pid] * rng.normal(1.0, 0.03)) if kin.shape[i] == 1 else 0.0
        ke = ke or float(max(sums["depositions_sum"], 1.0) * rng.normal(1.2, 0.05))
        mass = float(_PID_MASS[pid])
        p = float(_kinetic_energy_to_momentum(ke, mass))
        direction = kin.direction[i]
        end_p = p * rng.uniform(0.0, 0.1)
        parent = t if primary else first_of[i - i % (_N_RECO // _N_INTERACTIONS)]
        t_ns = float(kin.times[kin.interaction[i]] + rng.uniform(0.0, 2.0))
        n_g4 = int(len(index) * rng.uniform(1.0, 1.4))
        index_g4 = np.arange(g4_offset, g4_offset + n_g4, dtype=np.int32)
        g4_offset += n_g4
        nu = 0 if kin.interaction[i] == 0 else -1
        process = "primary" if primary else str(rng.choice(_SECONDARY_PROCESSES))
        out.append(
            {
                "units": "cm",
                "id": t,
                "parent_id": parent,
                "group_id": t,
                "interaction_id": int(kin.interaction[i]),
                "nu_id": nu,
                "mct_index": 0 if nu == 0 else -1,
                "mcst_index": t,
                "group_primary": 1,
                "interaction_primary": int(primary),
                "track_id": t + 1,
                "parent_track_id": parent + 1,
                "ancestor_track_id": parent + 1,
                "pdg_code": int(_PID_PDG[pid]),
                "parent_pdg_code": int(_PID_PDG[kin.pid[source[parent]]]),
                "ancestor_pdg_code": int(_PID_PDG[kin.pid[source[parent]]]),
                "num_voxels": len(index),
                "t": t_ns,
                "end_t": t_ns + length / 29.98,
                "parent_t": t_ns,
                "ancestor_t": t_ns,
                "energy_init": ke + mass,
                "energy_deposit": sums["depositions_sum"],
                "distance_travel": length,
                "creation_process": process,
                "parent_creation_process": "primary",
                "ancestor_creation_process": "primary",
                "shape": ParticleShape(int(kin.shape[i])),
                "pid": ParticlePID(pid),
                "position": _f32(kin.start[i]),
                "end_position": _f32(kin.end[i]),
                "parent_position": _f32(kin.start[source[parent]]),
                "ancestor_position": _f32(kin.start[source[parent]]),
                "first_step": _f32(kin.start[i]),
                "last_step": _f32(kin.end[i]),
                "momentum": _f32(direction * p),
                "end_momentum": _f32(direction * end_p),
                "p": p,
                "end_p": float(np.linalg.norm(_f32(direction * end_p))),
                "mass": mass,
                # truth-only columns
                "orig_id": t,
                "index": index,
                "orig_index": index,
                "index_adapt": index,
                "index_g4": index_g4,
                "is_primary": primary,
                "is_contained": _in_box(entry.image.points[index], 5.0),
                "is_time_contained": True,
                "length": length,
                "orig_interaction_id": int(kin.interaction[i]),
                "orig_parent_id": parent,
                "orig_group_id": t,
                "start_point": _f32(kin.start[i]),
                "end_point": _f32(kin.end[i]),
                "start_dir": _f32(direction),
                "end_dir": _f32(direction),
                "ke": ke,
                **sums,
                "size_adapt": sums["size"],
                "size_g4": n_g4,
                "depositions_q_sum": sums["depositions_sum"] * 52.4,
                "depositions_adapt_sum": sums["depositions_sum"],
                "depositions_adapt_q_sum": sums["depositions_sum"] * 52.4,
                "depositions_g4_sum": sums["depositions_sum"] * 1.05,
            }
        )
    children: dict[int, list[int]] = {}
    for row in out:
        if row["parent_id"] != row["id"]:
            children.setdefault(row["parent_id"], []).append(row["id"])
    for row in out:
        kids = _i32(children.get(row["id"], []))
        row["children_id"] = kids
        row["orig_children_id"] = kids
        row["children_counts"] = _pid_counts([out[k]["pid"] for k in kids])
    return out


def _add_truth_reco_links(truth: list[dict], reco: list[dict], fragments: list[list[int]]) -> None:
    """Fill the truth particles' fragment ids and the reco-derived (``reco_*``) columns."""
    for row, fragment_ids in zip(truth, fragments):
        row["fragment_ids"] = _i32(fragment_ids)
        row["num_fragments"] = len(fragment_ids)
        if len(row["match_ids"]):
            best = reco[int(row["match_ids"][0])]
            row["reco_length"] = best["length"]
            row["reco_start_dir"] = best["start_dir"]
            row["reco_end_dir"] = best["end_dir"]
            row["reco_ke"] = best["ke"]
            row["reco_momentum"] = best["momentum"]


def _truth_fragments(entry: _Entry, truth: list[dict], ranges: list[tuple[int, int]]) -> tuple[list, list]:
    """Return the 60 truth fragments (the 20 largest truth particles in two) and each particle's fragment ids."""
    sizes = np.array([hi - lo for lo, hi in ranges])
    split = set(np.argsort(-sizes, kind="stable")[: EVENT_MIX["truth_fragments"] - _N_TRUTH].tolist())
    out: list[dict] = []
    fragment_ids: list[list[int]] = []
    for t, (lo, hi) in enumerate(ranges):
        parts = _split_in_two(lo, hi) if t in split else ((lo, hi),)
        fragment_ids.append(list(range(len(out), len(out) + len(parts))))
        particle = truth[t]
        for part, (a, b) in enumerate(parts):
            index = entry.image.index(a, b)
            sums = entry.sums(index)
            row = {key: value for key, value in particle.items() if key in _names(TruthFragment)}
            row.update(
                {
                    "id": len(out),
                    "orig_id": len(out),
                    "particle_id": t,
                    "is_primary": bool(particle["is_primary"] and part == 0),
                    "index": index,
                    "orig_index": index,
                    "index_adapt": index,
                    "index_g4": particle["index_g4"][: len(index)],
                    "num_voxels": len(index),
                    **sums,
                    "size_adapt": sums["size"],
                    "size_g4": min(len(index), len(particle["index_g4"])),
                    "depositions_q_sum": sums["depositions_sum"] * 52.4,
                    "depositions_adapt_sum": sums["depositions_sum"],
                    "depositions_adapt_q_sum": sums["depositions_sum"] * 52.4,
                    "depositions_g4_sum": sums["depositions_sum"] * 1.05,
                }
            )
            out.append(row)
    return out, fragment_ids


def _interaction_common(entry: _Entry, members: list[dict], index: np.ndarray) -> dict[str, Any]:
    """Return the derived interaction columns computed from its particles."""
    pids = [int(m["pid"]) for m in members]
    primaries = [m for m in members if m["is_primary"]]
    crt = [m for m in members if len(m.get("crt_ids", ()))]
    return {
        "particle_ids": _i32([m["id"] for m in members]),
        "primary_particle_ids": _i32([m["id"] for m in primaries]),
        "num_particles": len(members),
        "num_primary_particles": len(primaries),
        "particle_counts": _pid_counts(pids),
        "primary_particle_counts": _pid_counts([int(m["pid"]) for m in primaries]),
        "is_crt_matched": bool(crt),
        "crt_ids": _i32([c for m in crt for c in m["crt_ids"]]),
        "crt_times": _f32([c for m in crt for c in m["crt_times"]]),
        "crt_scores": _f32([c for m in crt for c in m["crt_scores"]]),
        "topology": _topology(_pid_counts([int(m["pid"]) for m in primaries])),
        "index": index,
        "orig_index": index,
        **entry.sums(index),
    }


def _interaction_dir(members: list[dict]) -> np.ndarray:
    momenta = [m["momentum"] for m in members if m["is_primary"]]
    return _f32(_unit(np.sum(momenta, axis=0))) if momenta else np.full(3, np.nan, np.float32)


def _flash_columns(entry: _Entry, k: int) -> dict[str, Any]:
    matched = k == 0 or entry.rng.uniform() < 0.5
    if not matched:
        return {"is_flash_matched": False}
    time = float(entry.kin.times[k] * 1e-3)
    return {
        "is_flash_matched": True,
        "flash_ids": _i32([k]),
        "flash_volume_ids": _i32([k % 2]),
        "flash_times": _f32([time]),
        "flash_scores": _f32([entry.rng.uniform(0.5, 1.0)]),
        "flash_total_pe": float(entry.rng.gamma(5.0, 400.0)),
        "flash_hypo_pe": float(entry.rng.gamma(5.0, 400.0)),
    }


def _reco_interactions(entry: _Entry, particles: list[dict]) -> list[dict[str, Any]]:
    out = []
    for k in range(_N_INTERACTIONS):
        members = [p for p in particles if p["interaction_id"] == k]
        index = np.sort(np.concatenate([m["index"] for m in members])).astype(np.int32)
        vertex = _f32(entry.kin.vertex[k] + entry.rng.normal(0.0, 0.5, 3))
        out.append(
            {
                "units": "cm",
                "id": k,
                "is_contained": all(m["is_contained"] for m in members),
                "is_time_contained": all(m["is_time_contained"] for m in members),
                "is_fiducial": _in_box(vertex[None], 25.0),
                "vertex": vertex,
                "dir": _interaction_dir(members),
                **_flash_columns(entry, k),
                **_interaction_common(entry, members, index),
            }
        )
    return out


def _truth_interactions(entry: _Entry, truth: list[dict], neutrino: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for k in range(_N_INTERACTIONS):
        members = [p for p in truth if p["interaction_id"] == k]
        index = np.sort(np.concatenate([m["index"] for m in members])).astype(np.int32)
        index_g4 = np.sort(np.concatenate([m["index_g4"] for m in members])).astype(np.int32)
        row = {
            "units": "cm",
            "id": k,
            "orig_id": k,
            "interaction_id": k,
            "is_contained": all(m["is_contained"] for m in members),
            "is_time_contained": True,
            "is_fiducial": _in_box(entry.kin.vertex[k][None], 25.0),
            "vertex": _f32(entry.kin.vertex[k]),
            "position": _f32(entry.kin.vertex[k]),
            "dir": _interaction_dir(members),
            "t": float(entry.kin.times[k]),
            "creation_process": "primary",
            "index_adapt": index,
            "index_g4": index_g4,
            "mct_index": 0 if k == 0 else -1,
            "track_id": members[0]["track_id"] if members else -1,
            **_flash_columns(entry, k),
            **_interaction_common(entry, members, index),
        }
        row.update(
            {
                "size_adapt": row["size"],
                "size_g4": len(index_g4),
                "depositions_q_sum": row["depositions_sum"] * 52.4,
                "depositions_adapt_sum": row["depositions_sum"],
                "depositions_adapt_q_sum": row["depositions_sum"] * 52.4,
                "depositions_g4_sum": row["depositions_sum"] * 1.05,
            }
        )
        if k == 0:
            shared = _names(TruthInteraction) & _names(Neutrino)
            row.update({key: neutrino[key] for key in shared if key not in ("id", "position", "dir")})
            row["nu_id"] = 0
            row["dir"] = neutrino["dir"]
        out.append(row)
    return out


def _neutrino(entry: _Entry) -> dict[str, Any]:
    rng = entry.rng
    energy = float(np.clip(rng.normal(1.5, 0.6), 0.25, 6.0))
    y = float(rng.uniform(0.05, 0.9))
    x = float(rng.uniform(0.05, 0.95))
    nucleon_mass = 0.93827
    q2 = 2.0 * nucleon_mass * energy * x * y
    lepton_e = energy * (1.0 - y)
    lepton_p = float(np.sqrt(max(lepton_e**2 - 0.10566**2, 0.0)))
    direction = _unit(np.array([0.0, -0.06, 1.0]))
    return {
        "units": "cm",
        "id": 0,
        "interaction_id": 0,
        "current_type": NuCurrentType.CC,
        "interaction_scheme": NuInteractionScheme.GENIE,
        "interaction_mode": int(rng.choice([0, 1, 2, 10])),
        "interaction_type": int(rng.choice([1001, 1003, 1091, 1092])),
        "mct_index": 0,
        "track_id": 1,
        "lepton_track_id": 2,
        "pdg_code": 14,
        "lepton_pdg_code": 13,
        "target": 1000180400,
        "nucleon": int(rng.choice([2112, 2212])),
        "quark": -1,
        "energy_init": energy,
        "hadronic_invariant_mass": float(np.sqrt(max(nucleon_mass**2 + 2 * nucleon_mass * energy * y - q2, 0.0))),
        "momentum_transfer": q2,
        "momentum_transfer_mag": float(np.sqrt(q2 + (energy * y) ** 2)),
        "energy_transfer": energy * y,
        "lepton_p": lepton_p,
        "distance_travel": float(rng.uniform(5.5e4, 6.5e4)),
        "t": float(entry.kin.times[0]),
        "theta": float(np.arccos(rng.uniform(0.5, 1.0))),
        "bjorken_x": x,
        "inelasticity": y,
        "creation_process": "primary",
        "position": _f32(entry.kin.vertex[0]),
        "momentum": _f32(direction * energy * 1e3),
        "dir": _f32(direction),
    }


def _flashes(entry: _Entry) -> list[dict[str, Any]]:
    rng = entry.rng
    out = []
    for i in range(_N_FLASHES):
        in_beam = i == 0
        time = float(entry.kin.times[0] * 1e-3) if in_beam else float(rng.uniform(-1500.0, 1500.0))
        pe = rng.gamma(0.7, 30.0, _PMT_CHANNELS).astype(np.float32)
        volume = i % 2
        out.append(
            {
                "units": "cm",
                "id": i,
                "volume_id": volume,
                "frame": 0,
                "on_beam_time": int(in_beam),
                "in_beam_frame": in_beam,
                "time": time,
                "time_width": float(rng.uniform(0.05, 0.5)),
                "time_abs": time + 1.6e3,
                "total_pe": float(pe.sum(dtype=np.float64)),
                "fast_to_total": float(rng.uniform(0.2, 0.45)),
                "pe_per_ch": pe,
                "center": _f32([_LOWER[0] - 10.0 if volume == 0 else _UPPER[0] + 10.0, *rng.uniform(-150, 150, 2)]),
                "width": _f32([0.0, *rng.uniform(20.0, 120.0, 2)]),
            }
        )
    return out


def _crthits(entry: _Entry) -> list[dict[str, Any]]:
    rng = entry.rng
    out = []
    for i in range(_N_CRT):
        ts1 = float(entry.kin.times[i % _N_INTERACTIONS] + rng.normal(0.0, 20.0))
        out.append(
            {
                "units": "cm",
                "id": i,
                "plane": int(rng.integers(30, 50)),
                "ts0_s": 1_650_000_000 + entry.index,
                "ts0_ns": float(rng.uniform(0.0, 1e9)),
                "ts0_s_corr": 0.0,
                "ts0_ns_corr": float(rng.normal(0.0, 10.0)),
                "ts1_ns": ts1,
                "total_pe": float(rng.gamma(3.0, 60.0)),
                "tagger": str(rng.choice(_CRT_TAGGERS)),
                "feb_id": np.sort(rng.choice(256, 2, replace=False)).astype(np.uint8),
                "center": _f32(
                    [rng.uniform(_LOWER[0], _UPPER[0]), _UPPER[1] + 50.0, rng.uniform(_LOWER[2], _UPPER[2])]
                ),
                "width": _f32([rng.uniform(1.0, 10.0), 1.0, rng.uniform(1.0, 10.0)]),
                "time": ts1 * 1e-3,
            }
        )
    return out


def _meta() -> ImageMeta3D:
    return ImageMeta3D(lower=_LOWER.copy(), upper=_UPPER.copy(), size=_VOXEL_SIZE.copy(), count=_VOXEL_COUNT.copy())


def _build(cls: type, rows: list[dict[str, Any]], as_plain: bool) -> list[Any]:
    """Instantiate ``cls`` from each row, keeping only its columns (plain objects on request).

    The rows go through the generated column builders (``to_records``, which
    validates every value as the constructor would) and back (``from_records``):
    the same instances as ``cls(**row)``, built a column at a time.
    """
    names = _names(cls)
    records = cls.to_records([{key: value for key, value in row.items() if key in names} for row in rows])
    objects = cls.from_records(records)
    return [to_plain(obj) for obj in objects] if as_plain else objects


def _match_columns(rows: list[dict], others: list[dict], n_voxels: int) -> None:
    """Fill ``is_matched``/``match_ids``/``match_overlaps`` of ``rows`` against ``others`` by voxel IoU."""
    matches = _match_all([r["index"] for r in rows], [o["index"] for o in others], n_voxels)
    for row, (ids, overlaps) in zip(rows, matches):
        row["is_matched"] = bool(len(ids))
        row["match_ids"] = ids
        row["match_overlaps"] = overlaps


# -- entries and batches --------------------------------------------------------------------------


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
    sizes = _partition_sizes(rng, n_voxels)
    kin = _kinematics(rng, sizes)
    image = _image(rng, kin, sizes)
    entry = _Entry(rng, index, kin, image)
    ranges, source = _truth_ranges(entry)
    truth = _truth_particles(entry, ranges, source)
    reco = _reco_particles(entry, kin.pid)
    fragments = _reco_fragments(entry, reco)
    truth_fragments, fragment_ids = _truth_fragments(entry, truth, ranges)
    _match_columns(reco, truth, n_voxels)
    _match_columns(truth, reco, n_voxels)
    _match_columns(fragments, truth_fragments, n_voxels)
    _match_columns(truth_fragments, fragments, n_voxels)
    _add_truth_reco_links(truth, reco, fragment_ids)
    neutrino = _neutrino(entry)
    reco_interactions = _reco_interactions(entry, reco)
    truth_interactions = _truth_interactions(entry, truth, neutrino)
    _match_columns(reco_interactions, truth_interactions, n_voxels)
    _match_columns(truth_interactions, reco_interactions, n_voxels)
    seg_label = np.full(n_voxels, ParticleShape.GHOST, dtype=np.int64)
    for row in reco:
        seg_label[row["index"]] = int(row["shape"])
    run_info = RunInfo(run=_RUN_NUMBER, subrun=index // _ENTRIES_PER_SUBRUN, event=index)
    meta = _meta()
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
        "flashes": _build(Flash, _flashes(entry), as_plain),
        "crthits": _build(CRTHit, _crthits(entry), as_plain),
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
