"""Plain types passed between the pipeline's stages.

Data flows one way: connectors produce `FeedEntry`, `FetchResult` and `Page`; extraction produces
`Extracted`, and the reading stage a `PageText` for triage (in another process); matching takes a
`Document` and produces a `Hit`; the store turns hits into `Alert`s that the alert channels render
and send. What the core decides for the store to write is a value too: a source's `PollState`
(newswatch.polling), a `NewArticle` (newswatch.entries); and the store reads `SourceState`s for
newswatch.health. No I/O and no ORM here, so every stage can be tested with values alone and
results can cross process boundaries (they pickle).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

__all__ = [
    "Alert",
    "Document",
    "Extracted",
    "Failed",
    "FeedEntry",
    "FetchResult",
    "Fetched",
    "FetchErrorKind",
    "Hit",
    "NewArticle",
    "NotModified",
    "Page",
    "PageText",
    "PollState",
    "SourceRequest",
    "SourceState",
    "TermHit",
]

# The closed set of fetch failure kinds; connectors/errors.py decides which status or exception
# maps to which kind, and whether it is worth retrying.
FetchErrorKind = Literal[
    "timeout",  # connect or read timed out
    "network",  # DNS, refused, reset, TLS
    "http",  # 4xx/5xx other than the ones below
    "not_found",  # 404
    "gone",  # 410: the only kind that stops polling for good
    "rate_limited",  # 429 (retry_after says when)
    "too_large",  # body over fetch.max_bytes, or a decompression bomb
    "blocked",  # a private/loopback/link-local address while not allowed
    "redirects",  # too many redirects or a loop
    "parse",  # not a feed at all
    "unexpected",  # an exception no rule knows (newswatch.contain): a bug or a surprise, loud
]


@dataclass(frozen=True)
class SourceRequest:
    """What the fetch stage needs to poll one source."""

    name: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    kind: Literal["feed", "sitemap"] = "feed"  # the config's `type`; a sitemap is also detected by its root
    feed_url: str | None = None  # the feed the source's page advertised, polled in its place (etag is its)


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed, as the feed describes it."""

    source: str
    url: str
    guid: str | None
    title: str
    summary: str
    published: datetime | None = None  # timezone-aware UTC
    author: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class NotModified:
    source: str
    status: int = 304


@dataclass(frozen=True)
class Fetched:
    source: str
    entries: list[FeedEntry]
    etag: str | None = None
    last_modified: str | None = None
    status: int = 200
    final_url: str | None = None
    ttl_seconds: int | None = None  # RSS <ttl>, Cache-Control max-age, Expires: poll no sooner
    notes: tuple[str, ...] = ()  # what the poll could not read though it succeeded: a broken child sitemap
    feed_url: str | None = None  # the feed the source's page advertises, read in its place (None: the URL's own)
    read_as: Literal["feed", "sitemap"] = "feed"  # what the document read was


@dataclass(frozen=True)
class Failed:
    source: str
    kind: FetchErrorKind
    message: str  # starts with the stage: "fetch: 404 not found"
    retry_after_seconds: float | None = None
    status: int | None = None
    feed_url: str | None = None  # the discovered feed that failed (a 404 or 410 of it forgets it)


FetchResult = NotModified | Fetched | Failed


@dataclass(frozen=True)
class PollState:
    """A source's polling state as stored: newswatch.polling turns it and a poll's result into the
    next one, which the store writes back."""

    source_id: int
    source: str
    etag: str | None
    last_modified: str | None
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    next_check_at: datetime | None  # None: poll on every cycle
    consecutive_failures: int
    failing_since: datetime | None
    last_error: str | None
    last_error_kind: str | None
    gone: bool  # 410 Gone: not polled until its URL changes in the config
    unexpected_errors: int  # a running total of failures of kind "unexpected"
    feed_url: str | None = None  # the feed the source's page advertises, polled in its place


@dataclass(frozen=True)
class SourceState:
    """A source's failure state as newswatch.health reviews it."""

    name: str
    url: str
    consecutive_failures: int
    failing_since: datetime | None
    last_error: str | None
    alerted: bool  # a failure alert went out and no recovery alert yet


@dataclass(frozen=True)
class NewArticle:
    """A feed entry as an article to store, as newswatch.entries decides it: its address, its
    GUID's key within its source and, for an item whose link other items share, the feed text
    that stands for its page (no page is fetched)."""

    entry: FeedEntry
    url: str
    guid_key: str | None
    from_feed: bool = False  # the feed's text stands for the page: it starts `extracted`, `from_summary`
    text: str | None = None
    content_hash: str | None = None  # of `text`
    page_error: str | None = None  # why no page is fetched


@dataclass(frozen=True)
class Page:
    """An article page as fetched: the body is None when the fetch failed (error says why)."""

    url: str
    final_url: str | None = None
    status: int | None = None
    content_type: str | None = None
    body: bytes | None = None
    error: str | None = None
    unexpected: bool = False  # the error is an exception no rule knew (newswatch.contain), counted as such


@dataclass(frozen=True)
class Extracted:
    """What text extraction found on an article page."""

    text: str
    title: str | None = None
    author: str | None = None
    date: datetime | None = None
    language: str | None = None
    canonical_url: str | None = None


@dataclass(frozen=True)
class PageText:
    """The extraction stage's result for one article, which triage (in its own process) stores."""

    article_id: int
    extracted: Extracted | None
    error: str | None = None
    # computed with the text by newswatch.reading; without them triage computes the fingerprint,
    # the store the hash and triage the matches
    fingerprint: bytes | None = None
    content_hash: str | None = None
    hits: tuple | None = None  # ((watchlist, Hit), ...) of the article as triage will store it


@dataclass(frozen=True)
class Document:
    """What a watch query is evaluated against."""

    title: str
    text: str
    language: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class TermHit:
    """One query term found in a document: offsets index into `Document.title` or `.text`."""

    term: str
    field: Literal["title", "text"]
    start: int
    end: int


@dataclass(frozen=True)
class Hit:
    """Why a document matched a query: the terms, where, and a snippet around the best hit.

    `highlights` are (start, end) offsets into `snippet` for the hits it shows.
    """

    terms: list[str]
    hits: list[TermHit]
    snippet: str
    highlights: list[tuple[int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Alert:
    """One story matched by one watchlist (or by several: `watchlists`), ready to render for a channel.

    `watchlist` and `terms` are the first watchlist's (the jsonl and webhook payloads keep them);
    `watchlists` names every watchlist of a message that several alerted at once, each with its
    terms (empty: only `watchlist`). `also_reports` pairs each name of `also_reported_by` with
    that outlet's report's URL.
    """

    watchlist: str
    story_id: int
    title: str
    url: str
    source: str
    published: datetime | None
    terms: list[str]
    snippet: str
    highlights: list[tuple[int, int]] = field(default_factory=list)
    also_reported_by: list[str] = field(default_factory=list)
    delivery_id: int | None = None
    revision: int = 0  # 0: the story's first alert; n: its n-th follow-up (threads email replies)
    watchlists: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (name, terms) of every watchlist named
    also_reports: tuple[tuple[str, str], ...] = ()  # (outlet, its report's URL), as also_reported_by

    def named(self) -> list[tuple[str, list[str]]]:
        """(watchlist, terms) of every watchlist the alert names, the first one first."""
        if self.watchlists:
            return [(name, list(terms)) for name, terms in self.watchlists]
        return [(self.watchlist, list(self.terms))]
