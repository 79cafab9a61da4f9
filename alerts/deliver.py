"""Drain the outbox: claim due deliveries per channel, send, record the outcome.

Rules: channels drain in parallel threads, so one channel's outage never delays another. Due
digest deliveries of one watchlist go out as one message; the others one by one. A transient
error ("retry") stops that channel for this run: the failed message gets its backoff from
`alerts.retry`, and what was claimed but not tried goes back to pending at the same time.
A permanent error marks only that message's deliveries dead and the channel goes on.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from alerts import ChannelError, send, set_template_dir
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


def deliver(database: str, channels: dict[str, Channel], now: datetime,
            templates: str | None = None) -> list[ChannelOutcome]:
    """Send every due delivery of every configured channel (`templates`: the config's override)."""
    set_template_dir(templates)
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
        messages = _messages(batch)
        for position, message in enumerate(messages):
            ids = [c.alert.delivery_id for c in message]
            try:
                send(name, channel, [c.alert for c in message], digest=message[0].digest)
            except ChannelError as error:
                if _record_failure(database, outcome, message, error, now):
                    _put_back(database, [c for m in messages[position + 1:] for c in m], ids[0], now)
                    return outcome
                continue
            with session(database) as current:
                deliveries.mark_sent(current, ids, now)
            outcome.sent += len(ids)


def _messages(batch: list[deliveries.Claimed]) -> list[list[deliveries.Claimed]]:
    """One message per instant delivery, one per watchlist for the digest deliveries."""
    digests: dict[str, list[deliveries.Claimed]] = {}
    singles = []
    for claimed in batch:
        if claimed.digest:
            digests.setdefault(claimed.alert.watchlist, []).append(claimed)
        else:
            singles.append([claimed])
    return singles + list(digests.values())


def _record_failure(database: str, outcome: ChannelOutcome, message, error: ChannelError, now) -> bool:
    attempts = max(c.attempts for c in message)
    retry_at = next_attempt(error.kind, attempts, now, error.retry_after_seconds,
                            max_attempts=DEFAULTS["delivery_attempts"])
    with session(database) as current:
        deliveries.mark_failed(current, [c.alert.delivery_id for c in message], str(error), retry_at)
    if retry_at is None:
        outcome.dead += len(message)
    else:
        outcome.failed += len(message)
    outcome.error = str(error)
    log.warning("deliver channel=%s stories=%s status=%s error=%s", outcome.channel,
                ",".join(str(c.alert.story_id) for c in message), "dead" if retry_at is None else "failed",
                error)
    return error.kind == "retry"


def _put_back(database: str, untried: list[deliveries.Claimed], failed_id: int, now: datetime) -> None:
    """Claimed but not tried: due again when the failed one is, without counting an attempt."""
    if not untried:
        return
    with session(database) as current:
        retry_at = deliveries.next_attempt_of(current, failed_id) or now
        deliveries.unclaim(current, [c.alert.delivery_id for c in untried], retry_at)
