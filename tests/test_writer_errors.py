"""HDF5Writer error paths: each bad batch is refused with an error naming the key, the entry and the field,
before anything of it is written, so the file keeps exactly its earlier events.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from conftest import good_batch, snapshot

from spineh5 import HDF5Writer
from spineh5 import h5io as h5write
from spineh5.errors import FileStateError, ProductError
from spineh5.generated import ImageMeta3D, RecoParticle, RunInfo, TruthParticle

try:
    from spine.io.read import HDF5Reader as SpineReader
except ImportError:  # SPINE is optional: its reader is an extra check
    SpineReader = None


def _region(f: h5py.File, ref) -> tuple[str, int | None, int]:
    """Return the target dataset name, first row and row count of a region reference."""
    space = h5py.h5r.get_region(ref, f.id)
    name = h5py.h5r.get_name(ref, f.id).decode()
    if space.get_select_type() == h5py.h5s.SEL_NONE:
        return name, None, 0
    low, high = space.get_select_bounds()
    return name, low[0], high[0] - low[0] + 1


def assert_tiled(path) -> int:
    """Check that the events' references tile every product dataset in order; return the event count."""
    with h5py.File(path, "r") as f:
        events = f["events"][()]
        for key in events.dtype.names:
            node = f[key]
            pairs = [(node, events[key])] if isinstance(node, h5py.Dataset) else [(node["index"], events[key])]
            if isinstance(node, h5py.Group):
                index = node["index"][()]
                if index.ndim == 1:
                    pairs.append((node["elements"], index))
                else:
                    pairs += [(node[f"element_{i}"], index[:, i]) for i in range(index.shape[1])]
            for ds, refs in pairs:
                position = 0
                for ref in refs:
                    name, start, count = _region(f, ref)
                    assert name == ds.name
                    assert count == 0 or start == position, (ds.name, start, position)
                    position += count
                assert position == ds.shape[0], (ds.name, position, ds.shape)
        return len(events)


def assert_intact(path, before: dict, expected_acc: list) -> None:
    """The file opens, holds exactly ``before`` (every dataset's length, content and attributes), and SPINE's
    reader still reads the earlier entries."""
    assert snapshot(path) == before
    with h5py.File(path, "r") as f:
        assert len(f["events"]) == len(expected_acc)
    if SpineReader is not None and expected_acc:
        reader = SpineReader(str(path), ignore_incomplete=True)
        assert len(reader) == len(expected_acc)
        for i in sorted({0, len(expected_acc) - 1}):  # the first and the last earlier entries
            entry = reader[i]
            assert entry["acc"] == expected_acc[i]
            assert [p.id for p in entry["parts"]] == list(range(i % 3))
            assert entry["run_info"].event == i


_BEFORE: dict = {}


@pytest.fixture
def started(tmp_path):
    """A writer that has written two good batches (6 entries), closed but not finalized.

    The content is deterministic, so the snapshot of the first such file (whose references are checked to
    tile every dataset) stands for all of them.
    """
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path), publish="in_place")
    writer(good_batch(0), {"base": {"seed": 1}})
    writer(good_batch(3))
    writer.close()
    if not _BEFORE:
        assert assert_tiled(path) == 6
        _BEFORE.update(snapshot(path))
    return writer, path, _BEFORE, [i / 4 for i in range(6)]


_DROP = object()


def _bad(change):
    batch = good_batch(6)
    for key, value in change.items():
        if value is _DROP:
            del batch[key]
        else:
            batch[key] = value
    return batch


def _entry(key, value):
    batch = good_batch(6)
    batch[key][1] = value
    return batch


