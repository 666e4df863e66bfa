"""Readable, comparable descriptions of the dtypes h5py gives and takes."""

from __future__ import annotations

import h5py
import numpy as np


def describe_dtype(dtype: np.dtype) -> str:
    """Return a description that tells apart every dtype spineh5 writes.

    Examples: ``int64``, ``str``, ``bool``, ``float32[3]``, ``vlen<int32>``,
    ``enum<int64>{A=0,B=1}``, ``regionref``, and for compounds
    ``{name: type, ...}`` in column order. numpy's own ``==`` ignores h5py's
    metadata (a vlen of int32 equals a vlen of float32), this does not.
    """
    if dtype.names is not None:
        inner = ", ".join(f"{name}: {describe_dtype(dtype.fields[name][0])}" for name in dtype.names)
        return "{" + inner + "}"
    if dtype.subdtype is not None:
        base, shape = dtype.subdtype
        return f"{describe_dtype(base)}[{','.join(map(str, shape))}]"
    if h5py.check_string_dtype(dtype) is not None:
        return "str"
    vlen = h5py.check_vlen_dtype(dtype)
    if vlen is not None:
        return f"vlen<{describe_dtype(np.dtype(vlen))}>"
    enum = h5py.check_enum_dtype(dtype)
    if enum is not None:
        members = ",".join(f"{k}={v}" for k, v in sorted(enum.items(), key=lambda kv: kv[1]))
        return f"enum<{dtype.name}>{{{members}}}"
    ref = h5py.check_ref_dtype(dtype)
    if ref is not None:
        return "regionref" if ref is h5py.RegionReference else "ref"
    return dtype.name
