"""The input files of one :class:`~spineh5.reader.HDF5Reader`: which files, and how they are opened.

* :func:`resolve_paths`: the files named by paths, glob patterns, production
  manifests and folders (globs in natural order, ``f_2`` before ``f_10``;
  explicit lists keep their order; a manifest or a folder gives its shards in
  production order, :func:`spineh5.parallel.manifest.production_files`);
  :func:`resolve_production` also says whether they form a production;
* :func:`open_h5`: a read-only open that turns h5py's errors into
  :class:`~spineh5.errors.SpineFileError`;
* :class:`FileHandles`: the lazily opened files, each with its read layout
  (:func:`spineh5.layouts.read_layout`), least recently used ones closed,
  handles inherited through ``fork`` dropped, none pickled;
* :func:`select_entries`: the global entries a reader exposes;
* :func:`parse_cfg`: the YAML configuration stored in ``info.cfg``.
"""

from __future__ import annotations

import collections
import glob
import os
import re
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import h5py
import numpy as np
import yaml

from .errors import SpineFileError
from .file_lock import locked_problem
from .format.common import COMPLETE, FORMAT_VERSION, SCHEMA_VERSION, read_info
from .h5_errors import translated
from .layouts import ReadLayout, read_layout
from .open_problems import open_problem
from .publishing import partial_path

__all__ = ["OPEN_INFO", "FileHandles", "open_h5", "parse_cfg", "resolve_paths", "resolve_production", "select_entries"]


def _natural_key(path: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path)]


def resolve_paths(file_keys: str | os.PathLike | Sequence[str | os.PathLike]) -> list[str]:
    """Return the files named by a path, a glob pattern, a manifest, a folder, or a list of them.

    Raises
    ------
    FileNotFoundError
        When a path or pattern names no file.
    ValueError
        When no file is given.
    spineh5.parallel.manifest.ProductionError
        When a manifest lists incomplete shards, or a folder holds no ``*.h5`` file.
    """
    return resolve_production(file_keys)[0]


def resolve_production(file_keys: str | os.PathLike | Sequence[str | os.PathLike]) -> tuple[list[str], bool]:
    """Return the files :func:`resolve_paths` names, and whether a glob, a manifest or a folder named them.

    Files named that way form a production, whose shards must agree
    (:func:`spineh5.parallel.manifest.check_consistent`); an explicit list of
    files may mix products.
    """
    from .parallel.manifest import is_manifest, production_files

    if isinstance(file_keys, (str, os.PathLike)):
        file_keys = [file_keys]
    paths: list[str] = []
    production = False
    for file_key in file_keys:
        name = os.fspath(file_key)
        if os.path.isdir(name) or is_manifest(name):
            paths.extend(production_files(name))
            production = True
            continue
        if os.path.isfile(name):
            paths.append(name)
            continue
        production = True
        matches = sorted((path for path in glob.glob(name) if os.path.isfile(path)), key=_natural_key)
        if not matches:
            raise FileNotFoundError(f"no file matches {name!r}" + _unpublished(name))
        paths.extend(matches)
    if not paths:
        raise ValueError("no input file given")
    return paths, production


def _unpublished(path: str) -> str:
    """Return why a missing output file is missing when its partial exists (being written, or left by a kill)."""
    partial = partial_path(path)
    if not os.path.isfile(partial):
        return ""
    return (
        f" ({partial} exists: it is being written or its writer was killed; read it with ignore_incomplete=True, "
        "or publish it with spineh5 recover)"
    )


def open_h5(path: str) -> h5py.File:
    """Open a file read-only, turning h5py's errors into :class:`SpineFileError`.

    Its message says in one sentence why (:func:`spineh5.open_problems.open_problem`):
    ``truncated: 50.0 MB of 233.8 MB present``, ``not an HDF5 file (no HDF5
    signature)``, ``damaged HDF5 file: <HDF5's reason>``, or, for a file
    another process is writing, ``open for writing by another process (pid
    N); retry later, ...`` (:func:`spineh5.file_lock.locked_problem`).
    """
    try:
        return h5py.File(path, "r")
    except FileNotFoundError:
        raise
    except OSError as err:
        raise SpineFileError(locked_problem(path, err) or open_problem(path, err), path) from err


