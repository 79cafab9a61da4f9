"""Read one article page: its text and metadata, and what the story stage needs of that text.

A top-level, picklable function, run in the cycle's extraction processes: the fingerprint
(newswatch.stories) and the text hash cost a few ms of CPU an article, which there runs on every
core alongside extraction instead of in the one process that settles stories. They are computed
from what triage would use: the feed's title, else the page's; the page's language, else the
one the feed or the source configuration gives.
"""

from __future__ import annotations

from dataclasses import dataclass

from newswatch.extract import extract
from newswatch.models import Extracted
from newswatch.stories import text_hash
from newswatch.stories.similarity import fingerprint

__all__ = ["Reading", "read"]


@dataclass(frozen=True)
class Reading:
    """An extracted page, with its story fingerprint (bytes, as stored) and text hash."""

    extracted: Extracted
    fingerprint: bytes
    content_hash: str | None


def read(body: bytes, url: str, title: str, language: str | None, metadata: bool = True) -> Reading | None:
    """The reading of a page fetched from `url`, or None when it holds no article text.

    metadata=False: the feed gave title, author and date, so the page is not searched for them.
    """
    found = extract(body, url, metadata)
    if found is None:
        return None
    found_print = fingerprint(title or found.title or "", found.text, found.language or language)
    return Reading(found, found_print.to_bytes(), text_hash(found.text))
