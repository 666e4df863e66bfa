"""Atomic publishing of output files: partial names while writing, publication on finalize, overwrite rules.

A new file is written as ``.<name>.partial`` beside its final name and renamed on ``finalize()``; ``close()``
leaves the partial; ``publish="in_place"`` writes under the final name; appends write in place. The signal
and kill tests are in ``test_crash_signals.py``.
"""

from __future__ import annotations

import glob
import os
import signal
import threading

import h5py
import numpy as np
import pytest

from spineh5 import HDF5Reader, HDF5Writer, h5io, signal_guard
from spineh5.errors import FileStateError
from spineh5.publishing import partial_path


def _batch(start: int, count: int = 3) -> dict:
    entries = range(start, start + count)
    return {"index": list(entries), "points": [np.full((i % 4 + 1, 3), i, np.float32) for i in entries]}


def _entries(path) -> list[int]:
    with HDF5Reader(str(path), ignore_incomplete=True) as reader:
        return [int(reader[i]["points"][0, 0]) for i in range(len(reader))]  # entry i holds points of value i


def _complete(path) -> bool:
    with h5py.File(path, "r") as f:
        return bool(f["info"].attrs["complete"])


@pytest.fixture(params=[1, 2], ids=["v1", "v2"])
def version(request) -> int:
    return request.param


def test_a_new_file_is_written_under_its_partial_name_and_published_on_finalize(tmp_path, version):
    path = tmp_path / "out.h5"
    partial = partial_path(path)
    assert os.path.basename(partial) == ".out.h5.partial"
    writer = HDF5Writer(str(path), format_version=version)
    writer(_batch(0))
    assert os.path.exists(partial) and not path.exists()
    assert writer.file_names == [str(path)] and writer.get_file_names(str(path)) == [str(path)]
    writer(_batch(3))
    writer.finalize()
    assert path.exists() and not os.path.exists(partial)
    assert _complete(path) and _entries(path) == list(range(6))
    assert sorted(os.listdir(tmp_path)) == ["out.h5"]  # no lock file, no partial left


def test_globs_and_folder_readers_never_see_a_partial(tmp_path):
    writer = HDF5Writer(str(tmp_path / "out.h5"))
    writer(_batch(0))
    assert glob.glob(str(tmp_path / "*.h5")) == [] and glob.glob(str(tmp_path / "*")) == []
    with pytest.raises(FileNotFoundError):
        HDF5Reader(str(tmp_path / "*.h5"))
    with pytest.raises(FileNotFoundError, match=r"\.out\.h5\.partial exists: it is being written .* spineh5 recover"):
        HDF5Reader(str(tmp_path / "out.h5"))  # the final name says where the file is
    writer.finalize()
    assert len(HDF5Reader(str(tmp_path / "*.h5"))) == 3


def test_close_leaves_the_partial_and_the_same_writer_reopens_it(tmp_path, version):
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path), format_version=version, keep_open=False)
    writer(_batch(0))
    writer.close()
    partial = partial_path(path)
    assert not path.exists() and not _complete(partial) and _entries(partial) == [0, 1, 2]
    writer(_batch(3))
    writer.finalize()
    assert _complete(path) and _entries(path) == list(range(6)) and not os.path.exists(partial)


def test_a_with_block_publishes_on_a_clean_exit_only(tmp_path):
    path = tmp_path / "out.h5"
    with HDF5Writer(str(path)) as writer:
        writer(_batch(0))
    assert _complete(path) and not os.path.exists(partial_path(path))
    failed = tmp_path / "failed.h5"
    with pytest.raises(RuntimeError, match="boom"), HDF5Writer(str(failed)) as writer:
        writer(_batch(0))
        raise RuntimeError("boom")
    assert not failed.exists() and _entries(partial_path(failed)) == [0, 1, 2]


def test_overwrite_replaces_the_existing_file_only_when_the_new_one_is_published(tmp_path):
    path = tmp_path / "out.h5"
    with HDF5Writer(str(path)) as writer:
        writer(_batch(0))
    writer = HDF5Writer(str(path), overwrite=True)
    writer(_batch(10))
    assert _entries(path) == [0, 1, 2]  # the old file stays whole while the new one is written
    writer.close()
    assert _entries(path) == [0, 1, 2] and _entries(partial_path(path)) == [10, 11, 12]
    writer(_batch(13))
    writer.finalize()
    assert _complete(path) and _entries(path) == list(range(10, 16))


