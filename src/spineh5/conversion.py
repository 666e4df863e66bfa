"""Rewrite a SPINE HDF5 file in the other on-disk layout: the logic behind ``spineh5 convert``.

:func:`convert` reads a file with :class:`~spineh5.reader.HDF5Reader`
(objects rebuilt as generated classes, entries in order, in batches) and
writes it again with :class:`~spineh5.writer.HDF5Writer` in the
requested ``format_version``. What the file holds is kept:

* the products and their kinds: the writer is built from the stored specs
  (:meth:`~spineh5.writer.HDF5Writer.from_specs`, see :func:`writer_specs`),
  so a first batch whose entries are all empty decides nothing;
* the stored ``index`` values (the reader replaces ``index`` by the reader
  position; the stored values are read with ``table``);
* lite-ness: a file whose object products hold exactly the lite columns of
  their class is written with ``lite=True``;
* the configuration (``info.cfg``, parsed and dumped again as YAML).

Global scalars come back from the reader as per-entry scalars and are written
as such (the values are the same). Columns the schema does not know (later
SPINE releases) cannot be rebuilt into objects and are not converted; they are
listed in :attr:`ConvertResult.notes`.

The output is written to a temporary file beside the target and renamed into
place only when complete, so a failed conversion leaves no partial file and an
existing target (with ``overwrite``) untouched.

:func:`upgrade` (``spineh5 upgrade``) is the same rewrite into the current
schema, keeping the layout unless told otherwise.
"""

from __future__ import annotations

import os
import tempfile
import time
import warnings
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np

from .decode import spec_class
from .errors import ConvertError, IncompleteFileError, SpineFileError, SpineH5Error, UnknownColumnsWarning
from .layouts import REGISTRY as LAYOUTS
from .products import Kind, ProductSpec, object_spec

__all__ = ["ConvertError", "ConvertResult", "OutputExistsError", "convert", "detect_lite", "upgrade", "writer_specs"]

#: The layouts a file can be converted to (those of :data:`spineh5.layouts.REGISTRY`).
_FORMAT_VERSIONS = tuple(sorted(LAYOUTS))


