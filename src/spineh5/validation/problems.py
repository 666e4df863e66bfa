"""What :func:`spineh5.validation.validate` returns: :class:`Problem`, its severities and :func:`is_sound`."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

__all__ = ["ERROR", "WARNING", "Problem", "is_sound"]

#: Severity of what makes SPINE's readers fail or return wrong data.
ERROR = "error"
#: Severity of what only some readers refuse, what loads with another type, or departs from the contract harmlessly.
WARNING = "warning"


@attrs.frozen
class Problem:
    """One thing wrong with a file.

    Attributes
    ----------
    severity : str
        ``error`` (readers fail or return wrong data) or ``warning``.
    where : str
        HDF5 path of the object concerned (``/info``, ``/reco_particles``...),
        or ``file``.
    rule : str
        Id of the rule broken, a key of :data:`spineh5.validation.RULES`.
    message : str
        What is wrong and why it matters.
    """

    severity: str
    where: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.where}: {self.message} [{self.rule}]"


def is_sound(problems: Iterable[Problem], strict: bool = False) -> bool:
    """Return whether a file with these problems is sound (no errors; no warnings either if ``strict``)."""
    return not any(p.severity == ERROR or strict for p in problems)
