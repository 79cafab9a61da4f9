"""The outbox's rows: deliveries are claimed, sent and marked, so nothing is lost or sent twice.

The queries only: when a delivery is due (newswatch.outbox.cadence), what its alert says
(newswatch.outbox.assembly) and when a failed one is tried again (newswatch.outbox.retry) are
decided in the core and come here as values; `alert_rows`, `story_reports` and `notice_rows` give
the rows an alert is made of.

States: pending → sending → sent, or → failed (retried at `next_attempt_at`) → … → dead.
A delivery carries a match (an alert) or a notice (newswatch's own message, `enqueue_notice`).

Claims: a claim is a conditional UPDATE committed before sending; while `sending`,
`next_attempt_at` is the lease's end, counted from the `now` of the claim (the caller reads its
clock then, not when its run began), and `claim_token` names the claim. The holder `renew`s the
lease while it sends; every later write (`mark_sent`, `mark_failed`, `unclaim`) given the token
changes only deliveries that claim still holds, so a sender whose lease ran out and was taken over
cannot mark the new holder's delivery. A claim that reaches its limit also takes the due deliveries
of the same stories beyond it, so a story's alerts for several watchlists are claimed together and
go out as one message (newswatch.outbox.drain). A process killed mid-send leaves the delivery `sending`;
when the lease runs out it is claimed again, so the one message in flight at a crash may arrive
twice, never zero times.

Notices: `enqueue_notice(session, key, title, text, channels, now, url="")` stores one notice per
`key` (unique: two shards enqueuing the same key make one) and one delivery per channel, due at
once. The key's part before the first ":" is the notice's topic: messages show it where an alert
shows its watchlist ("source-health:…", "quarantine:…").

`installation_id` is the store's random id (migration 0007), so ids built from store ids (e-mail
Message-IDs) never repeat after a store reset or in a second installation.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col, select

from newswatch.store._sql import in_lists, insert_ignore
from newswatch.store.tables import Article, Delivery, Installation, Match, Notice, Source

__all__ = ["LEASE", "AlertRow", "Claimed", "alert_rows", "claim", "enqueue", "enqueue_notice", "installation_id",
           "listing", "mark_failed", "mark_sent", "next_attempt_of", "notice_rows", "release_for_retry", "renew",
           "sent_at_once_since", "story_reports", "unclaim"]

LEASE = timedelta(minutes=5)
_CLAIMABLE = ("pending", "failed", "sending")


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    attempts: int  # including this one
    digest: bool
    token: str = ""  # the claim's: pass it to renew and to every mark


class AlertRow(NamedTuple):
    """A match's delivery with the rows its alert is made of: the match, its article and source."""

    delivery_id: int
    match: Match
    title: str
    url: str
    published: datetime | None
    source: str


def enqueue(session: Session, match_id: int, channel: str, due: datetime, digest: bool,
            now: datetime) -> None:
    """Put one alert for `channel` in the outbox (at most one per match and channel)."""
    insert_ignore(session, Delivery.__table__, [{
        "match_id": match_id, "channel": channel, "status": "pending", "attempts": 0,
        "next_attempt_at": due, "digest": digest, "created_at": now}])


def enqueue_notice(session: Session, key: str, title: str, text: str, channels: Iterable[str],
                   now: datetime, url: str = "") -> int | None:
    """Store the notice `key` and put it in the outbox for each of `channels`, due now.

    Its id, or None when a notice with that key was enqueued before (by this or another worker)."""
    inserted = insert_ignore(session, Notice.__table__, [{
        "key": key, "title": title, "text": text, "url": url, "created_at": now}],
        returning=Notice.__table__.c.id)
    if not inserted:
        return None
    insert_ignore(session, Delivery.__table__, [{
        "notice_id": inserted[0], "channel": channel, "status": "pending", "attempts": 0,
        "next_attempt_at": now, "digest": False, "created_at": now} for channel in dict.fromkeys(channels)])
    return inserted[0]


