"""A superblock a killed flush left behind the file: its end-of-file address short of the data written.

HDF5 writes the superblock, which records the file's end-of-allocation
address (EOA), as one more metadata entry of a flush. A writer killed inside
a flush can leave the superblock of the previous flush beside metadata of
this one that lies past that address; HDF5 then refuses to follow it
(``addr overflow``) although the bytes are on disk. :func:`extend_to_file_size`
sets the recorded address to the file's size, as ``h5clear --increment``
does, so the data the flush did write can be read and judged by the recovery
plan. Only version 0 and 1 superblocks with 8-byte addresses (what h5py
writes by default, and SPINE's files) are handled: later versions carry a
checksum and are left alone.
"""

from __future__ import annotations

import os
import struct

from ..open_problems import superblock

__all__ = ["extend_to_file_size"]

#: Superblock versions without a checksum (what h5py writes by default, and SPINE's files).
_UNCHECKSUMMED = (0, 1)


def extend_to_file_size(path: str | os.PathLike) -> int | None:
    """Raise a short end-of-allocation address of ``path``'s superblock to the file size (the file is written).

    The superblock is read by :func:`spineh5.open_problems.superblock`.

    Returns
    -------
    int or None
        The address found, when it was short and was raised; None when the file
        needed nothing or its superblock is not one this handles.
    """
    size = os.path.getsize(path)
    found = superblock(path)
    if found is None or found.version not in _UNCHECKSUMMED or found.offset_size != 8 or found.end >= size:
        return None
    with open(path, "r+b") as handle:
        handle.seek(found.end_at)
        handle.write(struct.pack("<Q", size))
        handle.flush()
        os.fsync(handle.fileno())
    return found.end