# (id, bad batch, key, entry, field, words the message must contain)
CASES = [
    (
        "wrong-class-in-list",
        _entry("parts", [RecoParticle(id=0), TruthParticle(id=1)]),
        "parts",
        1,
        None,
        ["TruthParticle", "RecoParticle", "item 1"],
    ),
    ("wrong-class-one-object", _entry("run_info", ImageMeta3D()), "run_info", 1, None, ["ImageMeta3D", "RunInfo"]),
    ("none-as-object", _entry("run_info", None), "run_info", 1, None, ["RunInfo"]),
    ("objects-not-a-list", _entry("parts", RecoParticle()), "parts", 1, None, ["RecoParticle"]),
    (
        "wrong-fixed-length",
        _entry("parts", [{"start_point": [1.0, 2.0]}]),
        "parts",
        1,
        "start_point",
        ["RecoParticle", "3"],
    ),
    ("str-in-float-field", _entry("parts", [{}, {"calo_ke": "abc"}]), "parts", 1, "calo_ke", ["RecoParticle #1"]),
    ("float-in-int-field", _entry("parts", [{"id": 1.5}]), "parts", 1, "id", ["RecoParticle", "1.5"]),
    ("int-overflow-field", _entry("parts", [{"id": 2**70}]), "parts", 1, "id", ["RecoParticle"]),
    ("unknown-enum", _entry("truth", [{"pid": 17}]), "truth", 1, "pid", ["Particle", "17"]),
    ("unknown-enum-name", _entry("truth", [{"shape": "banana"}]), "truth", 1, "shape", ["Particle"]),
    ("bad-vlen", _entry("parts", [{"index": np.ones((2, 2), np.int32)}]), "parts", 1, "index", ["RecoParticle"]),
    ("str-in-float-product", _entry("acc", "x"), "acc", 1, None, ["float64"]),
    ("float-in-int-product", _entry("count", 1.5), "count", 1, None, ["int64"]),
    ("int-overflow-product", _entry("count", 2**70), "count", 1, None, []),
    ("list-in-scalar-product", _entry("acc", [1.0]), "acc", 1, None, ["scalar"]),
    ("int-in-str-product", _entry("name", 5), "name", 1, None, ["str"]),
    ("nul-in-str-product", _entry("name", "a\x00b"), "name", 1, None, ["NUL"]),
    ("surrogate-in-str-product", _entry("name", "a\ud800b"), "name", 1, None, ["UTF-8"]),
    ("global-str-in-float-product", _bad({"acc": "x"}), "acc", None, None, []),
    ("too-few-entries", _bad({"acc": [1.0, 2.0]}), "acc", None, None, ["2 entries", "3"]),
    ("too-many-entries", _bad({"seg": [np.arange(2)] * 4}), "seg", None, None, ["4 entries", "3"]),
    ("no-len", _bad({"parts": RecoParticle()}), "parts", None, None, []),
    ("three-d-array", _entry("data", np.ones((2, 4, 1))), "data", 1, None, ["(2, 4, 1)"]),
    ("wrong-width", _entry("data", np.ones((2, 5))), "data", 1, None, ["(2, 5)", "4"]),
    ("wrong-dimension", _entry("data", np.ones(4)), "data", 1, None, ["(4,)"]),
    ("float-into-int-array", _entry("seg", np.array([0.5, 1.5])), "seg", 1, None, ["int64"]),
    ("list-not-array", _entry("seg", [1, 2]), "seg", 1, None, ["list"]),
    ("list-of-ints-for-flat", _entry("clusts", [1, 2, 3]), "clusts", 1, None, ["int"]),
    ("flat-float-into-int", _entry("clusts", [np.array([0.5])]), "clusts", 1, None, ["int64"]),
    ("flat-wrong-width", _entry("points", [np.ones((2, 4), np.float32)]), "points", 1, None, ["(2, 4)"]),
    ("flat-wrong-dimension", _entry("points", [np.ones(3, np.float32)]), "points", 1, None, ["(3,)"]),
    ("jagged-wrong-count", _entry("jag", [np.ones((1, 2))]), "jag", 1, None, ["2 arrays"]),
    ("jagged-wrong-width", _entry("jag", [np.ones((1, 3)), np.ones(2)]), "jag", 1, None, ["(1, 3)"]),
    ("product-removed", _bad({"seg": _DROP}), "seg", None, None, ["missing"]),
    ("product-added", _bad({"extra": [1, 2, 3]}), "extra", None, None, ["first batch"]),
    ("index-missing", _bad({"index": _DROP}), "index", None, None, []),
    ("dict-unknown-key", _entry("parts", [{"idd": 5}]), "parts", 1, "idd", ["not a field", "'idd' -> 'id'"]),
    ("units-not-cm-px", _entry("parts", [RecoParticle(units="mm")]), "parts", 1, "units", ["'mm'", "'cm' or 'px'"]),
    ("triplet-in-the-file", _entry("run_info", RunInfo(run=1, event=2)), "run_info", 1, None, ["(1, -1, 2)"]),
    ("triplet-repeated-in-batch", _entry("run_info", RunInfo(run=1, event=6)), "run_info", 1, None, ["entry 0 of"]),
]


