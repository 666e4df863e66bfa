"""Comparing two SPINE files or productions event by event and field by field, across layouts.

* :mod:`.files`: :func:`compare`, the readers, entry counts, run/subrun/event
  checks, the products compared and skipped, chunking and progress;
* :mod:`.products`: one product over a chunk of entries (bulk rows, or per
  entry for lists of arrays);
* :mod:`.values`: numpy comparison of aligned columns and value text;
* :mod:`.result`: :class:`CompareResult` and the report ``spineh5 compare`` prints.
"""

from __future__ import annotations

from .files import CHUNK_ENTRIES, RUNTIME_KEYS, compare
from .result import CompareResult, Difference, ProductComparison, format_report
from .values import Tolerance

__all__ = [
    "CHUNK_ENTRIES",
    "RUNTIME_KEYS",
    "CompareResult",
    "Difference",
    "ProductComparison",
    "Tolerance",
    "compare",
    "format_report",
]
