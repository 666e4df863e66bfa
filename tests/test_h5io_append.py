"""``h5io.append_rows`` with the caller's known length: same rows, and 2-D rows still read the dataset's shape."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from spineh5.h5io import append_rows


def test_a_known_start_appends_where_the_dataset_ends(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "f.h5", "w") as h5:
        flat = h5.create_dataset("flat", shape=(0,), maxshape=(None,), dtype=np.int64, chunks=(4,))
        assert append_rows(flat, np.arange(3)) == 0
        assert append_rows(flat, np.arange(3, 5), None, 3) == 3
        assert append_rows(flat, np.empty(0, np.int64), None, 5) == 5
        assert flat[()].tolist() == [0, 1, 2, 3, 4]
        wide = h5.create_dataset("wide", shape=(0, 2), maxshape=(None, 2), dtype=np.float32, chunks=(4, 2))
        assert append_rows(wide, np.ones((2, 2), np.float32)) == 0
        assert append_rows(wide, np.zeros((1, 2), np.float32), None, 2) == 2  # 2-D: the shape is read here
        assert wide.shape == (3, 2) and wide[()].sum() == 4
