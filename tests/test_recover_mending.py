"""What recover mends of a kill inside a flush: torn tail chunks and a superblock short of the data.

The files are finished references made to look as a kill inside HDF5's flush
leaves them: the checksum of a dataset's last chunk no longer matching (a
multi-page chunk write cut between pages), or the superblock's end of
allocation left short of metadata written after it.
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import CFG
from recovery_helpers import assert_recovered, batches, write, writer_options

from spineh5 import HDF5Writer, recover
from spineh5.recovery.end_of_file import extend_to_file_size
from spineh5.recovery.torn_chunks import edc_disabled_transfer

pytestmark = pytest.mark.skipif(edc_disabled_transfer() is None, reason="HDF5's H5Pset_edc_check is not reachable")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    folder = tmp_path_factory.mktemp("mending")
    return {version: write(folder / f"v{version}.h5", 4, version) for version in (1, 2)}


def _unfinished(reference: Path, path: Path) -> Path:
    if reference != path:
        shutil.copyfile(reference, path)
    with h5py.File(path, "r+") as h5file:
        h5file["info"].attrs["complete"] = np.bool_(False)
    return path


def _checksummed_dataset(path: Path) -> str:
    """Return a checksummed product dataset of the file with rows (the first by name)."""
    found: list[str] = []
    with h5py.File(path, "r") as h5file:
        h5file.visititems(
            lambda name, item: (
                found.append(name)
                if isinstance(item, h5py.Dataset) and item.fletcher32 and item.shape[0] > 1 and name != "events"
                else None
            )
        )
    return sorted(found)[0]


def _tear(path: Path, name: str, chunk: int = -1) -> None:
    """Flip the stored checksum of one chunk of ``name`` (its last by default): the chunk's rows are untouched."""
    with h5py.File(path, "r") as h5file:
        dataset = h5file[name]
        chunks = (dataset.shape[0] + dataset.chunks[0] - 1) // dataset.chunks[0]
        info = dataset.id.get_chunk_info(chunks - 1 if chunk == -1 else chunk)
        at = info.byte_offset + info.size - 4
    with open(path, "r+b") as handle:
        handle.seek(at)
        stored = handle.read(4)
        handle.seek(at)
        handle.write(bytes(b ^ 0xFF for b in stored))


@pytest.mark.parametrize("version", [1, 2])
def test_a_torn_tail_chunk_keeps_its_rows(tmp_path: Path, reference: dict[int, Path], version: int) -> None:
    source = _unfinished(reference[version], tmp_path / "killed.h5")
    name = _checksummed_dataset(source)
    _tear(source, name)
    with h5py.File(source, "r") as h5file, pytest.raises(OSError):
        h5file[name][:]  # HDF5 refuses the whole chunk
    report = recover(source, out=tmp_path / "fixed.h5")
    assert report.entries_kept == 12 and not report.damaged
    assert any(item.startswith(f"/{name} rows") for item in report.mended), report.mended
    record = assert_recovered(tmp_path / "fixed.h5", reference[version], 12)
    assert record["mended"] == list(report.mended)


def test_damage_before_the_tail_is_not_mended(tmp_path: Path) -> None:
    """A bad checksum in a chunk no flush was rewriting is damage: the entries stop before it."""
    source = tmp_path / "killed.h5"
    with HDF5Writer(str(source), chunk_rows=2, **writer_options(2, None)) as writer:
        for batch in batches(4):
            writer(batch, cfg=CFG)
    _unfinished(source, source)
    _tear(source, "products/run_info/fixed", chunk=0)  # 12 rows in chunks of 2: the first of 6
    report = recover(source, out=tmp_path / "fixed.h5")
    assert report.damaged and report.entries_kept == 0 and report.mended == ()


def test_a_short_end_of_allocation_is_raised(tmp_path: Path, reference: dict[int, Path]) -> None:
    source = _unfinished(reference[1], tmp_path / "killed.h5")
    size = source.stat().st_size
    with open(source, "r+b") as handle:
        handle.seek(40)
        handle.write(struct.pack("<Q", size - 4096))  # metadata past the recorded end
    report = recover(source, out=tmp_path / "fixed.h5")
    assert report.entries_kept == 12
    assert report.mended[0] == f"superblock end of allocation {size - 4096} -> {size}"
    assert_recovered(tmp_path / "fixed.h5", reference[1], 12)
    assert extend_to_file_size(tmp_path / "fixed.h5") is None  # nothing short any more
