"""How ``inspect`` writes values: one number formatter for scalars, arrays and table cells.

Floats are written with 6 significant digits (``%.6g``) and always look like
floats (``5.0``, ``1e-07``, ``nan``, ``-inf``); integers and booleans are
written plainly; strings are quoted in blocks and plain in table cells. The
same formatter serves scalar values and the elements of arrays, so a float32
array and a float64 scalar of the same value read the same.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

__all__ = ["array_text", "cell_text", "number_text", "value_text"]

#: Elements of an array shown before it is elided (the first and last ``EDGE_ITEMS``).
THRESHOLD = 12
EDGE_ITEMS = 3
#: Values shown in a table cell of an array column before ``...``.
CELL_ITEMS = 3


def number_text(value: Any) -> str:
    """Return one number as ``inspect`` shows it: ``487.5``, ``5.0``, ``1e-07``, ``nan``, ``12``, ``True``."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        text = f"{value:.6g}"
        return text if any(mark in text for mark in ".e") else text + ".0"
    return str(value)


_FORMATTER = {"float_kind": number_text, "int_kind": number_text, "bool": number_text}


def _string_text(value: Any, quote: bool) -> str | None:
    if isinstance(value, (bytes, np.bytes_)):
        value = bytes(value).decode("utf-8", "replace")
    if isinstance(value, str):
        return repr(value) if quote else value
    return None


def _enum_text(value: Any, enum: type, with_value: bool) -> str:
    try:
        name = enum(int(value)).name
    except ValueError:
        return f"{int(value)} (not a {enum.__name__} value)"
    return f"{name} ({int(value)})" if with_value else name


def array_text(value: np.ndarray, indent: str = "", full: bool = False) -> str:
    """Return an array as ``float32 (3,) [-3.8047 0.549 21.2875]`` (elided past 12 values unless ``full``)."""
    head = f"{value.dtype} {tuple(value.shape)}"
    if value.size == 0:
        return f"{head} []"
    body = np.array2string(
        value,
        threshold=sys.maxsize if full else THRESHOLD,
        edgeitems=EDGE_ITEMS,
        max_line_width=100,
        separator=" ",
        formatter=_FORMATTER,
    )
    if "\n" in body:
        body = body.replace("\n", "\n" + indent + "  ")
        return f"{head}\n{indent}  {body}"
    return f"{head} {body}"


def value_text(value: Any, enum: type | None = None, indent: str = "", full: bool = False) -> str:
    """Return one value of a block line: an array (:func:`array_text`), a quoted string, an enum, a number."""
    if isinstance(value, np.ndarray):
        return array_text(value, indent, full)
    text = _string_text(value, quote=True)
    if text is not None:
        return text
    if enum is not None:
        return _enum_text(value, enum, with_value=True)
    return number_text(value)


def cell_text(value: Any, enum: type | None = None) -> str:
    """Return one value in a table cell: arrays as their first values and length (``[103 77 36 ...](46)``)."""
    if isinstance(value, np.ndarray):
        flat = value.reshape(-1)
        shown = " ".join(number_text(item) for item in flat[:CELL_ITEMS])
        if flat.size <= CELL_ITEMS and value.ndim <= 1:
            return f"[{shown}]"
        return f"[{shown} ...]({'x'.join(map(str, value.shape))})"
    text = _string_text(value, quote=False)
    if text is not None:
        return text
    if enum is not None:
        return _enum_text(value, enum, with_value=False)
    return number_text(value)
