"""The outbox: deliveries are claimed, sent and marked, so nothing is lost or sent twice.

States: pending → sending → sent, or → failed (retried at `next_attempt_at`) → … → dead.
A claim is a conditional UPDATE committed before sending; while `sending`, `next_attempt_at` is
the lease's end. A process killed mid-send leaves the delivery `sending`; when the lease runs out
it is claimed again, so the one message in flight at a crash may arrive twice, never zero times.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from newswatch.models import Alert
from newswatch.store._sql import insert_ignore
from newswatch.store.stories import stories_sources
from newswatch.store.tables import Article, Delivery, Match, Source

__all__ = ["LEASE", "Claimed", "claim", "enqueue", "listing", "mark_failed", "mark_sent",
           "next_attempt_of", "release_for_retry", "sent_at_once_since", "unclaim"]

LEASE = timedelta(minutes=5)
_CLAIMABLE = ("pending", "failed", "sending")


@dataclass(frozen=True)
class Claimed:
    alert: Alert
    attempts: int  # including this one
    digest: bool


def enqueue(session: Session, match_id: int, channel: str, due: datetime, digest: bool,
            now: datetime) -> None:
    """Put one alert for `channel` in the outbox (at most one per match and channel)."""
    insert_ignore(session, Delivery.__table__, [{
        "match_id": match_id, "channel": channel, "status": "pending", "attempts": 0,
        "next_attempt_at": due, "digest": digest, "created_at": now}])


def sent_at_once_since(session: Session, watchlist: str, channel: str, since: datetime) -> int:
    """How many of the watchlist's alerts on `channel` since `since` went out on their own."""
    query = (select(sa.func.count()).select_from(Delivery).join(Match, col(Match.id) == col(Delivery.match_id))
             .where(Match.watchlist == watchlist, Delivery.channel == channel,
                    Delivery.digest == False, col(Delivery.created_at) >= since))  # noqa: E712
    return session.exec(query).one()


def claim(session: Session, channel: str, now: datetime, limit: int = 100) -> list[Claimed]:
    """Take up to `limit` due deliveries of `channel`, oldest first; the caller commits before sending.

    One conditional UPDATE for them all: a delivery another worker took meanwhile is no longer
    due (its lease ends in the future), so it is not taken again."""
    due = session.exec(
        select(Delivery.id).where(Delivery.channel == channel, col(Delivery.status).in_(_CLAIMABLE),
                                  col(Delivery.next_attempt_at) <= now)
        .order_by(col(Delivery.id)).limit(limit)
    ).all()
    if not due:
        return []
    table = Delivery.__table__
    taken = session.execute(
        table.update().where(table.c.id.in_(due), table.c.status.in_(_CLAIMABLE), table.c.next_attempt_at <= now)
        .values(status="sending", next_attempt_at=now + LEASE, attempts=table.c.attempts + 1)
        .returning(table.c.id, table.c.attempts, table.c.digest)
    ).all()
    alerts = _alerts(session, [row.id for row in taken])
    return [Claimed(alerts[row.id], row.attempts, row.digest) for row in sorted(taken)]


def _alerts(session: Session, delivery_ids: list[int]) -> dict[int, Alert]:
    """The alert of each delivery, read in two queries (the deliveries, then their stories' sources)."""
    rows = session.execute(
        sa.select(Delivery.id, Match, Article.title, Article.url, Article.published_at, Source.name)
        .join(Match, col(Match.id) == col(Delivery.match_id)).join(Article, col(Article.id) == col(Match.article_id))
        .join(Source, col(Source.id) == col(Article.source_id)).where(col(Delivery.id).in_(delivery_ids))
    ).all()
    carried = stories_sources(session, {match.story_id for _, match, *_ in rows})
    return {delivery_id: Alert(
        watchlist=match.watchlist, story_id=match.story_id, title=title, url=url, source=source,
        published=published, terms=list(match.terms), snippet=match.snippet,
        highlights=[tuple(h) for h in match.highlights],
        also_reported_by=list(dict.fromkeys(name for name in carried.get(match.story_id, ()) if name != source)),
        delivery_id=delivery_id, revision=match.revision,
    ) for delivery_id, match, title, url, published, source in rows}


def mark_sent(session: Session, delivery_ids: Iterable[int], now: datetime) -> None:
    session.execute(sa.update(Delivery).where(col(Delivery.id).in_(list(delivery_ids)))
                    .values(status="sent", sent_at=now, last_error=None))


def mark_failed(session: Session, delivery_ids: Iterable[int], error: str, retry_at: datetime | None) -> None:
    """Failed with a next attempt at `retry_at`, or dead when it is None."""
    values = {"status": "failed", "next_attempt_at": retry_at} if retry_at else {"status": "dead"}
    session.execute(sa.update(Delivery).where(col(Delivery.id).in_(list(delivery_ids)))
                    .values(last_error=error, **values))


def release_for_retry(session: Session, now: datetime, include_dead: bool = False) -> int:
    """Make every pending/failed (and optionally dead) delivery due now; returns how many."""
    statuses = ["pending", "failed", *(["dead"] if include_dead else [])]
    return session.execute(sa.update(Delivery).where(col(Delivery.status).in_(statuses))
                           .values(status="pending", next_attempt_at=now)).rowcount


def listing(session: Session, statuses: Iterable[str]) -> list[tuple[Delivery, Match]]:
    query = (select(Delivery, Match).join(Match, col(Match.id) == col(Delivery.match_id))
             .where(col(Delivery.status).in_(list(statuses))).order_by(col(Delivery.id)))
    return list(session.exec(query).all())


def next_attempt_of(session: Session, delivery_id: int) -> datetime | None:
    return session.get(Delivery, delivery_id).next_attempt_at


def unclaim(session: Session, delivery_ids: Iterable[int], not_before: datetime) -> None:
    """Give back claimed deliveries that were not tried, without counting the attempt."""
    session.execute(sa.update(Delivery).where(col(Delivery.id).in_(list(delivery_ids)))
                    .values(status="pending", next_attempt_at=not_before,
                            attempts=Delivery.attempts - 1))
