"""Native variable-length writes: compound rows whose vlen members point into one numpy pool per column.

h5py converts every variable-length cell of a compound write in Python
(``_conv_ndarray2vlen`` for arrays, one ``str.encode`` and copy per
string). :func:`native_rows` instead gathers each vlen column into one
contiguous pool (``numpy.concatenate``, one C loop) and builds a memory
buffer of HDF5's own in-memory structs: ``hvl_t {size_t len; void *p}`` for
arrays and ``char *`` for strings, pointing into the pools. HDF5 then reads
the cells straight from the pools; the bytes on disk are the same (same
values, same member order, same heap writes).

The pools are only referenced by raw pointers, so the :class:`NativeRows`
returned owns them: keep it alive until the write returns (the caller holds
it in a local variable around the write).

The path is used when :func:`native_supported` (detected once per process:
pointer size, h5py's low-level vlen types and a write/read self-test in an
in-memory file) and when every object member of the compound is a vlen
numeric array or a vlen string; otherwise :func:`native_rows` returns None and
the caller writes ``rows`` with h5py's conversions as before. Setting the
environment variable ``SPINEH5_NATIVE_VLEN=0`` forces that fallback.

:func:`pooled_rows` builds the same buffer from columns (fixed arrays, vlen
``(values, offsets)``, strings) with no per-row cells at all: the path of
struct-of-arrays collections; :func:`spineh5.h5io.append_rows` takes the
:class:`NativeRows` it returns as rows.
"""

from __future__ import annotations

import ctypes
import os
from typing import Any

import h5py
import numpy as np
from h5py import h5t

__all__ = ["ENV_SWITCH", "NativeRows", "native_rows", "native_supported", "pooled_rows"]

#: Environment variable that turns the native path off (``0``, ``false``, ``no``, ``off``).
ENV_SWITCH = "SPINEH5_NATIVE_VLEN"

_SIZE_T = np.dtype(np.uintp)
_HVL = np.dtype([("len", _SIZE_T), ("p", _SIZE_T)])
_SUPPORTED: bool | None = None
#: Per compound dtype (by identity): None when it cannot take the native path, else its plan.
_PLANS: dict[int, tuple[np.dtype, Any]] = {}


class NativeRows:
    """A buffer of native rows, its HDF5 memory type, and the pools its pointers point into.

    Attributes
    ----------
    buffer : numpy.ndarray
        The rows, vlen members as ``hvl_t`` or ``char *`` structs.
    mem_type : h5py.h5t.TypeCompoundID
        The HDF5 memory type of ``buffer``.
    pools : list of numpy.ndarray
        The arrays ``buffer``'s pointers point into (kept referenced by this object).
    """

    __slots__ = ("buffer", "mem_type", "pools")

    def __init__(self, buffer: np.ndarray, mem_type: Any, pools: list[np.ndarray]) -> None:
        self.buffer, self.mem_type, self.pools = buffer, mem_type, pools

    def __len__(self) -> int:
        return len(self.buffer)


def _address(array: np.ndarray) -> int:
    """Return the address of an array's first byte (``ndarray.ctypes`` builds a helper object: ~10x slower)."""
    return array.__array_interface__["data"][0]


def _switched_off() -> bool:
    return os.environ.get(ENV_SWITCH, "1").strip().lower() in ("0", "false", "no", "off")


def native_supported() -> bool:
    """Return whether native vlen writes work here (pointer size, h5py build, a self-test); checked once.

    ``SPINEH5_NATIVE_VLEN=0`` answers False without the check (read at every call).
    """
    global _SUPPORTED
    if _switched_off():
        return False
    if _SUPPORTED is None:
        _SUPPORTED = _self_test()
    return _SUPPORTED


def _self_test() -> bool:
    """Write two rows natively to an in-memory file and read them back through h5py's own conversions."""
    if ctypes.sizeof(ctypes.c_void_p) != _SIZE_T.itemsize or ctypes.sizeof(ctypes.c_size_t) != _SIZE_T.itemsize:
        return False
    if not all(hasattr(h5t, name) for name in ("vlen_create", "create", "C_S1", "VARIABLE")):
        return False
    dtype = np.dtype([("a", np.int32), ("v", h5py.vlen_dtype(np.float32)), ("s", h5py.string_dtype())])
    rows = np.empty(2, dtype=dtype)
    rows["a"] = [1, 2]
    rows["v"][0], rows["v"][1] = np.array([1.5, 2.5], np.float32), np.empty(0, np.float32)
    rows["s"] = ["cm", "πx"]
    try:
        native = native_rows(rows, check_support=False)
        if native is None:
            return False
        with h5py.File(f"spineh5-native-{os.getpid()}", "w", driver="core", backing_store=False) as h5file:
            dataset = h5file.create_dataset("t", shape=(2,), dtype=dtype)
            space = dataset.id.get_space()
            dataset.id.write(h5py.h5s.create_simple((2,)), space, native.buffer, native.mem_type)
            back = dataset[()]
        return (
            back["a"].tolist() == [1, 2]
            and back["v"][0].tolist() == [1.5, 2.5]
            and len(back["v"][1]) == 0
            and [s.decode("utf-8") if isinstance(s, bytes) else s for s in back["s"]] == ["cm", "πx"]
        )
    except Exception:  # any failure of the low-level path means: use h5py's conversions
        return False


