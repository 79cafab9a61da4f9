"""Stories around the decisions (store.ledger makes those): the lock that serialises them across
workers, forgetting old fuzzy keys, and the stories' sources (of any number of stories: the
story ids go in chunks, store._sql.in_lists)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col

from newswatch.store._sql import in_lists
from newswatch.store.tables import Article, ArticleKey

__all__ = ["lock", "prune_keys", "stories_sources"]

# any constant: the advisory lock that serialises story decisions across workers on PostgreSQL
_STORY_LOCK = 7_361_001


def lock(session: Session) -> None:
    """Hold the story lock until this transaction ends (PostgreSQL; SQLite writers are serial).

    Exact keys are arbitrated by their constraint alone, but "is this a near-copy of an article
    another worker is settling right now?" needs the other worker's article to be visible first.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _STORY_LOCK})


def prune_keys(session: Session, before: datetime) -> int:
    """Forget fuzzy keys of articles older than the story window; returns how many rows went."""
    return session.execute(sa.delete(ArticleKey).where(col(ArticleKey.at) < before)).rowcount


def stories_sources(session: Session, story_ids: Iterable[int]) -> dict[int, list[str]]:
    """The source names of each story's articles, oldest article first."""
    from newswatch.store.tables import Source

    found: dict[int, list[str]] = {}
    # a chunk of stories a query: each story's articles come in one query, in their order
    for chunk in in_lists(session, story_ids):
        query = (sa.select(Article.story_id, Source.name).join(Source, col(Source.id) == col(Article.source_id))
                 .where(col(Article.story_id).in_(chunk)).order_by(col(Article.id)))
        for story_id, name in session.execute(query):
            found.setdefault(story_id, []).append(name)
    return found
