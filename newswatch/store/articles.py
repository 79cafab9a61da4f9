"""Articles: only new ones get in, and each remembers how far the pipeline took it.

Rules: `add_new` stores the `NewArticle`s newswatch.entries makes of a feed's entries (the address
and GUID key each is stored under, the shared-link rule) and returns the new ones; an article is
new unless its URL or its GUID key is already stored: the constraint decides, so concurrent
cycles cannot insert one article twice. Stages: `fetched` (from the feed) → `extracted` (page
text, or the feed summary when the page failed, marked `from_summary`; an article whose feed text
stands for its page starts here) → `done` (assigned to a story and matched). URL_LENGTH and
GUID_KEY_LENGTH are the columns' sizes, for the rules that fit links and keys to them.

Poison: an article whose work fails unexpectedly (newswatch.contain) keeps its stage, so the next
cycle tries it again, and counts its consecutive failures of one signature (stage and exception
type); at QUARANTINE_AFTER it is `quarantined`: no stage picks it up again until `requeue`
(`newswatch errors requeue`). Its source counts every such failure (`unexpected_errors`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from newswatch.contain import ItemFailure
from newswatch.models import NewArticle
from newswatch.store._sql import in_lists, insert_ignore
from newswatch.store.tables import Article, Source

__all__ = ["GUID_KEY_LENGTH", "QUARANTINE_AFTER", "URL_LENGTH", "add_new", "claim", "failing",
           "fingerprints", "pending", "record_failure", "requeue", "since", "waiting_for_text"]

QUARANTINE_AFTER = 3  # consecutive failures of one signature, one a cycle at most

URL_LENGTH = Article.__table__.c.url.type.length
GUID_KEY_LENGTH = Article.__table__.c.guid_key.type.length


def add_new(session: Session, source_id: int, new: Iterable[NewArticle], now: datetime) -> list[int]:
    """Insert the articles not stored before; return the new ones' ids."""
    # in URL order, so that concurrent inserts of the same articles lock them in the same order
    rows = sorted((_row(source_id, article, now) for article in new), key=lambda r: r["url"])
    return insert_ignore(session, Article.__table__, rows, returning=Article.__table__.c.id)


def _row(source_id: int, article: NewArticle, now: datetime) -> dict:
    entry = article.entry
    return {
        "source_id": source_id,
        "url": article.url,
        "guid_key": article.guid_key,
        "title": entry.title or "",
        "summary": entry.summary or "",
        "language": entry.language,
        "author": entry.author,
        "published_at": entry.published,
        "fetched_at": now,
        "stage": "extracted" if article.from_feed else "fetched",
        "text": article.text,
        "from_summary": article.from_feed,
        "content_hash": article.content_hash,
        "page_error": article.page_error,
    }


def pending(session: Session, stage: str, limit: int, after: int = 0, source_ids: Collection[int] | None = None,
            not_failed_since: datetime | None = None) -> list[Article]:
    """Up to `limit` articles at `stage` with an id above `after`, in id order: of `source_ids`
    only, and without a failure since `not_failed_since` (one try a cycle), if given."""
    query = (select(Article).where(Article.stage == stage, col(Article.id) > after)
             .order_by(col(Article.id)).limit(limit))
    if source_ids is not None:
        query = query.where(col(Article.source_id).in_(list(source_ids)))
    if not_failed_since is not None:
        query = query.where(col(Article.failed_at).is_(None) | (col(Article.failed_at) < not_failed_since))
    return list(session.exec(query))


def record_failure(session: Session, article_id: int, failure: ItemFailure, now: datetime) -> bool:
    """Count an unexpected failure of the article's work; whether it is quarantined now."""
    article = session.get(Article, article_id)
    if article is None or article.stage in ("done", "quarantined"):
        return False
    same = article.failure_signature == failure.signature
    article.failures = article.failures + 1 if same else 1
    article.failure_signature, article.last_failure, article.failed_at = failure.signature, failure.describe(), now
    if article.failures >= QUARANTINE_AFTER:
        article.stage = "quarantined"
    session.add(article)
    session.execute(sa.update(Source).where(col(Source.id) == article.source_id)
                    .values(unexpected_errors=Source.unexpected_errors + 1))
    session.flush()
    return article.stage == "quarantined"