def _plan(dtype: np.dtype) -> tuple[int, Any, list] | None:
    """Return the native plan of a compound dtype (:func:`_build_plan`), cached by identity; None if not native."""
    entry = _PLANS.get(id(dtype))
    if entry is not None and entry[0] is dtype:
        return entry[1]
    plan = _build_plan(dtype)
    if len(_PLANS) >= 512:
        _PLANS.clear()
    _PLANS[id(dtype)] = (dtype, plan)
    return plan


def _build_plan(dtype: np.dtype) -> tuple[int, Any, list] | None:
    """Plan a native buffer: the row's own bytes, then one ``hvl_t`` per vlen array column.

    Fixed members and strings (a ``char *`` fits the 8 bytes of the object
    pointer it replaces) keep their offsets; vlen arrays go after the row.
    """
    if dtype.names is None or not dtype.hasobject or dtype.itemsize == 0:
        return None
    size = dtype.itemsize
    members = []  # (name, offset in the buffer, kind, HDF5 member type)
    for name in dtype.names:
        field, offset = dtype.fields[name][:2]
        if field.kind != "O":
            if field.hasobject:
                return None
            members.append((name, offset, "fixed", h5t.py_create(field)))
            continue
        base = h5py.check_vlen_dtype(field)
        string = h5py.check_string_dtype(field)
        if string is not None and string.length is None and _SIZE_T.itemsize == field.itemsize:
            mem = h5t.C_S1.copy()
            mem.set_size(h5t.VARIABLE)
            mem.set_cset(h5t.CSET_UTF8 if string.encoding == "utf-8" else h5t.CSET_ASCII)
            members.append((name, offset, "string", mem))
        elif base is not None and np.dtype(base).kind in "biuf" and np.dtype(base).shape == ():
            base = np.dtype(base)
            members.append((name, size, base, h5t.vlen_create(h5t.py_create(base))))
            size += _HVL.itemsize
        else:
            return None
    mem_type = h5t.create(h5t.COMPOUND, size)
    for name, offset, _, member_type in members:
        mem_type.insert(name.encode("utf-8"), offset, member_type)
    return size, mem_type, [(name, offset, kind) for name, offset, kind, _ in members if kind != "fixed"]


def native_rows(rows: np.ndarray, check_support: bool = True) -> NativeRows | None:
    """Return ``rows`` as native rows pointing into per-column pools, or None to write them as they are.

    Parameters
    ----------
    rows : numpy.ndarray
        1-D compound rows whose object members hold numeric arrays (vlen
        arrays) or ``str``/``bytes`` (vlen strings).
    check_support : bool, default True
        Return None unless :func:`native_supported`.

    Returns
    -------
    NativeRows or None
        None when the platform, the dtype or a cell does not allow the native
        path (a cell that is not a 1-D array of the column's element type, a
        string cell that is not ``str``/``bytes``): h5py's conversions then
        handle (or refuse) ``rows`` exactly as before.
    """
    if check_support and not native_supported():
        return None
    if rows.ndim != 1:
        return None
    plan = _plan(rows.dtype)
    if plan is None:
        return None
    size, mem_type, members = plan
    rows = np.ascontiguousarray(rows)
    count, itemsize = len(rows), rows.dtype.itemsize
    buffer = np.zeros((count, size), dtype=np.uint8)
    if count:
        # The rows' own bytes, object pointers included (overwritten below, never used as objects).
        raw = (ctypes.c_uint8 * (count * itemsize)).from_address(_address(rows))
        buffer[:, :itemsize] = np.frombuffer(raw, dtype=np.uint8).reshape(count, itemsize)
    pools: list[np.ndarray] = []
    for name, offset, kind in members:
        column = rows[name]
        if kind == "string":
            structs = _string_pointers(column, pools)
        else:
            structs = _array_structs(column, kind, pools)
        if structs is None:
            return None
        width = structs.dtype.itemsize
        buffer[:, offset : offset + width] = structs.view(np.uint8).reshape(count, width)
    return NativeRows(buffer.reshape(-1).view(np.dtype((np.void, size))), mem_type, pools)


