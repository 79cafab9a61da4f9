"""Whether a later article of a story tells a watchlist something its alerts did not.

Pure. An update is significant when the article is not a copy of an article already alerted
(`relate` says duplicate: the same wire text, edited) and some of its most salient names and
figures (its TOP_NAMES most salient entity terms: people, places, organisations, numbers such
as a new death toll) appear in none of the alerted articles. The caller sets how many such new
names make an update worth a follow-up (config `stories.follow_up.new_names`).

A report joined to a story on same-event evidence may be another event folded in (issue 17): it
is told as an update when it is about something the alerts never named, `new_subject`: its most
salient name (the victim, the place) is one of its new names. A second report of the alerted
event is mostly about what was alerted (its main name was said), even when it adds a spokesman's
name or the outlet's (config `stories.evidence_joins.new_names`).
"""

from __future__ import annotations

from newswatch.stories.similarity import Fingerprint, relate

__all__ = ["TOP_NAMES", "new_names", "new_subject"]

TOP_NAMES = 10


def new_names(article: Fingerprint, alerted: list[Fingerprint]) -> list[str]:
    """The article's salient names that no alerted article mentions; none for a copy of one."""
    if any(relate(article, old, None).kind == "duplicate" for old in alerted):
        return []
    return [text for text, _, mask in article.entities[:TOP_NAMES]
            if all(old.word_bits & mask != mask for old in alerted)]


def new_subject(article: Fingerprint, alerted: list[Fingerprint]) -> list[str]:
    """The article's new names when its most salient name is one of them; none otherwise."""
    names = new_names(article, alerted)
    return names if article.entities and names[:1] == [article.entities[0][0]] else []
