"""Fuzzy story signals: is this article a near-duplicate of, or the same event as, an earlier one?

A `Fingerprint` is computed once per article (`fingerprint(title, text, language, site)`), stored
as bytes (`to_bytes`: header, 512-byte signature, 512-byte word filter, 40 terms; ~1.5 KB, at most
2 KB) and indexed by its `lookup_keys` (≤ 35 keys of ≤ 45 characters); the store fetches the
earlier articles of the story window that share a key and asks `relate(new, old, hours_apart)`
about each, preferring a duplicate to a same-event candidate (newswatch/stories/cluster.py).

Rules of `relate` (pure; the figures behind the thresholds are in bench/README.md, "## Stories"):
1. duplicate: the MinHash Jaccard of the two texts' word 4-shingles is ≥ DUP_JACCARD, or the
   estimated containment of the shorter text in the longer is ≥ DUP_CONTAINMENT (a copy with
   paragraphs cut or added). Both texts need MIN_SHINGLES shingles. Time does not matter. One
   text under two headlines that share no salient word is a site's boilerplate read as the
   article (a video page, a cookie wall), not a copy: unrelated.
2. same_event: the event score (`evidence.score_of` of `evidence.signals`, a logistic model fitted on real news:
   shared names, rare words, figures, title and lead words, salient-word cosine and vocabulary,
   MinHash, and the hours apart as a share of the story window, `stories.window`, 48 h by
   default) must reach EVENT_SCORE plus what `evidence.needed` asks for the time apart, a short
   text or a language without a rarity table. Further apart than the window is never the same event;
   unknown time (None) counts as half the window, and a report dated only by its fetch
   (`dated=False`) as at least half: less known, more evidence asked.
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
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from itertools import combinations
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from newswatch.matching.text import fold
from newswatch.stories import bloom
from newswatch.stories.evidence import RARE_TERMS, SHORT_NAMES, explain, needed, score_of, signals
from newswatch.stories.shingles import MIN_SHINGLES, NUM_PERM, SHINGLE_WORDS, band_keys, jaccard, signature
from newswatch.stories.terms import LEAD, NO_TABLE_RARITY, TITLE, Term, ages, analyse, weekdays

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Fingerprint", "Relation", "fingerprint", "relate"]

DUP_JACCARD = 0.5
DUP_CONTAINMENT = 0.6
EVENT_SCORE = 0.75
WINDOW_HOURS = 48.0
EVENT_NAMES = 5
EVENT_SINGLES = 5
MAX_TERM_BYTES = 20

_FIGURE = re.compile(r"\d{3,}|\d+\.\d+")
_VERSION = 4
# Version 1 hashed shingles with SHA-1: its signature cannot be compared with a later one. It
# reads back without shingles, so a store written before still relates by names and words within
# its window (and by URL and text hash), never as a duplicate by signature. Version 2 kept the
# words of stemmed languages unstemmed: it reads back as it is (its shared names still count).
# Versions before 4 carry no ages or weekdays: they read back with none, as if their texts gave none.
_SIGNATURE_UNCOMPARABLE = {1}
_READABLE = {1, 2, 3, _VERSION}
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
    ages: frozenset[int] = frozenset()  # terms.ages of the title and lead
    weekdays: int = 0  # terms.weekdays: the days of the week the title and lead name, as bits

    # What `evidence` reads of the terms, derived once: a stored fingerprint is compared with
    # every later article of the window that shares a key.
    @cached_property
    def entities(self) -> tuple[tuple[str, float, int], ...]:
        """(text, salience, bloom.mask) of the entity terms, most salient first."""
        return tuple((t.text, t.salience, bloom.mask(t.text)) for t in self.terms if t.entity)

    @cached_property
    def values(self) -> np.ndarray:
        """The MinHash signature as an array (for `shingles.jaccard`)."""
        import numpy as np  # on first use (newswatch.stories.shingles._numpy says why)

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
    def title_terms(self) -> frozenset[str]:
        """The salient words of the title."""
        return frozenset(t.text for t in self.terms if t.flags & TITLE)

    @cached_property
    def rare_masks(self) -> tuple[int, ...]:
        """bloom.mask of the evidence.RARE_TERMS rarest words."""
        rarest = sorted(self.terms, key=lambda t: (-t.rarity, t.text))[:RARE_TERMS]
        return tuple(bloom.mask(t.text) for t in rarest)

    @cached_property
    def figure_masks(self) -> tuple[int, ...]:
        """bloom.mask of the figures (three digits or more, or decimals) of the title and lead."""
        return tuple(bloom.mask(t.text) for t in self.terms
                     if t.flags & (TITLE | LEAD) and _FIGURE.fullmatch(t.text))

    @cached_property
    def uncovered(self) -> bool:
        """Whether the text's language had no rarity table (every word weighs the same)."""
        worded = [t.rarity for t in self.terms if not t.text[0].isdigit()]
        return len(worded) >= 3 and all(r == NO_TABLE_RARITY for r in worded)

    @property
    def word_count(self) -> int:
        """About how many words the text has (its shingles' count)."""
        return self.n_shingles + SHINGLE_WORDS - 1 if self.n_shingles else 0

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
        given = sorted(self.ages)[:255]
        out += [bytes([len(given)]), bytes(given), bytes([self.weekdays])]
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
        elif version not in _READABLE:
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
        if version < 4:
            return cls(sig, n_shingles, tuple(terms), words)
        given, pos = frozenset(data[pos + 1:pos + 1 + data[pos]]), pos + 1 + data[pos]
        return cls(sig, n_shingles, tuple(terms), words, given, data[pos])


