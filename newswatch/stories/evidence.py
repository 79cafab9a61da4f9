"""The evidence that two articles report the same event, weighed into one score.

Rules (each signal is in [0, 1]; the score is a logistic of their weighted sum, WEIGHTS and BIAS
fitted on half of the ECB+ topics by bench/stories_eval.py --fit, checked on the other half):
- names: of each article's entities (weighted by salience), the share the other article mentions
  anywhere (its word filter); the smaller of the two shares ("names") and the larger ("names_max").
- lead: of each article's title and lead words, the share found among the other's title and lead
  words; the smaller share.
- words: cosine of the two salient-term vectors (salience = rarity × frequency × position).
- conflict: each article's main entity that the other never mentions, as a share of that entity's
  salience; the smaller of the two, so it counts only when both sides name someone the other
  does not (Klitschko beats Rahman / Klitschko beats Thompson).
- copy: the MinHash Jaccard of the texts (shared wire copy below the duplicate threshold).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from newswatch.stories import bloom
from newswatch.stories.shingles import jaccard
from newswatch.stories.terms import LEAD, TITLE, Term

if TYPE_CHECKING:
    from newswatch.stories.similarity import Fingerprint

__all__ = ["BIAS", "WEIGHTS", "event_score", "signals"]

WEIGHTS = {"names": 3.53, "names_max": 1.92, "lead": 1.24, "words": 2.09, "conflict": -0.66,
           "copy": 0.59}
BIAS = -3.14


def _covered(terms: list[Term], words: bytes) -> float:
    """The salience-weighted share of `terms` that the other article's word filter holds."""
    total = sum(t.salience for t in terms)
    return sum(t.salience for t in terms if bloom.contains(words, t.text)) / total if total else 0.0


def _lead_share(a: Fingerprint, b: Fingerprint) -> float:
    mine = [t for t in a.terms if t.flags & (TITLE | LEAD)]
    theirs = {t.text for t in b.terms if t.flags & (TITLE | LEAD)}
    total = sum(t.salience for t in mine)
    return sum(t.salience for t in mine if t.text in theirs) / total if total else 0.0


def _conflict(a: Fingerprint, b: Fingerprint) -> float:
    names = [t for t in a.terms if t.entity]
    return 0.0 if not names or bloom.contains(b.words, names[0].text) else 1.0


def _cosine(a: Fingerprint, b: Fingerprint) -> float:
    wb = {t.text: t.salience for t in b.terms}
    dot = sum(t.salience * wb[t.text] for t in a.terms if t.text in wb)
    norm = math.sqrt(sum(t.salience ** 2 for t in a.terms) * sum(w * w for w in wb.values()))
    return dot / norm if norm else 0.0


def signals(a: Fingerprint, b: Fingerprint) -> dict[str, float]:
    """Each signal of WEIGHTS for the pair (symmetric)."""
    names_ab = _covered([t for t in a.terms if t.entity], b.words)
    names_ba = _covered([t for t in b.terms if t.entity], a.words)
    return {
        "names": min(names_ab, names_ba),
        "names_max": max(names_ab, names_ba),
        "lead": min(_lead_share(a, b), _lead_share(b, a)),
        "words": _cosine(a, b),
        "conflict": min(_conflict(a, b), _conflict(b, a)),
        "copy": jaccard(np.frombuffer(a.signature, "<u4"), np.frombuffer(b.signature, "<u4")),
    }


def event_score(a: Fingerprint, b: Fingerprint) -> tuple[float, str]:
    """The same-event score in [0, 1] and a readable account of it."""
    s = signals(a, b)
    score = 1 / (1 + math.exp(-(BIAS + sum(WEIGHTS[k] * v for k, v in s.items()))))
    shared = [t.text for t in a.terms if t.entity and bloom.contains(b.words, t.text)][:4]
    only_a = [t.text for t in a.terms if t.entity and not bloom.contains(b.words, t.text)][:2]
    only_b = [t.text for t in b.terms if t.entity and not bloom.contains(a.words, t.text)][:2]
    parts = ", ".join(f"{k} {s[k]:.2f}" for k in ("names", "lead", "words"))
    return score, (f"{parts}; shared names: {', '.join(shared) or 'none'}; "
                   f"not shared: {', '.join(only_a) or '-'} / {', '.join(only_b) or '-'}")
