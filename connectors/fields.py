"""Normalise raw feed fields into FeedEntry values, the same way for XML feeds and JSON Feed.

Rules:
- Text is plain: HTML tags are stripped (block elements become line breaks), entities unescaped,
  runs of blanks collapsed; a title is one line. HTML that was escaped twice (reddit's feeds: the
  text starts with markup after one pass) is stripped a second time.
- URLs are absolute: resolved against the feed's URL (or its xml:base, which feedparser applies);
  only http(s) URLs are kept (`newswatch.urls.absolute_url`, re-exported here).
- Dates are timezone-aware UTC; a date without a zone is taken as UTC. A date no publication has
  (before 1900, more than two years ahead: year 0, 1 or 9999; newswatch.bounds.plausible_date) is
  no date, so nothing downstream computes `date ± window` past datetime's range.
- No field keeps a NUL character (PostgreSQL refuses them in text) or a lone UTF-16 surrogate
  (JSON Feed's "\ud800", or "&#xD800;": no UTF-8 encodes it, for either store); it would lose
  the batch. A lone surrogate becomes U+FFFD.
- Languages are the lowercase primary subtag ("en-US" → "en"), what watchlists filter on.
- An entry needs a title or a URL: an alert shows one and links the other. Others (an item with
  only a description or only a guid, as RSS allows) are dropped.
- A GUID that entries with different links share identifies none of them and is dropped from
  them: some feeds give every item the channel's link, or one constant, as its guid, and the store
  would take all but the first item for one already seen.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

from connectors.errors import FeedParseError
from newswatch.bounds import plausible_date
from newswatch.models import FeedEntry
from newswatch.urls import absolute_url

__all__ = ["absolute_url", "entry", "language", "plain_text", "usable", "utc"]

_BLOCKS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 "
    "header hr li main nav ol p pre section table td th tr ul".split()
)
_SKIP = frozenset({"script", "style", "template", "noscript"})
_MARKUP_FIRST = re.compile(r"^\s*<(?:!--|[A-Za-z][A-Za-z0-9]*[\s/>])")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def plain_text(value: str | None, *, html: bool = True, one_line: bool = False) -> str:
    """`value` as plain text: tags stripped and entities unescaped when `html`, blanks collapsed."""
    if not value:
        return ""
    value = value.replace("\x00", "")  # before the blanks are collapsed
    if html:
        value = _strip(value)
        if _MARKUP_FIRST.match(value):
            value = _strip(value)
    lines = (" ".join(line.split()) for line in value.splitlines())
    return (" " if one_line else "\n").join(line for line in lines if line)


def _strip(value: str) -> str:
    parser = _Text()
    parser.feed(value)
    parser.close()
    return "".join(parser.parts)


def utc(value: time.struct_time | datetime | str | None) -> datetime | None:
    """A plausible timezone-aware UTC datetime from a struct_time (UTC), a datetime or a date string."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, time.struct_time):
            value = datetime(*value[:6], tzinfo=timezone.utc)
        elif isinstance(value, str):
            value = _parse_date(value.strip())
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return plausible_date(value.astimezone(timezone.utc))
    except (TypeError, ValueError, OverflowError):  # OverflowError: year 1 east of UTC, 9999 west
        return None


def _parse_date(text: str) -> datetime:
    """RFC 3339 (JSON Feed's format), else RFC 822 (what some JSON feeds send all the same)."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return parsedate_to_datetime(text)


def language(tag: str | None) -> str | None:
    """The lowercase primary language subtag of a BCP 47 / xml:lang tag, or None."""
    primary = re.split(r"[-_\s]", (tag or "").strip(), maxsplit=1)[0].lower()
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None


def entry(
    source: str, *, url: str, guid: str | None, title: str, summary: str,
    published: datetime | None, author: str | None, lang: str | None,
) -> FeedEntry | None:
    """A FeedEntry, or None when it has neither a title nor a URL."""
    if not (title or url):
        return None
    url, guid, title, summary, author = (_storable(v) for v in (url, guid, title, summary, author))
    return FeedEntry(source, url, guid or None, title, summary, published, author or None, lang)


def _storable(value: str | None) -> str | None:
    return _LONE_SURROGATE.sub("\ufffd", value.replace("\x00", "")) if value else value


def usable(entries: list[FeedEntry | None]) -> list[FeedEntry]:
    """The entries kept by `entry`; FeedParseError when there were some but none was usable."""
    kept = [e for e in entries if e is not None]
    if entries and not kept:
        raise FeedParseError(
            f"parse: not a feed ({len(entries)} entries, none with a title or a link)"
        )
    links: dict[str, set[str]] = defaultdict(set)
    for e in kept:
        if e.guid:
            links[e.guid].add(e.url)
    return [replace(e, guid=None) if e.guid and len(links[e.guid]) > 1 else e for e in kept]
