"""What goes into the outbox: a match's deliveries, and a notice's.

A match's deliveries are written in the transaction that records the match, one per channel of
its watchlist, due at once or with the channel's next digest (newswatch.outbox.cadence decides).
A notice (newswatch.notices) is stored once under a key made of its topic and its content, so two
workers or shards enqueuing the same notice make one, with one delivery per channel, due at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta

from newswatch.config import Watchlist
from newswatch.outbox import cadence
from newswatch.store import deliveries

__all__ = ["enqueue", "enqueue_notice"]


def enqueue(current, watchlist: Watchlist, match_id: int, now: datetime) -> None:
    """One delivery per channel of the watchlist, due at once or with the next digest."""
    for channel in watchlist.channel_names:
        settings = watchlist.delivery_for(channel)
        recent = 0
        if settings.digest == "adaptive":
            recent = deliveries.sent_at_once_since(current, watchlist.name, channel, now - timedelta(hours=1))
        due, digest = cadence.plan(settings, now, recent)
        deliveries.enqueue(current, match_id, channel, due, digest, now)


def enqueue_notice(current, topic: str, title: str, text: str, channels: Iterable[str], now: datetime,
                   url: str = "") -> None:
    """The notice of `topic` (shown where an alert shows its watchlist), once, to each of `channels`."""
    key = f"{topic}:{hashlib.sha256(f'{now.isoformat()}|{title}|{text}'.encode()).hexdigest()[:32]}"
    deliveries.enqueue_notice(current, key, title, text, channels, now, url=url)
