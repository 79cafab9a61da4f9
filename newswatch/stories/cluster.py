"""Which earlier story a new article belongs to, among candidates the store found by key.

Pure: given the article's fingerprint and its candidates (their story, fingerprint and how many
hours apart), pick the story of the closest related candidate. A duplicate (the same copy, edited)
beats a report of the same event; the higher score wins among equals.
"""

from __future__ import annotations

from dataclasses import dataclass

from newswatch.stories.similarity import WINDOW_HOURS, Fingerprint, Relation, relate

__all__ = ["Candidate", "choose"]

_RANK = {"duplicate": 2, "same_event": 1}


@dataclass(frozen=True)
class Candidate:
    story_id: int
    fingerprint: Fingerprint
    hours_apart: float | None
    article_id: int | None = None


def choose(article: Fingerprint, candidates: list[Candidate],
           window_hours: float = WINDOW_HOURS, dated: bool = True) -> tuple[Candidate, Relation] | None:
    """The best related candidate and its relation, or None: a new story. `dated`: as for `relate`."""
    best: tuple[tuple[int, float], Candidate, Relation] | None = None
    for candidate in candidates:
        relation = relate(article, candidate.fingerprint, candidate.hours_apart, window_hours, dated)
        rank = _RANK.get(relation.kind)
        if rank is None:
            continue
        order = (rank, relation.score)
        if best is None or order > best[0]:
            best = (order, candidate, relation)
    return None if best is None else (best[1], best[2])
