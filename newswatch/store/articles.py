"""Articles: only new ones get in, and each remembers how far the pipeline took it.

Rules: an entry is new unless its canonical URL or its (source, GUID) is already stored; the
constraint decides, so concurrent cycles cannot insert one article twice. Stages: `fetched` (from
the feed) → `extracted` (page text, or the feed summary when the page failed, marked
`from_summary`) → `done` (assigned to a story and matched).

A link that several different items of one feed share (a live blog's updates, a feed whose items
all link to its home page) is not their page: each such item is stored with its GUID (else a
digest of its title and summary) as the link's fragment, which makes it an article of its own and
its own story key (`stories.keys`), and starts at `extracted` with its feed text, no page fetched.
A link longer than URL_LENGTH does not `fit` (the caller reports it); a GUID too long for its
column is kept as its digest.

Poison: an article whose work fails unexpectedly (newswatch.contain) keeps its stage, so the next
cycle tries it again, and counts its consecutive failures of one signature (stage and exception
type); at QUARANTINE_AFTER it is `quarantined`: no stage picks it up again until `requeue`
(`newswatch errors requeue`). Its source counts every such failure (`unexpected_errors`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from hashlib import sha1
from urllib.parse import quote

import sqlalchemy as sa
from sqlmodel import Session, col, select

from newswatch.contain import ItemFailure
from newswatch.models import Extracted, FeedEntry
from newswatch.store._sql import in_lists, insert_ignore
from newswatch.store.tables import Article, Source
from newswatch.stories import text_hash
from newswatch.urls import canonical_url

__all__ = ["QUARANTINE_AFTER", "URL_LENGTH", "PageText", "add_new", "attach_text", "claim", "failing", "fingerprints",
           "fits", "pending", "record_failure", "requeue", "since"]

QUARANTINE_AFTER = 3  # consecutive failures of one signature, one a cycle at most

URL_LENGTH = Article.__table__.c.url.type.length
_GUID_LENGTH = Article.__table__.c.guid_key.type.length - 20  # room for "<source id>:"
_FRAGMENT_LENGTH = 64


@dataclass(frozen=True)
class PageText:
    """The extraction stage's result for one article."""

    article_id: int
    extracted: Extracted | None
    error: str | None = None
    # computed with the text by newswatch.reading; without them triage computes the fingerprint,
    # this the hash and triage the matches
    fingerprint: bytes | None = None
    content_hash: str | None = None
    hits: tuple | None = None  # ((watchlist, Hit), ...) of the article as triage will store it


def add_new(session: Session, source_id: int, entries: Iterable[FeedEntry], now: datetime) -> list[int]:
    """Insert the entries not seen before; return the new articles' ids."""
    linked = [(canonical_url(entry.url), entry) for entry in entries if entry.url]
    shared = _shared_links(linked)
    # in URL order, so that concurrent inserts of the same articles lock them in the same order
    rows = sorted((_row(source_id, url, entry, now, url in shared) for url, entry in linked), key=lambda r: r["url"])
    return insert_ignore(session, Article.__table__, rows, returning=Article.__table__.c.id)


def fits(entry: FeedEntry) -> bool:
    """Whether the store can keep the entry's link (with room for a shared link's fragment)."""
    return len(canonical_url(entry.url)) <= URL_LENGTH - _FRAGMENT_LENGTH - 1


def _identity(entry: FeedEntry) -> str:
    return entry.guid or sha1(f"{entry.title}\n{entry.summary}".encode()).hexdigest()[:16]


def _fragment(entry: FeedEntry) -> str:
    quoted = quote(_identity(entry), safe="")
    return quoted if len(quoted) <= _FRAGMENT_LENGTH else sha1(quoted.encode()).hexdigest()[:16]


def _guid_key(source_id: int, guid: str | None) -> str | None:
    if not guid:
        return None
    return f"{source_id}:{guid}" if len(guid) <= _GUID_LENGTH else f"{source_id}:sha1:{sha1(guid.encode()).hexdigest()}"


def _shared_links(linked: list[tuple[str, FeedEntry]]) -> set[str]:
    """The canonical links that entries with different identities share."""
    identities: dict[str, set[str]] = defaultdict(set)
    for url, entry in linked:
        identities[url].add(_identity(entry))
    return {url for url, found in identities.items() if len(found) > 1}


def _row(source_id: int, url: str, entry: FeedEntry, now: datetime, shared: bool) -> dict:
    """The article row of `entry`, whose canonical link is `url` (`shared`: other items' too)."""
    if shared:
        text = entry.summary or entry.title
        return {**_fetched(source_id, entry, now), "url": f"{url}#{_fragment(entry)}",
                "stage": "extracted", "text": text, "from_summary": True, "content_hash": text_hash(text),
                "page_error": "feed: other items share this link; the item's own text is used"}
    return {**_fetched(source_id, entry, now), "url": url}


def _fetched(source_id: int, entry: FeedEntry, now: datetime) -> dict:
    return {
        "source_id": source_id,
        "guid_key": _guid_key(source_id, entry.guid),
        "title": entry.title or "",
        "summary": entry.summary or "",
        "language": entry.language,
        "author": entry.author,
        "published_at": entry.published,
        "fetched_at": now,
        "stage": "fetched",
        "text": None,
        "from_summary": False,
        "content_hash": None,
        "page_error": None,
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


def attach_text(session: Session, results: Iterable[PageText]) -> None:
    """Store page text (or fall back to the feed summary) and move the articles on."""
    results = list(results)
    if not results:
        return
    # a query a chunk of the batch, not one per article
    waiting = {a.id: a for chunk in in_lists(session, [r.article_id for r in results]) for a in session.exec(
        select(Article).where(col(Article.id).in_(chunk), Article.stage == "fetched"))}
    for result in results:
        article = waiting.get(result.article_id)
        if article is None:
            continue
        found = result.extracted
        if found and found.text.strip():
            article.text = found.text
            article.title = article.title or found.title or ""
            article.author = article.author or found.author
            article.language = found.language or article.language
            article.canonical_url = canonical_url(found.canonical_url) if found.canonical_url else None
            article.published_at = article.published_at or found.date
            article.fingerprint = result.fingerprint
        else:
            article.text, article.from_summary = article.summary, True
            article.page_error = result.error or "extract: no article text found on the page"
        ready = result.fingerprint is not None and article.fingerprint is not None
        article.content_hash = result.content_hash if ready else text_hash(article.text)
        article.stage = "extracted"
        session.add(article)
    session.flush()


def since(session: Session, moment: datetime, limit: int = 100_000) -> list[tuple[Article, str]]:
    """(article, source name) of the articles fetched or published since `moment`, newest first."""
    query = (select(Article, Source.name).join(Source, col(Source.id) == col(Article.source_id))
             .where(col(Article.text).is_not(None))
             .where((col(Article.fetched_at) >= moment) | (col(Article.published_at) >= moment))
             .order_by(col(Article.id).desc()).limit(limit))
    return [(article, name) for article, name in session.exec(query)]
