"""The formatter hook: rendered modules are laid out by ruff, not by the templates.

Every rendered module goes through ``ruff check --select I --fix-only`` (import
sorting) and ``ruff format``, with the generator's own ``ruff.toml`` (shipped with it)
whatever the output folder and the current directory, so that ``python -m codegen --check``
compares what a fresh run would write and ``spineh5 generate`` lays out user code the same way.
"""

from __future__ import annotations

import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path
from shutil import which

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "ruff.toml"


class FormatterError(RuntimeError):
    """ruff is missing or refused the rendered code."""


def _ruff_command() -> list[str]:
    """Return the command that runs ruff: this interpreter's ``ruff`` package, else ``ruff`` on the PATH."""
    if find_spec("ruff") is not None:
        return [sys.executable, "-m", "ruff"]
    found = which("ruff")
    if found is None:
        raise FormatterError(
            "ruff is not installed: the generator formats its output with `ruff format`; "
            "install the codegen extra (`pip install spineh5[codegen]`) or `pip install ruff`"
        )
    return [found]


def format_module(source: str, name: str) -> str:
    """Return ``source`` with its imports sorted and formatted as ``ruff format`` lays it out.

    Parameters
    ----------
    source : str
        Rendered Python source.
    name : str
        File name of the module inside its package (it appears in ruff's messages).

    Raises
    ------
    FormatterError
        When ruff is not installed or cannot parse the source.
    """
    ruff = _ruff_command()
    common = ["--config", str(CONFIG), "--stdin-filename", name, "-"]
    source = _run([*ruff, "check", "--select", "I", "--fix-only", "--quiet", *common], source, name)
    return _run([*ruff, "format", "--quiet", *common], source, name)


def _run(command: list[str], source: str, name: str) -> str:
    result = subprocess.run(command, input=source, capture_output=True, encoding="utf-8", cwd=HERE, check=False)
    if result.returncode != 0:
        raise FormatterError(f"ruff failed on the rendered {name}: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout
