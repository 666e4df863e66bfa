"""spineh5: schema-first HDF5 writer and reader for SPINE reconstruction output.

The curated surface: :class:`HDF5Writer`, :class:`HDF5Reader`, :func:`validate`,
:func:`convert`, :func:`compare`, :func:`recover` and the errors (all deriving from :class:`SpineH5Error`).
``HDF5Writer``, ``HDF5Reader``, ``validate``, ``convert`` and ``compare`` are imported on
first use, so that tools which only look at files (``spineh5 validate``) do not
load the writer.
"""

from __future__ import annotations

from typing import Any

from .errors import (
    ColumnError,
    CompareError,
    ConvertError,
    FileOpenError,
    FileStateError,
    IncompleteFileError,
    LayoutMismatchError,
    MissingProductError,
    OutputExistsError,
    ProductError,
    SchemaEvolutionError,
    SpineFileError,
    SpineH5Error,
    UnknownColumnsWarning,
    UnknownProductError,
    UnsupportedProductError,
    UnsupportedValueError,
)

__version__ = "0.1.0"

__all__ = [
    "ColumnError",
    "CompareError",
    "ConvertError",
    "FileOpenError",
    "FileStateError",
    "HDF5Reader",
    "HDF5Writer",
    "IncompleteFileError",
    "LayoutMismatchError",
    "MissingProductError",
    "OutputExistsError",
    "ProductError",
    "SchemaEvolutionError",
    "SpineFileError",
    "SpineH5Error",
    "UnknownColumnsWarning",
    "UnknownProductError",
    "UnsupportedProductError",
    "UnsupportedValueError",
    "__version__",
    "compare",
    "convert",
    "recover",
    "validate",
]

_LAZY = {
    "HDF5Writer": ".writer",
    "HDF5Reader": ".reader",
    "validate": ".validation",
    "convert": ".conversion",
    "compare": ".comparison",
    "recover": ".recovery",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'spineh5' has no attribute {name!r}")
