"""A production as a dask-awkward array or a dask DataFrame, one partition per file or entry range.

``pip install 'spineh5[dask]'`` adds dask, dask-awkward and distributed.

* :func:`from_files` returns a ``dask_awkward.Array`` of one product through
  ``dask_awkward.from_map``: each partition is what
  ``HDF5Reader(path).arrays(key, start, stop)[key]`` gives (an object product is
  a list of records per entry). The reading function implements
  dask-awkward's column-projection protocol (``ColumnProjectionMixin``:
  ``form``, ``project_columns``): when a computation is optimized, only the
  record fields it touches are read from the files.
* :func:`dataframe` returns a ``dask.dataframe.DataFrame`` of an object
  product's fixed (non-variable-length, non-string) columns through
  ``dask.dataframe.from_map`` with ``meta``: leading columns ``entry`` (the
  position in the production) and ``subentry``, then SPINE's ``scalar_dict``
  columns as the ``library="pd"`` view names them. Its reading function takes
  ``columns=``, so dask projects columns too.

Partitions never cross file boundaries: one per file, or ``step_size``
entries of a file each. The files are opened inside the tasks (h5py handles
do not pickle): the partition functions are small picklable dataclasses
holding paths, a key and column names, so any scheduler (threads,
processes, ``distributed``) can run them.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

import awkward as ak
import dask.dataframe as dd
import dask_awkward as dak
import numpy as np
import pandas as pd
from dask_awkward.lib.io.columnar import ColumnProjectionMixin

from .decode import spec_class
from .errors import SpineH5Error
from .reader import HDF5Reader

__all__ = ["DaskError", "Partition", "dataframe", "from_files"]

Paths = str | os.PathLike | Sequence[str | os.PathLike]


class DaskError(SpineH5Error, ValueError):
    """A product cannot be read as asked (unknown product or column, not an object product, bad step size)."""


@dataclasses.dataclass(frozen=True)
class Partition:
    """Entries ``entry_start:entry_stop`` of one file, the first being entry ``first_entry`` of the production."""

    path: str
    entry_start: int
    entry_stop: int
    first_entry: int


def _partitions(reader: HDF5Reader, step_size: int | None) -> list[Partition]:
    if step_size is not None and (isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1):
        raise DaskError(f"step_size must be a positive entry count or None (one partition per file), got {step_size!r}")
    parts = []
    for file_id, path in enumerate(reader.file_paths):
        first, count = int(reader.file_offsets[file_id]), int(np.diff(reader.file_offsets)[file_id])
        step = step_size or max(count, 1)
        parts.extend(Partition(path, low, min(low + step, count), first + low) for low in range(0, count, step))
    return parts


def _open(paths_or_glob: Paths, key: str, columns: Sequence[str] | None) -> HDF5Reader:
    """Open the production once, to plan partitions, and refuse an unknown product or column."""
    reader = HDF5Reader(paths_or_glob)
    try:
        if key not in reader.keys:
            raise DaskError(f"no product {key!r}; products: {', '.join(sorted(reader.keys))}")
        spec = reader.spec(key, reader._first_file_with(key))
        if columns is not None:
            if not spec.kind.holds_objects:
                raise DaskError(f"product {key!r} is not an object product ({spec.kind.value}): it has no columns")
            stored = spec.dtype.names or ()
            unknown = [name for name in columns if name not in stored]
            if unknown:
                raise DaskError(f"product {key!r} has no column {', '.join(unknown)}")
    except BaseException:
        reader.close()
        raise
    return reader


def _fields(form: ak.forms.Form) -> tuple[str, ...]:
    """Return the record fields of a product's form (a record, or a list of records); empty for other kinds."""
    while isinstance(form, (ak.forms.ListOffsetForm, ak.forms.ListForm, ak.forms.RegularForm)):
        form = form.content
    return tuple(form.fields) if isinstance(form, ak.forms.RecordForm) else ()


@dataclasses.dataclass(frozen=True)
class ReadProduct(ColumnProjectionMixin):
    """Read one partition of a product as an awkward Array (the function of :func:`from_files`).

    Attributes
    ----------
    key : str
        The product.
    form : awkward.forms.Form
        The product's form with every column asked for (what a partition holds before projection).
    columns : tuple of str or None
        Record fields to read (None: every field of ``form``).
    """

    key: str
    form: ak.forms.Form
    columns: tuple[str, ...] | None = None
    behavior: dict | None = None
    attrs: dict | None = None

    @property
    def use_optimization(self) -> bool:
        """Project columns whenever dask-awkward optimizes a graph."""
        return True

    def project_columns(self, columns: frozenset[str]) -> ReadProduct:
        """Return the function reading only the record fields of ``columns`` (dotted paths, as dask-awkward gives)."""
        fields = _fields(self.form)
        if not fields:
            return self
        wanted = {column.split(".", 1)[0] for column in columns}
        chosen = tuple(field for field in fields if field in wanted)
        return dataclasses.replace(self, columns=chosen or fields[:1])

    def __call__(self, partition: Partition) -> ak.Array:
        """Return entries ``entry_start:entry_stop`` of the partition's file."""
        columns = None if self.columns is None else list(self.columns)
        with HDF5Reader(partition.path) as reader:
            return reader.arrays(self.key, partition.entry_start, partition.entry_stop, columns)[self.key]


