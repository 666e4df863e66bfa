"""Per-PID constants and the columns derived from PIDs (counts, topology, momentum)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Per-PID constants, indexed by ParticlePID value (photon, electron, muon, pion, proton, kaon).
PID_MASS = np.array([0.0, 0.511998, 105.658, 139.570, 938.272, 493.677])  # SPINE's constants
PID_PDG = np.array([22, 11, 13, 211, 2212, 321])
_PID_TAG = ("g", "e", "mu", "pi", "p", "k")
#: Mean energy loss per cm for the range estimate (MeV/cm), per PID.
PID_DEDX = np.array([2.0, 2.1, 2.1, 2.4, 4.5, 3.2])


def kinetic_energy_to_momentum(ke: np.ndarray, mass: np.ndarray) -> np.ndarray:
    """Return the momentum (MeV/c) of a particle of kinetic energy ``ke`` and ``mass`` (MeV)."""
    return np.sqrt(ke * ke + 2.0 * ke * mass)


def topology(counts: np.ndarray) -> str:
    """Return the topology string of per-PID ``counts`` (e.g. ``"1mu2p"``)."""
    return "".join(f"{count}{tag}" for count, tag in zip(counts, _PID_TAG) if count)


def pid_counts(pids: Sequence[int]) -> np.ndarray:
    """Return the number of particles of each of the 6 PIDs in ``pids`` (negative PIDs are skipped)."""
    counts = np.zeros(6, dtype=np.int32)
    for pid in pids:
        if pid >= 0:
            counts[pid] += 1
    return counts
