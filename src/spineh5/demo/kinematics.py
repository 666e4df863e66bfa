"""The generated truth of an entry's particles: interactions, PIDs, shapes, directions and lengths."""

from __future__ import annotations

import attrs
import numpy as np

from ..generated import ParticlePID, ParticleShape
from .geometry import LOWER, UPPER, random_dirs, unit
from .mix import N_INTERACTIONS, N_RECO


@attrs.define
class Kinematics:
    """Generated truth of the reco particles (one row each)."""

    interaction: np.ndarray
    primary: np.ndarray
    pid: np.ndarray
    shape: np.ndarray
    start: np.ndarray
    direction: np.ndarray
    length: np.ndarray
    end: np.ndarray
    vertex: np.ndarray  # (N_INTERACTIONS, 3)
    times: np.ndarray  # (N_INTERACTIONS,) in ns


def draw_kinematics(rng: np.random.Generator, sizes: np.ndarray) -> Kinematics:
    """Draw interactions (vertex, time) and particles (PID, shape, direction, length)."""
    per = N_RECO // N_INTERACTIONS
    interaction = np.repeat(np.arange(N_INTERACTIONS), per)
    primary = np.tile(np.arange(per) < 3, N_INTERACTIONS)
    vertex = rng.uniform(LOWER + 60.0, UPPER - 60.0, size=(N_INTERACTIONS, 3))
    times = np.concatenate([[rng.normal(1600.0, 5.0)], rng.uniform(-1.5e6, 1.5e6, N_INTERACTIONS - 1)])
    pid = rng.choice(6, size=N_RECO, p=[0.15, 0.15, 0.15, 0.15, 0.35, 0.05])
    pid[::per] = ParticlePID.MUON
    shape = np.where(pid <= ParticlePID.ELECTRON, ParticleShape.SHOWER, ParticleShape.TRACK)
    showers = shape == ParticleShape.SHOWER
    special = rng.choice(
        [ParticleShape.SHOWER, ParticleShape.MICHEL, ParticleShape.DELTA, ParticleShape.LOWE],
        size=N_RECO,
        p=[0.7, 0.1, 0.1, 0.1],
    )
    shape = np.where(showers & ~primary, special, shape)
    direction = random_dirs(rng, N_RECO)
    direction[::per] = unit(direction[::per] + np.array([0.0, 0.0, 1.5]))  # muons go forward-ish
    length = np.where(showers, rng.uniform(15.0, 90.0, N_RECO), np.maximum(sizes, 1) * 0.25)
    start = vertex[interaction].copy()
    secondary = np.flatnonzero(~primary)
    parents = interaction[secondary] * per + rng.integers(0, 3, secondary.size)
    fractions = rng.uniform(0.2, 1.0, secondary.size)[:, None]
    start[secondary] = start[parents] + direction[parents] * length[parents, None] * fractions
    start = np.clip(start, LOWER + 1.0, UPPER - 1.0)
    end = np.clip(start + direction * length[:, None], LOWER + 1.0, UPPER - 1.0)
    length = np.linalg.norm(end - start, axis=1)
    return Kinematics(interaction, primary, pid, shape, start, direction, length, end, vertex, times)


def partition_sizes(rng: np.random.Generator, n_voxels: int) -> np.ndarray:
    """Draw the voxel count of each reco particle (summing to ``n_voxels``)."""
    weights = rng.dirichlet(np.full(N_RECO, 0.8))
    return rng.multinomial(n_voxels, weights)
