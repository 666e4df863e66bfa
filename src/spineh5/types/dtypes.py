"""Readable, comparable descriptions of the dtypes h5py gives and takes."""

from __future__ import annotations

import h5py
import numpy as np


def describe_dtype(dtype: np.dtype, brief: bool = False) -> str:
    """Return a description that tells apart every dtype spineh5 writes.

    Examples: ``int64``, ``str``, ``bool``, ``float32[3]``, ``vlen<int32>``,
    ``enum<int64>{A=0,B=1}``, ``regionref``, and for compounds
    ``{name: type, ...}`` in column order. numpy's own ``==`` ignores h5py's
    metadata (a vlen of int32 equals a vlen of float32), this does not.

    Parameters
    ----------
    dtype : numpy.dtype
        The dtype.
    brief : bool, default False
        Describe for a reader rather than for comparison: enums without their
        members (``enum<int64>``), fixed-length strings with their length
        (``str[8]``).
    """
    if dtype.names is not None:
        inner = ", ".join(f"{name}: {describe_dtype(dtype.fields[name][0], brief)}" for name in dtype.names)
        return "{" + inner + "}"
    if dtype.subdtype is not None:
        base, shape = dtype.subdtype
        return f"{describe_dtype(base, brief)}[{','.join(map(str, shape))}]"
    string = h5py.check_string_dtype(dtype)
    if string is not None:
        return f"str[{string.length}]" if brief and string.length is not None else "str"
    vlen = h5py.check_vlen_dtype(dtype)
    if vlen is not None:
        return f"vlen<{describe_dtype(np.dtype(vlen), brief)}>"
    enum = h5py.check_enum_dtype(dtype)
    if enum is not None:
        if brief:
            return f"enum<{dtype.name}>"
        members = ",".join(f"{k}={v}" for k, v in sorted(enum.items(), key=lambda kv: kv[1]))
        return f"enum<{dtype.name}>{{{members}}}"
    ref = h5py.check_ref_dtype(dtype)
    if ref is not None:
        return "regionref" if ref is h5py.RegionReference else "ref"
    return dtype.name


def _leaf_family(dtype: np.dtype) -> str:
    """Return the family of a leaf dtype: numeric widths fold together, enums count as integers."""
    text = describe_dtype(dtype)
    if text.startswith("enum<"):
        return "int"
    if dtype.kind in "iu":
        return "int"
    if dtype.kind == "f":
        return "float"
    return text


def compound_signature(dtype: np.dtype) -> list[tuple[str, str]]:
    """Return ``(name, family)`` per column of a compound, folding numeric widths.

    SPINE's writer takes the dtype of a value-typed column from the first
    object it sees (a float64 ``momentum`` where the schema says float32), so
    two files of the same class can differ in numeric widths only. Columns
    whose signature agrees can be appended to: HDF5 converts the numbers.
    """
    out = []
    for name in dtype.names or ():
        member = dtype.fields[name][0]
        if member.subdtype is not None:
            base, shape = member.subdtype
            out.append((name, f"{_leaf_family(base)}[{','.join(map(str, shape))}]"))
            continue
        vlen = h5py.check_vlen_dtype(member)
        if vlen is not None and h5py.check_string_dtype(member) is None:
            out.append((name, f"vlen<{_leaf_family(np.dtype(vlen))}>"))
            continue
        out.append((name, _leaf_family(member)))
    return out


def column_changes_text(have: dict[str, str], want: dict[str, str]) -> list[str]:
    """Return the columns added (only in ``want``), removed (only in ``have``) and changed, one phrase each.

    ``have`` and ``want`` map column names to a description of each column
    (as :func:`describe_dtype` gives it); the phrases are empty when they agree.
    """
    added = [name for name in want if name not in have]
    removed = [name for name in have if name not in want]
    changed = [f"{name} ({have[name]} -> {want[name]})" for name in want if name in have and have[name] != want[name]]
    phrases = [("added", added), ("removed", removed), ("dtype changed", changed)]
    return [f"{what} {', '.join(names)}" for what, names in phrases if names]


def compound_columns(dtype: np.dtype) -> dict[str, str]:
    """Return ``{column: description}`` of a compound dtype (empty for other dtypes)."""
    return {name: describe_dtype(dtype.fields[name][0]) for name in dtype.names or ()}
