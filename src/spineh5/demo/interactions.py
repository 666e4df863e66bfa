"""Constructor rows of the reco and truth interactions, derived from their particles."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..generated import Neutrino, TruthInteraction
from .columns import column_names, f32, i32
from .geometry import in_box, unit
from .image import Entry
from .mix import N_INTERACTIONS
from .pid import pid_counts, topology


def _interaction_common(entry: Entry, members: list[dict], index: np.ndarray) -> dict[str, Any]:
    """Return the derived interaction columns computed from its particles."""
    pids = [int(m["pid"]) for m in members]
    primaries = [m for m in members if m["is_primary"]]
    crt = [m for m in members if len(m.get("crt_ids", ()))]
    return {
        "particle_ids": i32([m["id"] for m in members]),
        "primary_particle_ids": i32([m["id"] for m in primaries]),
        "num_particles": len(members),
        "num_primary_particles": len(primaries),
        "particle_counts": pid_counts(pids),
        "primary_particle_counts": pid_counts([int(m["pid"]) for m in primaries]),
        "is_crt_matched": bool(crt),
        "crt_ids": i32([c for m in crt for c in m["crt_ids"]]),
        "crt_times": f32([c for m in crt for c in m["crt_times"]]),
        "crt_scores": f32([c for m in crt for c in m["crt_scores"]]),
        "topology": topology(pid_counts([int(m["pid"]) for m in primaries])),
        "index": index,
        "orig_index": index,
        **entry.sums(index),
    }


def _interaction_dir(members: list[dict]) -> np.ndarray:
    momenta = [m["momentum"] for m in members if m["is_primary"]]
    return f32(unit(np.sum(momenta, axis=0))) if momenta else np.full(3, np.nan, np.float32)


def _flash_columns(entry: Entry, k: int) -> dict[str, Any]:
    matched = k == 0 or entry.rng.uniform() < 0.5
    if not matched:
        return {"is_flash_matched": False}
    time = float(entry.kin.times[k] * 1e-3)
    return {
        "is_flash_matched": True,
        "flash_ids": i32([k]),
        "flash_volume_ids": i32([k % 2]),
        "flash_times": f32([time]),
        "flash_scores": f32([entry.rng.uniform(0.5, 1.0)]),
        "flash_total_pe": float(entry.rng.gamma(5.0, 400.0)),
        "flash_hypo_pe": float(entry.rng.gamma(5.0, 400.0)),
    }


def reco_interaction_rows(entry: Entry, particles: list[dict]) -> list[dict[str, Any]]:
    """Return the constructor arguments of the reco interactions (grouping the reco particles)."""
    out = []
    for k in range(N_INTERACTIONS):
        members = [p for p in particles if p["interaction_id"] == k]
        index = np.sort(np.concatenate([m["index"] for m in members])).astype(np.int32)
        vertex = f32(entry.kin.vertex[k] + entry.rng.normal(0.0, 0.5, 3))
        out.append(
            {
                "units": "cm",
                "id": k,
                "is_contained": all(m["is_contained"] for m in members),
                "is_time_contained": all(m["is_time_contained"] for m in members),
                "is_fiducial": in_box(vertex[None], 25.0),
                "vertex": vertex,
                "dir": _interaction_dir(members),
                **_flash_columns(entry, k),
                **_interaction_common(entry, members, index),
            }
        )
    return out


def truth_interaction_rows(entry: Entry, truth: list[dict], neutrino: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the constructor arguments of the truth interactions (interaction 0 carries the neutrino)."""
    out = []
    for k in range(N_INTERACTIONS):
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
            "is_fiducial": in_box(entry.kin.vertex[k][None], 25.0),
            "vertex": f32(entry.kin.vertex[k]),
            "position": f32(entry.kin.vertex[k]),
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
            shared = column_names(TruthInteraction) & column_names(Neutrino)
            row.update({key: neutrino[key] for key in shared if key not in ("id", "position", "dir")})
            row["nu_id"] = 0
            row["dir"] = neutrino["dir"]
        out.append(row)
    return out
