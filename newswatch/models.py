"""Plain types passed between the pipeline's stages.

Data flows one way: connectors produce `FeedEntry`, `FetchResult` and `Page`; extraction produces
`Extracted`; matching takes a `Document` and produces a `Hit`; the store turns hits into `Alert`s
that the alert channels render and send. No I/O and no ORM here, so every stage can be tested with
values alone and results can cross process boundaries (they pickle).
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
    "NotModified",
    "Page",
    "SourceRequest",
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


@dataclass(frozen=True)
class Failed:
    source: str
    kind: FetchErrorKind
    message: str  # starts with the stage: "fetch: 404 not found"
    retry_after_seconds: float | None = None
    status: int | None = None


FetchResult = NotModified | Fetched | Failed


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
    """One story matched by one watchlist, ready to render for a channel."""

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
