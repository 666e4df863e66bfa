"""HDF5's global heap collections, checked before HDF5 is asked to follow a region reference into one.

A V1 region reference (12 bytes on disk: the address of a global heap
collection and the index of an object in it, HDF5 file format specification
III.E) is resolved by HDF5 from that collection. A damaged collection can
make HDF5 loop forever at 100% CPU: a zeroed object header reads as the
free-space object (index 0) of size 0, and HDF5's parser then never moves
on. :class:`GlobalHeaps` reads each collection a file's references name
(once, with plain file reads), walks its objects as the specification lays
them out, and tells which references name a damaged collection or a missing
object, so that the caller refuses them before calling ``h5py.h5r``.

:func:`raw_references` reads references as their stored bytes (no
conversion, so no heap access) for that check.
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO

import h5py
import numpy as np
from h5py import h5s, h5t

from ..open_problems import superblock

__all__ = ["GlobalHeaps", "raw_references"]

_SIGNATURE = b"GCOL"
#: The smallest collection HDF5 writes, and the largest accepted (HDF5 grows collections to fit one object).
_MIN_SIZE, _MAX_SIZE = 4096, 1 << 31


def raw_references(dataset: h5py.Dataset, field: str | None, low: int, high: int) -> np.ndarray:
    """Return rows ``[low, high)`` of a reference dataset (or of one compound ``field``) as stored bytes.

    The result is uint8 of shape ``(rows, *tail, reference size)``.
    """
    file_type = dataset.id.get_type()
    if field is not None:
        member = file_type.get_member_type(file_type.get_member_index(field.encode()))
        memory_type = h5t.create(h5t.COMPOUND, member.get_size())
        memory_type.insert(field.encode(), 0, member)
        size = member.get_size()
    else:
        memory_type, size = file_type, file_type.get_size()
    tail = tuple(dataset.shape[1:])
    out = np.zeros((max(high - low, 0), *tail), dtype=f"V{size}")
    if len(out):
        space = dataset.id.get_space()
        space.select_hyperslab((low,) + (0,) * len(tail), out.shape)
        dataset.id.read(h5s.create_simple(out.shape), space, out, memory_type)
    return out.view(np.uint8).reshape(*out.shape, size)


class GlobalHeaps:
    """The global heap collections of one file, each read and checked once.

    Parameters
    ----------
    path : str
        The file (read with plain file reads, beside HDF5's handle).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        layout = superblock(path)
        self._base = layout.base if layout else 0
        self._width = layout.offset_size if layout else 8
        self._length = layout.length_size if layout else 8
        self._size = os.path.getsize(path)
        #: collection address -> (problem or None, the object indices it holds)
        self._collections: dict[int, tuple[str | None, frozenset[int]]] = {}
        #: collection address -> {object index: the address its data starts with} (a region reference's object)
        self._pointed: dict[int, dict[int, int]] = {}

    def collection(self, address: int) -> tuple[str | None, frozenset[int]]:
        """Return the problem of the collection at ``address`` (None when sound) and its object indices."""
        known = self._collections.get(address)
        if known is None:
            self._read_collections([address])
            known = self._collections[address]
        return known

    def _read_collections(self, addresses: list[int]) -> None:
        """Walk the collections at ``addresses`` not walked yet, through one file handle."""
        new = [address for address in addresses if address not in self._collections]
        if not new:
            return
        with open(self.path, "rb") as handle:
            for address in new:
                self._collections[address] = self._walk(address, handle)

    def _walk(self, address: int, handle: BinaryIO) -> tuple[str | None, frozenset[int]]:
        at = self._base + address
        header = 8 + self._length
        if at + header > self._size:
            return f"global heap collection at {address} is past the end of the file", frozenset()
        handle.seek(at)
        head = handle.read(header)
        if head[:4] != _SIGNATURE or head[4] != 1:
            return f"no global heap collection at {address} (bad signature or version)", frozenset()
        size = int.from_bytes(head[8:header], "little")
        if not _MIN_SIZE <= size <= min(_MAX_SIZE, self._size - at):
            return f"global heap collection at {address} has an impossible size ({size} bytes)", frozenset()
        data = head + handle.read(size - header)
        pointed = self._pointed[address] = {}
        return _objects(data, header, self._length, address, self._width, pointed)

    def unreadable(self, raw: np.ndarray) -> np.ndarray:
        """Return, per reference (``raw`` as from :func:`raw_references`), why HDF5 must not follow it.

        An object array of the shape of ``raw`` without its last axis: None
        for a reference that is null or names an object of a sound collection,
        else the problem as text.
        """
        flat = raw.reshape(-1, raw.shape[-1])
        addresses = np.zeros(len(flat), dtype=np.uint64)
        for byte in range(self._width):
            addresses |= flat[:, byte].astype(np.uint64) << np.uint64(8 * byte)
        index = flat[:, self._width : self._width + 4].copy().view("<u4").reshape(-1)
        out = np.full(len(flat), None, dtype=object)
        named = np.unique(addresses[addresses != 0]).tolist()
        self._read_collections(named)
        for address in named:
            problem, objects = self.collection(int(address))
            chosen = np.flatnonzero(addresses == address)
            if problem is not None:
                out[chosen] = problem
                continue
            for position in chosen.tolist():
                if int(index[position]) not in objects:
                    out[position] = f"global heap collection at {address} has no object {int(index[position])}"
        return out.reshape(raw.shape[:-1])

    def pointed_addresses(self, raw: np.ndarray) -> np.ndarray:
        """Return, per reference (``raw`` as for :meth:`unreadable`), the address its heap object starts with.

        For a region reference that is the address of the dataset it points into, as HDF5 reads it
        when it dereferences the reference. int64 of the shape of ``raw`` without its last axis; -1
        for a null reference, a damaged collection or a missing or short object.
        """
        flat = raw.reshape(-1, raw.shape[-1])
        addresses = np.zeros(len(flat), dtype=np.uint64)
        for byte in range(self._width):
            addresses |= flat[:, byte].astype(np.uint64) << np.uint64(8 * byte)
        index = flat[:, self._width : self._width + 4].copy().view("<u4").reshape(-1)
        out = np.full(len(flat), -1, dtype=np.int64)
        for address in np.unique(addresses[addresses != 0]).tolist():
            problem, _ = self.collection(int(address))
            pointed = self._pointed.get(int(address))
            if problem is not None or pointed is None:
                continue
            for position in np.flatnonzero(addresses == address).tolist():
                out[position] = pointed.get(int(index[position]), -1)
        return out.reshape(raw.shape[:-1])


#: Unpackers of an object's header (index, 2 bytes; reference count and reserved, 6; size, ``length`` bytes).
_OBJECT_HEADERS = {length: struct.Struct(f"<H6x{code}") for length, code in ((2, "H"), (4, "I"), (8, "Q"))}


def _objects(
    data: bytes, start: int, length: int, address: int, width: int = 0, pointed: dict[int, int] | None = None
) -> tuple[str | None, frozenset[int]]:
    """Walk the objects of one collection (``data``, its bytes); return its problem and its object indices.

    With 8-byte lengths (every object header then starts on an 8-byte word of
    the collection) the walk is :func:`_objects_by_words`; else :func:`_objects_one_by_one`.
    With ``pointed``, the first ``width`` bytes of each object at least that long are recorded
    there as an address, by object index (a region reference's object starts with the address
    of the dataset it points into).
    """
    if length == 8 and start % 8 == 0 and width <= 8:
        return _objects_by_words(data, start, address, width, pointed)
    return _objects_one_by_one(data, start, length, address, width, pointed)


def _objects_by_words(
    data: bytes, start: int, address: int, width: int, pointed: dict[int, int] | None
) -> tuple[str | None, frozenset[int]]:
    """Walk a collection of 8-byte lengths as :func:`_objects_one_by_one` does, the headers decoded by numpy.

    Every 8-byte word from ``start`` is decoded at once as if an object header
    started there: the number of words to the next object, or 0 where the walk
    must stop (free space, or an object past the end). The walk then only
    follows those steps from the first object, so it reaches exactly the
    objects the specification's walk reaches; the header it stops at is
    judged by :func:`_objects_one_by_one`'s rules, on that one header.
    """
    end = len(data)
    words = (end - start) // 8
    heads = words - 1  # word positions where a 16-byte object header fits
    if heads <= 0:
        return None, frozenset()
    cells = np.frombuffer(data, dtype="<u8", count=words, offset=start)
    size = np.minimum(cells[1:], np.uint64(end))  # sizes past any end clipped (no overflow; still past it)
    step = (size + np.uint64(23)) >> np.uint64(3)  # 16-byte header plus the size rounded up to 8 bytes, in words
    fits = (np.arange(heads, dtype=np.uint64) + step) <= np.uint64(words)
    step[~fits | ((cells[:heads] & np.uint64(0xFFFF)) == 0)] = 0
    steps = memoryview(step.astype(np.int64))
    places: list[int] = []
    word = 0
    while word < heads:
        jump = steps[word]
        if not jump:
            break
        places.append(word)
        word += jump
    chosen = np.array(places, dtype=np.intp)
    numbers = cells[chosen] & np.uint64(0xFFFF)
    if word < heads:  # stopped at free space or at an object past the end
        at = start + 8 * word
        index, size_at = _OBJECT_HEADERS[8].unpack_from(data, at)
        if index:
            return f"global heap collection at {address} has an object {index} past its end", frozenset()
        if size_at < 16 or at + size_at > end:
            return f"global heap collection at {address} has a damaged free-space object", frozenset()
    if pointed is not None and width and len(chosen):
        first = cells[np.minimum(chosen + 2, words - 1)]
        if width < 8:
            first = first & np.uint64((1 << (8 * width)) - 1)
        long_enough = cells[chosen + 1] >= np.uint64(width)
        pointed.update(zip(numbers[long_enough].tolist(), first[long_enough].tolist()))
    return None, frozenset(numbers.tolist())


def _objects_one_by_one(
    data: bytes, start: int, length: int, address: int, width: int = 0, pointed: dict[int, int] | None = None
) -> tuple[str | None, frozenset[int]]:
    """Walk the objects of one collection (``data``, its bytes) one header at a time; see :func:`_objects`.

    Each object's header is unpacked with one :mod:`struct` call (a collection holds hundreds of
    region references, and every one is walked when a file's references are first checked). With
    ``pointed``, the first ``width`` bytes of each object at least that long are recorded there as an
    address, by object index (a region reference's object starts with the address of the dataset it
    points into).
    """
    object_header = 8 + length
    header = _OBJECT_HEADERS.get(length)
    end = len(data)
    found: list[int] = []
    at = start
    while at + object_header <= end:
        if header is not None:
            index, size = header.unpack_from(data, at)
        else:
            index = int.from_bytes(data[at : at + 2], "little")
            size = int.from_bytes(data[at + 8 : at + object_header], "little")
        if index == 0:  # free space: the rest of the collection
            if size < object_header or at + size > end:
                return f"global heap collection at {address} has a damaged free-space object", frozenset()
            break
        need = object_header + ((size + 7) & ~7)
        if at + need > end:
            return f"global heap collection at {address} has an object {index} past its end", frozenset()
        found.append(index)
        if pointed is not None and width and size >= width:
            pointed[index] = int.from_bytes(data[at + object_header : at + object_header + width], "little")
        at += need
    return None, frozenset(found)
