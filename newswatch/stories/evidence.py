"""The evidence that two articles report the same event, weighed into one score.

Rules: each signal is in [0, 1] and symmetric; the score is the logistic of the model's bias plus
its weighted sum of the signals. The model (event_model.json, beside this module) is fitted by
`bench/event_model.py --fit` on the development sets: a dated stream of real local reports,
same-story pairs in Turkish, Spanish, Arabic and French, and ECB+'s odd topics (figures in
bench/README.md, "## Stories"). What is not known asks for more evidence, never less: the weight
of `time` is fitted non-positive (bench/event_model.py holds it there), and `needed` adds to the
score a join needs for the time apart, a short text and a language without a rarity table.
- names: of each article's entities (weighted by salience), the share the other article mentions
  anywhere (its word filter); "names" is the smaller of the two shares, "names_max" the larger.
- rare: of each article's RARE_TERMS rarest words, the share the other mentions; the smaller.
- lead: of each article's title and lead words, the share found among the other's title and lead
  words; the smaller share.
- words: cosine of the two salient-term vectors (salience = rarity × frequency × position).
- vocabulary: how much the two word filters (each text's rarest words) overlap, as a share of
  the fuller one (`_overlap`).
- numbers: of the figures (three digits or more, decimals) in each title and lead, the share the
  other mentions; the smaller (0 when either has none).
- ages: 1 when the two titles and leads give an age in common (terms.ages: "a 16-year-old",
  "John Doe, 34,"); ages_apart: 1 when both give ages and none in common. On the dated stream the
  reports of one shooting by two outlets share the victim's age, other shootings of the city's
  week have victims of other ages.
- weekdays: 1 when the two titles and leads name a day of the week in common ("Saturday night",
  "el sábado"; terms.weekdays); weekdays_apart: 1 when both name days and none in common: the
  reports of one incident name its day, a city's other incidents of the week mostly other days.
- conflict: 1 when each article's main entity is missing from the other (Klitschko beats Rahman /
  Thompson beaten by Klitschko: no), else 0.
- copy: the MinHash Jaccard of the texts (shared wire copy below the duplicate threshold).
- time: hours apart as a share of the story window (unknown: half of it, at least).
What `needed` adds to the model's threshold (set by hand: the development sets hold too few such
pairs to fit them, and they are where a wrong join hides an event on the least evidence):
- TIME_NEED × the time signal: a second event of a kind comes a day or two after the first and
  shares its words (a second Idlib strike; on the dated stream, the two reports of other
  incidents that joined an outlet's earlier story came 25 and 33 h after it).
- SHORT_NEED × how far the shorter text is from SHORT_WORDS words (0 at or above; a one-line
  feed summary about 0.95); and a text under half of SHORT_WORDS joins on evidence only when it
  shares SHORT_NAMES of its names with the other: "Idlib talks resume in Moscow." shares two
  names with any report of Idlib and Moscow, which is no evidence of one event.
- UNCOVERED_NEED when a text's language has no rarity table (every word weighs the same, so a
  shared common word counts as much as a shared name).
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from newswatch.stories.shingles import jaccard

if TYPE_CHECKING:
    from newswatch.stories.similarity import Fingerprint

__all__ = ["RARE_TERMS", "SHORT_NAMES", "SHORT_NEED", "SHORT_WORDS", "SIGNALS", "TIME_NEED", "UNCOVERED_NEED", "explain",
           "load_model", "needed", "score_of", "signals"]

SIGNALS = ("names", "names_max", "rare", "lead", "words", "vocabulary", "numbers", "ages", "ages_apart", "weekdays",
           "weekdays_apart", "conflict", "copy", "time")
RARE_TERMS = 8
SHORT_WORDS = 100
SHORT_NEED = 0.2
SHORT_NAMES = 3
TIME_NEED = 0.2
UNCOVERED_NEED = 0.1
MODEL = Path(__file__).with_name("event_model.json")


@lru_cache(maxsize=1)
def load_model() -> tuple[dict[str, float], float]:
    """(weights by signal, bias) of the fitted model; a signal the file lacks weighs nothing."""
    data = json.loads(MODEL.read_text(encoding="utf-8"))
    return {name: float(data["weights"].get(name, 0.0)) for name in SIGNALS}, float(data["bias"])


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


def _share(masks: tuple[int, ...], bits: int) -> float:
    """The share of `masks` (words) present in the word filter `bits`; 0 for none."""
    return sum(bits & mask == mask for mask in masks) / len(masks) if masks else 0.0


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


def _overlap(a: int, b: int) -> float:
    """The share of the fuller word filter's bits the other has: about the share of the richer
    text's rarest words that the other has too (a one-line summary's few words, all in a long
    report, are little evidence)."""
    larger = max(a.bit_count(), b.bit_count())
    return (a & b).bit_count() / larger if larger else 0.0


def needed(a: Fingerprint, b: Fingerprint, time: float = 0.0) -> float:
    """How much more score the pair needs, `time` (the time signal) apart, for what its texts and
    times do not tell (module docstring)."""
    short = max(0.0, 1.0 - min(a.word_count, b.word_count) / SHORT_WORDS)
    shorter, other = sorted((a, b), key=lambda p: p.word_count)
    if short > 0.5 and len(_mentioned(shorter, other)[0]) < SHORT_NAMES:
        return math.inf
    return TIME_NEED * time + SHORT_NEED * short + UNCOVERED_NEED * float(a.uncovered or b.uncovered)


def signals(a: Fingerprint, b: Fingerprint, copy: float | None = None, hours_apart: float | None = None,
            window_hours: float = 48.0) -> dict[str, float]:
    """Each signal of SIGNALS for the pair; `copy`: their MinHash Jaccard, if the caller has it;
    `hours_apart`: None when not known."""
    ab, a_main_missing = _names(a, b)
    ba, b_main_missing = _names(b, a)
    hours = window_hours / 2 if hours_apart is None else abs(hours_apart)
    return {
        "names": min(ab, ba),
        "names_max": max(ab, ba),
        "rare": min(_share(a.rare_masks, b.word_bits), _share(b.rare_masks, a.word_bits)),
        "lead": min(_lead_share(a, b), _lead_share(b, a)),
        "words": _cosine(a, b),
        "vocabulary": _overlap(a.word_bits, b.word_bits),
        "numbers": min(_share(a.figure_masks, b.word_bits), _share(b.figure_masks, a.word_bits)),
        "ages": float(bool(a.ages & b.ages)),
        "ages_apart": float(bool(a.ages and b.ages and not a.ages & b.ages)),
        "weekdays": float(bool(a.weekdays & b.weekdays)),
        "weekdays_apart": float(bool(a.weekdays and b.weekdays and not a.weekdays & b.weekdays)),
        "conflict": float(a_main_missing and b_main_missing),
        "copy": jaccard(a.values, b.values) if copy is None else copy,
        "time": min(1.0, hours / window_hours) if window_hours > 0 else 1.0,
    }


def score_of(values: dict[str, float]) -> float:
    """The model's same-event score in [0, 1] for these signal values."""
    weights, bias = load_model()
    z = bias + sum(weights[k] * values[k] for k in SIGNALS)
    return 1 / (1 + math.exp(-max(-50.0, min(50.0, z))))


def explain(a: Fingerprint, b: Fingerprint, values: dict[str, float] | None = None) -> str:
    """A readable account of the pair's event score."""
    s = values or signals(a, b)
    shared, only_a = _mentioned(a, b)
    _, only_b = _mentioned(b, a)
    parts = ", ".join(f"{k} {s[k]:.2f}" for k in ("names", "rare", "lead", "words", "numbers"))
    return (f"{parts}; shared names: {', '.join(shared[:4]) or 'none'}; "
            f"not shared: {', '.join(only_a[:2]) or '-'} / {', '.join(only_b[:2]) or '-'}")

