"""Matches: one per story and watchlist (a constraint), so a re-run or a second worker adds none.

The caller enqueues the match's deliveries (store.deliveries.enqueue) in the same transaction,
only when `add` says the match is new: that is the outbox.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from newswatch.models import Hit
from newswatch.store._sql import insert_ignore
from newswatch.store.tables import Match

__all__ = ["add"]


def add(session: Session, story_id: int, article_id: int, watchlist: str, hit: Hit,
        now: datetime) -> int | None:
    """Record the match; its id, or None when the story had already matched the watchlist."""
    inserted = insert_ignore(session, Match.__table__, [{
        "story_id": story_id, "article_id": article_id, "watchlist": watchlist,
        "terms": list(hit.terms), "snippet": hit.snippet,
        "highlights": [list(span) for span in hit.highlights], "created_at": now,
    }], returning=Match.__table__.c.id)
    return inserted[0] if inserted else None
