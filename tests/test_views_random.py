"""Export and Dask over random productions (hypothesis): every view equals the reader it is built on.

Random productions of the every-case mix (empty entries, empty lists, vlen
fields, enums, strings; several files; either layout per file) are exported
to Parquet and CSV and scanned with ``spineh5.dask``; each result must equal,
entry by entry, what ``HDF5Reader.arrays`` returns for the same selection.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import awkward as ak
import dask
import numpy as np
import pandas as pd
from conftest import every_case_batch, write_every_case
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spineh5 import dask as spine_dask
from spineh5.reader import HDF5Reader
from spineh5.views import export

OBJECT_KEYS = ["reco_particles", "truth_interactions", "crthits"]
ANY_KEYS = [*OBJECT_KEYS, "clusts", "jag", "points", "name", "meta", "acc"]

_productions = st.lists(
    st.tuples(st.sampled_from([1, 2]), st.lists(st.integers(1, 4), min_size=1, max_size=2)),
    min_size=1,
    max_size=3,
)


def _write(folder: Path, files: list[tuple[int, list[int]]], first: int) -> list[str]:
    """Write the random production; each file's first entry follows pattern 0 (the writer decides types from it)."""
    paths, entry = [], first
    for number, (version, sizes) in enumerate(files):
        entry += -entry % 3
        batches = []
        for size in sizes:
            batches.append(every_case_batch(entry, size))
            entry += size
        paths.append(str(write_every_case(folder / f"f{number}.h5", batches, format_version=version)))
    return paths


def _entries(total: int, start: int | None, stop: int | None) -> tuple[int, int]:
    positions = range(total)[slice(start, stop)]
    return (positions.start, positions.stop) if len(positions) else (0, 0)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    files=_productions,
    first=st.integers(0, 3),
    key=st.sampled_from(ANY_KEYS),
    start=st.one_of(st.none(), st.integers(0, 6)),
    stop=st.one_of(st.none(), st.integers(0, 12)),
)
def test_parquet_export_equals_reader(files: Any, first: int, key: str, start: Any, stop: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        paths = _write(Path(folder), files, first)
        with HDF5Reader(paths) as reader:
            low, high = _entries(len(reader), start, stop)
            want = reader.arrays(key, entry_start=low, entry_stop=high)
        out = Path(folder) / "out.parquet"
        assert export(paths, key, out, entries=(low, high)) == high - low
        back = ak.from_parquet(out)
        assert back.entry.tolist() == list(range(low, high))
        assert ak.array_equal(back[key], want[key], equal_nan=True)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=_productions, first=st.integers(0, 3), key=st.sampled_from(OBJECT_KEYS))
def test_csv_export_equals_pandas_view(files: Any, first: int, key: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        paths = _write(Path(folder), files, first)
        with HDF5Reader(paths) as reader:
            want = reader.arrays(key, library="pd")
        out = Path(folder) / "out.csv"
        assert export(paths, key, out) == len(reader)
        got = pd.read_csv(out, index_col=["entry", "subentry"])
        assert list(got.columns) == list(want.columns) and got.index.equals(want.index)
        for name in want.columns:
            if want[name].dtype.kind in "fiub":
                np.testing.assert_allclose(
                    got[name].to_numpy(np.float64), want[name].to_numpy(np.float64), rtol=1e-6, equal_nan=True
                )
            else:  # an empty string reads back from CSV as NaN
                strings = got[name].astype(object).where(got[name].notna(), "").astype(str)
                assert strings.tolist() == want[name].astype(str).tolist(), name


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    files=_productions,
    first=st.integers(0, 3),
    key=st.sampled_from(ANY_KEYS),
    step=st.one_of(st.none(), st.integers(1, 3)),
)
def test_dask_scan_equals_reader(files: Any, first: int, key: str, step: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        paths = _write(Path(folder), files, first)
        with HDF5Reader(paths) as reader:
            want = reader.arrays(key)[key]
            total = len(reader)
        lazy = spine_dask.from_files(paths, key, step_size=step)
        assert lazy.divisions[-1] == total
        with dask.config.set(scheduler="sync"):
            got = lazy.compute()
            assert ak.array_equal(got, want, equal_nan=True)
            assert len(got) == total
            if key in OBJECT_KEYS:
                frame = spine_dask.dataframe(paths, key, step_size=step).compute().reset_index(drop=True)
                with HDF5Reader(paths) as reader:
                    expected = reader.arrays(key, library="pd").reset_index()
                assert {"entry", "subentry", "id"} <= set(frame.columns)
                assert list(frame.columns) == [c for c in expected.columns if c in frame.columns]
                pd.testing.assert_frame_equal(frame, expected[list(frame.columns)].reset_index(drop=True))
