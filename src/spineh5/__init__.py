"""spineh5: schema-first HDF5 writer and reader for SPINE reconstruction output.

``HDF5Writer`` and ``HDF5Reader`` are imported on first use, so that tools
which only look at files (``spineh5 validate``) do not load the writer.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["HDF5Reader", "HDF5Writer", "__version__"]

_LAZY = {"HDF5Writer": ".writer", "HDF5Reader": ".reader"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'spineh5' has no attribute {name!r}")