class OutputExistsError(ConvertError):
    """The output file exists and ``overwrite`` was not asked for.

    The message speaks the Python API (``overwrite=True``); ``spineh5
    convert`` says ``--overwrite`` instead, from :attr:`path`.

    Attributes
    ----------
    path : str
        The existing output file.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"{path} exists; pass overwrite=True to replace it")


@attrs.frozen
class ConvertResult:
    """What :func:`convert` did.

    Attributes
    ----------
    source, target : str
        The files read and written.
    entries : int
        Entries converted.
    source_version, format_version : int
        Layout of the source and of the target.
    lite : bool
        Whether the target was written lite (detected from the source).
    seconds : float
        Wall time of the conversion.
    notes : tuple of str
        What was not carried over (columns unknown to the schema), one line each.
    """

    source: str
    target: str
    entries: int
    source_version: int
    format_version: int
    lite: bool
    seconds: float
    notes: tuple[str, ...] = ()


def _first_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]


def detect_lite(specs: dict[str, ProductSpec]) -> bool:
    """Return whether stored object products hold exactly their classes' lite columns.

    Only classes whose lite and full columns differ have a say; columns unknown
    to the schema are ignored. A mix of lite and full products gives False
    (writing lite would lose data).
    """
    verdicts = []
    for spec in specs.values():
        cls = spec_class(spec)
        if cls is None:
            continue
        full, lite = set(cls.DTYPE.names), set(cls.LITE_DTYPE.names)
        if full == lite:
            continue
        known = set(spec.dtype.names or ()) & full
        verdicts.append(known == lite)
    return bool(verdicts) and all(verdicts)


def writer_specs(specs: dict[str, ProductSpec], lite: bool) -> dict[str, ProductSpec]:
    """Return the specs the converted file is written with, from the source's stored specs.

    They are what the writer decides from the entries the reader gives back:
    object products get their class's schema dtype (``LITE_DTYPE`` when
    ``lite``; columns unknown to the schema are left out), global scalars
    become per-entry scalars (the reader gives one value per entry), every
    other product keeps its stored spec.
    """
    written: dict[str, ProductSpec] = {}
    for key, spec in specs.items():
        cls = spec_class(spec)
        if cls is not None:
            written[key] = object_spec(key, spec.kind, cls.CLASS_NAME, lite)
        elif spec.kind is Kind.GLOBAL_SCALAR:
            written[key] = attrs.evolve(spec, kind=Kind.SCALAR)
        else:
            written[key] = spec
    return written


def _unknown_columns(specs: dict[str, ProductSpec]) -> list[str]:
    notes = []
    for key, spec in sorted(specs.items()):
        cls = spec_class(spec)
        if cls is None:
            continue
        unknown = [name for name in spec.dtype.names or () if name not in cls.DTYPE.fields]
        if unknown:
            notes.append(
                f"{key!r} ({cls.CLASS_NAME}): columns unknown to the schema are not converted: {', '.join(unknown)}"
            )
    return notes


def _check_target(src: str, dst: str, overwrite: bool) -> None:
    if os.path.isdir(dst):
        raise ConvertError(f"{dst} is a directory; give the output file name")
    if not os.path.exists(dst):
        parent = os.path.dirname(os.path.abspath(dst))
        if not os.path.isdir(parent):
            raise ConvertError(f"{dst}: folder {parent} does not exist")
        return
    if os.path.samefile(src, dst):
        raise ConvertError(f"{dst} is the input file; write the converted file elsewhere")
    if not overwrite:
        raise OutputExistsError(dst)


def _open_source(src: str) -> Any:
    from .reader import HDF5Reader

    if not os.path.exists(src):
        raise ConvertError(f"{src}: no such file")
    if os.path.isdir(src):
        raise ConvertError(f"{src} is a directory, not a SPINE HDF5 file")
    try:
        return HDF5Reader(src, build_classes=True)
    except IncompleteFileError:
        raise ConvertError(
            f"{src} is marked incomplete (info.complete is False: its writer did not finish); refusing to convert it"
        ) from None
    except SpineFileError as err:
        raise ConvertError(f"{src} is not a readable SPINE file: {_first_line(err.problem)}") from None
    except (OSError, KeyError, ValueError) as err:
        raise ConvertError(f"{src} is not a readable SPINE file: {_first_line(err)}") from None


def convert(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    format_version: int,
    batch_size: int = 64,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ConvertResult:
    """Rewrite the SPINE file ``src`` as ``dst`` in layout ``format_version``.

    Parameters
    ----------
    src : str or path-like
        A complete SPINE HDF5 file (V1 or V2, written by spineh5 or SPINE).
    dst : str or path-like
        The file to write.
    format_version : int
        1 (region references) or 2 (offset-based product groups).
    batch_size : int, default 64
        Entries read and written at a time.
    overwrite : bool, default False
        Replace ``dst`` if it exists (only once the conversion succeeded).
    progress : callable, optional
        Called as ``progress(entries_done, entries_total)`` before the first
        batch and after each batch.

    Returns
    -------
    ConvertResult
        What was converted.

    Raises
    ------
    ConvertError
        When ``src`` is missing, not a SPINE file, incomplete or empty, when
        ``dst`` exists without ``overwrite`` (:class:`OutputExistsError`) or
        is ``src``, or when a product cannot be written; nothing is left at
        ``dst`` then.
    ValueError
        For a ``format_version`` other than 1 or 2, or a ``batch_size`` below 1.
    """
    if type(format_version) is not int or format_version not in _FORMAT_VERSIONS:
        raise ValueError(f"format_version must be {' or '.join(map(str, _FORMAT_VERSIONS))}, got {format_version!r}")
    if type(batch_size) is not int or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    src, dst = os.fspath(src), os.fspath(dst)
    started = time.perf_counter()
    reader = _open_source(src)
    try:
        _check_target(src, dst, overwrite)
        total = len(reader)
        if total == 0:
            raise ConvertError(f"{src} has no entries: there is nothing to convert")
        keys = list(reader.keys)
        try:
            specs = {key: reader.spec(key) for key in keys}
        except (SpineH5Error, OSError, KeyError, ValueError) as err:
            raise ConvertError(f"{src} cannot be read: {_first_line(err)}") from None
        for key, spec in specs.items():
            if spec.class_name is not None and spec_class(spec) is None:
                raise ConvertError(
                    f"{src}: product {key!r} holds {spec.class_name} objects, a class the schema does not know; "
                    "it cannot be converted"
                )
        lite = detect_lite(specs)
        notes = _unknown_columns(specs)
        _write(reader, specs, dst, format_version, batch_size, lite, progress)
    finally:
        reader.close()
    return ConvertResult(
        source=src,
        target=dst,
        entries=total,
        source_version=reader.format_version,
        format_version=format_version,
        lite=lite,
        seconds=time.perf_counter() - started,
        notes=tuple(notes),
    )


def upgrade(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    format_version: int | None = None,
    batch_size: int = 64,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ConvertResult:
    """Rewrite the SPINE file ``src`` as ``dst`` in the current schema: the logic behind ``spineh5 upgrade``.

    The same rewrite as :func:`convert` (read with the current classes, write
    with the writer, into a temporary file moved into place), in the layout of
    ``src`` unless ``format_version`` is given. Object columns the file lacks
    take their schema defaults (listed in the notes); ``dst`` records the
    schema of the current classes.

    Parameters
    ----------
    src, dst : str or path-like
        The file to upgrade and the file to write.
    format_version : int, optional
        Layout of ``dst`` (default: the layout of ``src``).
    batch_size, overwrite, progress
        As for :func:`convert`.

    Raises
    ------
    ConvertError
        As :func:`convert` does.
    """
    src = os.fspath(src)
    if format_version is None:
        format_version = _layout_of(src)
    filled = _defaulted_columns(src)
    result = convert(src, dst, format_version, batch_size=batch_size, overwrite=overwrite, progress=progress)
    return attrs.evolve(result, notes=(*filled, *result.notes))


def _layout_of(src: str) -> int:
    """Return the layout of ``src`` (the default layout when it cannot be told: :func:`convert` then says why)."""
    import h5py

    from .format.common import DEFAULT_FORMAT_VERSION, detect_layout

    try:
        with h5py.File(src, "r") as h5file:
            version = detect_layout(h5file).version
    except (OSError, ValueError):
        return DEFAULT_FORMAT_VERSION
    return version if version in _FORMAT_VERSIONS else DEFAULT_FORMAT_VERSION


def _defaulted_columns(src: str) -> list[str]:
    """Return, per object product of ``src``, the columns of its current class the file lacks (one note each)."""
    from .reader import HDF5Reader

    try:
        reader = HDF5Reader(src, build_classes=False, ignore_incomplete=True)
    except (SpineH5Error, OSError, KeyError, ValueError):
        return []  # convert says why the file cannot be read
    notes = []
    with reader:
        specs = {key: reader.spec(key) for key in reader.keys}
        lite = detect_lite(specs)
        for key, spec in sorted(specs.items()):
            cls = spec_class(spec)
            if cls is None:
                continue
            stored = set(spec.dtype.names or ())
            missing = [name for name in (cls.LITE_DTYPE if lite else cls.DTYPE).names if name not in stored]
            if missing:
                notes.append(f"{key!r} ({cls.CLASS_NAME}): columns filled with their defaults: {', '.join(missing)}")
    return notes


def _batch(reader: Any, specs: dict[str, ProductSpec], start: int, stop: int) -> dict[str, Any]:
    """Return the writer's input for entries ``[start, stop)`` of the reader."""
    entries = [reader[position] for position in range(start, stop)]
    data: dict[str, Any] = {key: [entry[key] for entry in entries] for key in specs}
    if "index" in specs:
        rows, _ = reader.table("index", np.arange(start, stop))
        data["index"] = np.asarray(rows)
    else:
        data["index"] = list(range(start, stop))
    return data


