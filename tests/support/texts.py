"""Article texts for tests that need many different stories: each seed gives its own words, so
story clustering sees unrelated events (near-identical texts would rightly merge into one story)."""

from __future__ import annotations

import random

__all__ = ["distinct_text"]

_SYLLABLES = ["ka", "lo", "mi", "ra", "tu", "sen", "dor", "vel", "pa", "ni", "gro", "sha", "bel", "tor"]


def distinct_text(seed: int, about: str = "", words: int = 160) -> str:
    """A text of `words` pseudo-words unique to `seed`, with `about` in the middle; like news, it
    names people and places of its own (capitalised words), which is what tells events apart."""
    rng = random.Random(seed)
    chosen = ["".join(rng.choice(_SYLLABLES) for _ in range(3)) for _ in range(words)]
    names = ["".join(rng.choice(_SYLLABLES) for _ in range(3)).capitalize() for _ in range(4)]
    for position in range(5, words, 12):
        chosen[position] = names[position % len(names)]
    half = words // 2
    return " ".join(chosen[:half]) + f" {about}. " + " ".join(chosen[half:]) + "."
