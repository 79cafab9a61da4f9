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

from datetime import datetime

from newswatch.config.schema import StorySettings
from newswatch.stories.similarity import Fingerprint, relate

__all__ = ["TOP_NAMES", "may_tell", "new_names", "new_subject", "tells"]

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


def may_tell(settings: StorySettings, joined_by: str | None, told: int | None = None,
             last_told: datetime | None = None, now: datetime | None = None) -> tuple[bool, bool]:
    """Whether a later article may be told as (a follow-up, a report joined on evidence), by the
    settings alone (told None) or given how many alerts the watchlist had of the story and when the
    last went out: a follow-up `after` the last, either at most `max` times."""
    follow_up, joins = settings.follow_up, settings.evidence_joins
    follows, on_evidence = follow_up.enabled, joins.tell and joined_by == "same_event"
    if told is None:
        return follows, on_evidence
    return (follows and told <= follow_up.max and now - last_told >= follow_up.after,
            on_evidence and told <= joins.max)


def tells(settings: StorySettings, article: Fingerprint, alerted: list[Fingerprint], follows: bool,
          on_evidence: bool) -> bool:
    """Whether the article tells enough the alerted ones did not, for the rule(s) that apply."""
    return (follows and len(new_names(article, alerted)) >= settings.follow_up.new_names
            or on_evidence and len(new_subject(article, alerted)) >= settings.evidence_joins.new_names)
