"""Drain the outbox: claim due deliveries per channel, send, record the outcome.

Rules: channels drain in parallel threads, so one channel's outage never delays another. A
transient error ("retry") stops that channel for this run: the failed delivery gets its backoff
from `alerts.retry`, and what was claimed but not tried goes back to pending at the same time.
A permanent error marks only that delivery dead and the channel goes on.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from alerts import ChannelError, send
from alerts.retry import next_attempt
from newswatch.config import Channel, DEFAULTS
from newswatch.store import session
from newswatch.store import deliveries

__all__ = ["ChannelOutcome", "deliver"]

log = logging.getLogger("newswatch.deliver")


@dataclass
class ChannelOutcome:
    channel: str
    sent: int = 0
    failed: int = 0
    dead: int = 0
    error: str | None = None


def deliver(database: str, channels: dict[str, Channel], now: datetime) -> list[ChannelOutcome]:
    """Send every due delivery of every configured channel."""
    if not channels:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(channels)), thread_name_prefix="deliver") as pool:
        return list(pool.map(lambda item: _drain(database, item[0], item[1], now), channels.items()))


def _drain(database: str, name: str, channel: Channel, now: datetime) -> ChannelOutcome:
    outcome = ChannelOutcome(name)
    while True:
        with session(database) as current:
            batch = deliveries.claim(current, name, now)
        if not batch:
            return outcome
        for position, claimed in enumerate(batch):
            try:
                send(name, channel, [claimed.alert])
            except ChannelError as error:
                stop = _record_failure(database, outcome, claimed, error, now)
                if stop:
                    _put_back(database, batch[position + 1:], claimed, error, now)
                    return outcome
                continue
            with session(database) as current:
                deliveries.mark_sent(current, [claimed.alert.delivery_id], now)
            outcome.sent += 1


def _record_failure(database: str, outcome: ChannelOutcome, claimed, error: ChannelError, now) -> bool:
    retry_at = next_attempt(error.kind, claimed.attempts, now, error.retry_after_seconds,
                            max_attempts=DEFAULTS["delivery_attempts"])
    with session(database) as current:
        deliveries.mark_failed(current, [claimed.alert.delivery_id], str(error), retry_at)
    if retry_at is None:
        outcome.dead += 1
    else:
        outcome.failed += 1
    outcome.error = str(error)
    log.warning("deliver channel=%s story=%s status=%s error=%s", outcome.channel,
                claimed.alert.story_id, "dead" if retry_at is None else "failed", error)
    return error.kind == "retry"


def _put_back(database: str, untried, failed, error: ChannelError, now: datetime) -> None:
    """Claimed but not tried: due again when the failed one is, without counting an attempt."""
    if not untried:
        return
    with session(database) as current:
        retry_at = deliveries.next_attempt_of(current, failed.alert.delivery_id) or now
        deliveries.unclaim(current, [c.alert.delivery_id for c in untried], retry_at)
