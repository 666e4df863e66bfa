"""Compression through hdf5plugin: writer names, same content, inspect names the filter, missing-plugin errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import h5py
import pytest
from conftest import assert_same_content

from spineh5 import HDF5Reader, HDF5Writer, compression
from spineh5.describe.product import compression_text
from spineh5.errors import SpineH5Error
from spineh5.synthetic import make_batches

SRC = str(Path(compression.__file__).resolve().parents[1])


def _write(path: Path, version: int, name: str | None, level: int | None = None) -> Path:
    with HDF5Writer(str(path), format_version=version, compression=name, compression_opts=level) as writer:
        for batch in make_batches(4, batch_size=2, scale=0.05, seed=3):
            writer(batch)
    return path


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("name", sorted(compression.PLUGINS))
def test_plugin_filters_keep_the_content(tmp_path, version, name):
    pytest.importorskip("hdf5plugin")
    plain = _write(tmp_path / "plain.h5", version, None)
    packed = _write(tmp_path / "packed.h5", version, name)
    assert_same_content(plain, packed)
    family, compressor = compression.PLUGINS[name]
    with h5py.File(packed, "r") as h5file:
        dataset = h5file["points"] if version == 1 else h5file["products/points/values"]
        assert compression.filter_names(dataset) == [f"{family}-{compressor}"]
        assert compression_text(dataset) == f"{family}-{compressor}+fletcher32"  # what inspect shows (checksums on)


def test_levels_reach_the_filter(tmp_path):
    pytest.importorskip("hdf5plugin")
    path = _write(tmp_path / "z.h5", 1, "blosc2-zstd", level=9)
    with h5py.File(path, "r") as h5file:
        _, _, values, _ = h5file["points"].id.get_create_plist().get_filter(0)
        assert values[4] == 9  # Blosc2's clevel
    assert compression.dataset_options("gzip", 4) == {"compression": "gzip", "compression_opts": 4}
    assert compression.dataset_options("lzf", 4) == {"compression": "lzf"}


def test_unknown_or_unavailable_filters_are_refused_at_construction(tmp_path, monkeypatch):
    with pytest.raises(SpineH5Error, match=r"unknown compression 'snappy'.*blosc2-lz4"):
        HDF5Writer(str(tmp_path / "a.h5"), compression="snappy")
    monkeypatch.setattr(compression, "_hdf5plugin", lambda: None)
    with pytest.raises(SpineH5Error, match=r"'bitshuffle-zstd' needs the hdf5plugin package"):
        HDF5Writer(str(tmp_path / "b.h5"), compression={"points": "bitshuffle-zstd"})
    assert not (tmp_path / "a.h5").exists() and not (tmp_path / "b.h5").exists()


_READ_WITHOUT_PLUGIN = """
import sys
sys.modules["hdf5plugin"] = None  # a reader whose environment lacks hdf5plugin
from spineh5 import HDF5Reader
from spineh5.compression import MissingFilterError
reader = HDF5Reader(sys.argv[1])
try:
    reader.table("points") if sys.argv[2] == "table" else reader[0]
except MissingFilterError as err:
    print(err)
else:
    print("read without the plugin")
"""


@pytest.mark.parametrize("version", [1, 2])
def test_a_reader_without_the_plugin_names_filter_and_package(tmp_path, version):
    pytest.importorskip("hdf5plugin")
    path = _write(tmp_path / "blosc.h5", version, "blosc2-lz4")
    for how in ("entry", "table"):
        result = subprocess.run(
            [sys.executable, "-c", _READ_WITHOUT_PLUGIN, str(path), how],
            capture_output=True,
            text=True,
            timeout=120,
            env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"},
        )
        lines = result.stdout.strip().splitlines()
        assert result.returncode == 0 and len(lines) == 1, result.stdout + result.stderr
        assert "Blosc2-lz4 filter (HDF5 filter 32026)" in lines[0] and "pip install hdf5plugin" in lines[0]


def test_an_installed_plugin_is_imported_by_the_error_path(tmp_path):
    pytest.importorskip("hdf5plugin")
    path = _write(tmp_path / "blosc.h5", 2, "bitshuffle-lz4")
    script = (
        "import sys\nfrom spineh5 import HDF5Reader\nreader = HDF5Reader(sys.argv[1])\n"
        "try:\n    reader[0]\nexcept Exception as err:\n    print(type(err).__name__, err)\n"
        "print(len(reader[0]['points']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"},
    )
    first, second = result.stdout.strip().splitlines()
    assert first.startswith("MissingFilterError") and "now imported: read again" in first
    with HDF5Reader(str(path)) as reader:
        assert second == str(len(reader[0]["points"]))