def fingerprint(title: str, text: str, language: str | None = None, site: str | None = None) -> Fingerprint:
    """The fingerprint of an article; a text under 20 words is shingled with its title. `site`:
    the address (or host) it came from, whose own name (wdrb in www.wdrb.com) is no evidence:
    every report of that outlet names it, no other outlet's does."""
    title, text, named = title or "", text or "", site_words(site)
    title = _without_site_name(title, named)
    values, n = signature(text if len(text.split()) >= 20 else f"{title}\n{text}")
    terms, vocabulary = analyse(title, text, language, named)
    return Fingerprint(values.astype("<u4").tobytes(), n, tuple(_stored(t) for t in terms),
                       bloom.make(_short(w) for w in vocabulary), ages(title, text), weekdays(title, text))


def site_words(site: str | None) -> frozenset[str]:
    """The words naming a site in its address: the labels of its host but the first-level domain
    and www (www.wdrb.com → wdrb; news.bbc.co.uk → news, bbc, co)."""
    if not site:
        return frozenset()
    host = urlsplit(site if "//" in site else f"//{site}").hostname or ""
    labels = host.split(".")[:-1]
    return frozenset(fold(label) for label in labels if label not in ("www", "m", "amp") and len(label) >= 2)


_TITLE_PARTS = re.compile(r"\s+[-|:–—]\s+")


def _without_site_name(title: str, site: frozenset[str]) -> str:
    """The title without the parts naming the site ("… - WMC Action News 5 - Memphis" from
    wmcactionnews5.com, "… | KSLA News 12" from ksla.com, "BBC News - …" from bbc.co.uk): every
    report of the outlet has them."""
    first = _TITLE_PARTS.search(title)
    if first and _names_site(title[:first.start()], site):
        title = title[first.end():]
    for separator in _TITLE_PARTS.finditer(title):
        if _names_site(_TITLE_PARTS.split(title[separator.end():], maxsplit=1)[0], site):
            return title[:separator.start()]
    return title


def _names_site(part: str, site: frozenset[str]) -> bool:
    squashed = re.sub(r"\W+", "", fold(part))
    return bool(squashed) and any(len(label) >= 3 and (squashed.startswith(label) or label.startswith(squashed))
                                  for label in site)


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
           window_hours: float = WINDOW_HOURS, dated: bool = True) -> Relation:
    """Whether `a` and `b` are copies of one text, reports of one event, or unrelated.

    `dated`: False when either report's time is only when it was fetched (no publication date):
    it then counts as at least half the window apart, so the pair needs more evidence."""
    j = jaccard(a.values, b.values)
    if min(a.n_shingles, b.n_shingles) >= MIN_SHINGLES:
        contained = _containment(j, a.n_shingles, b.n_shingles)
        if j >= DUP_JACCARD or contained >= DUP_CONTAINMENT:
            if a.title_terms and b.title_terms and not a.title_terms & b.title_terms:
                return Relation("unrelated", j, lambda: f"one text (minhash jaccard {j:.2f}) under headlines sharing "
                                                        "no word: a site's boilerplate, not a copy")
            return Relation("duplicate", j, lambda: f"minhash jaccard {j:.2f}, containment {contained:.2f}")
    hours = window_hours / 2 if hours_apart is None else abs(hours_apart)
    if not dated:
        hours = max(hours, window_hours / 2)
    values = signals(a, b, copy=j, hours_apart=hours, window_hours=window_hours)
    score = score_of(values)
    if hours > window_hours:
        return Relation("unrelated", score,
                        lambda: f"{_when(hours_apart)} (> {window_hours:.0f} h); event score {score:.2f}")
    need = EVENT_SCORE + needed(a, b, values["time"])
    kind = "same_event" if score >= need else "unrelated"
    needs = f"a short text must share {SHORT_NAMES} names" if math.isinf(need) else f"needs {need:.2f}"
    return Relation(kind, score, lambda: f"event score {score:.2f} ({needs}, {_when(hours_apart)}): "
                                         f"{explain(a, b, values)}; minhash jaccard {j:.2f}")


def _when(hours_apart: float | None) -> str:
    return "time unknown" if hours_apart is None else f"{abs(hours_apart):.0f} h apart"


def _containment(j: float, n_a: int, n_b: int) -> float:
    """|A∩B| / min(|A|, |B|) from the Jaccard estimate: |A∩B| = J (|A| + |B|) / (1 + J)."""
    return min(1.0, j * (n_a + n_b) / (1 + j) / min(n_a, n_b))
