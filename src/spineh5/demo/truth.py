"""Constructor rows of the truth particles, truth fragments and the neutrino."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..generated import NuCurrentType, NuInteractionScheme, ParticlePID, ParticleShape, TruthFragment
from .columns import column_names, f32, i32
from .geometry import in_box, unit
from .image import Entry, split_in_two
from .mix import EVENT_MIX, N_INTERACTIONS, N_RECO, N_TRUTH
from .pid import PID_DEDX, PID_MASS, PID_PDG, kinetic_energy_to_momentum, pid_counts

_SECONDARY_PROCESSES = ("muIoni", "eIoni", "conv", "compt", "hadElastic", "protonInelastic", "Decay")


def truth_ranges(entry: Entry) -> tuple[list[tuple[int, int]], list[int]]:
    """Split the ten largest reco particles in two: 40 truth voxel ranges and their reco particle."""
    sizes = np.diff(entry.image.bounds)
    split = set(np.argsort(-sizes, kind="stable")[: N_TRUTH - N_RECO].tolist())
    ranges, source = [], []
    for i in range(N_RECO):
        lo, hi = int(entry.image.bounds[i]), int(entry.image.bounds[i + 1])
        parts = split_in_two(lo, hi) if i in split else ((lo, hi),)
        ranges.extend(parts)
        source.extend([i] * len(parts))
    return ranges, source


def truth_particle_rows(entry: Entry, ranges: list[tuple[int, int]], source: list[int]) -> list[dict[str, Any]]:
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
        ke = float(length * PID_DEDX[pid] * rng.normal(1.0, 0.03)) if kin.shape[i] == 1 else 0.0
        ke = ke or float(max(sums["depositions_sum"], 1.0) * rng.normal(1.2, 0.05))
        mass = float(PID_MASS[pid])
        p = float(kinetic_energy_to_momentum(ke, mass))
        direction = kin.direction[i]
        end_p = p * rng.uniform(0.0, 0.1)
        parent = t if primary else first_of[i - i % (N_RECO // N_INTERACTIONS)]
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
                "pdg_code": int(PID_PDG[pid]),
                "parent_pdg_code": int(PID_PDG[kin.pid[source[parent]]]),
                "ancestor_pdg_code": int(PID_PDG[kin.pid[source[parent]]]),
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
                "position": f32(kin.start[i]),
                "end_position": f32(kin.end[i]),
                "parent_position": f32(kin.start[source[parent]]),
                "ancestor_position": f32(kin.start[source[parent]]),
                "first_step": f32(kin.start[i]),
                "last_step": f32(kin.end[i]),
                "momentum": f32(direction * p),
                "end_momentum": f32(direction * end_p),
                "p": p,
                "end_p": float(np.linalg.norm(f32(direction * end_p))),
                "mass": mass,
                # truth-only columns
                "orig_id": t,
                "index": index,
                "orig_index": index,
                "index_adapt": index,
                "index_g4": index_g4,
                "is_primary": primary,
                "is_contained": in_box(entry.image.points[index], 5.0),
                "is_time_contained": True,
                "length": length,
                "orig_interaction_id": int(kin.interaction[i]),
                "orig_parent_id": parent,
                "orig_group_id": t,
                "start_point": f32(kin.start[i]),
                "end_point": f32(kin.end[i]),
                "start_dir": f32(direction),
                "end_dir": f32(direction),
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
        kids = i32(children.get(row["id"], []))
        row["children_id"] = kids
        row["orig_children_id"] = kids
        row["children_counts"] = pid_counts([out[k]["pid"] for k in kids])
    return out


def add_truth_reco_links(truth: list[dict], reco: list[dict], fragments: list[list[int]]) -> None:
    """Fill the truth particles' fragment ids and the reco-derived (``reco_*``) columns."""
    for row, fragment_ids in zip(truth, fragments):
        row["fragment_ids"] = i32(fragment_ids)
        row["num_fragments"] = len(fragment_ids)
        if len(row["match_ids"]):
            best = reco[int(row["match_ids"][0])]
            row["reco_length"] = best["length"]
            row["reco_start_dir"] = best["start_dir"]
            row["reco_end_dir"] = best["end_dir"]
            row["reco_ke"] = best["ke"]
            row["reco_momentum"] = best["momentum"]


def truth_fragment_rows(entry: Entry, truth: list[dict], ranges: list[tuple[int, int]]) -> tuple[list, list]:
    """Return the 60 truth fragments (the 20 largest truth particles in two) and each particle's fragment ids."""
    sizes = np.array([hi - lo for lo, hi in ranges])
    split = set(np.argsort(-sizes, kind="stable")[: EVENT_MIX["truth_fragments"] - N_TRUTH].tolist())
    out: list[dict] = []
    fragment_ids: list[list[int]] = []
    for t, (lo, hi) in enumerate(ranges):
        parts = split_in_two(lo, hi) if t in split else ((lo, hi),)
        fragment_ids.append(list(range(len(out), len(out) + len(parts))))
        particle = truth[t]
        for part, (a, b) in enumerate(parts):
            index = entry.image.index(a, b)
            sums = entry.sums(index)
            row = {key: value for key, value in particle.items() if key in column_names(TruthFragment)}
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


def neutrino_row(entry: Entry) -> dict[str, Any]:
    """Return the constructor arguments of the neutrino (a numu CC interaction at vertex 0)."""
    rng = entry.rng
    energy = float(np.clip(rng.normal(1.5, 0.6), 0.25, 6.0))
    y = float(rng.uniform(0.05, 0.9))
    x = float(rng.uniform(0.05, 0.95))
    nucleon_mass = 0.93827
    q2 = 2.0 * nucleon_mass * energy * x * y
    lepton_e = energy * (1.0 - y)
    lepton_p = float(np.sqrt(max(lepton_e**2 - 0.10566**2, 0.0)))
    direction = unit(np.array([0.0, -0.06, 1.0]))
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
        "position": f32(entry.kin.vertex[0]),
        "momentum": f32(direction * energy * 1e3),
        "dir": f32(direction),
    }
