"""Fuzzy story signals: is this article a near-duplicate of, or the same event as, an earlier one?

A `Fingerprint` is computed once per article (`fingerprint(title, text, language)`), stored as
bytes (`to_bytes`, ≤ ~1.5 KB) and indexed by its `lookup_keys`; the store fetches the earlier
articles of the story window that share a key and asks `relate(new, old, hours_apart)` about each.

Rules of `relate` (pure; thresholds below, measured in bench/README.md "## Stories"):
1. duplicate: the MinHash Jaccard of the two texts' word 4-shingles is ≥ DUP_JACCARD, or the
   estimated containment of the shorter in the longer is ≥ DUP_CONTAINMENT (a copy with cut
   paragraphs). Needs MIN_SHINGLES on both sides. Time does not matter: a copy is a copy.
2. same_event: score = weighted cosine of the shared named entities (and long numbers) plus the
   weighted cosine of all salient words, each word weighted by rarity × frequency × position (title,
   lead); see `_event_score`. It must reach EVENT_SCORE, raised by EVENT_TIME_PENALTY × hours/48
   within the story window; more than WINDOW_HOURS apart is never the same event; unknown time
   (None) counts as UNKNOWN_HOURS. Two shared entities at least are required.
3. anything else is unrelated. `score` is the Jaccard for a duplicate, the event score otherwise.

Lookup keys: "mh:<band>:<hash>" LSH bands of the signature (see shingles.py), and "ev:<a>+<b>" for
each pair of the article's EVENT_KEY_TERMS most salient entities — reports of one event name the
same people and places, so they share a pair; a pair is rarer than either name, so the store's
candidate lists stay short.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from newswatch.stories.shingles import MIN_SHINGLES, NUM_PERM, band_keys, jaccard, signature
from newswatch.stories.terms import ENTITY, TITLE, Term, salient_terms

__all__ = ["Fingerprint", "Relation", "fingerprint", "relate"]

DUP_JACCARD = 0.5
DUP_CONTAINMENT = 0.7
EVENT_SCORE = 0.35
EVENT_TIME_PENALTY = 0.1
WINDOW_HOURS = 48.0
UNKNOWN_HOURS = 24.0
EVENT_KEY_TERMS = 6

_VERSION = 1
_HEADER = struct.Struct("<BBI2sB")  # version, flags, n_shingles, language, n_terms
_TERM = struct.Struct("<BBHB")  # flags, rarity × 50, salience × 100, len(utf-8)


@dataclass(frozen=True)
class Relation:
    """The verdict of `relate`: kind, the score behind it, and why, for the logs and the UI."""

    kind: str  # "duplicate" | "same_event" | "unrelated"
    score: float
    reason: str


@dataclass(frozen=True)
class Fingerprint:
    """What `relate` needs of an article: MinHash signature, shingle count, salient terms."""

    signature: bytes  # NUM_PERM little-endian uint32
    n_shingles: int
    terms: tuple[Term, ...]
    language: str = ""

    @property
    def lookup_keys(self) -> list[str]:
        """Keys shared, with high probability, by a related article: LSH bands and entity pairs."""
        values = np.frombuffer(self.signature, dtype="<u4")
        entities = [t.text for t in self.terms if t.entity][:EVENT_KEY_TERMS]
        pairs = [f"ev:{a}+{b}" for a, b in combinations(sorted(entities), 2)]
        return band_keys(values, self.n_shingles) + pairs

    def to_bytes(self) -> bytes:
        """A compact, versioned binary form (stable across processes)."""
        lang = (self.language or "").encode("ascii", "replace")[:2].ljust(2)
        out = [_HEADER.pack(_VERSION, 0, self.n_shingles, lang, len(self.terms)), self.signature]
        for t in self.terms:
            text = t.text.encode()
            out.append(_TERM.pack(t.flags, round(t.rarity * 50), round(t.salience * 100), len(text)))
            out.append(text)
        return b"".join(out)

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        """Read `to_bytes` output; raises ValueError on an unknown version."""
        version, _, n_shingles, lang, n_terms = _HEADER.unpack_from(data)
        if version != _VERSION:
            raise ValueError(f"stories: unknown fingerprint version {version}")
        pos = _HEADER.size + NUM_PERM * 4
        sig = data[_HEADER.size:pos]
        terms = []
        for _ in range(n_terms):
            flags, rar, sal, n = _TERM.unpack_from(data, pos)
            pos += _TERM.size
            terms.append(Term(data[pos:pos + n].decode(), rar / 50, sal / 100, flags))
            pos += n
        return cls(sig, n_shingles, tuple(terms), lang.decode().strip())


def fingerprint(title: str, text: str, language: str | None = None) -> Fingerprint:
    """The fingerprint of an article; a short text falls back to title + text for shingles."""
    body = text if len(text.split()) >= 20 else f"{title}\n{text}"
    values, n = signature(body)
    terms = tuple(_quantised(t) for t in salient_terms(title or "", text or "", language))
    return Fingerprint(values.astype("<u4").tobytes(), n, terms, (language or "")[:2])


def _quantised(t: Term) -> Term:
    """The term as it will read back from bytes, so a round trip is exact."""
    return Term(t.text.encode()[:24].decode(errors="ignore"), round(t.rarity * 50) / 50,
                min(65535, round(t.salience * 100)) / 100, t.flags)


def relate(a: Fingerprint, b: Fingerprint, hours_apart: float | None) -> Relation:
    """Whether `a` and `b` are copies of one text, reports of one event, or unrelated."""
    j = jaccard(np.frombuffer(a.signature, "<u4"), np.frombuffer(b.signature, "<u4"))
    if min(a.n_shingles, b.n_shingles) >= MIN_SHINGLES:
        contain = _containment(j, a.n_shingles, b.n_shingles)
        if j >= DUP_JACCARD or contain >= DUP_CONTAINMENT:
            return Relation("duplicate", j, f"minhash jaccard {j:.2f}, containment {contain:.2f}")
    hours = UNKNOWN_HOURS if hours_apart is None else abs(hours_apart)
    score, shared = _event_score(a, b)
    names = ", ".join(shared[:5]) or "none"
    if hours > WINDOW_HOURS:
        return Relation("unrelated", score, f"{hours:.0f} h apart (> {WINDOW_HOURS:.0f} h); shared {names}")
    need = EVENT_SCORE + EVENT_TIME_PENALTY * hours / WINDOW_HOURS
    kind = "same_event" if score >= need and len(shared) >= 2 else "unrelated"
    return Relation(kind, score, f"event score {score:.2f} (needs {need:.2f}); shared {names}; "
                                 f"minhash jaccard {j:.2f}")


def _containment(j: float, n_a: int, n_b: int) -> float:
    """|A∩B| / min(|A|, |B|) from the Jaccard estimate: |A∩B| = J (|A| + |B|) / (1 + J)."""
    return min(1.0, j * (n_a + n_b) / (1 + j) / min(n_a, n_b))


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    dot = sum(w * b[k] for k, w in a.items() if k in b)
    norm = math.sqrt(sum(w * w for w in a.values()) * sum(w * w for w in b.values()))
    return dot / norm if norm else 0.0


def _event_score(a: Fingerprint, b: Fingerprint) -> tuple[float, list[str]]:
    """Mean of the entity cosine and the all-terms cosine; the shared entities, most salient first."""
    ea = {t.text: t.salience for t in a.terms if t.entity}
    eb = {t.text: t.salience for t in b.terms if t.entity}
    wa = {t.text: t.salience for t in a.terms}
    wb = {t.text: t.salience for t in b.terms}
    shared = sorted(set(ea) & set(eb), key=lambda k: -ea[k] - eb[k])
    return (_cosine(ea, eb) + _cosine(wa, wb)) / 2, shared
