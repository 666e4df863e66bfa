"""Reco-truth matching by voxel overlap (IoU)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .columns import f32, i32


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
    return i32([best]), f32([counts[best] / union])


def _match_all(indexes: Sequence[np.ndarray], others: Sequence[np.ndarray], n_voxels: int) -> list[tuple]:
    labels = _labels(n_voxels, others)
    sizes = np.array([len(other) for other in others])
    return [_match(index, labels, sizes) for index in indexes]


def match_columns(rows: list[dict], others: list[dict], n_voxels: int) -> None:
    """Fill ``is_matched``/``match_ids``/``match_overlaps`` of ``rows`` against ``others`` by voxel IoU."""
    matches = _match_all([r["index"] for r in rows], [o["index"] for o in others], n_voxels)
    for row, (ids, overlaps) in zip(rows, matches):
        row["is_matched"] = bool(len(ids))
        row["match_ids"] = ids
        row["match_overlaps"] = overlaps
