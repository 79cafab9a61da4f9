"""Whether a later article of a story tells a watchlist something its alerts did not.

Pure. An update is significant when the article is not a copy of an article already alerted
(`relate` says duplicate: the same wire text, edited) and some of its most salient names and
figures (its TOP_NAMES most salient entity terms: people, places, organisations, numbers such
as a new death toll) appear in none of the alerted articles. The caller sets how many such new
names make an update worth a follow-up (config `stories.follow_up.new_names`).
"""

from __future__ import annotations

from newswatch.stories.similarity import Fingerprint, relate

__all__ = ["TOP_NAMES", "new_names"]

TOP_NAMES = 10


def new_names(article: Fingerprint, alerted: list[Fingerprint]) -> list[str]:
    """The article's salient names that no alerted article mentions; none for a copy of one."""
    if any(relate(article, old, None).kind == "duplicate" for old in alerted):
        return []
    return [text for text, _, mask in article.entities[:TOP_NAMES]
            if all(old.word_bits & mask != mask for old in alerted)]
