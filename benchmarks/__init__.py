"""Write and read benchmarks of spineh5 against bare h5py (``python -m benchmarks``)."""