def test_a_stale_partial_is_refused_naming_recover_unless_overwrite(tmp_path):
    path = tmp_path / "out.h5"
    killed = HDF5Writer(str(path))
    killed(_batch(0))
    killed.close()  # as a killed writer leaves it
    partial = partial_path(path)
    for options in ({}, {"append": True}):
        with pytest.raises(FileStateError, match="did not finish") as refusal:
            HDF5Writer(str(path), **options)
        message = str(refusal.value)
        assert "\n" not in message and f"spineh5 recover {partial}" in message and "overwrite=True" in message
    assert _entries(partial) == [0, 1, 2]
    writer = HDF5Writer(str(path), overwrite=True)
    assert not os.path.exists(partial)  # discarded
    writer(_batch(5))
    writer.finalize()
    assert _entries(path) == [5, 6, 7]


def test_a_partial_being_written_is_not_discarded_by_overwrite(tmp_path):
    path = tmp_path / "out.h5"
    first = HDF5Writer(str(path))
    first(_batch(0))
    with pytest.raises(FileStateError, match="open for writing elsewhere"):
        HDF5Writer(str(path), overwrite=True)
    first.finalize()
    assert _entries(path) == [0, 1, 2]


def test_in_place_writes_under_the_final_name(tmp_path, version):
    path = tmp_path / "out.h5"
    writer = HDF5Writer(str(path), format_version=version, publish="in_place", flush_interval=0)
    writer(_batch(0))
    assert path.exists() and not os.path.exists(partial_path(path))
    assert _entries(path) == [0, 1, 2]  # a watcher sees it grow
    writer.finalize()
    assert _complete(path)
    with pytest.raises(ValueError, match="publish must be one of"):
        HDF5Writer(str(tmp_path / "x.h5"), publish="rename")


def test_in_place_overwrite_deletes_the_existing_file_when_the_writer_is_made(tmp_path):
    path = tmp_path / "out.h5"
    path.write_bytes(b"old")
    HDF5Writer(str(path), overwrite=True, publish="in_place")
    assert not path.exists()


def test_appends_to_an_existing_file_write_in_place(tmp_path, version):
    path = tmp_path / "out.h5"
    with HDF5Writer(str(path), format_version=version) as writer:
        writer(_batch(0))
    writer = HDF5Writer(str(path), format_version=version, append=True)
    writer(_batch(3))
    assert not os.path.exists(partial_path(path)) and not _complete(path)
    writer.finalize()
    assert _complete(path) and _entries(path) == list(range(6))


def test_split_publishes_each_file_when_it_is_finalized(tmp_path):
    prefixes = [str(tmp_path / f"in{i}.root") for i in range(3)]
    writer = HDF5Writer(prefix=prefixes, split=True)
    names = writer.file_names
    writer({**_batch(0, 2), "file_index": [0, 0]})
    assert [os.path.exists(name) for name in names] == [False, False, False]
    assert os.path.exists(partial_path(names[0]))
    writer({**_batch(2, 1), "file_index": [2]})  # moves past file 0: finalized and published
    assert os.path.exists(names[0]) and _complete(names[0]) and not os.path.exists(partial_path(names[0]))
    assert not os.path.exists(names[2]) and os.path.exists(partial_path(names[2]))
    assert not os.path.exists(partial_path(names[1]))  # no entry went there
    writer.finalize()
    assert _entries(names[0]) == [0, 1] and _entries(names[2]) == [2] and not os.path.exists(names[1])
    assert not glob.glob(str(tmp_path / ".*"))


def test_the_structure_is_flushed_before_the_first_rows(tmp_path, version, monkeypatch):
    """What a kill during the first batch leaves: the structure, readable and empty (its rows not flushed)."""
    path = tmp_path / "out.h5"
    seen = []
    original = h5io.append_rows

    def append_rows(dataset, rows, *args, **kwargs):
        if not seen:  # the first row written: copy the file as a kill here would leave it
            seen.append(dataset.name)
            with open(partial_path(path), "rb") as src, open(tmp_path / "at_kill.h5", "wb") as dst:
                dst.write(src.read())
        return original(dataset, rows, *args, **kwargs)

    monkeypatch.setattr(h5io, "append_rows", append_rows)
    writer = HDF5Writer(str(path), format_version=version)
    writer(_batch(0))
    writer.finalize()
    assert seen
    with HDF5Reader(str(tmp_path / "at_kill.h5"), ignore_incomplete=True) as reader:
        assert len(reader) == 0 and "points" in reader.keys


def test_a_flushed_batch_writes_its_products_before_its_events(tmp_path, version, monkeypatch):
    """A flush inside a batch sees the product rows and not yet the events rows; the one after sees both."""
    path = tmp_path / "out.h5"
    seen = []
    original = h5py.File.flush

    def flush(self):
        events = int(self["events"].shape[0])
        points = self["products/points/values" if version == 2 else "points"].shape[0]
        seen.append((events, int(points)))
        original(self)

    writer = HDF5Writer(str(path), format_version=version, flush_interval=None, flush_frequency=1)
    writer(_batch(0))
    monkeypatch.setattr(h5py.File, "flush", flush)
    writer(_batch(3))
    monkeypatch.undo()
    writer.finalize()
    rows_before = sum(i % 4 + 1 for i in range(3))
    rows_after = sum(i % 4 + 1 for i in range(6))
    assert seen == [(3, rows_after), (6, rows_after)]
    assert rows_before < rows_after


