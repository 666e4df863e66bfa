"""spineh5: schema-first HDF5 writer and reader for SPINE reconstruction output."""

__version__ = "0.1.0"
