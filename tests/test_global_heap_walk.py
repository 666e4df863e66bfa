"""The numpy walk of a global heap collection agrees with the one-header-at-a-time walk, on damaged bytes too."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from spineh5.format import global_heap

_HEADER = struct.Struct("<H6xQ")


def _collection(rng: np.random.Generator, objects: int, size: int) -> bytes:
    """Return ``size`` bytes of a collection: ``objects`` objects (a few of index 0 or repeated), then free space."""
    data = bytearray(b"GCOL\x01\x00\x00\x00" + size.to_bytes(8, "little"))
    for number in range(objects):
        length = int(rng.integers(0, 60))
        index = int(rng.integers(0, 5)) if rng.random() < 0.1 else number + 1
        data += _HEADER.pack(index, length) + rng.integers(0, 256, (length + 7) & ~7, dtype=np.uint8).tobytes()
    data += _HEADER.pack(0, max(size - len(data), 0))
    return bytes(data[:size] + bytes(max(0, size - len(data))))


def _damaged(rng: np.random.Generator, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(int(rng.integers(0, 4))):
        if len(out) > 16:
            out[int(rng.integers(16, len(out)))] = int(rng.integers(0, 256)) if rng.random() < 0.7 else 0
    if rng.random() < 0.2:
        out = out[: int(rng.integers(0, len(out) + 1))]
    return bytes(out)


@pytest.mark.parametrize("width", [0, 4, 8])
def test_word_walk_matches_the_header_walk(width: int) -> None:
    rng = np.random.default_rng(13)
    sound = damaged = 0
    for _ in range(1500):
        data = _damaged(rng, _collection(rng, int(rng.integers(0, 80)), int(rng.integers(16, 3000))))
        slow: dict[int, int] = {}
        fast: dict[int, int] = {}
        expected = global_heap._objects_one_by_one(data, 16, 8, 99, width, slow)
        assert global_heap._objects_by_words(data, 16, 99, width, fast) == expected
        if expected[0] is None:
            sound += 1
            assert fast == slow
        else:
            damaged += 1
    assert sound > 300 and damaged > 300  # both outcomes are exercised


def test_collections_of_other_lengths_use_the_header_walk() -> None:
    data = b"GCOL\x01\x00\x00\x00" + (40).to_bytes(4, "little") + struct.pack("<H6xI", 1, 4) + b"abcd" + bytes(20)
    assert global_heap._objects(data, 12, 4, 7) == global_heap._objects_one_by_one(data, 12, 4, 7)
