"""``spineh5.compare`` and ``spineh5 compare``: same events across layouts and productions, planted differences."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import HEAD_V1, HEAD_V2, every_case_batch, write_every_case

import spineh5
from spineh5 import CompareError, HDF5Reader
from spineh5.cli import main
from spineh5.comparison import RUNTIME_KEYS, Tolerance, format_report
from spineh5.comparison.values import compare_arrays, compare_column


def run(*args: str | Path):
    return CliRunner().invoke(main, ["compare", *(str(arg) for arg in args)])


def batches() -> list[dict[str, Any]]:
    return [every_case_batch(0, 3), every_case_batch(3, 3)]


def write(path: Path, data: list[dict[str, Any]] | None = None, format_version: int = 1, **options: Any) -> Path:
    return write_every_case(path, batches() if data is None else data, format_version=format_version, **options)


def assert_one_line_error(result, text: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert text in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


# -- identical ----------------------------------------------------------------------------------------------


def test_the_same_batches_compare_equal_across_layouts(tmp_path: Path) -> None:
    v1, v2 = write(tmp_path / "v1.h5"), write(tmp_path / "v2.h5", format_version=2)
    result = spineh5.compare(v1, v2)
    assert result.identical and bool(result)
    assert result.format_versions == (1, 2)
    assert result.entries == 6 and result.run_info and result.event_mismatches == 0
    assert "reco_particles" in result.products and "jag" in result.products and "tag" in result.products
    assert all(product.entries == 6 for product in result.products.values())
    assert result.skipped == ["index", "source_file_entry_index", "source_file_index"]
    cli = run(v1, v2)
    assert cli.exit_code == 0, cli.output
    assert "identical: " in cli.output and "DIFFERENT" not in cli.output
    assert "skipped (runtime provenance" in cli.output and "source_file_index" in cli.output


def test_spine_head_v1_and_v2_fixtures_hold_the_same_events() -> None:
    result = spineh5.compare(HEAD_V1, HEAD_V2)
    assert result.identical, format_report(result)
    assert len(result.products) == 17
    assert set(result.skipped) == set(RUNTIME_KEYS)
    assert result.products["reco_particles"].entries == 6
    cli = run(HEAD_V1, HEAD_V2)
    assert cli.exit_code == 0, cli.output


def test_provenance_is_compared_when_named(tmp_path: Path) -> None:
    a = write(tmp_path / "a.h5")
    data = batches()
    for batch in data:
        batch["file_entry_index"] = [200 + i for i in batch["index"]]
    b = write(tmp_path / "b.h5", data)
    assert spineh5.compare(a, b).identical
    named = spineh5.compare(a, b, keys=["source_file_entry_index", "points"])
    assert not named.identical
    assert list(named.products) == ["points", "source_file_entry_index"] and named.skipped == []
    assert named.products["source_file_entry_index"].differing_entries == 6


# -- planted differences ----------------------------------------------------------------------------------


def test_a_planted_value_is_found_in_the_right_product_entry_object_and_field(tmp_path: Path) -> None:
    a = write(tmp_path / "a.h5")
    data = batches()
    data[1]["reco_particles"][0][1].length = 12.5  # entry 3, object 1
    b = write(tmp_path / "b.h5", data, format_version=2)
    result = spineh5.compare(a, b)
    assert not result.identical
    assert [product.key for product in result.differing] == ["reco_particles"]
    product = result.products["reco_particles"]
    assert (product.count, product.differing_entries) == (1, 1)
    (difference,) = product.shown
    assert (difference.entry, difference.event, difference.item, difference.field) == (
        3,
        (1, 0, 3),
        "object 1",
        "length",
    )
    assert (difference.a, difference.b) == ("nan", "12.5")
    cli = run(a, b)
    assert cli.exit_code == 1
    assert "reco_particles, entry 3 (run 1 subrun 0 event 3), object 1, field length: nan vs 12.5" in cli.output
    assert "DIFFERENT: 1 of " in cli.output


def test_one_float_edited_with_h5py_in_a_copy_of_a_spine_file(tmp_path: Path) -> None:
    copy = tmp_path / "edited.h5"
    shutil.copyfile(HEAD_V1, copy)
    with HDF5Reader(HEAD_V1) as reader:
        _, offsets = reader.table("reco_particles")
    row = int(offsets[2]) + 1  # SPINE writes the rows in entry order: entry 2, object 1
    with h5py.File(copy, "r+") as h5file:
        dataset = h5file["reco_particles"]
        rows = dataset[row : row + 1]
        before = float(rows["calo_ke"][0])
        rows["calo_ke"] = before + 1.0
        dataset[row : row + 1] = rows
    result = spineh5.compare(HEAD_V2, copy)
    assert [product.key for product in result.differing] == ["reco_particles"]
    (difference,) = result.products["reco_particles"].shown
    assert (difference.entry, difference.item, difference.field) == (2, "object 1", "calo_ke")
    assert float(difference.b) == pytest.approx(before + 1.0)
    assert result.products["reco_particles"].max_abs == pytest.approx(1.0)
    assert run(HEAD_V2, copy).exit_code == 1


def test_object_counts_arrays_lists_strings_and_enums_are_located(tmp_path: Path) -> None:
    a = write(tmp_path / "a.h5")
    data = batches()
    data[0]["crthits"][2] = []  # entry 2: one object less
    data[0]["points"][0] = data[0]["points"][0] + np.array([0, 0, 1], np.float32)  # entry 0, row 0 and 1
    data[1]["clusts"][0][1] = np.array([0, 7])  # entry 3, item 1
    data[0]["name"][1] = "changed"  # entry 1
    data[0]["reco_particles"][2][0].shape = "track"  # entry 2, object 0
    b = write(tmp_path / "b.h5", data, format_version=2)
    result = spineh5.compare(a, b)
    lines = {product.key: [item.line() for item in product.shown] for product in result.differing}
    assert lines == {
        "clusts": ["clusts, entry 3 (run 1 subrun 0 event 3), item 1: [0, 1] vs [0, 7]"],
        "crthits": ["crthits, entry 2 (run 1 subrun 0 event 2): 1 object vs 0 objects"],
        "name": ["name, entry 1 (run 1 subrun 0 event 1): 'bé' vs 'changed'"],
        "points": [
            "points, entry 0 (run 1 subrun 0 event 0), row 0: [0., 0., 0.] vs [0., 0., 1.]",
            "points, entry 0 (run 1 subrun 0 event 0), row 1: [0., 0., 0.] vs [0., 0., 1.]",
        ],
        "reco_particles": [
            "reco_particles, entry 2 (run 1 subrun 0 event 2), object 0, field shape: UNKNOWN (-1) vs TRACK (1)"
        ],
    }


def test_max_shown_limits_the_lines_and_counts_the_rest(tmp_path: Path) -> None:
    a = write(tmp_path / "a.h5")
    data = batches()
    for batch in data:
        batch["seg"] = [values + 1 for values in batch["seg"]]
    b = write(tmp_path / "b.h5", data)
    result = spineh5.compare(a, b, max_shown=2)
    product = result.products["seg"]
    assert (product.count, product.differing_entries, len(product.shown)) == (6, 4, 2)
    assert product.max_abs == 1.0
    cli = run(a, b, "--max-shown", "1", "--keys", "seg,points")
    assert cli.exit_code == 1
    assert "seg: 5 more differences" in cli.output
    assert "seg, entry 0 (run 1 subrun 0 event 0), row 0: 0 vs 1" in cli.output
    assert "points " in cli.output and "skipped" not in cli.output


# -- tolerance and dtypes -----------------------------------------------------------------------------------


def test_a_relative_change_of_1e_9_passes_unless_exact(tmp_path: Path) -> None:
    a = write(tmp_path / "a.h5")
    data = batches()
    data[0]["acc"][1] *= 1 + 1e-9
    b = write(tmp_path / "b.h5", data, format_version=2)
    loose = spineh5.compare(a, b)
    assert loose.identical
    assert loose.products["acc"].max_rel == pytest.approx(1e-9, rel=1e-3)
    assert run(a, b).exit_code == 0
    exact = spineh5.compare(a, b, exact=True)
    assert [product.key for product in exact.differing] == ["acc"]
    assert exact.products["acc"].shown[0].entry == 1
    cli = run(a, b, "--exact")
    assert cli.exit_code == 1 and "acc, entry 1 (run 1 subrun 0 event 1): 0.2 vs 0.2000000002" in cli.output
    assert run(a, b, "--rtol", "1e-12", "--atol", "0").exit_code == 1


def test_widened_dtypes_agree_unless_exact(tmp_path: Path) -> None:
    a = write(tmp_path / "a.h5")
    data = batches()
    for batch in data:
        batch["points"] = [points.astype(np.float64) for points in batch["points"]]
        batch["nhits"] = [np.int64(value) for value in batch["nhits"]]
    b = write(tmp_path / "b.h5", data)
    assert spineh5.compare(a, b).identical
    exact = spineh5.compare(a, b, exact=True)
    assert exact.products["points"].notes == ["dtype float32 vs float64"]
    assert exact.products["nhits"].notes == ["dtype int32 vs int64"]
    assert exact.products["points"].count == 0  # same values, only the dtype differs


def test_nan_payloads_agree_and_signed_zeros_differ_only_when_exact() -> None:
    quiet = np.array([np.nan, 0.0, 1.0])
    other = quiet.copy()
    other.view(np.uint64)[0] |= 1  # another NaN payload
    other[1] = -0.0
    assert not compare_column(quiet, other, Tolerance()).rows.any()
    assert compare_column(quiet, other, Tolerance(exact=True)).rows.tolist() == [False, True, False]
    assert compare_column(quiet, np.array([1.0, 0.0, 1.0]), Tolerance()).rows.tolist() == [True, False, False]
    family = compare_column(np.array([1, 2]), np.array([1.0, 2.0]), Tolerance())
    assert family.rows.all() and family.note == "dtype int64 vs float64"
    texts = np.array([b"a", b"b"], dtype=object), np.array(["a", "c"], dtype=object)
    assert compare_column(*texts, Tolerance()).rows.tolist() == [False, True]
    arrays = compare_arrays(
        [np.zeros(2), np.zeros((1, 2)), np.ones(0)], [np.zeros(3), np.zeros((1, 2)), np.ones(0)], Tolerance()
    )
    assert arrays.rows.tolist() == [True, False, False]


# -- products, entries, events, productions -----------------------------------------------------------------


def test_a_product_missing_on_one_side(tmp_path: Path) -> None:
    a = write(tmp_path / "a.h5")
    keys = [key for key in spineh5.compare(a, a).products if key != "crthits"]
    b = write(tmp_path / "b.h5", keys=keys, format_version=2)
    result = spineh5.compare(a, b)
    assert [product.key for product in result.differing] == ["crthits"]
    assert result.products["crthits"].notes == ["only in A"]
    assert spineh5.compare(b, a).products["crthits"].notes == ["only in B"]
    cli = run(a, b)
    assert cli.exit_code == 1 and "crthits: only in A" in cli.output


def test_different_entry_counts(tmp_path: Path) -> None:
    a = write(tmp_path / "a.h5")
    b = write(tmp_path / "b.h5", batches()[:1])
    result = spineh5.compare(a, b)
    assert not result.identical
    assert (result.entries_a, result.entries_b, result.entries) == (6, 3, 3)
    assert not result.differing  # the first 3 entries agree
    cli = run(a, b)
    assert cli.exit_code == 1
    assert "entries differ: A has 6, B has 3; the first 3 compared" in cli.output


def test_different_event_numbers(tmp_path: Path) -> None:
    a = write(tmp_path / "a.h5")
    data = batches()
    data[1]["run_info"][1].event = 40
    b = write(tmp_path / "b.h5", data)
    result = spineh5.compare(a, b)
    assert result.event_mismatches == 1
    assert result.first_event_mismatch.entry == 4
    assert result.products["run_info"].shown[0].line() == (
        "run_info, entry 4 (run 1 subrun 0 event 4) (B: run 1 subrun 0 event 40), object 0, field event: 4 vs 40"
    )
    cli = run(a, b)
    assert cli.exit_code == 1
    assert (
        "run/subrun/event differ in 1 of 6 entries (first: entry 4, run 1 subrun 0 event 4 vs run 1 subrun 0 event 40)"
        in cli.output
    )


def test_a_production_of_two_files_against_one_file(tmp_path: Path) -> None:
    first, second = batches()
    write(tmp_path / "part_1.h5", [first])
    write(tmp_path / "part_2.h5", [second], format_version=2)
    whole = write(tmp_path / "whole.h5")
    parts = [tmp_path / "part_1.h5", tmp_path / "part_2.h5"]
    result = spineh5.compare(parts, whole, chunk_entries=4)  # a chunk spans both files
    assert result.identical, format_report(result)
    assert len(result.paths_a) == 2 and result.entries == 6
    assert run(str(tmp_path / "part_*.h5"), whole).exit_code == 0
    cli = run(f"{parts[0]},{parts[1]}", whole)
    assert cli.exit_code == 0 and "(2 files)" in cli.output
    assert run(parts[0], whole).exit_code == 1


def test_progress_is_reported_to_the_end(tmp_path: Path) -> None:
    a = write(tmp_path / "a.h5")
    calls: list[tuple[int, int]] = []
    result = spineh5.compare(a, a, progress=lambda done, total: calls.append((done, total)), chunk_entries=4)
    total = 6 * len(result.products)
    assert calls[0] == (0, total) and calls[-1] == (total, total)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert run(a, a, "--quiet").exit_code == 0


# -- refusals -----------------------------------------------------------------------------------------------


def test_unreadable_input_is_a_one_line_error(tmp_path: Path) -> None:
    notes = tmp_path / "notes.h5"
    notes.write_text("hello\n")
    assert_one_line_error(run(notes, HEAD_V1), "not an HDF5 file")
    assert_one_line_error(run(HEAD_V1, tmp_path / "missing.h5"), "missing.h5")
    with pytest.raises(spineh5.SpineFileError):
        spineh5.compare(notes, HEAD_V1)


def test_a_product_in_neither_side_is_a_usage_error() -> None:
    with pytest.raises(CompareError, match="nothing_here"):
        spineh5.compare(HEAD_V1, HEAD_V2, keys=["nothing_here"])
    result = run(HEAD_V1, HEAD_V2, "--keys", "nothing_here")
    assert result.exit_code == 2 and "nothing_here" in result.output
    assert run(HEAD_V1).exit_code == 2
