"""V2 entries read in order take their ``fixed`` rows from one read ahead: same values, same errors.

The read ahead (``ObjectReading._entry_fixed_rows``) must give each entry the
same objects whatever the order of the reads, and a damaged chunk past the
entry being read must not stop it: only the entries whose own rows are damaged
raise :class:`SpineFileError`.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from conftest import every_case_batch, write_every_case

from spineh5 import HDF5Reader
from spineh5.errors import SpineFileError

ENTRIES = 300
KEY = "reco_particles"


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ahead") / "ahead.h5"
    return write_every_case(path, [every_case_batch(0, ENTRIES)], checksum=True)


def _same(left: dict[str, Any], right: dict[str, Any]) -> None:
    assert left.keys() == right.keys()
    for key, value in left.items():
        other = right[key]
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(value, other, err_msg=key)
        elif isinstance(value, list) and value and isinstance(value[0], np.ndarray):
            assert len(value) == len(other) and all(map(np.array_equal, value, other)), key
        else:
            assert value == other, key


def test_entries_read_in_any_order_are_the_same(written: Path) -> None:
    with HDF5Reader(str(written)) as reader:
        in_order = [reader[i] for i in range(len(reader))]
    with HDF5Reader(str(written)) as reader:
        backwards = [reader[i] for i in reversed(range(len(reader)))][::-1]
    rng = np.random.default_rng(14)
    shuffled = rng.permutation(ENTRIES).tolist()
    with HDF5Reader(str(written)) as reader:
        random = {i: reader[i] for i in shuffled}
    assert any(len(entry[KEY]) for entry in in_order)
    for i, entry in enumerate(in_order):
        _same(entry, backwards[i])
        _same(entry, random[i])
    for i in (0, 150, ENTRIES - 1):
        with HDF5Reader(str(written)) as reader:
            _same(in_order[i], reader[i])


def test_a_damaged_chunk_ahead_fails_only_its_own_entries(written: Path, tmp_path: Path, monkeypatch) -> None:
    from spineh5.layouts.v2_objects import ObjectReading

    failed_aheads = []  # reads of more rows than one entry's that hit the damaged chunk
    original = ObjectReading._fixed_rows

    def counted(self, product, start, stop):
        try:
            return original(self, product, start, stop)
        except Exception:
            if product.key == KEY:
                failed_aheads.append((start, stop))
            raise

    monkeypatch.setattr(ObjectReading, "_fixed_rows", counted)
    damaged = tmp_path / "damaged.h5"
    shutil.copyfile(written, damaged)
    with h5py.File(damaged, "r") as h5file:
        group = h5file["products"][KEY]
        fixed = group["fixed"]
        assert fixed.fletcher32 and fixed.id.get_num_chunks() >= 3
        last = fixed.id.get_num_chunks() - 1
        info = fixed.id.get_chunk_info(last)
        first_bad_row = info.chunk_offset[0]
        offsets = group["event_offsets"][()]
    with open(damaged, "r+b") as raw:
        raw.seek(info.byte_offset + 7)
        byte = raw.read(1)
        raw.seek(info.byte_offset + 7)
        raw.write(bytes([byte[0] ^ 0xFF]))
    # entries whose rows reach the damaged chunk; every earlier one is read through a failing read ahead
    bad = {i for i in range(ENTRIES) if offsets[i + 1] > first_bad_row and offsets[i + 1] > offsets[i]}
    assert bad and min(bad) > 0
    with HDF5Reader(str(written)) as good, HDF5Reader(str(damaged)) as reader:
        for i in range(ENTRIES):
            if i in bad:
                with pytest.raises(SpineFileError, match=KEY) as caught:
                    reader[i]
                assert "\n" not in str(caught.value)
            else:
                _same(reader[i], good[i])
    own_rows = {(int(offsets[i]), int(offsets[i + 1])) for i in range(ENTRIES)}
    ahead = [read for read in failed_aheads if read not in own_rows]
    assert len(ahead) == 1  # the failing read ahead is tried once, not again at every later entry