def mark_quarantine_told(session: Session, now: datetime) -> list[tuple[Article, str]]:
    """(article, source name) of the quarantined articles no notice told of yet, marked told now.

    A conditional update: workers marking at once each get only the rows they changed."""
    told = session.execute(sa.update(Article).where(Article.stage == "quarantined", col(Article.told_at).is_(None))
                           .values(told_at=now).returning(Article.id)).scalars().all()
    if not told:
        return []
    query = (select(Article, Source.name).join(Source, col(Source.id) == col(Article.source_id))
             .where(col(Article.id).in_(told)).order_by(col(Article.id)))
    return [(article, name) for article, name in session.exec(query)]


def failing(session: Session, limit: int = 1000) -> list[tuple[Article, str]]:
    """(article, source name) of the quarantined articles and those failing now, quarantined first."""
    query = (select(Article, Source.name).join(Source, col(Source.id) == col(Article.source_id))
             .where(col(Article.failures) > 0, col(Article.stage) != "done")
             .order_by((col(Article.stage) == "quarantined").desc(), col(Article.id)).limit(limit))
    return [(article, name) for article, name in session.exec(query)]


def requeue(session: Session, ids: Collection[int] | None = None) -> int:
    """Give quarantined articles (these `ids`, or all) another chance from the stage that failed
    them: how many. Their failure count starts again."""
    query = select(Article).where(Article.stage == "quarantined")
    if ids is not None:
        query = query.where(col(Article.id).in_(list(ids)))
    found = list(session.exec(query))
    for article in found:
        article.stage = "fetched" if article.text is None else "extracted"
        article.failures, article.failure_signature, article.told_at = 0, None, None
        session.add(article)
    session.flush()
    return len(found)


def fingerprints(session: Session, ids: Iterable[int]) -> list[bytes]:
    """The stored fingerprints of these articles (those that have one)."""
    found: list[bytes] = []
    for chunk in in_lists(session, ids):  # any number of ids: a statement's parameters are bounded (_sql)
        found += session.exec(select(Article.fingerprint).where(col(Article.id).in_(chunk),
                                                                col(Article.fingerprint).is_not(None)))
    return found


def claim(session: Session, ids: Iterable[int], stage: str) -> list[Article]:
    """The articles among `ids` still at `stage`, locked for this transaction, in id order.

    skip_locked: on PostgreSQL a second worker passes over the articles the first one holds.
    """
    found: list[Article] = []
    for chunk in in_lists(session, sorted(set(ids))):  # ascending chunks: rows and locks stay in id order
        found += session.exec(select(Article).where(col(Article.id).in_(chunk), Article.stage == stage)
                              .order_by(col(Article.id)).with_for_update(skip_locked=True))
    return found


def waiting_for_text(session: Session, ids: Iterable[int]) -> list[Article]:
    """The articles of `ids` still waiting for their page's text (stage `fetched`): a query a
    chunk of them, not one an article."""
    return [article for chunk in in_lists(session, sorted(set(ids)))
            for article in session.exec(select(Article).where(col(Article.id).in_(chunk), Article.stage == "fetched"))]


def since(session: Session, moment: datetime, limit: int = 100_000) -> list[tuple[Article, str]]:
    """(article, source name) of the articles fetched or published since `moment`, newest first."""
    query = (select(Article, Source.name).join(Source, col(Source.id) == col(Article.source_id))
             .where(col(Article.text).is_not(None))
             .where((col(Article.fetched_at) >= moment) | (col(Article.published_at) >= moment))
             .order_by(col(Article.id).desc()).limit(limit))
    return [(article, name) for article, name in session.exec(query)]