def test_the_default_flushes_every_batch_and_none_leaves_it_to_the_writer(tmp_path, monkeypatch):
    flushes = []
    original = h5py.File.flush
    monkeypatch.setattr(h5py.File, "flush", lambda self: (flushes.append(1), original(self))[1])
    for options, expected in (({}, 2 * 3), ({"flush_interval": None}, 0), ({"flush_interval": 3600}, 0)):
        flushes.clear()
        writer = HDF5Writer(str(tmp_path / f"{len(options)}{options.get('flush_interval')}.h5"), **options)
        for start in (0, 3, 6):
            writer(_batch(start))
        assert len(flushes) == expected, options  # two per flushed batch (the structure is closed, not flushed)
        writer.finalize()
    assert HDF5Writer(str(tmp_path / "y.h5"), flush_frequency=100).flush_interval is None  # the caller's policy
    assert HDF5Writer(str(tmp_path / "y.h5")).flush_interval == 0
    for bad in (-1, "often", True):
        with pytest.raises(ValueError, match="flush_interval"):
            HDF5Writer(str(tmp_path / "x.h5"), flush_interval=bad)


def test_a_signal_inside_a_batch_waits_for_it_then_closes_and_chains(tmp_path, version, monkeypatch):
    """SIGTERM arriving mid-batch: the batch completes, files close (partial left), the previous handler runs."""
    received = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    try:
        path = tmp_path / "out.h5"
        writer = HDF5Writer(str(path), format_version=version)
        writer(_batch(0))
        assert signal.getsignal(signal.SIGTERM) is signal_guard._handler
        original = h5io.append_rows
        calls = []

        def append_rows(*args, **kwargs):
            calls.append(1)
            if len(calls) == 1:
                os.kill(os.getpid(), signal.SIGTERM)  # delivered between two datasets of the batch
            return original(*args, **kwargs)

        monkeypatch.setattr(h5io, "append_rows", append_rows)
        writer(_batch(3))
        monkeypatch.undo()
        assert received == [signal.SIGTERM] and len(calls) > 1
        assert writer._handles == {} and signal_guard.installed() == ()
        assert not path.exists() and _entries(partial_path(path)) == list(range(6))  # whole events, both batches
        writer(_batch(6))  # a writer that goes on reopens its file
        writer.finalize()
        assert _entries(path) == list(range(9))
        assert signal.getsignal(signal.SIGTERM) is not signal_guard._handler  # restored once nothing is open
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_sigint_inside_a_batch_raises_keyboard_interrupt_once_the_batch_is_written(tmp_path, monkeypatch):
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        path = tmp_path / "out.h5"
        writer = HDF5Writer(str(path))
        writer(_batch(0))
        original, calls = h5io.append_rows, []

        def append_rows(*args, **kwargs):
            calls.append(1)
            if len(calls) == 1:
                os.kill(os.getpid(), signal.SIGINT)
            return original(*args, **kwargs)

        monkeypatch.setattr(h5io, "append_rows", append_rows)
        with pytest.raises(KeyboardInterrupt):
            writer(_batch(3))
        monkeypatch.undo()
        assert len(calls) > 1 and writer._handles == {}
        assert _entries(partial_path(path)) == list(range(6))
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


def test_handlers_are_installed_from_the_main_thread_only_and_restored(tmp_path):
    before = signal.getsignal(signal.SIGINT)
    errors = []

    def write() -> None:
        try:
            writer = HDF5Writer(str(tmp_path / "thread.h5"))
            writer(_batch(0))
            errors.append(signal_guard.installed())
            writer.finalize()
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    thread = threading.Thread(target=write)
    thread.start()
    thread.join(30)
    assert errors == [()] and _entries(tmp_path / "thread.h5") == [0, 1, 2]
    writer = HDF5Writer(str(tmp_path / "main.h5"))
    writer(_batch(0))
    assert set(signal_guard.installed()) == {signal.SIGTERM, signal.SIGINT}
    writer.close()
    assert signal.getsignal(signal.SIGINT) is before


def test_an_ignored_signal_stays_ignored(tmp_path):
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        writer = HDF5Writer(str(tmp_path / "out.h5"))
        writer(_batch(0))
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
        writer.finalize()
    finally:
        signal.signal(signal.SIGTERM, previous)
