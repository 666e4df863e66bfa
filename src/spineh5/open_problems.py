"""Why HDF5 cannot open a file, in one plain sentence: truncated, not HDF5, or damaged.

HDF5's own message for a truncated file is ``truncated file: eof = 50000000,
sblock->base_addr = 0, stored_eof = 233843134``. :func:`open_problem` says
instead ``truncated: 50.0 MB of 233.8 MB present``, from the file's size and
the end-of-file address stored in its superblock (:func:`stored_size`), which
is read here from the file header. The superblock layouts are those of the
HDF5 file format specification (section II.A): versions 0 and 1 keep the base
and end-of-file addresses after 24 (28) bytes of version numbers, sizes and
tree parameters; versions 2 and 3 after 12 bytes. Only the first
:data:`_SEARCH_LIMIT` bytes are searched for the signature (at 0, 512, 1024...
as HDF5 does), and at most one superblock is read.
"""

from __future__ import annotations

import os
import re
from typing import NamedTuple

__all__ = ["SIGNATURE", "Superblock", "human_bytes", "open_problem", "stored_size", "superblock"]

#: The 8 bytes that start an HDF5 superblock.
SIGNATURE = b"\x89HDF\r\n\x1a\n"
#: The superblock is searched for at 0 and at 512, 1024, 2048... below this offset.
_SEARCH_LIMIT = 1 << 24
#: Where the base address starts in each superblock version (after the signature's offset).
_ADDRESS_START = {0: 24, 1: 28, 2: 12, 3: 12}
#: Where the size of offsets is (one byte) in each superblock version.
_OFFSET_SIZE_AT = {0: 13, 1: 13, 2: 9, 3: 9}
#: Bytes read from a superblock: enough for its addresses with 8-byte offsets.
_HEADER_BYTES = 28 + 3 * 8
#: The h5py prefix of an open failure, before the parenthesized reason.
_REASON = re.compile(r"\((.+)\)\s*$")


def human_bytes(count: int) -> str:
    """Return a byte count as ``812 B``, ``4.2 kB``, ``13.5 MB``..."""
    size = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"  # pragma: no cover


def _superblock_at(handle, size: int) -> int | None:
    """Return the offset of the first superblock signature (0, 512, 1024...), None when there is none."""
    offset = 0
    while offset + len(SIGNATURE) <= min(size, _SEARCH_LIMIT):
        handle.seek(offset)
        if handle.read(len(SIGNATURE)) == SIGNATURE:
            return offset
        offset = 512 if offset == 0 else offset * 2
    return None


class Superblock(NamedTuple):
    """What the superblock records: base and end-of-file addresses, sizes of offsets and lengths.

    ``version`` is the superblock's version and ``end_at`` the file offset of its
    end-of-file address (for :mod:`spineh5.recovery.end_of_file`, which raises it).
    """

    base: int
    end: int
    offset_size: int
    length_size: int
    version: int
    end_at: int


def superblock(path: str | os.PathLike) -> Superblock | None:
    """Return the addresses and address widths an HDF5 file's superblock records.

    None when the file has no superblock signature, or its superblock is cut
    short, of an unknown version, or holds undefined addresses.
    """
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        start = _superblock_at(handle, size)
        if start is None:
            return None
        handle.seek(start)
        header = handle.read(_HEADER_BYTES)
    if len(header) <= 9 or header[8] not in _ADDRESS_START:
        return None
    version = header[8]
    width_at = _OFFSET_SIZE_AT[version]
    width = header[width_at] if len(header) > width_at + 1 else 0
    at = _ADDRESS_START[version]
    if width not in (2, 4, 8) or len(header) < at + 3 * width:
        return None
    base = int.from_bytes(header[at : at + width], "little")
    end = int.from_bytes(header[at + 2 * width : at + 3 * width], "little")
    undefined = (1 << (8 * width)) - 1
    if undefined in (base, end):
        return None
    return Superblock(base, end, width, header[width_at + 1], version, start + at + 2 * width)


def stored_size(path: str | os.PathLike) -> int | None:
    """Return the file size the superblock of an HDF5 file records (its end-of-file address).

    The address counts from the start of the file, user block included (as
    HDF5 compares it with the file's size).

    None when the file has no superblock signature, or its superblock is cut
    short, of an unknown version, or holds undefined addresses.
    """
    found = superblock(path)
    return None if found is None else found.end


def _reason(err: BaseException) -> str:
    """Return HDF5's reason of an open failure (the parenthesized part of h5py's first line)."""
    text = (str(err).strip() or type(err).__name__).splitlines()[0]
    match = _REASON.search(text)
    return match.group(1) if match else text


def open_problem(path: str | os.PathLike, err: BaseException) -> str:
    """Return why HDF5 could not open ``path`` (``err``, h5py's error), in one plain sentence.

    ``truncated: 50.0 MB of 233.8 MB present`` when the file is shorter than
    its superblock records; ``not an HDF5 file (no HDF5 signature)``; else
    ``damaged HDF5 file: <HDF5's reason>``.
    """
    try:
        size = os.path.getsize(path)
        expected = stored_size(path)
    except OSError:
        return f"cannot be read ({_reason(err)})"
    if expected is not None and size < expected:
        return f"truncated: {human_bytes(size)} of {human_bytes(expected)} present"
    reason = _reason(err)
    if "signature" in reason:
        return "not an HDF5 file (no HDF5 signature)"
    if expected is None and "truncated" in reason:
        return f"truncated: {human_bytes(size)} present, the rest (and the size recorded in its header) is missing"
    return f"damaged HDF5 file: {reason}"
