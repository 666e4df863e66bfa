"""spineh5.recover and `spineh5 recover` on hand-crafted unfinished files (V1 and V2), and validate's one finding."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from recovery_helpers import assert_recovered, file_bytes, spine_reads, write

from spineh5 import SpineH5Error, recover
from spineh5.cli import main
from spineh5.publishing import partial_path
from spineh5.recovery import RecoveryError
from spineh5.validation import validate


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """A finished file of 4 batches (12 entries) per layout: what the unfinished files started as."""
    folder = tmp_path_factory.mktemp("reference")
    return {version: write(folder / f"v{version}.h5", 4, version) for version in (1, 2)}


def _unfinished(reference: Path, path: Path, entries: int) -> Path:
    """A copy of ``reference`` whose ``events`` holds ``entries`` rows (product rows past it), not complete."""
    shutil.copyfile(reference, path)
    with h5py.File(path, "r+") as h5file:
        events = h5file["events"]
        events.resize(entries, axis=0)  # longer: V1 null references, V2 rows of 0
        h5file["info"].attrs["complete"] = np.bool_(False)
    return path


def _only_finding(path: Path) -> None:
    """validate reports the leftovers as one unfinished-batch finding and nothing else."""
    problems = validate(path)
    assert [problem.rule for problem in problems] == ["file.unfinished_batch"], [str(p) for p in problems]
    assert "spineh5 recover" in problems[0].message


@pytest.mark.parametrize("version", [1, 2])
def test_product_rows_past_events(tmp_path: Path, reference: dict[int, Path], version: int) -> None:
    source = _unfinished(reference[version], tmp_path / "killed.h5", 7)
    before = file_bytes(source)
    _only_finding(source)
    report = recover(source, out=tmp_path / "fixed.h5")
    assert (report.entries_found, report.entries_kept) == (7, 7)
    assert report.rows_trimmed["run_info"] == (5 if version == 1 else 10)  # V2: 5 rows and 5 offsets
    assert "events" not in report.rows_trimmed
    record = assert_recovered(tmp_path / "fixed.h5", reference[version], 7)
    assert record["rows_trimmed"] == report.rows_trimmed and record["tool"].startswith("spineh5 ")
    assert file_bytes(source) == before
    if version == 1:
        spine_reads(tmp_path / "fixed.h5", 7)


def test_v1_trailing_null_references(tmp_path: Path, reference: dict[int, Path]) -> None:
    source = _unfinished(reference[1], tmp_path / "killed.h5", 14)
    before = file_bytes(source)
    _only_finding(source)
    report = recover(source, out=tmp_path / "fixed.h5")
    assert (report.entries_found, report.entries_kept, report.rows_trimmed) == (14, 12, {"events": 2})
    assert_recovered(tmp_path / "fixed.h5", reference[1], 12)
    assert file_bytes(source) == before
    spine_reads(tmp_path / "fixed.h5", 12)


def test_v1_reference_past_its_dataset(tmp_path: Path, reference: dict[int, Path]) -> None:
    """A product shorter than the references of the last batch: those entries go, the others stay."""
    source = _unfinished(reference[1], tmp_path / "killed.h5", 12)
    with h5py.File(source, "r+") as h5file:
        h5file["run_info"].resize(10, axis=0)
    rules = {problem.rule for problem in validate(source)}  # references past their dataset: damage, named as such
    assert "file.unfinished_batch" not in rules and "ref.outside" in rules
    report = recover(source, out=tmp_path / "fixed.h5")
    assert report.entries_kept == 10
    assert_recovered(tmp_path / "fixed.h5", reference[1], 10)


def test_v2_offsets_past_the_pool(tmp_path: Path, reference: dict[int, Path]) -> None:
    """Offsets past their values, object rows whose pool offsets are unwritten (0): recover keeps the whole entries."""
    source = _unfinished(reference[2], tmp_path / "killed.h5", 12)
    with h5py.File(source, "r+") as h5file:
        events = h5file["events"]
        events.resize(13, axis=0)
        events[12] = 12
        seg = h5file["products/seg/event_offsets"]
        seg.resize(15, axis=0)  # entry 12 ends past seg's values; a boundary past the last entry
        seg[13:] = [seg[12] + 10**6, seg[12] + 2 * 10**6]
        fixed = h5file["products/reco_particles/fixed"]
        fixed.resize(fixed.shape[0] + 2, axis=0)  # rows of 0: their pool offsets go back to 0
        offsets = h5file["products/reco_particles/event_offsets"]
        offsets.resize(14, axis=0)
        offsets[13] = fixed.shape[0]
    before = file_bytes(source)
    rules = {problem.rule for problem in validate(source)}  # offsets past their values: damage, named as such
    assert "file.unfinished_batch" not in rules and "info.incomplete" in rules and len(rules) > 1
    report = recover(source, out=tmp_path / "fixed.h5")
    assert (report.entries_found, report.entries_kept) == (13, 12)
    assert report.rows_trimmed["reco_particles"] == 3 and report.rows_trimmed["seg"] == 2
    assert_recovered(tmp_path / "fixed.h5", reference[2], 12)
    assert file_bytes(source) == before


def test_v2_events_rows_never_written(tmp_path: Path, reference: dict[int, Path]) -> None:
    source = _unfinished(reference[2], tmp_path / "killed.h5", 15)  # rows 12-14 hold 0, products end at 12
    report = recover(source, out=tmp_path / "fixed.h5")
    assert (report.entries_kept, report.rows_trimmed) == (12, {"events": 3})
    assert_recovered(tmp_path / "fixed.h5", reference[2], 12)


@pytest.mark.parametrize("version", [1, 2])
def test_in_place_and_partial_names(tmp_path: Path, reference: dict[int, Path], version: int) -> None:
    final = tmp_path / "run.h5"
    partial = Path(partial_path(final))
    _unfinished(reference[version], partial, 5)
    report = recover(final)  # a final path whose partial file exists: the partial file, to the final name
    assert (Path(report.source), Path(report.out), report.entries_kept) == (partial, final, 5)
    assert partial.exists()  # not in place: the partial file is left as it was
    assert_recovered(final, reference[version], 5)
    with pytest.raises(RecoveryError, match="exists"):
        recover(partial)
    final.unlink()
    recover(partial, in_place=True)
    assert not partial.exists()
    assert_recovered(final, reference[version], 5)
    again = recover(final, in_place=True)  # a sound file: nothing to trim
    assert (again.entries_kept, again.rows_trimmed, again.was_complete) == (5, {}, True)


def test_refusals_are_spineh5_errors(tmp_path: Path, reference: dict[int, Path]) -> None:
    not_hdf5 = tmp_path / "junk.h5"
    not_hdf5.write_bytes(b"not an HDF5 file" * 10)
    with pytest.raises(RecoveryError, match="cannot be recovered") as caught:
        recover(not_hdf5, out=tmp_path / "out.h5")
    assert isinstance(caught.value, SpineH5Error)
    assert not (tmp_path / "out.h5").exists()
    with pytest.raises(RecoveryError, match="--out"):
        recover(reference[1])
    with pytest.raises(RecoveryError, match="not both"):
        recover(reference[1], out=tmp_path / "x.h5", in_place=True)
    with h5py.File(tmp_path / "empty.h5", "w") as h5file:
        h5file.create_group("info")
    with pytest.raises(RecoveryError, match="no 'events'"):
        recover(tmp_path / "empty.h5", out=tmp_path / "out.h5")


def test_cli(tmp_path: Path, reference: dict[int, Path]) -> None:
    source = _unfinished(reference[1], tmp_path / "killed.h5", 14)
    runner = CliRunner()
    result = runner.invoke(main, ["recover", str(source), "--out", str(tmp_path / "fixed.h5")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("recovered 12 of 14 entries (V1)") and result.output.count("\n") == 1
    result = runner.invoke(main, ["recover", str(source)])
    assert result.exit_code == 1 and result.output.count("\n") == 1 and "--in-place" in result.output
    (tmp_path / "junk.h5").write_bytes(b"junk")
    result = runner.invoke(main, ["recover", str(tmp_path / "junk.h5"), "-o", str(tmp_path / "o.h5")])
    assert result.exit_code == 1 and result.output.count("\n") == 1 and "cannot be recovered" in result.output
    result = runner.invoke(main, ["validate", str(source)])
    assert result.exit_code == 1 and "file.unfinished_batch" in result.output and "ref.null" not in result.output


def test_validate_keeps_reporting_damage_of_the_whole_entries(tmp_path: Path, reference: dict[int, Path]) -> None:
    """The checks after the finding still see what is wrong with the kept entries (here: no cfg)."""
    source = _unfinished(reference[1], tmp_path / "killed.h5", 14)
    with h5py.File(source, "r+") as h5file:
        del h5file["info"].attrs["cfg"]
    rules = [problem.rule for problem in validate(source)]
    assert rules == ["file.unfinished_batch", "info.cfg.missing"]
