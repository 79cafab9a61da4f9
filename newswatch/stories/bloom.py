"""A fixed-size Bloom filter of words: "does the other article mention X at all?".

Rules: BITS bits (512 bytes), PROBES positions per word taken as 12-bit slices of the word's
8-byte BLAKE2b digest (stable across processes, unlike `hash()`). With the 400 words a fingerprint
stores, a word the article does not contain reads as present about 1 time in 100.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["BITS", "BYTES", "as_int", "contains", "make", "mask"]

BITS = 4096
BYTES = BITS // 8
PROBES = 4


@lru_cache(maxsize=1 << 16)  # relate asks about the same few thousand words again and again
def _positions(word: str) -> tuple[int, ...]:
    h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
    return tuple((h >> (12 * i)) % BITS for i in range(PROBES))


def make(words: Iterable[str]) -> bytes:
    """The filter holding `words`."""
    import numpy as np  # on first use (newswatch.stories.shingles._numpy says why)

    bits = np.zeros(BITS, np.uint8)
    bits[[p for word in words for p in _positions(word)]] = 1  # one array write, not an OR a word
    return np.packbits(bits, bitorder="little").tobytes()


def contains(bloom: bytes, word: str) -> bool:
    """Whether `word` may be in the filter (no false negatives; ~1% false positives when full)."""
    return all(bloom[p >> 3] >> (p & 7) & 1 for p in _positions(word))


def as_int(bloom: bytes) -> int:
    """The filter as one integer, bit p for position p: for `mask` tests."""
    return int.from_bytes(bloom, "little")


@lru_cache(maxsize=1 << 16)
def mask(word: str) -> int:
    """The word's positions as bits: `as_int(f) & mask(w) == mask(w)` is `contains(f, w)`, in one
    operation (relate asks it about every entity of every candidate)."""
    return sum(1 << p for p in set(_positions(word)))
