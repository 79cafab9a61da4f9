"""The outbox: what is to be sent, to which channel, and when.

A match's deliveries are written in the transaction that records the match, one per channel of
its watchlist, due at once or with the channel's next digest (newswatch/cadence.py decides).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from newswatch import cadence
from newswatch.config import Watchlist
from newswatch.store import deliveries

__all__ = ["enqueue"]


def enqueue(current, watchlist: Watchlist, match_id: int, now: datetime) -> None:
    """One delivery per channel of the watchlist, due at once or with the next digest."""
    for channel in watchlist.channel_names:
        settings = watchlist.delivery_for(channel)
        recent = 0
        if settings.digest == "adaptive":
            recent = deliveries.sent_at_once_since(current, watchlist.name, channel, now - timedelta(hours=1))
        due, digest = cadence.plan(settings, now, recent)
        deliveries.enqueue(current, match_id, channel, due, digest, now)
