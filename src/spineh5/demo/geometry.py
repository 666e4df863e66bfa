"""The detector image (a 0.3 cm voxel grid over a 720 x 360 x 1800 cm box) and vector helpers."""

from __future__ import annotations

import numpy as np

from ..generated import ImageMeta3D

#: Detector image: 0.3 cm voxels over a 720 x 360 x 1800 cm box.
VOXEL_SIZE = np.full(3, 0.3, dtype=np.float32)
VOXEL_COUNT = np.array([2400, 1200, 6000], dtype=np.int64)
LOWER = np.array([-400.0, -200.0, -900.0], dtype=np.float32)
UPPER = (LOWER + VOXEL_SIZE * VOXEL_COUNT).astype(np.float32)
CATHODE_X = float(LOWER[0] + UPPER[0]) / 2.0


def unit(vectors: np.ndarray) -> np.ndarray:
    """Return the rows of ``vectors`` scaled to unit length (zero rows stay zero)."""
    norm = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.divide(vectors, norm, out=np.zeros_like(vectors), where=norm > 0)


def random_dirs(rng: np.random.Generator, count: int) -> np.ndarray:
    """Return ``count`` isotropic unit vectors (float64)."""
    return unit(rng.normal(size=(count, 3)))


def in_box(points: np.ndarray, margin: float) -> bool:
    """Return whether every point lies inside the detector box shrunk by ``margin`` cm."""
    if len(points) == 0:
        return True
    return bool(np.all(points >= LOWER + margin) and np.all(points <= UPPER - margin))


def image_meta() -> ImageMeta3D:
    """Return the :class:`ImageMeta3D` of the detector image."""
    return ImageMeta3D(lower=LOWER.copy(), upper=UPPER.copy(), size=VOXEL_SIZE.copy(), count=VOXEL_COUNT.copy())
