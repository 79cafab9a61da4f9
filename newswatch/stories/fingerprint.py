"""Exact-duplicate fingerprints: a hash of the article text after normalisation.

Texts are folded (case, diacritics, punctuation, whitespace) before hashing, so a republished copy
that differs only in typography hashes the same. Short texts (a feed summary such as "Read more")
get no fingerprint: they would make unrelated articles look identical.
"""

from __future__ import annotations

import hashlib

from newswatch.stories.shingles import words as folded_words

__all__ = ["MIN_WORDS", "text_hash"]

MIN_WORDS = 40


def text_hash(text: str | None) -> str | None:
    """A stable hash of the normalised text, or None when it is too short to identify anything."""
    words = folded_words(text or "")
    if len(words) < MIN_WORDS:
        return None
    return hashlib.sha256(" ".join(words).encode()).hexdigest()
