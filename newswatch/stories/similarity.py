"""Fuzzy story signals: is this article a near-duplicate of, or the same event as, an earlier one?

A `Fingerprint` is computed once per article (`fingerprint(title, text, language)`), stored as
bytes (`to_bytes`: header, 512-byte signature, 512-byte word filter, 40 terms; ~1.5 KB, at most
2 KB) and indexed by its `lookup_keys` (≤ 35 keys of ≤ 45 characters); the store fetches the
earlier articles of the story window that share a key and asks `relate(new, old, hours_apart)`
about each, preferring a duplicate to a same-event candidate (newswatch/stories/cluster.py).

Rules of `relate` (pure; the figures behind the thresholds are in bench/README.md, "## Stories"):
1. duplicate: the MinHash Jaccard of the two texts' word 4-shingles is ≥ DUP_JACCARD, or the
   estimated containment of the shorter text in the longer is ≥ DUP_CONTAINMENT (a copy with
   paragraphs cut or added). Both texts need MIN_SHINGLES shingles. Time does not matter.
2. same_event: the event score (`evidence.event_score`: shared names, lead words and salient
   words, against each article's main name missing from the other) must reach EVENT_SCORE, plus
   TIME_PENALTY × hours / window (the story window, `stories.window`, 48 h by default; the sign
   of hours_apart is ignored): 0.7 at 0 h, 0.9 at half the window, 1.0 at three quarters of it.
   Reports of one event come close together, and a second event of the same kind a day or two
   later (a second Idlib strike) shares their words: the evidence asked for grows with the time
   between them, so that a new event is not lost in an old story; late, differently written
   reports of an event start a story of their own instead (copies still join across the whole
   window). Further apart than the window is never the same event; unknown time (None) counts as
   half the window.
3. anything else is unrelated. `score` is the Jaccard for a duplicate, the event score otherwise.

Lookup keys (≤ 35): the LSH bands of the signature ("mh:<band>:<hash>", see shingles.py),
"ev:<a>+<b>" for each pair of the article's EVENT_NAMES most salient entities (reports of one event
name the same people and places, and a pair is far rarer than either name), and "en:<name>" for
each of its EVENT_SINGLES most salient entities: the first reports of an event often share only
one name (Lohan, Morningside / Lohan, Betty Ford), and without a shared key they never meet and the
event stays split (ECB+: best possible B³ recall 0.86 with pairs only, 0.97 with single names).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from itertools import combinations

import numpy as np

from newswatch.stories import bloom
from newswatch.stories.evidence import event_score, explain
from newswatch.stories.shingles import MIN_SHINGLES, NUM_PERM, band_keys, jaccard, signature
from newswatch.stories.terms import LEAD, TITLE, Term, analyse

__all__ = ["Fingerprint", "Relation", "fingerprint", "relate"]

DUP_JACCARD = 0.5
DUP_CONTAINMENT = 0.6
EVENT_SCORE = 0.7
TIME_PENALTY = 0.4
WINDOW_HOURS = 48.0
EVENT_NAMES = 5
EVENT_SINGLES = 5
MAX_TERM_BYTES = 20

_VERSION = 2
# Version 1 hashed shingles with SHA-1: its signature cannot be compared with a version 2 one. It
# reads back without shingles, so a store written before still relates by names and words within
# its window (and by URL and text hash), never as a duplicate by signature.
_SIGNATURE_UNCOMPARABLE = {1}
_HEADER = struct.Struct("<BIB")  # version, n_shingles, n_terms
_TERM = struct.Struct("<BBHB")  # flags, rarity × 50, salience × 100, len(utf-8)


@dataclass(frozen=True)
class Relation:
    """The verdict of `relate`: kind, the score behind it, and why (for logs and the UI)."""

    kind: str  # "duplicate" | "same_event" | "unrelated"
    score: float
    explain: Callable[[], str] = field(repr=False, compare=False)

    @property
    def reason(self) -> str:
        """Written on demand: relate runs for every candidate, the reason is rarely read."""
        return self.explain()


@dataclass(frozen=True)
class Fingerprint:
    """What `relate` needs of an article: MinHash signature, salient terms, a word filter."""

    signature: bytes  # NUM_PERM little-endian uint32
    n_shingles: int
    terms: tuple[Term, ...]  # most salient first
    words: bytes  # bloom.make(the article's rarest words)

    # What `evidence` reads of the terms, derived once: a stored fingerprint is compared with
    # every later article of the window that shares a key.
    @cached_property
    def entities(self) -> tuple[tuple[str, float, int], ...]:
        """(text, salience, bloom.mask) of the entity terms, most salient first."""
        return tuple((t.text, t.salience, bloom.mask(t.text)) for t in self.terms if t.entity)

    @cached_property
    def values(self) -> np.ndarray:
        """The MinHash signature as an array (for `shingles.jaccard`)."""
        return np.frombuffer(self.signature, "<u4")

    @cached_property
    def word_bits(self) -> int:
        """The word filter as an integer (bloom.as_int)."""
        return bloom.as_int(self.words)

    @cached_property
    def lead_terms(self) -> dict[str, float]:
        """Salience of the terms seen in the title or the lead."""
        return {t.text: t.salience for t in self.terms if t.flags & (TITLE | LEAD)}

    @cached_property
    def weights(self) -> dict[str, float]:
        """Salience of every term."""
        return {t.text: t.salience for t in self.terms}

    @cached_property
    def norm(self) -> float:
        """The length of the salience vector."""
        return math.sqrt(sum(w * w for w in self.weights.values()))

    @property
    def lookup_keys(self) -> list[str]:
        """Keys a related article shares with high probability: LSH bands and name pairs."""
        entities = [t.text for t in self.terms if t.entity]
        pairs = [f"ev:{a}+{b}" for a, b in combinations(sorted(entities[:EVENT_NAMES]), 2)]
        singles = [f"en:{name}" for name in entities[:EVENT_SINGLES]]
        return band_keys(self.values, self.n_shingles) + pairs + singles

    def to_bytes(self) -> bytes:
        """A compact, versioned binary form, stable across processes."""
        out = [_HEADER.pack(_VERSION, self.n_shingles, len(self.terms)), self.signature, self.words]
        for t in self.terms:
            text = t.text.encode()
            out += [_TERM.pack(t.flags, round(t.rarity * 50), round(t.salience * 100), len(text)), text]
        return b"".join(out)

    @staticmethod
    def is_current(data: bytes) -> bool:
        """Whether `data` is a fingerprint of this version (an older one is worth recomputing)."""
        return data[:1] == bytes([_VERSION])

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        """Read `to_bytes` output; ValueError for another version."""
        version, n_shingles, n_terms = _HEADER.unpack_from(data)
        if version in _SIGNATURE_UNCOMPARABLE:
            n_shingles = 0
        elif version != _VERSION:
            raise ValueError(f"stories: unknown fingerprint version {version}")
        pos = _HEADER.size + NUM_PERM * 4
        sig, words = data[_HEADER.size:pos], data[pos:pos + bloom.BYTES]
        pos += bloom.BYTES
        terms = []
        for _ in range(n_terms):
            flags, rar, sal, n = _TERM.unpack_from(data, pos)
            pos += _TERM.size
            terms.append(Term(data[pos:pos + n].decode(), rar / 50, sal / 100, flags))
            pos += n
        return cls(sig, n_shingles, tuple(terms), words)


def fingerprint(title: str, text: str, language: str | None = None) -> Fingerprint:
    """The fingerprint of an article; a text under 20 words is shingled with its title."""
    title, text = title or "", text or ""
    values, n = signature(text if len(text.split()) >= 20 else f"{title}\n{text}")
    terms, vocabulary = analyse(title, text, language)
    return Fingerprint(values.astype("<u4").tobytes(), n, tuple(_stored(t) for t in terms),
                       bloom.make(_short(w) for w in vocabulary))


def _short(word: str) -> str:
    """At most MAX_TERM_BYTES of UTF-8: the form terms are stored, keyed and looked up in."""
    if len(word) <= MAX_TERM_BYTES and word.isascii():  # most words: no encoding needed
        return word
    return word.encode()[:MAX_TERM_BYTES].decode(errors="ignore")


def _stored(t: Term) -> Term:
    """The term as it reads back from bytes, so that a round trip is exact."""
    return Term(_short(t.text), round(t.rarity * 50) / 50, min(65535, round(t.salience * 100)) / 100,
                t.flags)


def relate(a: Fingerprint, b: Fingerprint, hours_apart: float | None,
           window_hours: float = WINDOW_HOURS) -> Relation:
    """Whether `a` and `b` are copies of one text, reports of one event, or unrelated."""
    j = jaccard(a.values, b.values)
    if min(a.n_shingles, b.n_shingles) >= MIN_SHINGLES:
        contained = _containment(j, a.n_shingles, b.n_shingles)
        if j >= DUP_JACCARD or contained >= DUP_CONTAINMENT:
            return Relation("duplicate", j, lambda: f"minhash jaccard {j:.2f}, containment {contained:.2f}")
    score = event_score(a, b, copy=j)
    hours = window_hours / 2 if hours_apart is None else abs(hours_apart)
    if hours > window_hours:
        return Relation("unrelated", score,
                        lambda: f"{_when(hours_apart)} (> {window_hours:.0f} h); event score {score:.2f}")
    need = EVENT_SCORE + TIME_PENALTY * hours / window_hours
    kind = "same_event" if score >= need else "unrelated"
    return Relation(kind, score, lambda: f"event score {score:.2f} (needs {need:.2f}, {_when(hours_apart)}): "
                                         f"{explain(a, b)}; minhash jaccard {j:.2f}")


def _when(hours_apart: float | None) -> str:
    return "time unknown" if hours_apart is None else f"{abs(hours_apart):.0f} h apart"


def _containment(j: float, n_a: int, n_b: int) -> float:
    """|A∩B| / min(|A|, |B|) from the Jaccard estimate: |A∩B| = J (|A| + |B|) / (1 + J)."""
    return min(1.0, j * (n_a + n_b) / (1 + j) / min(n_a, n_b))