def installation_id(session: Session) -> str:
    """The store's random id, made with it (and made now for a store that lacks one)."""
    found = session.exec(select(Installation.uid).where(Installation.id == 1)).first()
    if found is None:
        insert_ignore(session, Installation.__table__, [{"id": 1, "uid": uuid.uuid4().hex}])
        found = session.exec(select(Installation.uid).where(Installation.id == 1)).one()
    return found


def sent_at_once_since(session: Session, watchlist: str, channel: str, since: datetime) -> int:
    """How many of the watchlist's alerts on `channel` since `since` went out on their own."""
    query = (select(sa.func.count()).select_from(Delivery).join(Match, col(Match.id) == col(Delivery.match_id))
             .where(Match.watchlist == watchlist, Delivery.channel == channel,
                    Delivery.digest == False, col(Delivery.created_at) >= since))  # noqa: E712
    return session.exec(query).one()


def claim(session: Session, channel: str, now: datetime, limit: int = 100) -> list[Claimed]:
    """Take up to `limit` due deliveries of `channel`, oldest first, leased until `now + LEASE`
    under one new token; the caller commits before sending.

    One conditional UPDATE for them all: a delivery another worker took meanwhile is no longer
    due (its lease ends in the future), so it is not taken again. When `limit` is reached, the
    due deliveries of the same stories past it are taken too (one message per story, issue 19)."""
    is_due = sa.and_(Delivery.channel == channel, col(Delivery.status).in_(_CLAIMABLE),
                     col(Delivery.next_attempt_at) <= now)
    due = list(session.exec(select(Delivery.id).where(is_due).order_by(col(Delivery.id)).limit(limit)).all())
    if not due:
        return []
    if len(due) == limit:
        stories = select(Match.story_id).join(Delivery, col(Delivery.match_id) == col(Match.id)).where(
            col(Delivery.id).in_(due))
        due += session.exec(select(Delivery.id).join(Match, col(Match.id) == col(Delivery.match_id))
                            .where(is_due, col(Delivery.id) > due[-1], col(Match.story_id).in_(stories))).all()
    table, token = Delivery.__table__, uuid.uuid4().hex
    taken = session.execute(
        table.update().where(table.c.id.in_(due), table.c.status.in_(_CLAIMABLE), table.c.next_attempt_at <= now)
        .values(status="sending", next_attempt_at=now + LEASE, attempts=table.c.attempts + 1, claim_token=token)
        .returning(table.c.id, table.c.attempts, table.c.digest)
    ).all()
    return [Claimed(row.id, row.attempts, row.digest, token) for row in sorted(taken)]


def renew(session: Session, delivery_ids: Iterable[int], token: str, now: datetime) -> set[int]:
    """Extend the lease of those of `delivery_ids` the claim `token` still holds to `now + LEASE`;
    returns their ids (the others were taken over or finished)."""
    table = Delivery.__table__
    held = session.execute(
        table.update().where(table.c.id.in_(list(delivery_ids)), table.c.status == "sending",
                             table.c.claim_token == token)
        .values(next_attempt_at=now + LEASE).returning(table.c.id)
    ).scalars()
    return set(held)


def _held(delivery_ids: Iterable[int], token: str | None):
    """The WHERE clause of a write to `delivery_ids`: only those the claim `token` holds, if given."""
    where = col(Delivery.id).in_(list(delivery_ids))
    if token is None:
        return where
    return sa.and_(where, Delivery.status == "sending", Delivery.claim_token == token)


def notice_rows(session: Session, delivery_ids: list[int]) -> list[tuple[int, Notice]]:
    """(delivery id, notice) of each of `delivery_ids` that carries a notice."""
    return [tuple(row) for row in session.execute(
        sa.select(Delivery.id, Notice).join(Notice, col(Notice.id) == col(Delivery.notice_id))
        .where(col(Delivery.id).in_(delivery_ids))
    ).all()]