@pytest.mark.parametrize(("batch", "key", "entry", "field", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_batch_is_refused_and_earlier_events_stay_intact(started, batch, key, entry, field, words):
    writer, path, before, acc = started
    with pytest.raises(ProductError) as err:
        writer(batch)
    error = err.value
    message = str(error)
    assert error.key == key and f"'{key}'" in message, message
    assert error.entry == entry, message
    if entry is not None:
        assert f"entry {entry}" in message, message
    assert error.field == field, message
    if field is not None:
        assert f"'{field}'" in message, message
    for word in words:
        assert word in message, message
    writer.close()
    assert_intact(path, before, acc)
    # the writer is still usable and the file stays consistent
    writer(good_batch(6))
    writer.finalize()
    assert assert_tiled(path) == 9


def test_errors_are_value_errors(started):
    writer, path, before, acc = started
    with pytest.raises(ValueError, match="'acc', entry 1"):
        writer(_entry("acc", "x"))
    assert_intact(path, before, acc)


# -- errors of the first call ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("batch", "key", "words"),
    [
        ({"index": [0], "vol": [np.ones((2, 2, 2))]}, "vol", ["3 dimensions"]),
        ({"index": [0, 1], "ids": [[1, 2], [3]]}, "ids", ["int"]),
        ({"index": [0], "thing": [object()]}, "thing", ["object"]),
        ({"index": [0], "parts": [[[RecoParticle()]]]}, "parts", ["list"]),
        ({"acc": [1.0]}, "index", ["index"]),
    ],
    ids=["3-d-array", "list-of-ints", "unknown-class", "nested-lists", "no-index"],
)
def test_first_batch_that_cannot_be_typed_writes_nothing(tmp_path, batch, key, words):
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path))
    with pytest.raises(ProductError) as err:
        writer(batch)
    assert err.value.key == key and f"'{key}'" in str(err.value)
    for word in words:
        assert word in str(err.value)
    writer.close()
    assert not path.exists()


def test_first_batch_with_bad_entry_leaves_an_empty_consistent_file(tmp_path):
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path))
    batch = good_batch(0)
    batch["parts"][2] = [TruthParticle()]
    with pytest.raises(ProductError, match=r"'parts', entry 2.*TruthParticle"):
        writer(batch)
    writer.close()
    if path.exists():
        assert assert_tiled(path) == 0
    writer(good_batch(0))
    writer.finalize()
    assert assert_tiled(path) == 3


def test_key_in_keys_missing_from_data(tmp_path):
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path), keys=["acc", "missing"])
    with pytest.raises(KeyError, match="missing"):
        writer(good_batch(0))
    assert not path.exists()


def test_key_in_keys_missing_from_a_later_batch(tmp_path):
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path), keys=["acc", "parts", "run_info"], publish="in_place")
    writer(good_batch(0))
    writer.close()
    before = snapshot(path)
    batch = good_batch(3)
    del batch["parts"]
    with pytest.raises(ProductError, match="'parts'") as err:
        writer(batch)
    assert err.value.key == "parts"
    assert_intact(path, before, [0.0, 0.25, 0.5])


def test_all_empty_first_batch_without_type(tmp_path):
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path))
    with pytest.raises(ProductError, match=r"'parts'.*types=\{'parts'"):
        writer({"index": [0, 1], "parts": [[], []]})
    assert not path.exists()


# -- split ------------------------------------------------------------------------------------------------------


def _split_writer(tmp_path):
    prefixes = [str(tmp_path / "a.root"), str(tmp_path / "b.root")]
    writer = HDF5Writer(prefix=prefixes, split=True, publish="in_place")
    return writer, [str(tmp_path / "a_spine.h5"), str(tmp_path / "b_spine.h5")]


def test_split_without_file_index(tmp_path):
    writer, names = _split_writer(tmp_path)
    first = {**good_batch(0), "file_index": [0, 1, 1]}
    writer(first)
    writer.close()
    before = [snapshot(name) for name in names]
    with pytest.raises(ProductError, match="'file_index'") as err:
        writer(good_batch(3))
    assert err.value.key == "file_index"
    for name, snap in zip(names, before):
        assert snapshot(name) == snap
    assert [assert_tiled(name) for name in names] == [1, 2]


