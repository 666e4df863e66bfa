"""How problem messages name values, rows and columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["SHOWN", "as_int", "describe_value", "names_text", "one_line", "rows_text"]

#: Rows (entries, boundaries...) a message lists before ``and N more``.
SHOWN = 5


def describe_value(value: Any) -> str:
    """Return what kind of attribute value ``value`` is (``a fixed-length string (6 bytes)``, ``a int64``...)."""
    if isinstance(value, np.bytes_):
        return f"a fixed-length string ({len(value)} bytes)"
    if isinstance(value, bytes):
        return "bytes"
    if isinstance(value, np.ndarray):
        return f"an array of {value.dtype}"
    return f"a {type(value).__name__}"


def one_line(err: BaseException) -> str:
    """Return an exception's text on one line, at most 120 characters."""
    return " ".join(str(err).split())[:120]


def rows_text(rows: Sequence[int], noun: str = "row") -> str:
    """Return ``rows 1, 4, 5`` (the first :data:`SHOWN`, then ``and N more``), the noun made plural as needed."""
    shown = ", ".join(map(str, rows[:SHOWN]))
    more = f" and {len(rows) - SHOWN} more" if len(rows) > SHOWN else ""
    if len(rows) > 1:
        noun = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{noun} {shown}{more}"


def names_text(names: Sequence[str], noun: str) -> str:
    """Return ``column 'a' is`` or ``columns 'a', 'b' are``."""
    quoted = ", ".join(repr(name) for name in names)
    return f"{noun} {quoted} is" if len(names) == 1 else f"{noun}s {quoted} are"


def as_int(value: Any) -> int | None:
    """Return an attribute value as an int when it is an integer or bool scalar (not a string or float)."""
    try:
        array = np.asarray(value)
        if array.shape != () or array.dtype.kind not in "iub":
            return None
        return int(array)
    except (TypeError, ValueError):
        return None
