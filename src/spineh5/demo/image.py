"""The voxel image of an entry and the :class:`Entry` the object builders share."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from ..generated import ParticleShape
from .geometry import CATHODE_X, LOWER, UPPER, VOXEL_SIZE
from .kinematics import Kinematics
from .mix import N_RECO


@attrs.define
class Image:
    """Voxels of one entry and the partition of their generation order into particles."""

    points: np.ndarray  # file order
    depositions: np.ndarray  # file order
    module: np.ndarray  # file order, module (TPC side) of each voxel
    position: np.ndarray  # generation order -> file order
    bounds: np.ndarray  # (N_RECO + 1,) generation-order boundaries of the reco particles

    def index(self, start: int, stop: int) -> np.ndarray:
        """Return the sorted file positions of the voxels generated in ``[start, stop)``."""
        return np.sort(self.position[start:stop]).astype(np.int32)


def draw_image(rng: np.random.Generator, kin: Kinematics, sizes: np.ndarray) -> Image:
    """Draw the voxels of every particle, snap them to the grid and sort them like SPINE does."""
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    total = int(bounds[-1])
    owner = np.repeat(np.arange(N_RECO), sizes)
    along = rng.uniform(0.0, 1.0, total)
    showers = kin.shape[owner] != ParticleShape.TRACK
    spread = np.where(showers, 0.5 + 6.0 * along, 0.4)
    points = kin.start[owner] + (kin.end - kin.start)[owner] * along[:, None]
    points += rng.normal(size=(total, 3)) * spread[:, None]
    points = np.clip(points, LOWER, UPPER - 1e-3)
    cells = np.floor((points - LOWER) / VOXEL_SIZE)
    points = (LOWER + (cells + 0.5) * VOXEL_SIZE).astype(np.float32)
    depositions = np.where(showers, rng.gamma(2.0, 0.3, total), rng.gamma(4.0, 0.15, total)).astype(np.float32)
    order = np.lexsort((points[:, 2], points[:, 1], points[:, 0]))
    position = np.empty(total, dtype=np.int64)
    position[order] = np.arange(total)
    points = points[order]
    return Image(
        points=points,
        depositions=depositions[order],
        module=(points[:, 0] >= CATHODE_X).astype(np.int32),
        position=position,
        bounds=bounds,
    )


def split_in_two(start: int, stop: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Return the two halves of the range ``[start, stop)``."""
    middle = (start + stop) // 2
    return (start, middle), (middle, stop)


@attrs.define
class Entry:
    """Everything drawn for one entry, shared by the object builders."""

    rng: np.random.Generator
    index: int
    kin: Kinematics
    image: Image

    @property
    def n_voxels(self) -> int:
        """Return the number of voxels of the entry."""
        return len(self.image.points)

    def sums(self, index: np.ndarray) -> dict[str, Any]:
        """Return the voxel-derived columns of an object covering ``index``."""
        return {
            "size": len(index),
            "depositions_sum": float(self.image.depositions[index].sum(dtype=np.float64)),
            "module_ids": np.unique(self.image.module[index]).astype(np.int32),
        }
