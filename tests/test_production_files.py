"""A production as one view (manifest, folder, glob), ``merge`` and ``status``: no cluster needed.

Shards are written directly with HDF5Writer (every storage case of
:func:`conftest.every_case_batch`) or by :func:`spineh5.parallel.write_production`
on dask's synchronous scheduler.
"""

from __future__ import annotations

import json
from pathlib import Path

import dask
import dask.bag as db
import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import EVERY_CASE_KEYS, assert_same, every_case_batch, write_every_case

from spineh5 import HDF5Reader
from spineh5.cli import main
from spineh5.conversion import OutputExistsError
from spineh5.parallel import ProductionError, merge, production_status, write_production
from spineh5.parallel.merging import MERGED_FROM, MergeError
from spineh5.publishing import partial_path
from spineh5.validation import ERROR, validate

#: (first entry, entries) of each shard; triplets are (1, 0, entry), so unique across shards.
SHARDS = [(0, 3), (3, 2), (5, 4)]


def _shards(folder: Path, version: int = 1) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    return [
        str(write_every_case(folder / f"part_{i}.h5", [every_case_batch(start, n)], format_version=version))
        for i, (start, n) in enumerate(SHARDS)
    ]


def _unfinished(path: Path) -> str:
    """Write a 2-entry shard marked incomplete, as a writer that did not finish leaves it in place.

    (An atomic writer leaves only a hidden partial file; ``info.complete`` is then set back to False by hand, so
    the shard looks the same whichever writer made it.)
    """
    write_every_case(path, [every_case_batch(9, 2)], format_version=1)
    with h5py.File(path, "r+") as h5file:
        h5file["info"].attrs["complete"] = np.bool_(False)
    return str(path)


def _same_entries(left, right) -> None:
    with HDF5Reader(left) as a, HDF5Reader(right) as b:
        assert len(a) == len(b) == sum(n for _, n in SHARDS)
        assert sorted(a.keys) == sorted(b.keys)
        for position in range(len(a)):
            x, y = a[position], b[position]
            for key in x.keys() - {"file_index", "file_entry_index"}:
                assert_same(x[key], y[key], f"entry {position}, {key!r}")
            assert a.raw(position, "index") == b.raw(position, "index")


def _run(*args) -> object:
    return CliRunner().invoke(main, [str(arg) for arg in args])


@pytest.mark.parametrize(("source", "target"), [(1, 1), (1, 2), (2, 1), (2, 2)])
def test_merge_round_trips(tmp_path: Path, source: int, target: int) -> None:
    shards = _shards(tmp_path / "in", source)
    out = tmp_path / "merged.h5"
    result = merge(out, shards, format_version=target)
    assert result.entries == 9 and result.shards == tuple(shards) and result.format_version == target
    assert [problem for problem in validate(out) if problem.severity == ERROR] == []
    _same_entries(str(out), shards)
    with HDF5Reader(str(out)) as reader:
        assert reader.format_version == target
        assert json.loads(reader.info[MERGED_FROM]) == shards


def test_merge_cli_from_a_manifest(tmp_path: Path) -> None:
    batches = [every_case_batch(start, n) for start, n in SHARDS]
    with dask.config.set(scheduler="sync"):
        write_production(db.from_sequence(batches, npartitions=3), tmp_path / "prod", keys=EVERY_CASE_KEYS)
    manifest = tmp_path / "prod" / "production.json"
    done = _run("merge", tmp_path / "m.h5", "--manifest", manifest, "--format-version", "2")
    assert done.exit_code == 0, done.output
    assert "merged 9 entries of 3 shards" in done.output and "(V2)" in done.output
    _same_entries(str(tmp_path / "m.h5"), str(manifest))
    with HDF5Reader(str(manifest)) as reader, HDF5Reader(str(tmp_path / "m.h5")) as merged:
        chunks = list(reader.iterate("nhits", step_size=4))  # chunks cross shard boundaries
        assert [(chunk.entry_start, chunk.entry_stop, len(chunk.data["nhits"])) for chunk in chunks] == [
            (0, 4, 4),
            (4, 8, 4),
            (8, 9, 1),
        ]
        values = [value for chunk in chunks for value in chunk.data["nhits"].tolist()]
        assert values == merged.arrays("nhits")["nhits"].tolist() == list(range(1, 10))
    again = _run("merge", tmp_path / "m.h5", "--manifest", manifest)
    assert again.exit_code == 1 and "exists; pass --overwrite" in again.output
    assert _run("merge", tmp_path / "m.h5").exit_code == 2  # neither shards nor a manifest


def test_merge_refuses_incomplete_shards_unless_allowed(tmp_path: Path) -> None:
    shards = _shards(tmp_path / "in")
    shards.append(_unfinished(tmp_path / "in" / "part_3.h5"))
    with pytest.raises(MergeError, match=r"shards part_3.h5 are not complete"):
        merge(tmp_path / "m.h5", shards)
    assert not (tmp_path / "m.h5").exists()
    result = merge(tmp_path / "m.h5", shards, allow_incomplete=True)
    assert result.entries == 11


