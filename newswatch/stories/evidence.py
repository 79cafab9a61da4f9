"""The evidence that two articles report the same event, weighed into one score.

Rules: each signal is in [0, 1] and symmetric; the score is the logistic of BIAS plus the
WEIGHTS-weighted sum of the signals (fitted by `bench/stories_eval.py --fit` on the odd ECB+
topics, checked on the even ones; see bench/README.md, "## Stories").
- names: of each article's entities (weighted by salience), the share the other article mentions
  anywhere (its word filter); "names" is the smaller of the two shares, "names_max" the larger.
- lead: of each article's title and lead words, the share found among the other's title and lead
  words; the smaller share.
- words: cosine of the two salient-term vectors (salience = rarity × frequency × position).
- conflict: 1 when each article's main entity is missing from the other (Klitschko beats Rahman /
  Thompson beaten by Klitschko: no), else 0.
- copy: the MinHash Jaccard of the texts (shared wire copy below the duplicate threshold).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from newswatch.stories.shingles import jaccard

if TYPE_CHECKING:
    from newswatch.stories.similarity import Fingerprint

__all__ = ["BIAS", "WEIGHTS", "event_score", "explain", "signals"]

WEIGHTS = {"names": 3.3, "names_max": 1.8, "lead": 1.41, "words": 2.31, "conflict": -0.69,
           "copy": 0.59}
BIAS = -3.11


def _names(a: Fingerprint, b: Fingerprint) -> tuple[float, bool]:
    """Salience share of a's entities that b mentions, and whether b misses a's main entity.

    Run for every candidate pair: no lists, and one integer operation a name (`bloom.mask`)."""
    total, hit, bits, main_missing = 0.0, 0.0, b.word_bits, False
    for rank, (_, salience, mask) in enumerate(a.entities):
        total += salience
        if bits & mask == mask:
            hit += salience
        elif rank == 0:
            main_missing = True
    return (hit / total if total else 0.0), main_missing


def _mentioned(a: Fingerprint, b: Fingerprint) -> tuple[list[str], list[str]]:
    """a's entities that b mentions, and the others (for the account of a score)."""
    bits = b.word_bits
    return ([text for text, _, mask in a.entities if bits & mask == mask],
            [text for text, _, mask in a.entities if bits & mask != mask])


def _lead_share(a: Fingerprint, b: Fingerprint) -> float:
    """Salience share of a's title and lead words that are among b's title and lead words."""
    mine, theirs = a.lead_terms, b.lead_terms
    total = sum(mine.values())
    return sum(w for text, w in mine.items() if text in theirs) / total if total else 0.0


def _cosine(a: Fingerprint, b: Fingerprint) -> float:
    wb = b.weights
    dot = sum(w * wb[text] for text, w in a.weights.items() if text in wb)
    norm = a.norm * b.norm
    return dot / norm if norm else 0.0


def signals(a: Fingerprint, b: Fingerprint, copy: float | None = None) -> dict[str, float]:
    """Each signal of WEIGHTS for the pair; `copy`: their MinHash Jaccard, if the caller has it."""
    ab, a_main_missing = _names(a, b)
    ba, b_main_missing = _names(b, a)
    return {
        "names": min(ab, ba),
        "names_max": max(ab, ba),
        "lead": min(_lead_share(a, b), _lead_share(b, a)),
        "words": _cosine(a, b),
        "conflict": float(a_main_missing and b_main_missing),
        "copy": jaccard(a.values, b.values) if copy is None else copy,
    }


def event_score(a: Fingerprint, b: Fingerprint, copy: float | None = None) -> float:
    """The same-event score in [0, 1]; `copy` as for `signals`."""
    s = signals(a, b, copy)
    return 1 / (1 + math.exp(-(BIAS + sum(WEIGHTS[k] * v for k, v in s.items()))))


def explain(a: Fingerprint, b: Fingerprint) -> str:
    """A readable account of the pair's event score."""
    s = signals(a, b)
    shared, only_a = _mentioned(a, b)
    _, only_b = _mentioned(b, a)
    parts = ", ".join(f"{k} {s[k]:.2f}" for k in ("names", "lead", "words"))
    return (f"{parts}; shared names: {', '.join(shared[:4]) or 'none'}; "
            f"not shared: {', '.join(only_a[:2]) or '-'} / {', '.join(only_b[:2]) or '-'}")