def alert_rows(session: Session, delivery_ids: list[int]) -> list[AlertRow]:
    """The match, article and source of each of `delivery_ids` that carries a match, in one query."""
    return [AlertRow(*row) for row in session.execute(
        sa.select(Delivery.id, Match, Article.title, Article.url, Article.published_at, Source.name)
        .join(Match, col(Match.id) == col(Delivery.match_id)).join(Article, col(Article.id) == col(Match.article_id))
        .join(Source, col(Source.id) == col(Article.source_id)).where(col(Delivery.id).in_(delivery_ids))
    ).all()]


def story_reports(session: Session, story_ids: Iterable[int]) -> dict[int, list[tuple[str, str]]]:
    """(source name, article URL) of each story's articles, oldest article first."""
    found: dict[int, list[tuple[str, str]]] = {}
    for chunk in in_lists(session, story_ids):
        query = (sa.select(Article.story_id, Source.name, Article.url)
                 .join(Source, col(Source.id) == col(Article.source_id))
                 .where(col(Article.story_id).in_(chunk)).order_by(col(Article.id)))
        for story_id, name, url in session.execute(query):
            found.setdefault(story_id, []).append((name, url))
    return found


def mark_sent(session: Session, delivery_ids: Iterable[int], now: datetime, token: str | None = None) -> int:
    """Sent (only those the claim `token` still holds, when given); returns how many were marked."""
    return session.execute(sa.update(Delivery).where(_held(delivery_ids, token))
                           .values(status="sent", sent_at=now, last_error=None, claim_token=None)).rowcount


def mark_failed(session: Session, delivery_ids: Iterable[int], error: str, retry_at: datetime | None,
                token: str | None = None) -> int:
    """Failed with a next attempt at `retry_at`, or dead when it is None (as mark_sent for `token`)."""
    values = {"status": "failed", "next_attempt_at": retry_at} if retry_at else {"status": "dead"}
    return session.execute(sa.update(Delivery).where(_held(delivery_ids, token))
                           .values(last_error=error, claim_token=None, **values)).rowcount


def release_for_retry(session: Session, now: datetime, include_dead: bool = False,
                      include_digests: bool = False) -> int:
    """Make every pending/failed (and optionally dead) delivery due now; returns how many.

    A digest delivery still waiting for its time (pending, due later) keeps it unless
    `include_digests`: retrying what failed must not send tonight's digest this morning."""
    statuses = ["pending", "failed", *(["dead"] if include_dead else [])]
    where = col(Delivery.status).in_(statuses)
    if not include_digests:
        scheduled = sa.and_(Delivery.digest == True, Delivery.status == "pending",  # noqa: E712
                            col(Delivery.next_attempt_at) > now)
        where = sa.and_(where, sa.not_(scheduled))
    return session.execute(sa.update(Delivery).where(where)
                           .values(status="pending", next_attempt_at=now)).rowcount


def listing(session: Session, statuses: Iterable[str]) -> list[tuple[Delivery, Match | Notice]]:
    """Deliveries in `statuses`, each with its match or its notice, oldest first."""
    query = (select(Delivery, Match, Notice).outerjoin(Match, col(Match.id) == col(Delivery.match_id))
             .outerjoin(Notice, col(Notice.id) == col(Delivery.notice_id))
             .where(col(Delivery.status).in_(list(statuses))).order_by(col(Delivery.id)))
    return [(delivery, match or notice) for delivery, match, notice in session.exec(query).all()]


def next_attempt_of(session: Session, delivery_id: int) -> datetime | None:
    return session.get(Delivery, delivery_id).next_attempt_at


def unclaim(session: Session, delivery_ids: Iterable[int], not_before: datetime, token: str | None = None) -> int:
    """Give back claimed deliveries that were not tried, without counting the attempt (as mark_sent
    for `token`)."""
    return session.execute(sa.update(Delivery).where(_held(delivery_ids, token))
                           .values(status="pending", next_attempt_at=not_before, claim_token=None,
                                   attempts=Delivery.attempts - 1)).rowcount
