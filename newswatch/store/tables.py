"""The store's tables. Uniqueness lives here, in constraints, never in memory.

- sources: one row per configured source, with its fetch state and health (and the feed its page
  advertises, when its URL is a page: `feed_url`).
- articles: one row per canonical URL (and per source GUID); `stage` says how far the pipeline got
  with it (fetched → extracted → done), so every stage can restart from the store.
- stories: the unit of alerting. `story_keys` maps every identity key of every article (canonical
  URL, page canonical URL, normalised-text hash) to its story; the key's uniqueness is what makes
  two workers agree on one story.
- matches: story × watchlist × revision, unique: one alert per story and watchlist (revision 0),
  and each optional follow-up (revision n) at most once.
- deliveries: match × channel or notice × channel, unique: the outbox, written in the same
  transaction as the match or the notice; each points at exactly one of them.
- notices: a message from newswatch itself (source health, quarantine), one per `key`.
- installation: one row, the store's random id, created with it (unique Message-IDs).
- cycles: one row per monitor cycle, for `newswatch stats`.
Datetimes are stored as naive UTC and returned timezone-aware (`UTCDateTime`).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

__all__ = ["Article", "ArticleKey", "Cycle", "CycleCounts", "Delivery", "Installation", "Match", "Notice", "Source",
           "Story", "StoryKey", "UTCDateTime", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """Naive UTC in the database, aware UTC in Python, on SQLite and PostgreSQL alike."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass timezone-aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _when(**kwargs) -> object:
    return Field(default=None, sa_column=Column(UTCDateTime(), **kwargs))


class Source(SQLModel, table=True):
    __tablename__ = "sources"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(sa.String(200), unique=True, nullable=False))
    url: str
    etag: str | None = None
    last_modified: str | None = None
    last_attempt_at: datetime | None = _when()
    last_success_at: datetime | None = _when()
    consecutive_failures: int = 0
    failing_since: datetime | None = _when()
    last_error: str | None = None
    last_error_kind: str | None = None
    next_check_at: datetime | None = _when(index=True)
    gone: bool = False
    health_alerted_at: datetime | None = _when()  # a failure alert went out; a recovery one is owed
    unexpected_errors: int = Field(default=0, sa_column=Column(sa.Integer, nullable=False, server_default="0"))
    feed_url: str | None = None  # the feed the source's page advertises (connectors.discovery), once found


class Story(SQLModel, table=True):
    __tablename__ = "stories"
    id: int | None = Field(default=None, primary_key=True)
    title: str
    first_article_id: int | None = None
    article_count: int = 1
    created_at: datetime | None = _when(nullable=False)
    updated_at: datetime | None = _when(nullable=False)


class StoryKey(SQLModel, table=True):
    __tablename__ = "story_keys"
    key: str = Field(sa_column=Column(sa.String(600), primary_key=True))
    story_id: int = Field(foreign_key="stories.id", index=True)
    # who claimed the key and when (None: claimed before 0008): a text key expires with the story
    # window, a page's declared canonical URL holds only for a text like the claimer's (ledger)
    article_id: int | None = None
    at: datetime | None = _when()


class Article(SQLModel, table=True):
    __tablename__ = "articles"
    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="sources.id", index=True)
    url: str = Field(sa_column=Column(sa.String(2000), unique=True, nullable=False))
    guid_key: str | None = Field(default=None, sa_column=Column(sa.String(1000), unique=True))
    title: str = ""
    summary: str = ""
    text: str | None = None
    from_summary: bool = False  # the page could not be fetched or extracted: text is the feed summary
    page_error: str | None = None
    language: str | None = None
    author: str | None = None
    canonical_url: str | None = None
    content_hash: str | None = Field(default=None, index=True)
    published_at: datetime | None = _when()
    fetched_at: datetime | None = _when(nullable=False)
    stage: str = Field(default="fetched", index=True)  # fetched | extracted | done | quarantined
    story_id: int | None = Field(default=None, foreign_key="stories.id", index=True)
    fingerprint: bytes | None = Field(default=None, sa_column=Column(sa.LargeBinary))
    # consecutive contained failures of the same signature (newswatch.contain); QUARANTINE_AFTER → quarantined
    failures: int = Field(default=0, sa_column=Column(sa.Integer, nullable=False, server_default="0"))
    failure_signature: str | None = Field(default=None, sa_column=Column(sa.String(200)))
    last_failure: str | None = Field(default=None, sa_column=Column(sa.Text))
    failed_at: datetime | None = _when()
    told_at: datetime | None = _when()  # quarantined, and a notice told the health channels so
    joined_by: str | None = Field(default=None, max_length=20)  # new | key | duplicate | same_event
    join_reason: str | None = Field(default=None, sa_column=Column(sa.Text))


