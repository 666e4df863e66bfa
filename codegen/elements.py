"""The element-dtype table of the runtime (``src/spineh5/types/elements.py``), loaded by path.

The generator shares the runtime's one table instead of keeping its own copy.
It loads the file directly rather than importing ``spineh5``: importing the
package would import the generated code the generator is about to rewrite
(which may be stale or broken), and would need h5py.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

PATH = Path(__file__).resolve().parent.parent / "src" / "spineh5" / "types" / "elements.py"


def _load():
    name = "codegen._runtime_elements"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_elements = _load()
ELEMENTS = _elements.ELEMENTS
NUMERIC_ELEMENTS = _elements.NUMERIC_ELEMENTS
ENUM_ELEMENT = _elements.ENUM_ELEMENT
INT_RANGES = _elements.INT_RANGES
FLOAT_MAX = _elements.FLOAT_MAX

__all__ = ["ELEMENTS", "ENUM_ELEMENT", "FLOAT_MAX", "INT_RANGES", "NUMERIC_ELEMENTS", "PATH"]
