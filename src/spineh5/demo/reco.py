"""Constructor rows of the reco particles and reco fragments."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..generated import ParticlePID, ParticleShape
from .columns import f32, i32
from .geometry import in_box, unit
from .image import Entry, split_in_two
from .mix import N_CRT, N_RECO
from .pid import PID_DEDX, PID_MASS, PID_PDG, kinetic_energy_to_momentum


def _softmax(logits: np.ndarray) -> np.ndarray:
    weights = np.exp(logits - logits.max())
    return weights / weights.sum()


def reco_particle_rows(entry: Entry, truth_pid: np.ndarray) -> list[dict[str, Any]]:
    """Return the constructor arguments of the reco particles."""
    rng, kin = entry.rng, entry.kin
    mistakes = rng.uniform(size=N_RECO) < 0.1
    pid = np.where(mistakes, rng.integers(0, 6, N_RECO), truth_pid)
    out = []
    for i in range(N_RECO):
        index = entry.image.index(*entry.image.bounds[i : i + 2])
        sums = entry.sums(index)
        track = kin.shape[i] == ParticleShape.TRACK
        mass = PID_MASS[pid[i]]
        calo = sums["depositions_sum"] * rng.normal(1.0, 0.05)
        csda = float(kin.length[i] * PID_DEDX[pid[i]])
        mcs = csda * rng.normal(1.0, 0.12)
        contained = in_box(entry.image.points[index], 5.0) and in_box(kin.end[i : i + 1], 5.0)
        ke = (csda if contained else mcs) if track else calo
        start_dir = unit(kin.direction[i] + rng.normal(0, 0.02, 3)).astype(np.float32)
        p = float(kinetic_energy_to_momentum(ke, mass))
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
            "fragment_ids": i32([2 * i, 2 * i + 1]),
            "start_point": f32(kin.start[i]),
            "end_point": f32(kin.end[i]),
            "chi2_per_pid": f32(chi2) if track else np.full(6, np.nan, np.float32),
            "csda_ke_per_pid": f32(kin.length[i] * PID_DEDX) if track else np.full(6, np.nan, np.float32),
            "mcs_ke_per_pid": f32(mcs * PID_DEDX / PID_DEDX[pid[i]]) if track else np.full(6, np.nan, np.float32),
            "crt_ids": i32([kin.interaction[i] % N_CRT]) if crt else i32([]),
            "crt_times": f32([kin.times[kin.interaction[i]] * 1e-3]) if crt else f32([]),
            "crt_scores": f32([rng.uniform(0.5, 1.0)]) if crt else f32([]),
            "start_dedx": float(rng.gamma(8.0, 0.3) if track else rng.choice([2.1, 4.2]) * rng.normal(1, 0.1)),
            "end_dedx": float(rng.gamma(10.0, 0.5)) if track else np.nan,
            "vertex_distance": float(np.linalg.norm(kin.start[i] - kin.vertex[kin.interaction[i]])),
            "start_straightness": float(rng.uniform(0.85, 1.0) if track else rng.uniform(0.3, 0.9)),
            "directional_spread": float(rng.uniform(0.0, 0.1) if track else rng.uniform(0.1, 0.6)),
            "axial_spread": float(rng.uniform(-1.0, 1.0)),
            "start_dir": start_dir,
            "end_dir": (-start_dir).astype(np.float32) if track else start_dir,
            "pid_scores": f32(_softmax(logits)),
            "primary_scores": f32([1.0 - score, score]),
            "ppn_ids": i32(np.sort(rng.choice(64, rng.integers(0, 3), replace=False))),
            "pdg_code": int(PID_PDG[pid[i]]),
            "mass": float(mass),
            "ke": float(ke),
            "momentum": (start_dir * p).astype(np.float32),
            "p": p,
            "num_fragments": 2,
            **sums,
        }
        out.append(row)
    return out


def reco_fragment_rows(entry: Entry, particles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the constructor arguments of the reco fragments (two per reco particle)."""
    rng, kin = entry.rng, entry.kin
    out = []
    for i, particle in enumerate(particles):
        halves = split_in_two(*entry.image.bounds[i : i + 2])
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
                    "start_point": f32(start),
                    "end_point": f32(end),
                    "start_dir": particle["start_dir"],
                    "end_dir": particle["end_dir"],
                    "primary_scores": f32([1.0 - score, score]),
                    **entry.sums(index),
                }
            )
    return out