class ArticleKey(SQLModel, table=True):
    """Fuzzy lookup keys (MinHash bands, event terms) of recent articles, for candidate stories.

    Rows older than the story window are pruned, so lookups cost what the window holds, not history.
    """

    __tablename__ = "article_keys"
    __table_args__ = (sa.Index("ix_article_keys_key_at", "key", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(sa.String(100), nullable=False))
    article_id: int = Field(foreign_key="articles.id", index=True)
    at: datetime | None = _when(nullable=False, index=True)  # the article's time: published, else fetched


class Match(SQLModel, table=True):
    __tablename__ = "matches"
    __table_args__ = (sa.UniqueConstraint("story_id", "watchlist", "revision",
                                          name="uq_match_story_watchlist_revision"),)
    id: int | None = Field(default=None, primary_key=True)
    story_id: int = Field(foreign_key="stories.id", index=True)
    article_id: int = Field(foreign_key="articles.id")
    watchlist: str = Field(max_length=200)
    revision: int = Field(default=0, sa_column=Column(sa.Integer, nullable=False, server_default="0"))
    terms: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    snippet: str = ""
    highlights: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime | None = _when(nullable=False)


class Notice(SQLModel, table=True):
    """A message from newswatch itself, delivered through the outbox like an alert."""

    __tablename__ = "notices"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(sa.String(300), unique=True, nullable=False))  # "topic:…", once
    title: str = Field(sa_column=Column(sa.Text, nullable=False))
    text: str = Field(sa_column=Column(sa.Text, nullable=False))
    url: str = Field(default="", sa_column=Column(sa.String(2000), nullable=False, server_default=""))
    created_at: datetime | None = _when(nullable=False)


class Installation(SQLModel, table=True):
    """The store's identity: one row, a random id made with the store (migration 0007)."""

    __tablename__ = "installation"
    id: int = Field(default=1, primary_key=True)
    uid: str = Field(sa_column=Column(sa.String(32), nullable=False))


class Delivery(SQLModel, table=True):
    __tablename__ = "deliveries"
    __table_args__ = (sa.UniqueConstraint("match_id", "channel", name="uq_delivery_match_channel"),
                      sa.UniqueConstraint("notice_id", "channel", name="uq_delivery_notice_channel"),
                      sa.CheckConstraint("(match_id IS NULL) <> (notice_id IS NULL)",
                                         name="ck_delivery_match_or_notice"))
    id: int | None = Field(default=None, primary_key=True)
    match_id: int | None = Field(default=None, foreign_key="matches.id", index=True)
    notice_id: int | None = Field(default=None, foreign_key="notices.id", index=True)
    channel: str = Field(max_length=200, index=True)
    status: str = Field(default="pending", index=True)  # pending | sending | failed | sent | dead
    digest: bool = False  # goes out in its watchlist's digest for this channel, at next_attempt_at
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = _when()  # while sending: the end of the claim's lease
    claim_token: str | None = Field(default=None, sa_column=Column(sa.String(32)))  # the sender holding it
    sent_at: datetime | None = _when()
    created_at: datetime | None = _when(nullable=False)


class CycleCounts(SQLModel):
    """What a cycle did, counted: its row here, and the bulk of its summary line (flows.summary)."""
    sources_polled: int = 0
    not_modified: int = 0
    failed: int = 0
    new_articles: int = 0
    matches: int = 0
    sent: int = 0
    delivery_failures: int = 0
    # items whose work raised, contained (newswatch.contain)
    unexpected: int = Field(default=0, sa_column=Column(sa.Integer, nullable=False, server_default="0"))
    # articles that failed the same way a third cycle in a row
    quarantined: int = Field(default=0, sa_column=Column(sa.Integer, nullable=False, server_default="0"))


class Cycle(CycleCounts, table=True):
    __tablename__ = "cycles"
    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime | None = _when(nullable=False)
    finished_at: datetime | None = _when()