def test_split_error_names_the_entry_of_the_whole_batch(tmp_path):
    writer, names = _split_writer(tmp_path)
    writer({**good_batch(0), "file_index": [0, 0, 1]})
    writer.close()
    before = [snapshot(name) for name in names]
    batch = {**good_batch(3), "file_index": [1, 0, 1]}
    batch["acc"][2] = "bad"
    with pytest.raises(ProductError, match=r"'acc', entry 2") as err:
        writer(batch)
    assert err.value.entry == 2
    # batch entry 2 goes to file 1, which holds 1 entry and takes batch entries 0 and 2: it would be entry 2 there
    assert err.value.file_entry == 2 and "(file entry 2)" in str(err.value)
    assert [snapshot(name) for name in names] == before  # nothing written to either file


def test_split_file_index_not_integer(tmp_path):
    writer, names = _split_writer(tmp_path)
    with pytest.raises(ProductError, match="'file_index'"):
        writer({**good_batch(0), "file_index": ["a", "b", "c"]})


# -- failures during the write phase roll back ----------------------------------------------------------------


def _fail_on_write(monkeypatch, target: str, exc: BaseException, after_write: bool = False):
    """Make writing into dataset ``target`` fail (after the datasets before it were resized and written)."""
    original = h5write.append_rows

    def append_rows(dataset, rows, mem_type=None):
        if dataset.name == target and len(rows):
            if after_write:
                original(dataset, rows, mem_type)
            raise exc
        return original(dataset, rows, mem_type)

    monkeypatch.setattr(h5write, "append_rows", append_rows)


@pytest.mark.parametrize(
    ("target", "after_write"),
    [("/events", False), ("/events", True), ("/parts", False), ("/jag/element_1", False), ("/clusts/index", True)],
)
def test_failure_during_write_rolls_back(started, monkeypatch, target, after_write):
    writer, path, before, acc = started
    _fail_on_write(monkeypatch, target, OSError("disk full"), after_write)
    with pytest.raises(OSError, match="disk full"):
        writer(good_batch(6))
    monkeypatch.undo()
    writer.close()
    assert_intact(path, before, acc)
    writer(good_batch(6))
    writer.finalize()
    assert assert_tiled(path) == 9


def test_interrupt_during_write_rolls_back(started, monkeypatch):
    writer, path, before, acc = started
    _fail_on_write(monkeypatch, "/events", KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        writer(good_batch(6))
    monkeypatch.undo()
    writer.close()
    assert_intact(path, before, acc)


def test_writing_after_finalize_is_refused(started):
    writer, path, before, acc = started
    writer.finalize()
    finalized = snapshot(path)
    with pytest.raises(FileStateError, match="finalized"):
        writer(good_batch(6))
    assert snapshot(path) == finalized


def test_data_contradicting_the_types_hint(tmp_path):
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path), types={"parts": "RecoParticle", "meta": RunInfo})
    batch = {"index": [0], "parts": [[TruthParticle()]], "meta": [RunInfo()]}
    with pytest.raises(ProductError, match=r"'parts'.*RecoParticle.*TruthParticle"):
        writer(batch)
    assert not path.exists()
    writer = HDF5Writer(str(path), types={"parts": "RecoParticle"})
    with pytest.raises(ProductError, match=r"'parts'.*RecoParticle"):
        writer({"index": [0], "parts": [[np.arange(2)]]})


# -- errors name the file entry -------------------------------------------------------------------------------


def test_error_names_the_file_entry_as_well_as_the_batch_position(started):
    writer, path, before, acc = started
    with pytest.raises(ProductError, match=r"'acc', entry 1 of the batch \(file entry 7\)") as err:
        writer(_entry("acc", "x"))  # the file holds 6 entries: batch entry 1 would be file entry 7
    assert (err.value.entry, err.value.file_entry) == (1, 7)
    writer.close()
    assert_intact(path, before, acc)


def test_error_of_an_appending_session_names_the_file_entry(started, tmp_path):
    writer, path, before, acc = started
    appending = HDF5Writer(str(path), append=True)
    with pytest.raises(ProductError) as err:
        appending(_entry("acc", "x"))
    assert (err.value.entry, err.value.file_entry) == (1, 7)
    appending.close()
    assert_intact(path, before, acc)


def test_a_missing_product_is_a_key_error(started):
    """SPINE's writer raises KeyError for a stored key missing from the data; ours does too (and stays a ValueError)."""
    writer, path, before, acc = started
    with pytest.raises(KeyError, match="'seg'") as err:
        writer(_bad({"seg": _DROP}))
    assert isinstance(err.value, ProductError) and isinstance(err.value, ValueError)
    assert str(err.value).startswith("product 'seg'")  # a plain message, not KeyError's repr of it
    writer.close()
    assert_intact(path, before, acc)
