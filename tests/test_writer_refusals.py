"""HDF5Writer refuses, before writing, what ``validate`` would call an error (issue 17, item 9).

Each refusal leaves the file exactly as it was (every object, attribute and row) and readable with its
earlier entries, in both layouts; ``allow_duplicates=True`` writes repeated triplets, which ``validate``
then reports.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import good_batch, snapshot

from spineh5 import HDF5Reader, HDF5Writer, validate
from spineh5.errors import ProductError
from spineh5.generated import ImageMeta3D, RecoParticle, RunInfo

LAYOUTS = pytest.mark.parametrize("format_version", [1, 2], ids=["v1", "v2"])


def meta(i: int) -> ImageMeta3D:
    """A consistent ImageMeta3D: upper == lower + size * count."""
    return ImageMeta3D(lower=[0.0, 0.0, float(i)], upper=[4.0, 6.0, i + 2.0], size=[1.0, 2.0, 0.5], count=[4, 3, 4])


def batch(i0: int, n: int = 3) -> dict:
    out = good_batch(i0, n)
    out["meta"] = [meta(i) for i in range(i0, i0 + n)]
    return out


@pytest.fixture(params=[1, 2], ids=["v1", "v2"])
def started(tmp_path, request):
    """A writer of either layout that wrote two good batches (6 entries), closed but not finalized."""
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path), format_version=request.param, publish="in_place")
    writer(batch(0), {"base": {"seed": 1}})
    writer(batch(3))
    writer.close()
    return writer, path, snapshot(path)


def assert_intact(path, before: dict, events: list[int]) -> None:
    """The file holds exactly ``before`` and reads back the entries of ``events`` (by their run_info event)."""
    assert snapshot(path) == before
    reader = HDF5Reader(str(path), ignore_incomplete=True)
    assert len(reader) == len(events)
    assert [reader[i]["run_info"].event for i in range(len(reader))] == events


def refused(writer, data, key: str, entry: int | None, words: list[str]) -> ProductError:
    with pytest.raises(ProductError) as err:
        writer(data)
    error = err.value
    message = str(error)
    assert error.key == key and f"'{key}'" in message, message
    assert error.entry == entry, message
    for word in words:
        assert word in message, message
    return error


def _with(i0: int, key: str, entry: int, value) -> dict:
    out = batch(i0)
    out[key][entry] = value
    return out


def _run_info(i0: int, events: list[int]) -> dict:
    out = batch(i0, len(events))
    out["run_info"] = [RunInfo(run=1, event=event) for event in events]
    return out


# -- (run, subrun, event) triplets ----------------------------------------------------------------------------


def test_a_triplet_already_in_the_file_is_refused(started):
    writer, path, before = started
    error = refused(writer, _run_info(6, [6, 4, 7]), "run_info", 1, ["(1, -1, 4)", "file entry 4", "allow_duplicates"])
    assert error.file_entry == 7 and "(file entry 7)" in str(error)
    writer.close()
    assert_intact(path, before, list(range(6)))
    writer(batch(6))  # the writer stays usable
    writer.finalize()
    assert len(HDF5Reader(str(path))) == 9


def test_a_triplet_repeated_within_the_batch_is_refused(started):
    writer, path, before = started
    words = ["(1, -1, 6)", "entry 0 of the batch (file entry 6)"]
    error = refused(writer, _run_info(6, [6, 7, 6]), "run_info", 2, words)
    assert error.file_entry == 8
    writer.close()
    assert_intact(path, before, list(range(6)))


def test_an_appending_session_reads_the_file_triplets(started):
    writer, path, before = started
    appending = HDF5Writer(str(path), append=True, format_version=writer.format_version)
    error = refused(appending, _run_info(6, [0]), "run_info", 0, ["(1, -1, 0)", "file entry 0", str(path)])
    assert error.file_entry == 6
    appending.close()
    assert_intact(path, before, list(range(6)))
    appending = HDF5Writer(str(path), append=True, format_version=writer.format_version, keep_open=False)
    appending(batch(6))
    with pytest.raises(ProductError, match="file entry 8"):
        appending(_run_info(9, [9, 8]))  # the triplets of the batch it wrote count as well
    appending.finalize()
    assert [entry["run_info"].event for entry in HDF5Reader(str(path))] == list(range(9))


def test_the_first_batch_of_a_new_file_is_checked_and_nothing_is_written(tmp_path):
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path))
    refused(writer, _run_info(0, [0, 0]), "run_info", 1, ["(1, -1, 0)", "entry 0 of the batch"])
    writer.close()
    assert not path.exists()  # the first batch is checked before the file is created


def test_a_refused_first_batch_of_an_append_session_leaves_the_file_byte_identical(tmp_path):
    path = tmp_path / "out.h5"
    with HDF5Writer(str(path)) as writer:
        writer(_run_info(0, [0, 1]), cfg={"a": 1})
    before = path.read_bytes()
    appending = HDF5Writer(str(path), append=True)
    refused(appending, _run_info(2, [1, 5]), "run_info", 0, ["(1, -1, 1)"])
    with pytest.raises(ProductError):
        appending(_run_info(2, [1, 5]), cfg={"a": 2})  # not even the cfg history or info.complete is touched
    appending.close()
    assert path.read_bytes() == before
    assert [entry["run_info"].event for entry in HDF5Reader(str(path))] == [0, 1]


@LAYOUTS
def test_allow_duplicates_writes_them_and_validate_reports_them(tmp_path, format_version):
    path = tmp_path / "out.h5"
    with HDF5Writer(str(path), format_version=format_version, allow_duplicates=True) as writer:
        writer(_run_info(0, [0, 0, 1]))
        writer(_run_info(3, [1, 2, 3]))
    assert [entry["run_info"].event for entry in HDF5Reader(str(path))] == [0, 0, 1, 1, 2, 3]
    assert "run_info.duplicate" in {problem.rule for problem in validate(path) if problem.severity == "error"}


def test_split_checks_each_target_file_on_its_own(tmp_path):
    names = [str(tmp_path / "a.h5"), str(tmp_path / "b.h5")]
    writer = HDF5Writer(prefix=names, directory=str(tmp_path / "out"), split=True)
    data = _run_info(0, [0, 0, 1])
    data["file_index"] = [0, 1, 1]
    writer(data)  # (1, -1, 0) once per file: allowed
    data = _run_info(3, [5, 1, 6])
    data["file_index"] = [0, 1, 0]
    error = refused(writer, data, "run_info", 1, ["(1, -1, 1)", "file entry 1"])
    assert error.file_entry == 2
    writer.finalize()
    events = [[entry["run_info"].event for entry in HDF5Reader(name)] for name in writer.file_names]
    assert events == [[0], [0, 1]]


# -- values SPINE's classes refuse ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("units", "words"),
    [("mm", ["'mm'", "'cm' or 'px'"]), ("c" * 20_000_000, ["(20000000 characters)", "..."])],
    ids=["mm", "20-MB"],
)
def test_units_outside_cm_px_are_refused(started, units, words):
    writer, path, before = started
    parts = [RecoParticle(id=0), RecoParticle(id=1, units=units)]
    error = refused(writer, _with(6, "parts", 1, parts), "parts", 1, ["RecoParticle #1", "'units'", *words])
    assert error.field == "units" and error.file_entry == 7
    assert len(str(error)) < 300
    writer.close()
    assert_intact(path, before, list(range(6)))


def test_units_of_a_dict_are_refused(started):
    writer, path, before = started
    refused(writer, _with(6, "parts", 2, [{"units": "inch"}]), "parts", 2, ["RecoParticle #0", "'inch'"])
    writer.close()
    assert_intact(path, before, list(range(6)))


def test_inconsistent_image_meta_is_refused(started):
    writer, path, before = started
    bad = meta(7)
    bad.upper = np.array([4.0, 6.0, 99.0], np.float32)
    error = refused(writer, _with(6, "meta", 1, bad), "meta", 1, ["ImageMeta3D", "upper != lower + size * count"])
    assert error.file_entry == 7
    writer.close()
    assert_intact(path, before, list(range(6)))


@LAYOUTS
def test_refused_meta_and_units_are_what_validate_calls_errors(tmp_path, format_version):
    """The writer refuses exactly where validate reports: an unset (default) ImageMeta3D and 'px' pass."""
    path = tmp_path / "out.h5"
    with HDF5Writer(str(path), format_version=format_version) as writer:
        data = batch(0)
        data["meta"][1] = ImageMeta3D()
        data["parts"][2] = [RecoParticle(units="px")]
        writer(data)
    assert not [problem for problem in validate(path) if problem.severity == "error"]


# -- dicts with keys that are not fields ----------------------------------------------------------------------


def test_a_dict_with_unknown_keys_is_refused_naming_close_matches(started):
    writer, path, before = started
    data = _with(6, "parts", 1, [{"id": 3}, {"idd": 5, "shpe": "track"}])
    words = ["RecoParticle #1", "'idd', 'shpe'", "not fields", "'idd' -> 'id'", "'shpe' -> 'shape'"]
    error = refused(writer, data, "parts", 1, words)
    assert error.file_entry == 7
    writer.close()
    assert_intact(path, before, list(range(6)))


def test_a_dict_for_a_one_object_product_with_an_unknown_key_is_refused(tmp_path):
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path), types={"meta": "ImageMeta3D"})
    refused(writer, {"index": [0], "meta": [{"lowr": [0.0, 0.0, 0.0]}]}, "meta", 0, ["'lowr' -> 'lower'"])
    writer.close()
    assert not path.exists() or len(HDF5Reader(str(path), ignore_incomplete=True)) == 0


def test_to_records_refuses_unknown_keys():
    with pytest.raises(ValueError, match=r"RecoParticle #0, field 'nope': key 'nope' is not a field of RecoParticle$"):
        RecoParticle.to_records([{"nope": 1}])
