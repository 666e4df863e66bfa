"""``compare``: whether two files, or two productions, hold the same events, product by product.

Each side is read with :class:`spineh5.HDF5Reader` (a file, a list of files or
a glob; V1 and V2 layouts alike), so a V1 file compares with its V2
conversion. Entries are compared by position: the entry counts and the
(run, subrun, event) numbers are checked first, then every product in chunks
of entries (:class:`.products.ProductComparer`), which keeps memory bounded.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import numpy as np

from ..errors import CompareError, SpineFileError
from ..layouts.base import RUN_DTYPE, RUN_FIELDS
from ..reader import HDF5Reader
from .products import EventNumbers, ProductComparer
from .result import CompareResult, Difference, ProductComparison
from .values import Tolerance

__all__ = ["CHUNK_ENTRIES", "RUNTIME_KEYS", "compare"]

#: Products that say where an entry was read or written, not what it holds: the reader's ``index``
#: (its position), ``file_index``/``file_entry_index`` and the writer's ``source_file_*`` copies.
RUNTIME_KEYS = ("index", "file_index", "file_entry_index", "source_file_index", "source_file_entry_index")
#: Entries read per product and side at a time.
CHUNK_ENTRIES = 256

Sources = str | os.PathLike | Sequence[str | os.PathLike]


def compare(
    a: Sources,
    b: Sources,
    keys: Sequence[str] | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    exact: bool = False,
    progress: Callable[[int, int], None] | None = None,
    *,
    max_shown: int = 5,
    run_info_key: str = "run_info",
    chunk_entries: int = CHUNK_ENTRIES,
) -> CompareResult:
    """Compare two SPINE files or productions event by event and field by field.

    Parameters
    ----------
    a, b : str, path or list
        Each a file, a glob pattern, or a list of files and patterns (read as
        one sequence of entries, like :class:`spineh5.HDF5Reader`).
    keys : sequence of str, optional
        Products to compare (default: every product of either side except
        the runtime provenance :data:`RUNTIME_KEYS`, which are listed as skipped).
    rtol, atol : float
        Tolerance of floats (``numpy.isclose``); integers, bools, enums and
        strings must be equal. A float32 and a float64 column of the same
        values agree.
    exact : bool, default False
        Require identical dtypes and bitwise-identical floats (any NaN still
        equals any NaN).
    progress : callable, optional
        Called as ``progress(done, total)`` after each chunk (units: product entries).
    max_shown : int, default 5
        Differences kept per product (all are counted).
    run_info_key : str, default 'run_info'
        Product holding the run, subrun and event numbers.
    chunk_entries : int, default 256
        Entries read at a time per product and side.

    Returns
    -------
    CompareResult
        The verdict (``result.identical``), per-product counts and the first differences.

    Raises
    ------
    FileNotFoundError
        When a path or pattern names no file.
    SpineFileError
        When a file is not readable SPINE output.
    CompareError
        When a requested product is in neither side.
    """
    if chunk_entries < 1:
        raise ValueError("chunk_entries must be at least 1")
    tolerance = Tolerance(float(rtol), float(atol), bool(exact))
    with HDF5Reader(a, run_info_key=run_info_key) as reader_a, HDF5Reader(b, run_info_key=run_info_key) as reader_b:
        result = CompareResult(
            paths_a=list(reader_a.file_paths),
            paths_b=list(reader_b.file_paths),
            format_versions=(reader_a.format_version, reader_b.format_version),
            entries_a=len(reader_a),
            entries_b=len(reader_b),
            tolerance=(tolerance.rtol, tolerance.atol, tolerance.exact),
        )
        events = _check_events(result, reader_a, reader_b, run_info_key)
        wanted = _select_keys(result, reader_a, reader_b, keys)
        comparers = [
            ProductComparer(key, (reader_a, reader_b), events, tolerance, max_shown)
            for key in wanted
            if key in reader_a.keys and key in reader_b.keys
        ]
        for comparer in comparers:
            result.products[comparer.key] = comparer.result
        result.products = dict(sorted(result.products.items()))
        _run(comparers, result.entries, chunk_entries, progress)
    return result


def _select_keys(
    result: CompareResult, reader_a: HDF5Reader, reader_b: HDF5Reader, keys: Sequence[str] | None
) -> list[str]:
    """Return the products to compare; record those only one side has, and the skipped ones."""
    stored_a, stored_b = set(reader_a.keys), set(reader_b.keys)
    if keys is None:
        every = sorted(stored_a | stored_b)
        result.skipped = [key for key in every if key in RUNTIME_KEYS]
        wanted = [key for key in every if key not in RUNTIME_KEYS]
    else:
        wanted = list(dict.fromkeys(keys))
        unknown = [key for key in wanted if key not in stored_a and key not in stored_b]
        if unknown:
            raise CompareError(
                f"no product {', '.join(repr(key) for key in unknown)} in either side; "
                f"products: {', '.join(sorted(stored_a | stored_b))}"
            )
    for key in wanted:
        for name, reader, other in (("A", reader_a, stored_b), ("B", reader_b, stored_a)):
            if key in reader.keys and key not in other:
                product = ProductComparison(key, reader.spec(key).kind.value)
                product.note(f"only in {name}")
                result.products[key] = product
    return wanted


def _triplets(reader: HDF5Reader, key: str) -> np.ndarray | None:
    """Return the (run, subrun, event) of every entry, None when the reader has no usable run info."""
    if key not in reader.keys:
        return None
    try:
        rows, offsets = reader.table(key, columns=RUN_FIELDS)
    except (KeyError, ValueError, SpineFileError):
        return None
    if len(offsets) != len(reader) + 1 or np.any(np.diff(offsets) != 1):
        return None
    out = np.empty(len(reader), dtype=RUN_DTYPE)
    for name in RUN_FIELDS:
        out[name] = rows[name]
    return out


def _check_events(result: CompareResult, reader_a: HDF5Reader, reader_b: HDF5Reader, key: str) -> EventNumbers:
    """Record entries whose (run, subrun, event) differ; return the numbers of both sides."""
    events = EventNumbers(_triplets(reader_a, key), _triplets(reader_b, key))
    if events.a is None or events.b is None:
        return events
    result.run_info = True
    count = result.entries
    differ = np.flatnonzero(events.a[:count] != events.b[:count])
    result.event_mismatches = len(differ)
    if len(differ):
        entry = int(differ[0])
        a, b = EventNumbers.at(events.a, entry), EventNumbers.at(events.b, entry)
        text = "run {} subrun {} event {}"
        result.first_event_mismatch = Difference(key, entry, a, b, None, None, text.format(*a), text.format(*b))
    return events


def _run(
    comparers: list[ProductComparer],
    entries: int,
    chunk_entries: int,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Compare every product over ``entries`` entries, one chunk at a time."""
    total, done = entries * len(comparers), 0
    if progress is not None:
        progress(0, total)
    for comparer in comparers:
        for start in range(0, entries, chunk_entries):
            positions = np.arange(start, min(start + chunk_entries, entries), dtype=np.int64)
            comparer.compare(positions)
            done += len(positions)
            if progress is not None:
                progress(done, total)
