"""The README's ten-line analysis, run as written on a tiny two-file production.

The code is taken from the README's "A ten-line analysis" block, so the test
and the documentation cannot drift apart; it must write its PNG and select as
many primary muons as a loop over the per-entry objects does.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

matplotlib = pytest.importorskip("matplotlib")
pytest.importorskip("awkward")
matplotlib.use("Agg")

import awkward as ak  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

from spineh5.demo import make_batches  # noqa: E402
from spineh5.generated import ParticlePID  # noqa: E402
from spineh5.reader import HDF5Reader  # noqa: E402
from spineh5.writer import HDF5Writer  # noqa: E402

README = Path(__file__).resolve().parents[1] / "README.md"


def _analysis_code() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("### A ten-line analysis", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "no python block under 'A ten-line analysis'"
    return match.group(1)


def _write_production(folder: Path, files: int = 2, entries: int = 3) -> None:
    (folder / "prod").mkdir()
    for seed in range(files):
        writer = HDF5Writer(str(folder / "prod" / f"run_{seed}.h5"), overwrite=True)
        for batch in make_batches(entries, batch_size=2, seed=seed, scale=0.01):
            writer(batch, {})
        writer.finalize()


def _loop_count(pattern: str) -> int:
    with HDF5Reader(pattern, keys=["reco_particles"]) as reader:
        return sum(
            1
            for entry in reader
            for particle in entry["reco_particles"]
            if particle.pid == ParticlePID.MUON and particle.is_primary
        )


def test_readme_analysis_writes_the_png_and_selects_the_primary_muons(tmp_path: Path) -> None:
    code = _analysis_code()
    assert len([line for line in code.splitlines() if line.strip()]) <= 10
    _write_production(tmp_path)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        namespace: dict = {}
        exec(compile(code, str(README), "exec"), namespace)
        expected = _loop_count("prod/*.h5")
    finally:
        os.chdir(cwd)
        plt.close("all")
    png = tmp_path / "muon_ke.png"
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert expected > 0
    assert int(ak.sum(ak.num(namespace["muons"]))) == expected
