"""``HDF5Writer(checksum=...)``, on by default: the Fletcher-32 filter on the datasets that take it (issue 17 item 7).

Files written with checksums read back equal to files written without them,
SPINE 0.14.1's reader reads them, a flipped byte inside a data chunk makes our
reader raise :class:`SpineFileError` instead of returning other numbers,
``inspect`` names the filter, and ``checksum=False`` writes no filter.
"""

from __future__ import annotations

import re
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import assert_same_content, every_case_batch, snapshot, write_every_case

from spineh5 import HDF5Reader
from spineh5.cli import main
from spineh5.errors import SpineFileError

BATCHES = [every_case_batch(0, 3), every_case_batch(3, 3)]


def _write(path: Path, version: int, checksum: bool = False, **options) -> Path:
    return write_every_case(path, BATCHES, format_version=version, checksum=checksum, **options)


def _datasets(path: Path) -> dict[str, tuple]:
    """Return ``{name: (fletcher32, chunks, dtype)}`` of every dataset of a file."""
    out: dict[str, tuple] = {}
    with h5py.File(path, "r") as h5file:

        def visit(name: str, node) -> None:
            if isinstance(node, h5py.Dataset):
                out[name] = (node.fletcher32, node.chunks, node.dtype)

        h5file.visititems(visit)
    return out


@pytest.mark.parametrize("version", [1, 2])
def test_checksummed_files_read_back_equal(tmp_path: Path, version: int) -> None:
    plain = _write(tmp_path / "plain.h5", version)
    checked = _write(tmp_path / "checked.h5", version, checksum=True)
    assert snapshot(checked) == snapshot(plain)
    assert_same_content(plain, checked)


def test_every_dataset_that_can_take_the_filter_has_it(tmp_path: Path) -> None:
    v2 = _datasets(_write(tmp_path / "v2.h5", 2, checksum=True))
    assert v2["events"][0]
    assert any(name.endswith("event_offsets") for name in v2)
    assert all(fletcher for fletcher, _, _ in v2.values()), [n for n, (f, _, _) in v2.items() if not f]
    v1 = _datasets(_write(tmp_path / "v1.h5", 1, checksum=True))
    assert v1["events"][0] and v1["points"][0]
    # HDF5 refuses the filter on region references and top-level variable-length strings only
    unfiltered = {name for name, (fletcher, _, _) in v1.items() if not fletcher}
    assert unfiltered == {"clusts/index", "jag/index", "name", "tag"}
    assert all(chunks is not None for _, chunks, _ in v1.values())


@pytest.mark.parametrize("version", [1, 2])
def test_checksums_are_the_default_and_can_be_turned_off(tmp_path: Path, version: int) -> None:
    default = _datasets(write_every_case(tmp_path / "default.h5", BATCHES, format_version=version))
    assert default == _datasets(_write(tmp_path / "checked.h5", version, checksum=True))
    assert not any(fletcher for fletcher, _, _ in _datasets(_write(tmp_path / "plain.h5", version)).values())


def test_spine_reads_a_checksummed_file(tmp_path: Path) -> None:
    pytest.importorskip("spine")
    from spine.io.read import HDF5Reader as SpineReader

    path = _write(tmp_path / "checked.h5", 1, checksum=True)
    spine = SpineReader(str(path))
    ours = HDF5Reader(str(path))
    assert len(spine) == len(ours) == 6
    for entry in range(len(ours)):
        theirs = spine[entry]
        np.testing.assert_array_equal(theirs["points"], ours[entry]["points"])
        assert theirs["run_info"].event == ours[entry]["run_info"].event


def _flip_in_first_chunk(path: Path, dataset: str) -> None:
    """Flip the top byte of the first value stored in the first chunk of ``dataset`` (its rows start it)."""
    with h5py.File(path, "r") as h5file:
        info = h5file[dataset].id.get_chunk_info(0)
    with open(path, "r+b") as handle:
        handle.seek(info.byte_offset + 3)  # the top byte of the first value
        byte = handle.read(1)
        handle.seek(info.byte_offset + 3)  # the top byte of the first value
        handle.write(bytes([byte[0] ^ 0xFF]))


@pytest.mark.parametrize(("version", "dataset"), [(1, "points"), (2, "products/points/values")])
def test_a_flipped_byte_in_a_data_chunk_fails_loudly(tmp_path: Path, version: int, dataset: str) -> None:
    checked = _write(tmp_path / "checked.h5", version, checksum=True)
    _flip_in_first_chunk(checked, dataset)
    with HDF5Reader(str(checked)) as reader, pytest.raises(SpineFileError, match="'points'.*filter returned failure"):
        for entry in range(len(reader)):
            reader[entry]
    # without checksums the same flip reads back other numbers, without an error
    plain = _write(tmp_path / "plain.h5", version)
    with HDF5Reader(str(plain)) as reader:
        before = [reader[entry]["points"] for entry in range(len(reader))]
    _flip_in_first_chunk(plain, dataset)
    with HDF5Reader(str(plain)) as reader:
        after = [reader[entry]["points"] for entry in range(len(reader))]
    assert any(not np.array_equal(a, b, equal_nan=True) for a, b in zip(before, after))


def _inspect(path: Path) -> str:
    result = CliRunner().invoke(main, ["inspect", str(path)])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("version", [1, 2])
def test_inspect_names_the_filter(tmp_path: Path, version: int) -> None:
    checked = _inspect(_write(tmp_path / "checked.h5", version, checksum=True))
    assert "fletcher32" in checked and "fletcher32" not in _inspect(_write(tmp_path / "plain.h5", version))
    gzip = _inspect(_write(tmp_path / "gzip.h5", version, checksum=True, compression="gzip"))
    assert re.search(r"gzip(\(\d\))?\+fletcher32", gzip), gzip