def test_merge_refuses_mismatched_products_unless_allowed(tmp_path: Path) -> None:
    shards = _shards(tmp_path / "in")
    fewer = [key for key in EVERY_CASE_KEYS if key != "crthits"]
    write_every_case(
        tmp_path / "in" / "part_1.h5", [every_case_batch(3, 2)], format_version=1, keys=fewer, overwrite=True
    )
    with pytest.raises(MergeError, match=r"different products: part_0.h5, part_2.h5: .*crthits.*; part_1.h5: "):
        merge(tmp_path / "m.h5", shards)
    result = merge(tmp_path / "m.h5", shards, allow_mismatch=True)
    assert result.notes == ("products not in every shard, left out: crthits",)
    with HDF5Reader(str(tmp_path / "m.h5")) as reader:
        assert "crthits" not in reader.keys and len(reader) == 9


def test_merge_refuses_duplicate_triplets_unless_allowed(tmp_path: Path) -> None:
    shards = _shards(tmp_path / "in")
    twice = [shards[0], shards[1], shards[0]]
    with pytest.raises(
        MergeError,
        match=r"3 \(run, subrun, event\) triplets repeat, first \(1, 0, 0\) "
        r"\(entry 0 of shard 0 \(part_0.h5\), entry 0 of shard 2 \(part_0.h5\)\)",
    ):
        merge(tmp_path / "m.h5", twice)
    assert merge(tmp_path / "m.h5", twice, allow_duplicates=True).entries == 8
    with pytest.raises(OutputExistsError):
        merge(tmp_path / "m.h5", shards)


def test_reader_opens_a_production_and_refuses_mismatched_shards(tmp_path: Path) -> None:
    shards = _shards(tmp_path / "in")
    _same_entries(str(tmp_path / "in"), shards)  # a folder without a manifest: its *.h5 files in natural order
    with h5py.File(shards[2], "r+") as h5file:
        h5file["info"].attrs["schema_version"] = 999
    with pytest.raises(
        ProductionError,
        match=r"different schemas: part_0.h5, part_1.h5: schema version \d+; "
        r"part_2.h5: schema version 999",
    ):
        HDF5Reader(str(tmp_path / "in" / "part_*.h5"))
    fewer = [key for key in EVERY_CASE_KEYS if key != "name"]
    write_every_case(
        tmp_path / "in" / "part_1.h5", [every_case_batch(3, 2)], format_version=1, keys=fewer, overwrite=True
    )
    with pytest.raises(ProductionError, match=r"different products: part_0.h5, part_2.h5: .*; part_1.h5: "):
        HDF5Reader(str(tmp_path / "in"))
    with HDF5Reader(shards) as reader:  # an explicit list may mix products, as before
        assert len(reader) == 9


def test_status_of_a_folder_and_of_a_manifest(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    _shards(folder)
    _unfinished(folder / "part_3.h5")
    Path(partial_path(folder / "part_4.h5")).write_bytes(b"being written")
    (folder / "part_5.h5").write_bytes(b"not hdf5")
    status = production_status(folder)
    assert [(Path(s.path).name, s.state) for s in status.shards] == [
        ("part_0.h5", "complete"),
        ("part_1.h5", "complete"),
        ("part_2.h5", "complete"),
        ("part_3.h5", "incomplete"),
        ("part_4.h5", "incomplete"),
        ("part_5.h5", "invalid"),
    ]
    assert status.entries == 9
    shown = _run("status", folder)
    assert shown.exit_code == 1  # shards are not complete
    assert "6 shards: 3 complete, 0 missing, 2 incomplete, 1 invalid" in shown.output
    assert "entries in complete shards: 9" in shown.output

    batches = [every_case_batch(start, n) for start, n in SHARDS]
    with dask.config.set(scheduler="sync"):
        write_production(
            db.from_sequence(batches, npartitions=3), tmp_path / "prod", inputs=["a.root", "b.root", "c.root"]
        )
    complete = _run("status", tmp_path / "prod")
    assert complete.exit_code == 0 and "3 shards: 3 complete, 0 missing" in complete.output
    (tmp_path / "prod" / "shard_00001.h5").unlink()
    shown = _run("status", tmp_path / "prod" / "production.json")
    assert "3 shards: 2 complete, 1 missing, 0 incomplete, 0 invalid" in shown.output
    assert "missing     shard_00001.h5: its file is gone (it was recorded complete) [inputs: b.root]" in shown.output
    assert shown.exit_code == 1
    resubmit = _run("status", tmp_path / "prod", "--resubmit")
    assert (resubmit.output, resubmit.exit_code) == ("b.root\n", 0)
