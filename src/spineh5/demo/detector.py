"""Constructor rows of the optical flashes and the CRT hits."""

from __future__ import annotations

from typing import Any

import numpy as np

from .columns import f32
from .geometry import LOWER, UPPER
from .image import Entry
from .mix import N_CRT, N_FLASHES, N_INTERACTIONS

_PMT_CHANNELS = 180
_CRT_TAGGERS = ("volTaggerTopHigh_0", "volTaggerTopLow_0", "volTaggerSideLeft_0", "volTaggerSideRight_0")


def flash_rows(entry: Entry) -> list[dict[str, Any]]:
    """Return the constructor arguments of the flashes (flash 0 is the in-beam flash)."""
    rng = entry.rng
    out = []
    for i in range(N_FLASHES):
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
                "center": f32([LOWER[0] - 10.0 if volume == 0 else UPPER[0] + 10.0, *rng.uniform(-150, 150, 2)]),
                "width": f32([0.0, *rng.uniform(20.0, 120.0, 2)]),
            }
        )
    return out


def crthit_rows(entry: Entry) -> list[dict[str, Any]]:
    """Return the constructor arguments of the CRT hits."""
    rng = entry.rng
    out = []
    for i in range(N_CRT):
        ts1 = float(entry.kin.times[i % N_INTERACTIONS] + rng.normal(0.0, 20.0))
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
                "center": f32([rng.uniform(LOWER[0], UPPER[0]), UPPER[1] + 50.0, rng.uniform(LOWER[2], UPPER[2])]),
                "width": f32([rng.uniform(1.0, 10.0), 1.0, rng.uniform(1.0, 10.0)]),
                "time": ts1 * 1e-3,
            }
        )
    return out
