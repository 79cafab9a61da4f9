"""Stories around the decisions (store.ledger makes those): the lock that serialises them across
workers, forgetting old fuzzy keys, the stories' sources, and the stories updated lately with
their reports, why each joined, and the watchlists alerted (`newswatch stories`: `StoryReports`,
this query's answer to its caller, not a value between stages). Any number of stories: the story
ids go in chunks (store._sql.in_lists)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col

from newswatch.store._sql import in_lists
from newswatch.store.tables import Article, ArticleKey, Match, Source, Story

__all__ = ["Report", "StoryReports", "WatchlistAlert", "alerted_watchlists", "lock", "prune_keys", "stories_sources",
           "updated_since"]

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
    found: dict[int, list[str]] = {}
    # a chunk of stories a query: each story's articles come in one query, in their order
    for chunk in in_lists(session, story_ids):
        query = (sa.select(Article.story_id, Source.name).join(Source, col(Source.id) == col(Article.source_id))
                 .where(col(Article.story_id).in_(chunk)).order_by(col(Article.id)))
        for story_id, name in session.execute(query):
            found.setdefault(story_id, []).append(name)
    return found


@dataclass(frozen=True)
class Report:
    """One article of a story, and how it came into it."""

    article_id: int
    source: str
    title: str
    url: str
    published: datetime | None
    fetched: datetime
    joined_by: str | None  # new | key | duplicate | same_event; None: settled before migration 0008
    reason: str | None  # the ledger's readable evidence, e.g. "a copy of article 12: minhash jaccard 0.83, …"


@dataclass(frozen=True)
class WatchlistAlert:
    """A watchlist told of the story by this article (revision 0: the alert; n: a follow-up)."""

    watchlist: str
    article_id: int
    revision: int


@dataclass(frozen=True)
class StoryReports:
    """A story with its reports in the order they arrived and the alerts it gave, first first."""

    id: int
    title: str
    created: datetime
    updated: datetime
    reports: tuple[Report, ...]
    alerts: tuple[WatchlistAlert, ...]


def updated_since(session: Session, moment: datetime, watchlist: str | None = None) -> list[StoryReports]:
    """The stories with an article published or fetched since `moment` (only those `watchlist`
    matched, if given), the most recently updated first."""
    recent = sa.select(Article.story_id).where(
        col(Article.story_id).is_not(None), (col(Article.fetched_at) >= moment) | (col(Article.published_at) >= moment))
    query = sa.select(Story).where(col(Story.id).in_(recent))
    if watchlist is not None:
        query = query.where(col(Story.id).in_(sa.select(Match.story_id).where(Match.watchlist == watchlist)))
    found = list(session.scalars(query.order_by(col(Story.updated_at).desc(), col(Story.id).desc())))
    ids = [story.id for story in found]
    reports, alerts = _reports(session, ids), _alerts(session, ids)
    return [StoryReports(story.id, story.title, story.created_at, story.updated_at, tuple(reports.get(story.id, ())),
                         tuple(alerts.get(story.id, ()))) for story in found]


def alerted_watchlists(session: Session) -> set[str]:
    """The names of the watchlists the store holds alerts of (configured or not any more)."""
    return set(session.scalars(sa.select(Match.watchlist).distinct()))


def _reports(session: Session, story_ids: list[int]) -> dict[int, list[Report]]:
    """Each story's articles in the order they arrived (id order), with their source's name."""
    found: dict[int, list[Report]] = {}
    for chunk in in_lists(session, story_ids):
        query = (sa.select(Article.story_id, Article.id, Source.name, Article.title, Article.url, Article.published_at,
                           Article.fetched_at, Article.joined_by, Article.join_reason)
                 .join(Source, col(Source.id) == col(Article.source_id))
                 .where(col(Article.story_id).in_(chunk)).order_by(col(Article.id)))
        for story_id, *report in session.execute(query):
            found.setdefault(story_id, []).append(Report(*report))
    return found


def _alerts(session: Session, story_ids: list[int]) -> dict[int, list[WatchlistAlert]]:
    """Each story's matches, in the order they were made."""
    found: dict[int, list[WatchlistAlert]] = {}
    for chunk in in_lists(session, story_ids):
        query = (sa.select(Match.story_id, Match.watchlist, Match.article_id, Match.revision)
                 .where(col(Match.story_id).in_(chunk)).order_by(col(Match.id)))
        for story_id, *alert in session.execute(query):
            found.setdefault(story_id, []).append(WatchlistAlert(*alert))
    return found
