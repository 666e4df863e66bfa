"""Shared test material: fixture paths and the helpers more than one test module uses.

Test modules import the helpers from here (``from conftest import ...``) instead of from each other.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from spineh5 import HDF5Reader, HDF5Writer
from spineh5.errors import UnknownColumnsWarning
from spineh5.generated import CRTHit, ImageMeta3D, Particle, RecoParticle, RunInfo, TruthInteraction

#: Copied fixtures (see tests/data/README.md): files written by SPINE's own writer and their decoded content.
DATA = Path(__file__).parent / "data"
FULL = DATA / "spine_f31056c8.h5"
LITE = DATA / "spine_f31056c8_lite.h5"
HEAD_V1 = DATA / "spine_head_v1.h5"
HEAD_V2 = DATA / "spine_head_v2.h5"
#: Every HDF5 file in tests/data.
FIXTURE_FILES = sorted(DATA.glob("*.h5"))

CFG = {"base": {"iterations": 1}}
#: The products of :func:`every_case_batch` (every storage case, A-G of the V2 spec).
EVERY_CASE_KEYS = [
    "loss",
    "tag",
    "acc",
    "nhits",
    "flag",
    "name",
    "run_info",
    "meta",
    "points",
    "seg",
    "clusts",
    "jag",
    "reco_particles",
    "truth_interactions",
    "crthits",
]
NAMES = ["a", "bé", ""]


def reco_particle(ident: int, n_index: int) -> RecoParticle:
    return RecoParticle(
        id=ident,
        index=np.arange(n_index, dtype=np.int32),
        match_ids=np.array([ident], np.int32),
        match_overlaps=np.array([0.5], np.float32),
    )


def every_case_batch(start: int = 0, n: int = 3) -> dict[str, Any]:
    """Return ``n`` entries of every storage case; entry ``i`` follows the pattern of ``i % 3``.

    Pattern 1 has every list empty (objects, arrays, flat list, jagged positions).
    """
    entries = list(range(start, start + n))
    sizes = [2, 0, 1]
    return {
        "index": np.arange(start, start + n),
        "file_index": [0] * n,
        "file_entry_index": [100 + i for i in entries],
        "loss": 0.5,
        "tag": "run-A",
        "acc": [0.1 * (i + 1) for i in entries],
        "nhits": [np.int32(i + 1) for i in entries],
        "flag": [i % 2 == 0 for i in entries],
        "name": [NAMES[i % 3] for i in entries],
        "run_info": [RunInfo(run=1, subrun=0, event=i) for i in entries],
        "meta": [
            ImageMeta3D(lower=np.zeros(3), upper=np.full(3, 10.0), size=np.ones(3), count=[10] * 3) for _ in entries
        ],
        "points": [np.full((sizes[i % 3], 3), i, np.float32) for i in entries],
        "seg": [np.arange(sizes[i % 3], dtype=np.int64) + i for i in entries],
        "clusts": [[[np.arange(3) + i, np.arange(2)], [], [np.arange(1)]][i % 3] for i in entries],
        "jag": [
            [
                [np.ones((2, 2)) * i, np.arange(3.0)],
                [np.empty((0, 2)), np.arange(1.0)],
                [np.zeros((1, 2)), np.empty(0)],
            ][i % 3]
            for i in entries
        ],
        "reco_particles": [
            [[reco_particle(i, 3), reco_particle(i + 1, 0)], [], [reco_particle(i, 1)]][i % 3] for i in entries
        ],
        "truth_interactions": [
            [TruthInteraction(id=i, index=np.array([4, 5], np.int32), topology="1p")] if i % 3 == 0 else []
            for i in entries
        ],
        "crthits": [
            [CRTHit(id=i, tagger="top", feb_id=np.array([1, 2], np.uint8))] if i % 3 != 1 else [] for i in entries
        ],
    }


def write_every_case(path: Path, batches: list[dict], format_version: int = 2, **options: Any) -> Path:
    options.setdefault("keys", EVERY_CASE_KEYS)
    options.setdefault("dummy_ds", {"flashes": "Flash"})
    with HDF5Writer(str(path), format_version=format_version, **options) as writer:
        for batch in batches:
            writer(batch, cfg=CFG)
    return path


# -- SPINE's own V2 reader and writer (only where SPINE >= 1.4 is installed: `nox -s spine_v2`) ----------------


def spine_v2_reader() -> Any:
    """Return SPINE's own ``HDF5Reader`` class; skip the test unless SPINE >= 1.4 is installed."""
    # CI's cross-check step sets SPINEH5_REQUIRE_SPINE_V2=1: there a missing SPINE >= 1.4 fails instead of skipping.
    give_up = pytest.fail if os.environ.get("SPINEH5_REQUIRE_SPINE_V2") == "1" else pytest.skip
    try:
        import spine
    except ImportError:
        give_up("SPINE is not installed")
    version = tuple(int(part) for part in spine.__version__.split(".")[:2] if part.isdigit())
    if version < (1, 4):
        give_up(f"SPINE {spine.__version__} has no V2 layout (needs >= 1.4)")
    from spine.io.read import HDF5Reader as SpineReader

    return SpineReader


def spine_plain(value: Any) -> Any:
    """SPINE's values as comparable plain data (objects by their dataclass fields, bytes decoded)."""
    if hasattr(value, "__dataclass_fields__"):
        return (type(value).__name__, {name: spine_plain(getattr(value, name)) for name in value.__dataclass_fields__})
    if isinstance(value, (list, tuple)):
        return [spine_plain(item) for item in value]
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return [spine_plain(item) for item in value]
        return (
            value.dtype.str,
            value.shape,
            np.nan_to_num(value.astype(float) if value.dtype.kind == "f" else value).tolist(),
        )
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8")
    if isinstance(value, float) and np.isnan(value):
        return "nan"
    if isinstance(value, np.generic):
        return spine_plain(value.item())
    return value