def _write(
    reader: Any,
    specs: dict[str, ProductSpec],
    dst: str,
    format_version: int,
    batch_size: int,
    lite: bool,
    progress: Callable[[int, int], None] | None,
    *,
    extra_info: dict[str, Any] | None = None,
    allow_duplicates: bool = False,
    what: str | None = None,
) -> None:
    """Write every entry to a temporary file beside ``dst``, then move it into place.

    ``extra_info`` attributes are added to the finished file's ``info`` before
    it is moved into place (``spineh5 merge`` records its inputs there);
    ``allow_duplicates`` is the writer's; ``what`` names the work in errors
    (default ``convert <source>``).
    """
    from .writer import HDF5Writer

    what = what or f"convert {reader.file_paths[0]}"
    folder = os.path.dirname(os.path.abspath(dst))
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(dst)}.", suffix=".converting", dir=folder)
    except OSError as err:
        raise ConvertError(f"cannot write in {folder}: {_first_line(err)}") from None
    os.close(handle)
    total = len(reader)
    cfg = reader.cfg
    try:
        # its own temporary file, moved into place below; a killed conversion is rerun: no flush between batches
        writer = HDF5Writer.from_specs(
            temporary,
            writer_specs(specs, lite),
            overwrite=True,
            lite=lite,
            format_version=format_version,
            allow_duplicates=allow_duplicates,
            publish="in_place",
            flush_interval=None,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnknownColumnsWarning)  # reported once, as notes
            if progress is not None:
                progress(0, total)
            with writer:
                for start in range(0, total, batch_size):
                    stop = min(start + batch_size, total)
                    writer(_batch(reader, specs, start, stop), cfg)
                    if progress is not None:
                        progress(stop, total)
        if extra_info:
            _add_info(temporary, extra_info)
        os.replace(temporary, dst)
    except SpineH5Error as err:
        raise ConvertError(f"cannot {what}: {_first_line(err)}") from err
    except (OSError, KeyError, ValueError, TypeError) as err:
        raise ConvertError(f"cannot {what}: {type(err).__name__}: {_first_line(err)}") from err
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _add_info(path: str, attributes: dict[str, Any]) -> None:
    """Add attributes to the ``info`` group of a finished file (not yet under its final name)."""
    import h5py

    from .format.common import INFO

    with h5py.File(path, "r+") as h5file:
        h5file[INFO].attrs.update(attributes)
