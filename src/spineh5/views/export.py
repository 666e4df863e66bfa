"""One product of a production written out as Parquet or CSV (``spineh5 export`` and :func:`export`).

Both formats are written chunk by chunk from :meth:`~spineh5.reader.HDF5Reader.iterate`,
so memory stays bounded by one chunk whatever the production's size:

* **Parquet** (``.parquet``, through awkward and pyarrow): one row per entry,
  one row group per chunk, with two fields: ``entry`` (the reader position,
  int64) and the product named by its key, as ``library="ak"`` gives it (an
  object product is a list of records per entry, variable-length columns
  nested lists, enums integer codes with their names in the awkward
  parameters, which the file keeps). ``ak.from_parquet(path)[key]`` equals
  ``reader.arrays(key)[key]``. Every product kind can be exported.
* **CSV** (``.csv``, object products only): one row per object, the leading
  columns ``entry`` and ``subentry`` (the object's place in its entry), then
  SPINE's ``scalar_dict`` columns as the ``library="pd"`` view names them
  (:mod:`spineh5.views.pandas_view`); variable-length columns are left out.

The output is written next to its destination under a ``.part`` name and
renamed when complete, so a failed export leaves no half-written file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SpineH5Error

if TYPE_CHECKING:
    from ..reader import HDF5Reader

__all__ = ["FORMATS", "ExportError", "export", "parse_entries"]

#: Output formats by file suffix.
FORMATS = {".parquet": "parquet", ".parq": "parquet", ".pq": "parquet", ".csv": "csv"}

#: Entries per chunk (one Parquet row group, one CSV write).
_STEP_SIZE = 1000

Entries = slice | str | tuple[int | None, int | None] | None


class ExportError(SpineH5Error, ValueError):
    """A product cannot be exported as asked (unknown product or column, format, existing output)."""


def parse_entries(entries: Entries) -> tuple[int | None, int | None]:
    """Return ``(entry_start, entry_stop)`` of an entry range: ``"a:b"`` (either side optional), a slice or a pair.

    Raises
    ------
    ExportError
        When the range is not of that form (or a slice has a step).
    """
    if entries is None:
        return None, None
    if isinstance(entries, tuple) and len(entries) == 2:
        return entries
    if isinstance(entries, slice):
        if entries.step not in (None, 1):
            raise ExportError(f"entries {entries!r}: a step is not supported")
        return entries.start, entries.stop
    if isinstance(entries, str) and entries.count(":") == 1:
        low, high = (part.strip() for part in entries.split(":"))
        try:
            return (int(low) if low else None), (int(high) if high else None)
        except ValueError:
            pass
    raise ExportError(f"entries {entries!r} is not a range such as '0:100', ':100' or '10:'")


def _format_of(to: Path) -> str:
    fmt = FORMATS.get(to.suffix.lower())
    if fmt is None:
        raise ExportError(f"{to}: unknown output format {to.suffix!r} (use {', '.join(sorted(FORMATS))})")
    return fmt


def _check_request(reader: HDF5Reader, key: str, columns: Sequence[str] | None, fmt: str) -> None:
    """Refuse, before anything is written, an unknown product, a non-object CSV export or unknown columns."""
    if key not in reader.keys:
        raise ExportError(f"no product {key!r}; products: {', '.join(sorted(reader.keys))}")
    spec = reader.spec(key, reader._first_file_with(key))
    if not spec.kind.holds_objects:
        if fmt == "csv":
            raise ExportError(
                f"product {key!r} is not an object product ({spec.kind.value}): CSV holds object products only; "
                "export it to Parquet"
            )
        if columns is not None:
            raise ExportError(f"product {key!r} is not an object product ({spec.kind.value}): it has no columns")
    if columns is not None:
        stored = spec.dtype.names or ()
        unknown = [name for name in columns if name not in stored]
        if unknown:
            raise ExportError(f"product {key!r} has no column {', '.join(unknown)}; columns: {', '.join(stored)}")


def _write_parquet(reader: HDF5Reader, key: str, part: Path, options: dict[str, Any]) -> int:
    import awkward as ak
    import numpy as np

    written = 0

    def tables() -> Iterator[ak.Array]:
        nonlocal written
        for chunk in reader.iterate(key, library="ak", **options):
            entry = np.arange(chunk.entry_start, chunk.entry_stop, dtype=np.int64)
            written += len(chunk)
            yield ak.zip({"entry": entry, key: chunk.data[key]}, depth_limit=1)

    pieces = tables()
    first = next(pieces, None)
    if first is None:  # no entry selected: an empty table of the product's form
        empty = reader.arrays(key, 0, 0, columns=options["columns"])
        first = ak.zip({"entry": np.empty(0, dtype=np.int64), key: empty[key]}, depth_limit=1)

    def with_first() -> Iterator[ak.Array]:
        yield first
        yield from pieces

    ak.to_parquet_row_groups(with_first(), str(part))
    return written


def _write_csv(reader: HDF5Reader, key: str, part: Path, options: dict[str, Any]) -> int:
    written = 0
    with open(part, "w", newline="", encoding="utf-8") as out:
        for chunk in reader.iterate(key, library="pd", **options):
            chunk.data.to_csv(out, header=written == 0, index=True)
            written += len(chunk)
        if written == 0:  # no entry selected: the header alone
            frame = reader.arrays(key, 0, 0, columns=options["columns"], library="pd")
            frame.to_csv(out, header=True, index=True)
    return written


def export(
    paths: Any,
    key: str,
    to: str | os.PathLike,
    columns: Sequence[str] | None = None,
    entries: Entries = None,
    progress: bool = False,
    overwrite: bool = False,
    step_size: int | str = _STEP_SIZE,
) -> int:
    """Write one product of a file or production to Parquet or CSV (the format from the suffix of ``to``).

    Parameters
    ----------
    paths : str, path, sequence or HDF5Reader
        A file, a glob pattern, a list of them (as :class:`~spineh5.reader.HDF5Reader`
        takes), or an open reader.
    key : str
        The product. CSV takes object products only; Parquet every kind.
    to : str or path
        The output file: ``.parquet`` (also ``.parq``, ``.pq``) or ``.csv``.
    columns : sequence of str, optional
        Stored columns of an object product to export (default: all). In CSV a
        fixed array column gives all its ``scalar_dict`` columns.
    entries : str, slice or (start, stop), optional
        Reader positions to export, as ``"0:100"``, ``slice(0, 100)`` or ``(0, 100)``
        (default: all).
    progress : bool, default False
        Show a tqdm progress bar over the entries.
    overwrite : bool, default False
        Replace ``to`` when it exists.
    step_size : int or str, default 1000
        Entries per chunk (or a size such as ``"100 MB"``), as :meth:`~spineh5.reader.HDF5Reader.iterate` takes.

    Returns
    -------
    int
        The entries exported.

    Raises
    ------
    ExportError
        For an unknown product, column or suffix, a CSV of a non-object product,
        an invalid entry range, or an existing ``to`` without ``overwrite``.
    """
    from ..reader import HDF5Reader

    to = Path(to)
    fmt = _format_of(to)
    entry_start, entry_stop = parse_entries(entries)
    if to.exists() and not overwrite:
        raise ExportError(f"{to} exists; pass overwrite=True (--overwrite) to replace it")
    reader = paths if isinstance(paths, HDF5Reader) else HDF5Reader(paths)
    try:
        _check_request(reader, key, columns, fmt)
        options = {
            "step_size": step_size,
            "columns": None if columns is None else list(columns),
            "entry_start": entry_start,
            "entry_stop": entry_stop,
            "progress": progress,
        }
        part = to.with_name(to.name + ".part")
        try:
            written = (_write_parquet if fmt == "parquet" else _write_csv)(reader, key, part, options)
            os.replace(part, to)
        finally:
            if part.exists():
                part.unlink()
    finally:
        if reader is not paths:
            reader.close()
    return written
