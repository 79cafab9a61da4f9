"""Matches and the outbox: a match and its deliveries are written in one transaction.

Rules: one match per story and watchlist (constraint); deliveries are enqueued only for a match
this call inserted, one per channel (constraint), so a re-run or a second worker enqueues nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from newswatch.models import Hit
from newswatch.store._sql import insert_ignore
from newswatch.store.tables import Delivery, Match

__all__ = ["add"]


def add(session: Session, story_id: int, article_id: int, watchlist: str, hit: Hit,
        channels: list[str], now: datetime) -> int | None:
    """Record the match and enqueue its deliveries; None when the story already matched."""
    inserted = insert_ignore(session, Match.__table__, [{
        "story_id": story_id, "article_id": article_id, "watchlist": watchlist,
        "terms": list(hit.terms), "snippet": hit.snippet,
        "highlights": [list(span) for span in hit.highlights], "created_at": now,
    }], returning=Match.__table__.c.id)
    if not inserted:
        return None
    match_id = inserted[0]
    insert_ignore(session, Delivery.__table__, [
        {"match_id": match_id, "channel": channel, "status": "pending", "attempts": 0,
         "next_attempt_at": now, "created_at": now}
        for channel in dict.fromkeys(channels)
    ])
    return match_id
