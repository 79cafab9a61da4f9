"""Story membership: an article joins the story that owns any of its keys, or starts one.

The `story_keys` primary key is the arbiter. A new story claims its keys; when another worker
claimed one of them first (the insert returns fewer keys than asked), the new story is dropped,
its keys go to that worker's story and the article joins it. On PostgreSQL the second
insert waits for the first transaction, so two workers never create two stories for one key.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from newswatch.store._sql import insert_ignore
from newswatch.store.tables import Article, ArticleKey, Story, StoryKey

__all__ = ["assign", "candidates", "join", "lock", "owner", "prune_keys", "remember_keys", "sources_of",
           "start"]

# any constant: the advisory lock that serialises story decisions across workers on PostgreSQL
_STORY_LOCK = 7_361_001


def lock(session: Session) -> None:
    """Hold the story lock until this transaction ends (PostgreSQL; SQLite writers are serial).

    Exact keys are arbitrated by their constraint alone, but "is this a near-copy of an article
    another worker is settling right now?" needs the other worker's article to be visible first.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _STORY_LOCK})


def assign(session: Session, article: Article, keys: list[str], now: datetime) -> tuple[int, bool]:
    """Put `article` in the story owning any of its keys, or a new one: (story id, is it new)."""
    found = owner(session, keys)
    if found is not None:
        join(session, article, found, keys, now)
        return found, False
    return start(session, article, keys, now)


def start(session: Session, article: Article, keys: list[str], now: datetime) -> tuple[int, bool]:
    """A new story claiming `keys`, unless another worker claimed one first: then join its story."""
    story_id = session.execute(sa.insert(Story).values(
        title=article.title, first_article_id=article.id, article_count=1, created_at=now,
        updated_at=now).returning(Story.__table__.c.id)).scalar_one()
    claimed = insert_ignore(session, StoryKey.__table__, [{"key": k, "story_id": story_id} for k in keys],
                            returning=StoryKey.__table__.c.key)
    if len(claimed) == len(keys):
        _point(session, article, story_id)
        return story_id, True
    # Another worker claimed a key first (rare: no savepoint on the common path, it costs two
    # statements): hand what this story claimed to that worker's story, and drop this one.
    found = session.execute(sa.select(StoryKey.story_id).where(
        col(StoryKey.key).in_(keys), StoryKey.story_id != story_id).order_by(StoryKey.story_id).limit(1)).scalar_one()
    session.execute(sa.update(StoryKey).where(col(StoryKey.story_id) == story_id).values(story_id=found))
    session.execute(sa.delete(Story).where(col(Story.id) == story_id))
    join(session, article, found, keys, now)
    return found, False


def owner(session: Session, keys: list[str]) -> int | None:
    """The story that owns any of these exact keys."""
    query = sa.select(StoryKey.story_id).where(col(StoryKey.key).in_(keys)).order_by(StoryKey.story_id).limit(1)
    return session.execute(query).scalar()


def join(session: Session, article: Article, story_id: int, keys: list[str], now: datetime) -> None:
    """Add `article` (and its keys) to the story."""
    insert_ignore(session, StoryKey.__table__, [{"key": k, "story_id": story_id} for k in keys])
    _point(session, article, story_id)
    session.execute(sa.update(Story).where(col(Story.id) == story_id)
                    .values(article_count=Story.article_count + 1, updated_at=now))


def _point(session: Session, article: Article, story_id: int) -> None:
    article.story_id = story_id
    session.add(article)


def candidates(session: Session, keys: list[str], at: datetime, window: timedelta,
               limit: int = 30) -> list[tuple[int, bytes, datetime]]:
    """(story id, fingerprint, time) of recent articles sharing any fuzzy key, most keys first."""
    if not keys:
        return []
    shared = (select(ArticleKey.article_id, sa.func.count().label("shared"),
                     sa.func.max(ArticleKey.at).label("at"))
              .where(col(ArticleKey.key).in_(keys), col(ArticleKey.at) >= at - window,
                     col(ArticleKey.at) <= at + window)
              .group_by(col(ArticleKey.article_id)).subquery())
    query = (select(Article.story_id, Article.fingerprint, shared.c.at)
             .join(shared, col(Article.id) == shared.c.article_id)
             .where(col(Article.story_id).is_not(None), col(Article.fingerprint).is_not(None))
             .order_by(shared.c.shared.desc(), col(Article.id)).limit(limit))
    return [(story, data, moment) for story, data, moment in session.exec(query)]


def remember_keys(session: Session, article_id: int, keys: list[str], at: datetime) -> None:
    if not keys:
        return
    # Core executemany: the ORM's bulk path costs more than the insert itself here
    session.connection().execute(ArticleKey.__table__.insert(),
                                 [{"key": k, "article_id": article_id, "at": at} for k in keys])


def prune_keys(session: Session, before: datetime) -> int:
    """Forget fuzzy keys of articles older than the story window; returns how many rows went."""
    return session.execute(sa.delete(ArticleKey).where(col(ArticleKey.at) < before)).rowcount


def sources_of(session: Session, story_id: int) -> list[tuple[str, str]]:
    """(source name, article URL) of every article in the story, oldest first."""
    from newswatch.store.tables import Source

    query = (select(Source.name, Article.url).join(Source, col(Source.id) == col(Article.source_id))
             .where(Article.story_id == story_id).order_by(col(Article.id)))
    return [(name, url) for name, url in session.exec(query)]