def from_files(
    paths_or_glob: Paths, key: str, step_size: int | None = None, columns: Sequence[str] | None = None
) -> dak.Array:
    """Return a product of a production as a ``dask_awkward.Array``, one partition per file or entry range.

    Parameters
    ----------
    paths_or_glob : str, path or sequence
        Files, glob patterns, a production manifest or folder, as :class:`~spineh5.reader.HDF5Reader` takes them.
    key : str
        The product (any kind).
    step_size : int, optional
        Entries per partition, within each file (default: one partition per file).
    columns : sequence of str, optional
        Record fields of an object product (default: all). Computations read
        only the fields they use among these.

    Returns
    -------
    dask_awkward.Array
        One element per entry, as ``HDF5Reader(paths).arrays(key)[key]``; known divisions (entry counts).
    """
    reader = _open(paths_or_glob, key, columns)
    with reader:
        parts = _partitions(reader, step_size)
        chosen = None if columns is None else list(columns)
        form = reader.arrays(key, 0, 0, chosen)[key].layout.form
    divisions = tuple(part.first_entry for part in parts) + (int(reader.file_offsets[-1]),)
    read = ReadProduct(key, form, None if columns is None else tuple(columns))
    if not parts:
        parts, divisions = [Partition(reader.file_paths[0], 0, 0, 0)], (0, 0)
    return dak.from_map(read, parts, label=f"spineh5-{key}", divisions=divisions)


@dataclasses.dataclass(frozen=True)
class ReadFrame:
    """Read one partition of an object product's fixed columns as a DataFrame (the function of :func:`dataframe`).

    Attributes
    ----------
    key : str
        The object product.
    stored : dict of str to str
        Stored column of each DataFrame column (``start_point_x`` -> ``start_point``), in order.
    """

    key: str
    stored: dict[str, str]

    def __call__(self, partition: Partition, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Return the partition's objects: ``entry``, ``subentry`` and the ``columns`` asked for (default: all)."""
        labels = list(self.stored) if columns is None else [label for label in columns if label in self.stored]
        needed = list(dict.fromkeys(self.stored[label] for label in labels)) or [next(iter(self.stored.values()))]
        with HDF5Reader(partition.path) as reader:
            frame = reader.arrays(self.key, partition.entry_start, partition.entry_stop, needed, library="pd")
        frame = frame.reset_index()
        frame["entry"] += partition.first_entry - partition.entry_start
        keep = ["entry", "subentry", *labels]
        if columns is not None:
            keep = [label for label in columns if label in keep]
        return frame[keep]


def dataframe(
    paths_or_glob: Paths, key: str, step_size: int | None = None, columns: Sequence[str] | None = None
) -> dd.DataFrame:
    """Return an object product's fixed columns as a ``dask.dataframe.DataFrame``, one partition per file or range.

    Parameters
    ----------
    paths_or_glob : str, path or sequence
        Files and glob patterns, as :class:`~spineh5.reader.HDF5Reader` takes them.
    key : str
        An object product.
    step_size : int, optional
        Entries per partition, within each file (default: one partition per file).
    columns : sequence of str, optional
        Stored fixed columns (default: every fixed column the schema knows).

    Returns
    -------
    dask.dataframe.DataFrame
        Columns ``entry``, ``subentry``, then the ``scalar_dict`` columns of
        the fixed columns; each partition has its own ``RangeIndex``. Equals
        ``HDF5Reader(paths).arrays(key, columns=fixed, library="pd").reset_index()``
        up to the index.
    """
    reader = _open(paths_or_glob, key, columns)
    with reader:
        spec = reader.spec(key, reader._first_file_with(key))
        if not spec.kind.holds_objects:
            raise DaskError(f"product {key!r} is not an object product ({spec.kind.value}): use from_files")
        stored = reader.arrays(key, 0, 0, library="np")[key][0].dtype
        fixed = [name for name in stored.names if stored.fields[name][0].kind != "O"]
        if columns is not None:
            variable = [name for name in columns if name not in fixed]
            if variable:
                raise DaskError(f"columns {', '.join(variable)} of {key!r} are not fixed columns: use from_files")
            fixed = list(columns)
        parts = _partitions(reader, step_size)
        meta = reader.arrays(key, 0, 0, fixed, library="pd").reset_index()
    roles = {column.name: column.role for column in getattr(spec_class(spec), "COLUMNS", ())}
    labels = {label: name for name in fixed for label in _labels(name, stored, roles.get(name))}
    if not parts:
        return dd.from_pandas(meta, npartitions=1)
    return dd.from_map(ReadFrame(key, labels), parts, meta=meta, label=f"spineh5-{key}", enforce_metadata=False)


def _labels(name: str, stored: np.dtype, role: str | None) -> list[str]:
    from .views.pandas_view import scalar_names

    shape = stored.fields[name][0].shape
    return scalar_names(name, shape[0], role) if shape else [name]
