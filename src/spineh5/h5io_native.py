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
``(values, offsets)`` pools, strings) with no per-row cells at all: the path
of struct-of-arrays collections. Its ``hvl_t`` pointers go into the given
values arrays as they are (one or several pools per column, no copy), after
every offset is checked to stay inside its pool; :func:`spineh5.h5io.append_rows`
takes the :class:`NativeRows` it returns as rows.

Both fill a numpy structured array laid out like the native row (fixed
members at their offsets, ``uintp`` pointers for strings, ``hvl_t`` structs
after the row), so columns are put in place by numpy's field assignment.
"""

from __future__ import annotations

import ctypes
import os
from typing import Any, NamedTuple

import h5py
import numpy as np
from h5py import h5t

__all__ = ["ENV_SWITCH", "NativeRows", "empty_rows", "native_rows", "native_supported", "pooled_rows"]

#: Environment variable that turns the native path off (``0``, ``false``, ``no``, ``off``).
ENV_SWITCH = "SPINEH5_NATIVE_VLEN"

_SIZE_T = np.dtype(np.uintp)
_BYTE = ctypes.c_char
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
    """Return the address of a contiguous array's first byte.

    Through a ctypes view of its buffer (~2x faster than ``__array_interface__``, ~10x than
    ``ndarray.ctypes``), or its array interface when the buffer is read-only or empty.
    """
    try:
        return ctypes.addressof(_BYTE.from_buffer(array))
    except (TypeError, ValueError):
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


class _Plan(NamedTuple):
    """How the native buffer of one compound dtype is laid out (see :func:`_build_plan`)."""

    #: Bytes of one native row.
    size: int
    #: The HDF5 memory type of a native row.
    mem_type: Any
    #: ``(name, offset, kind)`` of each vlen member: kind ``"string"`` or the element dtype of an array.
    members: list
    #: A numpy dtype of the native row: fixed members at their offsets, strings as ``uintp`` pointers and
    #: vlen arrays as ``hvl_t`` structs, so that columns are put in place by numpy's field assignment.
    layout: np.dtype


def _plan(dtype: np.dtype) -> _Plan | None:
    """Return the native plan of a compound dtype (:func:`_build_plan`), cached by identity; None if not native."""
    entry = _PLANS.get(id(dtype))
    if entry is not None and entry[0] is dtype:
        return entry[1]
    plan = _build_plan(dtype)
    if len(_PLANS) >= 512:
        _PLANS.clear()
    _PLANS[id(dtype)] = (dtype, plan)
    return plan


def _build_plan(dtype: np.dtype) -> _Plan | None:
    """Plan a native buffer: the row's own bytes, then one ``hvl_t`` per vlen array column.

    Fixed members and strings (a ``char *`` fits the 8 bytes of the object
    pointer it replaces) keep their offsets; vlen arrays go after the row.
    """
    if dtype.names is None or not dtype.hasobject or dtype.itemsize == 0:
        return None
    size = dtype.itemsize
    members = []  # (name, offset in the buffer, kind, HDF5 member type, numpy type in the buffer)
    for name in dtype.names:
        field, offset = dtype.fields[name][:2]
        if field.kind != "O":
            if field.hasobject:
                return None
            members.append((name, offset, "fixed", h5t.py_create(field), field))
            continue
        base = h5py.check_vlen_dtype(field)
        string = h5py.check_string_dtype(field)
        if string is not None and string.length is None and _SIZE_T.itemsize == field.itemsize:
            mem = h5t.C_S1.copy()
            mem.set_size(h5t.VARIABLE)
            mem.set_cset(h5t.CSET_UTF8 if string.encoding == "utf-8" else h5t.CSET_ASCII)
            members.append((name, offset, "string", mem, _SIZE_T))
        elif base is not None and np.dtype(base).kind in "biuf" and np.dtype(base).shape == ():
            base = np.dtype(base)
            members.append((name, size, base, h5t.vlen_create(h5t.py_create(base)), _HVL))
            size += _HVL.itemsize
        else:
            return None
    mem_type = h5t.create(h5t.COMPOUND, size)
    for name, offset, _, member_type, _ in members:
        mem_type.insert(name.encode("utf-8"), offset, member_type)
    layout = np.dtype(
        {
            "names": [m[0] for m in members],
            "formats": [m[4] for m in members],
            "offsets": [m[1] for m in members],
            "itemsize": size,
        }
    )
    variable = [(name, offset, kind) for name, offset, kind, _, _ in members if kind != "fixed"]
    return _Plan(size, mem_type, variable, layout)


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
    rows = np.ascontiguousarray(rows)
    count, itemsize = len(rows), rows.dtype.itemsize
    buffer = np.zeros(count, dtype=plan.layout)
    if count:
        # The rows' own bytes, object pointers included (overwritten below, never used as objects).
        raw = (ctypes.c_uint8 * (count * itemsize)).from_address(_address(rows))
        buffer.view(np.uint8).reshape(count, plan.size)[:, :itemsize] = np.frombuffer(raw, dtype=np.uint8).reshape(
            count, itemsize
        )
    pools: list[np.ndarray] = []
    for name, _, kind in plan.members:
        column = rows[name]
        if kind == "string":
            done = _put_strings(buffer[name], column.tolist(), pools)
        else:
            done = _put_cells(buffer[name], column, kind, pools)
        if not done:
            return None
    return _native(buffer, plan, pools)


def empty_rows(dtype: np.dtype, count: int) -> NativeRows | None:
    """Return ``count`` native rows of ``dtype`` with zeros, empty vlen arrays and empty strings; None if not native.

    What h5py writes back from a fill row it read (``dataset[0:1] = dataset[0:1]``),
    byte for byte, with no conversion: strings point to one NUL byte (an empty
    string, not a null pointer, which HDF5 stores differently).
    """
    started = _zeroed(dtype, count)
    if started is None:
        return None
    plan, buffer = started
    empty = np.zeros(1, dtype=np.uint8)
    for name, _, kind in plan.members:
        if kind == "string":
            buffer[name] = _address(empty)
    return _native(buffer, plan, [empty])


def _zeroed(dtype: np.dtype, count: int) -> tuple[_Plan, np.ndarray] | None:
    """Return the native plan of ``dtype`` and ``count`` zeroed rows of it, or None where native writes do not apply."""
    if not native_supported():
        return None
    plan = _plan(dtype)
    if plan is None:
        return None
    return plan, np.zeros(count, dtype=plan.layout)


def _native(buffer: np.ndarray, plan: _Plan, pools: list[np.ndarray]) -> NativeRows:
    """Return a filled buffer of ``plan.layout`` as :class:`NativeRows` (opaque rows of ``plan.size`` bytes)."""
    return NativeRows(buffer.view(np.dtype((np.void, plan.size))), plan.mem_type, pools)


def _put_cells(structs: np.ndarray, cells: Any, base: np.dtype, pools: list[np.ndarray]) -> bool:
    """Fill the ``hvl_t`` structs of one vlen column from its cells, concatenated into one pool.

    Returns False (nothing usable) when a cell is not a 1-D array of ``base``.
    """
    count = len(cells)
    if not count:
        return True
    try:
        cell_list = cells.tolist() if isinstance(cells, np.ndarray) else list(cells)
        lengths = np.fromiter(map(len, cell_list), dtype=np.int64, count=count)
        pool = np.concatenate(cell_list)
    except (TypeError, ValueError):
        return False
    if pool.dtype != base or pool.ndim != 1:
        return False
    offsets = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    _put_pool(structs, np.ascontiguousarray(pool), offsets, pools)
    return True


def _put_pool(structs: np.ndarray, pool: np.ndarray, offsets: np.ndarray, pools: list[np.ndarray]) -> None:
    """Fill ``hvl_t`` structs with the rows ``pool[offsets[i]:offsets[i + 1]]`` (checked offsets)."""
    pools.append(pool)
    lengths = offsets[1:] - offsets[:-1]
    structs["len"] = lengths
    if len(pool):
        pointers = offsets[:-1] * pool.itemsize
        pointers += _address(pool)
        pointers[lengths == 0] = 0
        structs["p"] = pointers


def _put_strings(pointers: np.ndarray, cells: list, pools: list[np.ndarray]) -> bool:
    """Fill the ``char *`` pointers of one vlen string column into one pool of NUL-terminated unique strings.

    Returns False when a cell is not ``str``/``bytes`` or not encodable as UTF-8 (h5py then decides).
    """
    try:
        codes = {cell: code for code, cell in enumerate(dict.fromkeys(cells))}
        index = np.fromiter(map(codes.__getitem__, cells), np.int64, len(cells))
    except TypeError:  # an unhashable cell: not a string
        return False
    encoded = []
    for cell in codes:
        if isinstance(cell, str):
            try:
                cell = cell.encode("utf-8")
            except UnicodeEncodeError:  # h5py's conversion decides what to do with it
                return False
        elif not isinstance(cell, bytes):
            return False
        encoded.append(cell + b"\0")
    lengths = np.fromiter(map(len, encoded), np.int64, len(encoded))
    starts = np.zeros(len(encoded), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    pool = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy() if encoded else np.zeros(1, np.uint8)
    pools.append(pool)
    if len(index):
        starts += _address(pool)
        pointers[:] = starts[index]
    return True


def pooled_rows(dtype: np.dtype, columns: dict[str, Any], count: int) -> NativeRows | None:
    """Return native rows of ``dtype`` built straight from columns, with no per-row records (for collections).

    Parameters
    ----------
    dtype : numpy.dtype
        The compound the dataset stores (a generated class's ``DTYPE``).
    columns : dict
        Every column of ``dtype``: an array (or a scalar, broadcast) per fixed
        column; per vlen array column a tuple ``(values, offsets)``
        (``offsets`` of ``count + 1`` into ``values``, such as a
        :class:`~spineh5.types.column_arrays.Vlen`) or one array per row (an
        object array or a list); per string column a sequence of ``str``.
    count : int
        The number of rows.

    Returns
    -------
    NativeRows or None
        None when the native path is off, ``dtype`` cannot take it, or a
        column cannot be pointed at as it is (offsets outside their values,
        cells of another element type, a string that is not ``str``): then
        build records and write them with h5py's conversions.
    """
    started = _zeroed(dtype, count)
    if started is None:
        return None
    plan, buffer = started
    variable = {name: kind for name, _, kind in plan.members}
    for name in dtype.names:
        if name not in variable:
            buffer[name] = columns[name]  # numpy casts and broadcasts in C, as a records assignment does
    pools: list[np.ndarray] = []
    for name, kind in variable.items():
        value = columns[name]
        if kind == "string":
            done = _put_strings(buffer[name], list(value), pools)
        elif isinstance(value, tuple) or (isinstance(value, list) and value and isinstance(value[0], tuple)):
            done = _put_values(buffer[name], [value] if isinstance(value, tuple) else value, kind, count, pools)
        else:
            done = len(value) == count and _put_cells(buffer[name], value, kind, pools)
        if not done:
            return None
    return _native(buffer, plan, pools)


def _put_values(structs: np.ndarray, parts: list, base: np.dtype, count: int, pools: list[np.ndarray]) -> bool:
    """Fill the ``hvl_t`` structs of one vlen column from ``(values, offsets)`` pools, checking every offset first.

    The rows of the pools follow each other; the structs point into each pool as it is (no copy
    unless its values are not of ``base``). Returns False when a pool is malformed or the rows
    do not add up to ``count``.
    """
    if not all(isinstance(part, tuple) and len(part) == 2 for part in parts):
        return False
    if len(parts) == 1:
        return _put_one_pool(structs, parts[0], base, count, pools)
    values = [np.ascontiguousarray(part[0], dtype=base) for part in parts]
    offsets = [np.asarray(part[1]) for part in parts]
    if any(pool.ndim != 1 for pool in values) or any(o.ndim != 1 or o.dtype.kind not in "iu" for o in offsets):
        return False
    rows = [len(o) - 1 for o in offsets]
    if min(rows, default=0) < 0 or sum(rows) != count:
        return False
    if count == 0:
        return True
    starts = np.concatenate([o[:-1] for o in offsets]).astype(np.int64)
    lengths = np.concatenate([o[1:] for o in offsets]).astype(np.int64) - starts
    sizes = np.repeat(np.fromiter(map(len, values), np.int64, len(values)), rows)
    if (starts < 0).any() or (lengths < 0).any() or (starts + lengths > sizes).any():
        return False  # a pointer outside its pool would read foreign memory
    structs["len"] = lengths
    pointers = starts * base.itemsize
    pointers += np.repeat(np.fromiter(map(_address, values), np.int64, len(values)), rows)
    pointers[lengths == 0] = 0
    structs["p"] = pointers
    pools.extend(values)
    return True


def _put_one_pool(structs: np.ndarray, part: tuple, base: np.dtype, count: int, pools: list[np.ndarray]) -> bool:
    """Fill the ``hvl_t`` structs of one vlen column from a single ``(values, offsets)`` pool (:func:`_put_values`).

    Offsets that start at or after 0, never decrease and end inside the values keep every row inside
    the pool, so those three checks stand for the per-row bounds check.
    """
    values, offsets = np.ascontiguousarray(part[0], dtype=base), np.asarray(part[1])
    if values.ndim != 1 or offsets.ndim != 1 or offsets.dtype.kind not in "iu" or len(offsets) != count + 1:
        return False
    if count == 0:
        return True
    offsets = offsets.astype(np.int64, copy=False)
    if offsets[0] < 0 or offsets[-1] > len(values) or (offsets[1:] < offsets[:-1]).any():
        return False  # a pointer outside its pool would read foreign memory
    _put_pool(structs, values, offsets, pools)
    return True