def _array_structs(cells: np.ndarray, base: np.dtype, pools: list[np.ndarray]) -> np.ndarray | None:
    """Return the ``hvl_t`` structs of one vlen column, its cells concatenated into one pool."""
    count = len(cells)
    out = np.zeros(count, dtype=_HVL)
    if not count:
        return out
    try:
        cell_list = cells.tolist()  # one pass out of numpy; a list iterates several times faster
        lengths = np.fromiter(map(len, cell_list), dtype=np.int64, count=count)
        pool = np.concatenate(cell_list)
    except (TypeError, ValueError):
        return None
    if pool.dtype != base or pool.ndim != 1:
        return None
    pool = np.ascontiguousarray(pool)
    pools.append(pool)
    starts = np.zeros(count, dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    out["len"] = lengths
    if len(pool):
        out["p"] = np.where(lengths > 0, _address(pool) + starts * base.itemsize, 0)
    return out


def _string_pointers(cells: np.ndarray, pools: list[np.ndarray]) -> np.ndarray | None:
    """Return ``char *`` pointers of one vlen string column into one pool of NUL-terminated unique strings."""
    cell_list = cells.tolist()
    try:
        codes = {cell: code for code, cell in enumerate(dict.fromkeys(cell_list))}
        index = np.fromiter(map(codes.__getitem__, cell_list), np.int64, len(cell_list))
    except TypeError:  # an unhashable cell: not a string
        return None
    encoded = []
    for cell in codes:
        if isinstance(cell, str):
            try:
                cell = cell.encode("utf-8")
            except UnicodeEncodeError:  # h5py's conversion decides what to do with it
                return None
        elif not isinstance(cell, bytes):
            return None
        encoded.append(cell + b"\0")
    lengths = np.fromiter(map(len, encoded), np.int64, len(encoded))
    starts = np.zeros(len(encoded), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    pool = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy() if encoded else np.zeros(1, np.uint8)
    pools.append(pool)
    return (_address(pool) + starts[index]).astype(_SIZE_T) if len(index) else np.empty(0, _SIZE_T)


def pooled_rows(dtype: np.dtype, columns: dict[str, Any], count: int) -> NativeRows | None:
    """Return native rows of ``dtype`` built straight from columns, with no per-row cells (for collections).

    Parameters
    ----------
    dtype : numpy.dtype
        The compound the dataset stores (a generated class's ``DTYPE``).
    columns : dict
        Every column of ``dtype``: a numpy array per fixed column; per vlen
        array column ``(values, offsets)`` (``offsets`` int64 of ``count + 1``,
        from 0); per string column a sequence of ``str``.
    count : int
        The number of rows.

    Returns
    -------
    NativeRows or None
        None when the native path is off or ``dtype`` cannot take it (then
        build records and write them with h5py's conversions).
    """
    if not native_supported():
        return None
    plan = _plan(dtype)
    if plan is None:
        return None
    size, mem_type, members = plan
    buffer = np.zeros((count, size), dtype=np.uint8)
    variable = {name for name, _, _ in members}
    for name in dtype.names:
        if name in variable:
            continue
        field, offset = dtype.fields[name][:2]
        column = np.ascontiguousarray(
            np.broadcast_to(np.asarray(columns[name], dtype=field.base), (count, *field.shape))
        )
        buffer[:, offset : offset + field.itemsize] = column.view(np.uint8).reshape(count, field.itemsize)
    pools: list[np.ndarray] = []
    for name, offset, kind in members:
        if kind == "string":
            cells = np.empty(count, dtype=object)
            cells[:] = list(columns[name])
            structs = _string_pointers(cells, pools)
            if structs is None:
                return None
        else:
            values, offsets = columns[name]
            pool = np.ascontiguousarray(values, dtype=kind)
            offsets = np.asarray(offsets, dtype=np.int64)
            if pool.ndim != 1 or offsets.shape != (count + 1,):
                return None
            pools.append(pool)
            lengths = np.diff(offsets)
            structs = np.zeros(count, dtype=_HVL)
            structs["len"] = lengths
            structs["p"] = np.where(lengths > 0, _address(pool) + offsets[:-1] * kind.itemsize, 0)
        width = structs.dtype.itemsize
        buffer[:, offset : offset + width] = structs.view(np.uint8).reshape(count, width)
    return NativeRows(buffer.reshape(-1).view(np.dtype((np.void, size))), mem_type, pools)
