"""Every tool tells a file's layout the same way (issue 11): the reader, ``inspect``, ``validate`` and ``convert``.

The case that used to split them: a SPINE V1 file (``format_version=1``) that also
holds an empty ``products`` group. ``inspect`` called it V2, the reader and
``validate`` V1.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import h5py
import pytest
from click.testing import CliRunner
from conftest import FIXTURE_FILES, FULL, HEAD_V1

from spineh5 import HDF5Reader, UnknownColumnsWarning, convert, validate
from spineh5.cli import main
from spineh5.describe import summarize


def _v1_with_empty_products(source: Path, path: Path, version: int | None) -> Path:
    shutil.copyfile(source, path)
    with h5py.File(path, "r+") as h5file:
        h5file.create_group("products")
        if version is not None:
            h5file["info"].attrs["format_version"] = version
    return path


def _cases(tmp_path: Path) -> list[tuple[Path, int]]:
    """Files with the layout each must be read as: every fixture, and the V1 files with an empty products group."""
    cases = [(path, 2 if path.name.endswith("_v2.h5") else 1) for path in FIXTURE_FILES]
    for source in (FULL, HEAD_V1):
        for version in (1, None):
            name = f"{source.stem}_products_{version}.h5"
            cases.append((_v1_with_empty_products(source, tmp_path / name, version), 1))
    return cases


def _reader_version(path: Path) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownColumnsWarning)
        with HDF5Reader(str(path)) as reader:
            return reader.format_version


def test_fixture_list_covers_both_layouts() -> None:
    names = {path.name for path in FIXTURE_FILES}
    assert {"spine_f31056c8.h5", "spine_f31056c8_lite.h5", "spine_head_v1.h5", "spine_head_v2.h5"} <= names


def test_reader_inspect_validate_and_convert_agree_on_the_layout(tmp_path: Path) -> None:
    for path, expected in _cases(tmp_path):
        assert _reader_version(path) == expected, path.name
        with h5py.File(path, "r") as h5file:
            assert summarize(h5file).layout == f"V{expected}", path.name
        shown = CliRunner().invoke(main, ["inspect", str(path)])
        assert shown.exit_code == 0, shown.output
        assert f"SPINE V{expected}" in shown.output, (path.name, shown.output)
        if expected == 1:  # checked as V1: no rule of the V2 contract fires
            v2_rules = {problem.rule for problem in validate(path) if problem.rule.startswith("v2.")}
            assert not v2_rules, (path.name, v2_rules)
        result = convert(path, tmp_path / f"{path.stem}_converted.h5", 3 - expected)
        assert result.source_version == expected, path.name
        assert _reader_version(tmp_path / f"{path.stem}_converted.h5") == 3 - expected


@pytest.mark.parametrize("version", [1, None])
def test_v1_file_with_empty_products_validates_like_the_original(tmp_path: Path, version: int | None) -> None:
    """Only the extra root object is reported; no V2 rule fires and nothing else changes."""
    path = _v1_with_empty_products(HEAD_V1, tmp_path / "with_products.h5", version)
    original = {(p.severity, p.rule) for p in validate(HEAD_V1)}
    changed = {(p.severity, p.rule) for p in validate(path)}
    assert not any(rule.startswith("v2.") for _, rule in changed)
    assert original <= changed
    assert len(changed - original) <= 1, changed - original
