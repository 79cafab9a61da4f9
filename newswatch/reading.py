"""Read one article page: its text and metadata, and what the story stage needs of that text.

A top-level, picklable function, run in the cycle's extraction processes: what the text gives the
later stages (newswatch.derive: the fingerprint, the text hash and, given the watch index, the
watchlists the article matches) costs a few ms of CPU an article, which there runs on every core
alongside extraction instead of in the one process that settles stories.
"""

from __future__ import annotations

from dataclasses import dataclass

from newswatch.contain import ItemFailure, contain
from newswatch.derive import derive, language_of, title_of
from newswatch.extract import extract
from newswatch.matching import WatchIndex
from newswatch.models import Extracted, Hit

__all__ = ["ReadFailure", "Reading", "read", "read_all", "read_safely"]


@dataclass(frozen=True)
class Reading:
    """An extracted page, with its story fingerprint (bytes, as stored) and text hash."""

    extracted: Extracted
    fingerprint: bytes
    content_hash: str | None
    hits: tuple[tuple[str, Hit], ...] | None = None  # (watchlist, hit); None: not matched here


@dataclass(frozen=True)
class ReadFailure:
    """A page whose reading raised: its article falls back to the feed summary with this error."""

    error: str


def read(body: bytes, url: str, title: str, language: str | None, metadata: bool = True,
         source: str | None = None, index: WatchIndex | None = None) -> Reading | None:
    """The reading of a page fetched from `url`, or None when it holds no article text.

    metadata=False: the feed gave title, author and date, so the page is not searched for them.
    index: the watchlists to match the page against (None: not matched here).
    """
    found = extract(body, url, metadata)
    if found is None:
        return None
    derived = derive(title_of(title, found.title), found.text, language_of(found.language, language), url, source,
                     index)
    return Reading(found, derived.fingerprint, derived.content_hash, derived.hits)


def read_safely(body: bytes, url: str, *rest, index: WatchIndex | None = None) -> Reading | ReadFailure | None:
    """`read`, with what it raises as the page's failure: one page's bytes that break a reader
    must not fail its batch, or the cycle, again every cycle (the page stays unread)."""
    found = contain("extract", url, read, body, url, *rest, index=index)
    return ReadFailure(found.describe()) if isinstance(found, ItemFailure) else found


def read_all(pages: list[tuple], index: WatchIndex | None = None) -> list[Reading | ReadFailure | None]:
    """`read_safely` of each page's arguments (matched against `index`, if given): a few pages a
    submission to a process pool."""
    return [read_safely(*arguments, index=index) for arguments in pages]
