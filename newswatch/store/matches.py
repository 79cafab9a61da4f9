"""Matches: one per story and watchlist (a constraint), so a re-run or a second worker adds none;
and each follow-up of the story for the watchlist (revision 1, 2, …) at most once, the same way.

The caller enqueues the match's deliveries (newswatch.outbox.enqueue) in the same transaction,
only when `add` says the match is new: that is the outbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlmodel import Session, col, select

from newswatch.models import Hit
from newswatch.store._sql import insert_ignore
from newswatch.store.tables import Match

__all__ = ["Alerted", "add", "alerted"]


class Alerted(NamedTuple):
    """One of a story's matches for a watchlist, as `alerted` answers its caller (triage)."""

    revision: int
    article_id: int
    created_at: datetime


def add(session: Session, story_id: int, article_id: int, watchlist: str, hit: Hit,
        now: datetime, revision: int = 0) -> int | None:
    """Record the match; its id, or None when the story had already matched the watchlist
    (that revision of it)."""
    inserted = insert_ignore(session, Match.__table__, [{
        "story_id": story_id, "article_id": article_id, "watchlist": watchlist, "revision": revision,
        "terms": list(hit.terms), "snippet": hit.snippet,
        "highlights": [list(span) for span in hit.highlights], "created_at": now,
    }], returning=Match.__table__.c.id)
    return inserted[0] if inserted else None


def alerted(session: Session, story_id: int, watchlist: str) -> list[Alerted]:
    """The story's matches for the watchlist, first alert first."""
    query = (select(Match.revision, Match.article_id, Match.created_at)
             .where(Match.story_id == story_id, Match.watchlist == watchlist).order_by(col(Match.revision)))
    return [Alerted(*row) for row in session.exec(query)]