def spine_v2_file(path: Path) -> Path:
    """Write a V2 file of every storage case with SPINE's own writer (SPINE >= 1.4), including an empty entry."""
    spine_v2_reader()
    from spine.data import ObjectList, RunInfo
    from spine.data.out import RecoParticle as SpineRecoParticle
    from spine.io.write import HDF5Writer as SpineWriter

    data = {
        "index": [0, 1, 2],
        "run_info": [RunInfo(run=1, subrun=0, event=i) for i in range(3)],
        "reco_particles": [
            [SpineRecoParticle(id=0, index=np.arange(3, dtype=np.int32))],
            ObjectList([], SpineRecoParticle()),
            [SpineRecoParticle(id=1)],
        ],
        "points": [np.ones((2, 3), np.float32), np.empty((0, 3), np.float32), np.zeros((1, 3), np.float32)],
        "name": ["a", "bé", ""],
        "clusts": [[np.arange(3), np.arange(2)], ObjectList([], np.empty(0, np.int64)), [np.arange(1)]],
        "jag": [[np.ones((2, 2)), np.arange(3.0)], [np.empty((0, 2)), np.arange(1.0)], [np.zeros((1, 2)), np.empty(0)]],
    }
    writer = SpineWriter(file_name=str(path), format_version=2)
    writer(data, cfg={"spine": {"v2": True}})
    writer.finalize()
    return path


# -- a good batch of every storage case, and a comparable snapshot of a file (writer error tests) ----------


def good_batch(i0: int, n: int = 3) -> dict:
    ids = list(range(i0, i0 + n))
    return {
        "index": ids,
        "acc": [i / 4 for i in ids],
        "count": [i * 2 for i in ids],
        "name": [f"n{i}" for i in ids],
        "flag": [bool(i % 2) for i in ids],
        "run_info": [RunInfo(run=1, event=i) for i in ids],
        "parts": [[RecoParticle(id=j, index=np.arange(j, dtype=np.int32)) for j in range(i % 3)] for i in ids],
        "truth": [[Particle(id=i)] for i in ids],
        "data": [np.full((i % 3, 4), float(i)) for i in ids],
        "seg": [np.arange(i % 4, dtype=np.int64) for i in ids],
        "clusts": [[np.arange(k + 1, dtype=np.int64) for k in range(i % 2 + 1)] for i in ids],
        "points": [[np.full((2, 3), i, np.float32)] for i in ids],
        "jag": [[np.full((i % 2, 2), float(i)), np.arange(float(i % 3))] for i in ids],
    }


# -- what the file holds --------------------------------------------------------------------------------------


def _canon(value, f: h5py.File):
    """A comparable form of anything h5py returns (region references as their target and selection)."""
    if isinstance(value, h5py.RegionReference):
        space = h5py.h5r.get_region(value, f.id)
        none = space.get_select_type() == h5py.h5s.SEL_NONE
        return ("ref", h5py.h5r.get_name(value, f.id), None if none else space.get_select_bounds())
    if isinstance(value, np.void):
        return tuple(_canon(v, f) for v in value)
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, [_canon(v, f) for v in value.ravel().tolist()])
    if isinstance(value, (float, np.floating)) and value != value:
        return "nan"
    return value


def snapshot(path) -> dict:
    """Every object of the file: its attributes, and for datasets shape, dtype and content."""
    out = {}
    with h5py.File(path, "r") as f:

        def visit(name, node):
            attrs = {key: _canon(node.attrs[key], f) for key in node.attrs}
            if isinstance(node, h5py.Dataset):
                rows = node[()]
                plain = node.dtype.names is None and node.dtype != object
                content = rows.tolist() if plain else [_canon(row, f) for row in rows]
                out[name] = (node.shape, node.dtype.descr, attrs, content)
            else:
                out[name] = attrs

        f.visititems(visit)
        out["/"] = {key: _canon(f.attrs[key], f) for key in f.attrs}
    return out


# -- two files read back the same -------------------------------------------------------------------------


def assert_same(a: Any, b: Any, where: str) -> None:
    """Values read back from two files are identical: types, dtypes, shapes, NaN equal to NaN; objects by ==."""
    if hasattr(a, "COLUMNS"):
        assert type(a) is type(b) and a == b, where
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape, (where, a, b)
        if a.dtype.kind == "O":
            for position, (x, y) in enumerate(zip(a.ravel(), b.ravel())):
                assert_same(x, y, f"{where}[{position}]")
        else:
            assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), where
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), (where, a, b)
        for position, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{position}]")
    else:
        assert type(a) is type(b), (where, type(a), type(b))
        if isinstance(a, (float, np.floating)) and math.isnan(a):
            assert math.isnan(b), where
        else:
            assert a == b, (where, a, b)


def assert_same_content(left: Path, right: Path) -> None:
    """Both files read back to the same entries, key by key, and the same cfg."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownColumnsWarning)
        with HDF5Reader(str(left)) as a, HDF5Reader(str(right)) as b:
            assert len(a) == len(b)
            assert a.cfg == b.cfg
            assert sorted(a.keys) == sorted(b.keys)
            for position in range(len(a)):
                x, y = a[position], b[position]
                assert x.keys() == y.keys(), position
                for key in x:
                    assert_same(x[key], y[key], f"entry {position}, {key!r}")
            stored = {"index": [a.raw(i, "index") for i in range(len(a))]}
            assert [b.raw(i, "index") for i in range(len(b))] == stored["index"]
