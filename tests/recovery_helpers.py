"""What the recovery tests share: the writer a kill test runs and the checks of a recovered file."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import h5py
import pytest
from conftest import CFG, EVERY_CASE_KEYS, assert_same, every_case_batch

from spineh5 import HDF5Reader, HDF5Writer
from spineh5.errors import UnknownColumnsWarning
from spineh5.publishing import partial_path
from spineh5.recovery import RECOVERED
from spineh5.validation import is_sound, validate

#: Entries per batch of the written files.
BATCH = 3


def batches(count: int) -> list[dict[str, Any]]:
    """Return ``count`` deterministic batches of every storage case (entry ``i`` depends on ``i`` only)."""
    return [every_case_batch(BATCH * position, BATCH) for position in range(count)]


def writer_options(format_version: int, flush_frequency: int | None) -> dict[str, Any]:
    """Return the writer options of the recovery tests (every storage case, a dummy product)."""
    options: dict[str, Any] = {
        "keys": EVERY_CASE_KEYS,
        "dummy_ds": {"flashes": "Flash"},
        "format_version": format_version,
    }
    if flush_frequency is not None:
        options["flush_frequency"] = flush_frequency
    return options


def write(path: Path, count: int, format_version: int, finalize: bool = True) -> Path:
    """Write ``count`` batches to ``path`` (finalized, or left unfinished with ``close()``)."""
    writer = HDF5Writer(str(path), **writer_options(format_version, None))
    for batch in batches(count):
        writer(batch, cfg=CFG)
    writer.finalize() if finalize else writer.close()
    return path


def located(path: Path) -> Path:
    """Return the file a killed writer left: its partial file when there is one, else the final path."""
    partial = Path(partial_path(path))
    return partial if partial.exists() else path


#: The entries of each reference file read back, by path (the kill test compares with them many times).
_REFERENCE_ENTRIES: dict[str, tuple[Any, list[dict[str, Any]]]] = {}


def _reference_entries(reference: Path) -> tuple[Any, list[dict[str, Any]]]:
    key = os.fspath(reference)
    if key not in _REFERENCE_ENTRIES:
        with HDF5Reader(key) as want:
            _REFERENCE_ENTRIES[key] = (want.cfg, [want[entry] for entry in range(len(want))])
    return _REFERENCE_ENTRIES[key]


def assert_first_entries(recovered: Path, reference: Path, count: int) -> None:
    """The recovered file holds exactly the first ``count`` entries of ``reference``, field by field."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownColumnsWarning)
        cfg, wanted = _reference_entries(reference)
        with HDF5Reader(str(recovered)) as got:
            assert len(got) == count
            assert got.cfg == cfg
            for entry in range(count):
                x, y = got[entry], wanted[entry]
                assert x.keys() == y.keys(), entry
                for key in x:
                    assert_same(x[key], y[key], f"entry {entry}, {key!r}")


def assert_recovered(recovered: Path, reference: Path, count: int) -> dict[str, Any]:
    """The recovered file is sound, complete, holds the first ``count`` entries; return its ``info.recovered``."""
    problems = validate(recovered)
    assert is_sound(problems), [str(problem) for problem in problems]
    assert_first_entries(recovered, reference, count)
    with h5py.File(recovered, "r") as h5file:
        assert bool(h5file["info"].attrs["complete"])
        record = json.loads(h5file["info"].attrs[RECOVERED])
    assert record["entries_kept"] == count
    return record


def spine_reads(path: Path, count: int) -> None:
    """SPINE 0.14.1's reader opens a recovered V1 file, with its run map, and reads every entry."""
    spine_read = pytest.importorskip("spine.io.read")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = spine_read.HDF5Reader(file_keys=str(path), create_run_map=True)
        assert len(reader) == count
        for entry in range(count):
            assert reader[entry]["run_info"].event == entry


def file_bytes(path: Path) -> bytes:
    """Return a file's bytes (the input of a recovery must not change)."""
    return Path(os.fspath(path)).read_bytes()
