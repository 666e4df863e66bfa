"""Optional reference: SPINE >= 1.4's own V2 writer and reader on the same event mix, in a separate venv.

SPINE >= 1.4 cannot share a venv with the SPINE 0.14.1 test peer, so these
rows run in a child process of the interpreter given by ``--spine2-python``
(default :data:`DEFAULT_PYTHON`, or ``$SPINEH5_SPINE2_PYTHON``) with this
checkout's ``src`` and ``benchmarks`` on its path. The child times, in rounds
and in the same process, SPINE's V2 writer against spineh5's
(``format_version=2``) and SPINE's reader against spineh5's (every entry,
every product), and prints medians and paired ratios as JSON. When the
interpreter is missing, or its SPINE is older than 1.4, the rows are skipped
with one line saying why.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

#: Where the SPINE >= 1.4 venv lives on the development machine.
DEFAULT_PYTHON = os.environ.get(
    "SPINEH5_SPINE2_PYTHON",
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".venv-spine2", "bin", "python"),
)
_ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    paths = [str(_ROOT / "src"), str(_ROOT)]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths + [os.environ.get("PYTHONPATH", "")])}


def unavailable(python: str) -> str | None:
    """Return why the SPINE >= 1.4 rows cannot run with ``python`` (None when they can)."""
    if not os.path.exists(python):
        return f"no SPINE >= 1.4 interpreter at {python} (--spine2-python or $SPINEH5_SPINE2_PYTHON)"
    probe = "import spine, spine.io.write, spine.io.read; print(spine.__version__)"
    try:
        done = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=120, env=_env())
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"{python} cannot run ({err})"
    if done.returncode != 0:
        return f"SPINE cannot be imported by {python}: {done.stderr.strip().splitlines()[-1:]}"
    version = done.stdout.strip()
    numbers = tuple(int(part) for part in version.split(".")[:2] if part.isdigit())
    if numbers < (1, 4):
        return f"SPINE {version} at {python} has no V2 layout (needs >= 1.4)"
    return None


def run(python: str, entries: int, repeat: int, folder: str) -> dict[str, Any]:
    """Run the child with ``python``; return its figures (see :func:`_child`)."""
    command = [python, "-m", "benchmarks.spine_v2", str(entries), str(repeat), folder]
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600, env=_env(), cwd=str(_ROOT))
    if done.returncode != 0:
        raise RuntimeError(f"SPINE >= 1.4 comparison failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _timed(function: Any) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def _child(entries: int, repeat: int, folder: str) -> dict[str, Any]:
    """Time SPINE's V2 writer and reader against spineh5's, in rounds, in this process."""
    from spine.io.read import HDF5Reader as SpineReader
    from spine.io.write import HDF5Writer as SpineWriter

    from spineh5 import HDF5Reader, HDF5Writer

    from . import mix, spine_ref

    batches = mix.make_batches(entries)
    spine_batches = spine_ref.to_spine(batches)
    count = sum(len(batch["index"]) for batch in batches)
    spine_path, ours_path = os.path.join(folder, "spine_v2.h5"), os.path.join(folder, "spineh5_v2.h5")

    def write_spine() -> None:
        if os.path.exists(spine_path):
            os.remove(spine_path)
        writer = SpineWriter(file_name=spine_path, format_version=2)
        for batch in spine_batches:
            writer(batch, {})
        writer.finalize()

    def write_ours() -> None:
        with HDF5Writer(ours_path, format_version=2, overwrite=True) as writer:
            for batch in batches:
                writer(batch, {})

    def read_spine() -> None:
        reader = SpineReader(file_keys=[spine_path])
        for index in range(len(reader)):
            reader[index]

    def read_ours() -> None:
        with HDF5Reader(ours_path) as reader:
            for index in range(len(reader)):
                reader[index]

    times: dict[str, list[float]] = {"spine_write": [], "ours_write": [], "spine_read": [], "ours_read": []}
    for _ in range(repeat):
        times["spine_write"].append(_timed(write_spine))
        times["ours_write"].append(_timed(write_ours))
        times["spine_read"].append(_timed(read_spine))
        times["ours_read"].append(_timed(read_ours))
    import spine

    return {
        "spine_version": spine.__version__,
        "entries": count,
        "median": {name: statistics.median(values) for name, values in times.items()},
        "write_ratio": statistics.median(s / o for s, o in zip(times["spine_write"], times["ours_write"])),
        "read_ratio": statistics.median(s / o for s, o in zip(times["spine_read"], times["ours_read"])),
    }


if __name__ == "__main__":
    print(json.dumps(_child(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])))
