"""A superblock a killed flush left behind the file: its end-of-file address short of the data written.

HDF5 writes the superblock, which records the file's end-of-allocation
address (EOA), as one more metadata entry of a flush. A writer killed inside
a flush can leave the superblock of the previous flush beside metadata of
this one that lies past that address; HDF5 then refuses to follow it
(``addr overflow``) although the bytes are on disk. :func:`extend_to_file_size`
sets the recorded address to the file's size, as ``h5clear --increment``
does, so the data the flush did write can be read and judged by the recovery
plan. Only version 0 and 1 superblocks at the start of the file (what h5py
writes by default, and SPINE's files) are handled: later versions carry a
checksum and are left alone.
"""

from __future__ import annotations

import os
import struct

__all__ = ["extend_to_file_size"]

#: The HDF5 format signature that starts a superblock.
_SIGNATURE = b"\x89HDF\r\n\x1a\n"
#: Offset of the base address in version 0 and version 1 superblocks (v1 adds 4 bytes before it).
_BASE_OFFSET = {0: 24, 1: 28}


def extend_to_file_size(path: str | os.PathLike) -> int | None:
    """Raise a short end-of-allocation address of ``path``'s superblock to the file size (the file is written).

    Returns
    -------
    int or None
        The address found, when it was short and was raised; None when the file
        needed nothing or its superblock is not one this handles.
    """
    size = os.path.getsize(path)
    with open(path, "r+b") as handle:
        head = handle.read(64)
        if len(head) < 56 or not head.startswith(_SIGNATURE) or head[8] not in _BASE_OFFSET or head[13] != 8:
            return None
        base_at = _BASE_OFFSET[head[8]]
        base, _free_space, end = struct.unpack("<3Q", head[base_at : base_at + 24])
        if base != 0 or end >= size:
            return None
        handle.seek(base_at + 16)
        handle.write(struct.pack("<Q", size))
        handle.flush()
        os.fsync(handle.fileno())
    return end