def parse_cfg(text: Any, path: str) -> Any:
    """Return the YAML configuration stored in ``info.cfg`` (None, with a warning, when unreadable)."""
    if text is None:
        return None
    if not isinstance(text, str):
        warnings.warn(f"{path}: info.cfg is not a string ({type(text).__name__}); cfg is None", stacklevel=3)
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        warnings.warn(f"{path}: info.cfg is not valid YAML ({err}); cfg is None", stacklevel=3)
        return None


def select_entries(total: int, entry_list: Sequence[int] | None, n_entry: int | None, n_skip: int | None) -> np.ndarray:
    """Return the global entries a reader exposes, in order.

    Raises
    ------
    ValueError
        For contradicting or out-of-range selections.
    """
    if entry_list is not None:
        if n_entry is not None or n_skip is not None:
            raise ValueError("entry_list cannot be combined with n_entry or n_skip")
        entries = np.asarray(entry_list)
        if entries.size and entries.dtype.kind not in "iu":
            raise ValueError(f"entry_list must hold integers, got {entries.dtype}")
        entries = entries.astype(np.int64).reshape(-1)
        bad = entries[(entries < 0) | (entries >= total)]
        if len(bad):
            raise ValueError(f"entry_list value {int(bad[0])} is out of range (the files hold {total} entries)")
        return entries
    skip = 0 if n_skip is None else int(n_skip)
    if skip < 0 or (n_entry is not None and n_entry < 0):
        raise ValueError("n_entry and n_skip must not be negative")
    count = total - skip if n_entry is None else int(n_entry)
    if skip + count > total:
        raise ValueError(f"n_skip={skip} and n_entry={count} reach past the {total} entries of the files")
    return np.arange(skip, skip + count, dtype=np.int64)


#: The ``info`` attributes read when a file is opened: its layout, whether it is complete, its schema version.
OPEN_INFO = (FORMAT_VERSION, COMPLETE, SCHEMA_VERSION)

#: Called with a file's :data:`OPEN_INFO` attributes (None without ``info``), its path and its position,
#: before its layout is chosen; raises to refuse the file.
_InfoCheck = Callable[[dict[str, Any] | None, str, int], None]


class FileHandles:
    """The open input files of a reader, each with its read layout, opened on first use.

    Parameters
    ----------
    paths : list of str
        The files, by position.
    max_open : int
        Files kept open at once (at least 1); the least recently used one is closed past it.
    """

    def __init__(self, paths: Sequence[str], max_open: int) -> None:
        self.paths = list(paths)
        self.max_open = max_open
        self._open: collections.OrderedDict[int, tuple[h5py.File, ReadLayout]] = collections.OrderedDict()
        self._pid = os.getpid()

    def layout(self, file_id: int, check: _InfoCheck | None = None) -> ReadLayout:
        """Return the read layout of a file, opening it (and closing the least recently used) as needed.

        ``check`` sees the file's :data:`OPEN_INFO` attributes when the file is opened (not when its
        handle is reused); the other ``info`` attributes are not read.
        """
        if os.getpid() != self._pid:
            self._open.clear()  # handles inherited through fork belong to the parent
            self._pid = os.getpid()
        cached = self._open.get(file_id)
        if cached is not None and cached[0].id.valid:
            self._open.move_to_end(file_id)
            return cached[1]
        path = self.paths[file_id]
        h5file = open_h5(path)
        try:
            info = read_info(h5file, path, OPEN_INFO)
            if check is not None:
                check(info, path, file_id)
            with translated(path):  # what a layout reads when it opens a damaged file
                layout = read_layout(h5file, path, info)
        except BaseException:
            h5file.close()
            raise
        self._open[file_id] = (h5file, layout)
        while len(self._open) > self.max_open:
            _, (old, _) = self._open.popitem(last=False)
            old.close()
        return layout

    def info(self, file_id: int) -> dict[str, Any] | None:
        """Return every ``info`` attribute of a file, through its open handle, else a handle opened for this read."""
        path = self.paths[file_id]
        cached = self._open.get(file_id) if os.getpid() == self._pid else None
        if cached is not None and cached[0].id.valid:
            return read_info(cached[0], path)
        h5file = open_h5(path)
        try:
            return read_info(h5file, path)
        finally:
            h5file.close()

    def __len__(self) -> int:
        """Return the number of files open now."""
        return len(self._open)

    def close(self) -> None:
        """Close every open file (they are reopened when used again)."""
        for h5file, _ in self._open.values():
            try:
                h5file.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
        self._open.clear()

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without open file handles (a copy reopens its files lazily)."""
        state = self.__dict__.copy()
        state["_open"] = collections.OrderedDict()
        return state
