"""spineh5: schema-first HDF5 writer and reader for SPINE reconstruction output."""

__version__ = "0.1.0"

from .runtime.writer import HDF5Writer  # noqa: E402

__all__ = ["HDF5Writer", "__version__"]
