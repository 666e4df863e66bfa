"""``spineh5 recover``: files left by a killed writer made complete, keeping their whole entries.

* :mod:`.plan`: :class:`RecoveryPlan` (entries kept, rows each dataset keeps), :func:`plan_recovery`,
  :func:`apply_plan`;
* :mod:`.v1_scan`, :mod:`.v2_scan`: the whole entries of each layout, from references and offsets alone;
* :mod:`.run`: :func:`recover` (which file, where the result goes, working on a copy) and :class:`RecoveryReport`.
"""

from __future__ import annotations

from .plan import RECOVERED, RecoveryError, RecoveryPlan, apply_plan, plan_recovery
from .run import RecoveryReport, recover

__all__ = ["RECOVERED", "RecoveryError", "RecoveryPlan", "RecoveryReport", "apply_plan", "plan_recovery", "recover"]
