"""Near-duplicate signatures: MinHash over word shingles of the folded text, and LSH band keys.

Rules:
- The text is folded (`newswatch.matching.text.fold`: case, diacritics, quotes, dashes) and split
  into `\\w+` words, so whitespace, punctuation and typographic quotes never matter.
- Shingles are runs of SHINGLE_WORDS consecutive words. A text shorter than that is one shingle.
- A shingle's hash combines its words' CRC-32s (each word hashed once, the combination done for
  all shingles at once in numpy), so it is stable across processes and machines. The signature is
  datasketch's MinHash (scheme "affine32", pinned: datasketch 2.0 changed the default; it
  pre-mixes each input hash with the MurmurHash3 finalizer, so combined hashes are safe inputs)
  with NUM_PERM permutations and seed 1; its values fit in 32 bits and are stored so.
- LSH: the first BANDS × ROWS values form BANDS bands; each band hashes to a key "mh:<band>:<hex>".
  Two texts with Jaccard similarity s share at least one key with probability 1 − (1 − s^ROWS)^BANDS:
  0.56 at s = 0.2, 0.85 at 0.3, 0.97 at 0.4, 0.99+ from 0.5 (ROWS = 2, BANDS = 20).
- A text with fewer than MIN_SHINGLES shingles gets no band keys: boilerplate-sized texts would
  join unrelated articles.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from functools import lru_cache
from typing import TYPE_CHECKING

from newswatch.matching.text import fold

if TYPE_CHECKING:
    import numpy as np

__all__ = ["BANDS", "MIN_SHINGLES", "NUM_PERM", "ROWS", "SHINGLE_WORDS", "band_keys", "jaccard",
           "signature", "words"]

SHINGLE_WORDS = 4
NUM_PERM = 128
BANDS, ROWS = 20, 2
MIN_SHINGLES = 8
# Shingles a MinHash update takes at once: datasketch permutes a batch as a batch × NUM_PERM array
# (with its temporaries, ~1 KB a shingle), so a 5 MB page in one batch took ~800 MB.
_BATCH = 4096
_SCHEME = "affine32"  # needs datasketch >= 2.0; stored signatures and keys must not move

_WORD = re.compile(r"\w+")


@lru_cache(maxsize=2)  # a page's signature and its text hash split the same text (newswatch.reading), no more
def words(text: str) -> tuple[str, ...]:
    """The folded words of `text`."""
    return tuple(_WORD.findall(fold(text)))


@lru_cache(maxsize=1)
def _minhash():
    """datasketch's MinHash class, imported on first use: the package import pulls in its LSH
    and scipy (~0.6 s), which a cycle with nothing new to fingerprint should not pay."""
    from datasketch import MinHash

    return MinHash


@lru_cache(maxsize=1)
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    return _minhash()(num_perm=NUM_PERM, seed=1, scheme=_SCHEME).permutations


@lru_cache(maxsize=1)
def _numpy():
    """numpy, imported on first use like datasketch: every command imports this module, few of
    them fingerprint anything (~0.1 s of their start-up)."""
    import numpy

    return numpy


@lru_cache(maxsize=1)
def _position() -> np.ndarray:
    """Odd 64-bit multipliers, one per position in a shingle: "a b c d" and "b a c d" hash apart."""
    np = _numpy()
    return np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93],
                    dtype=np.uint64)[:SHINGLE_WORDS]


@lru_cache(maxsize=1 << 16)  # news repeats its vocabulary
def _crc(word: str) -> int:
    return zlib.crc32(word.encode())


def _shingle_hashes(seq: tuple[str, ...]) -> np.ndarray:
    """The distinct 32-bit hashes of the SHINGLE_WORDS-word shingles of `seq` (one for a shorter
    text, none for an empty one). A per-shingle SHA-1 cost more than the rest of the signature."""
    np = _numpy()
    if not seq:
        return np.zeros(0, np.uint64)
    crc = np.fromiter(map(_crc, seq), np.uint64, len(seq))
    n = max(1, len(seq) - SHINGLE_WORDS + 1)
    combined = np.zeros(n, np.uint64)
    for offset, multiplier in enumerate(_position()[:len(seq)]):
        combined += crc[offset:offset + n] * multiplier  # wraps modulo 2**64, as meant
    return np.unique((combined ^ (combined >> np.uint64(32))) & np.uint64(0xFFFFFFFF))


def signature(text: str) -> tuple[np.ndarray, int]:
    """The MinHash signature (uint32 array of NUM_PERM) of `text` and its number of shingles."""
    np = _numpy()
    hashes = _shingle_hashes(words(text))
    mh = _minhash()(num_perm=NUM_PERM, seed=1, permutations=_permutations(), scheme=_SCHEME, hashfunc=int)
    for start in range(0, len(hashes), _BATCH):
        mh.update_batch(hashes[start:start + _BATCH].tolist())
    return mh.hashvalues.astype(np.uint32), len(hashes)


def band_keys(values: np.ndarray, n_shingles: int) -> list[str]:
    """The LSH lookup keys of a signature (none for a text too short to identify anything)."""
    if n_shingles < MIN_SHINGLES:
        return []
    keys = []
    for band in range(BANDS):
        chunk = values[band * ROWS:(band + 1) * ROWS].astype("<u4").tobytes()
        keys.append(f"mh:{band}:{hashlib.blake2b(chunk, digest_size=8).hexdigest()}")
    return keys


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """The Jaccard similarity estimated from two signatures (fraction of equal values)."""
    return float(_numpy().count_nonzero(a == b)) / len(a)
