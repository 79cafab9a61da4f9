"""One source's poll: what its URL answers, read as a feed, as a sitemap or as a page advertising
a feed; one FetchResult.

Rules, in the order a poll meets them:
1. Conditional GET on the source's URL, or on the feed its page advertised when the request
   carries one (`feed_url`) (If-None-Match / If-Modified-Since from the SourceRequest,
   a validator that is not short printable ASCII dropped: newswatch.bounds.plausible_validator);
   304 → NotModified. The new ETag / Last-Modified come back in Fetched.
2. A body that is itself a gzip file (sitemap.xml.gz) is inflated by connectors.body.gunzip,
   under the same size cap and bomb guard as a gzip'd response.
3. A sitemap (`kind == "sitemap"` in the request, or a body whose root is <urlset> or
   <sitemapindex>, whatever the config says) is read by connectors.sitemaps. An index's chosen
   children (sitemaps.pick_children: the most recent by lastmod, bounded) are fetched at once,
   each with the same limits and size cap and without validators (only the index's are kept:
   its lastmods change when its children do); their entries are merged, a URL once (the first
   child's). A child that fails, or is an index itself (one level only), is one line of the
   result's `notes`; when every child fails, the source fails with the first one's error and
   its URL (a child's 410 is no reason to stop polling the index: it fails as `not_found`).
4. Anything else is parsed as a feed (connectors.feeds). Parsing (feeds, sitemaps, pages) runs
   in the executor `parse_in()` names (the cycle's process pool), else here.
5. Discovery: an HTML page where a feed was expected (connectors.discovery.is_html) is read for
   the feeds it advertises, and the first (in the page's order) is fetched and read in the same
   poll, as a feed (or a sitemap); `Fetched.feed_url` names it, for the store to poll it next
   time. A page advertising none fails the source: `parse: no feed advertised on the page (…)`.
   The advertised feed's failure is the source's, its message naming the feed (a 410 of it fails
   as `not_found`: the page still lives). A discovered feed is not discovered from again.
6. A failure of the feed the request carried (`feed_url`) names it (`Failed.feed_url`): on 404
   or 410 newswatch.polling forgets it, and the next poll discovers again from the source's URL.
Failures are values (`Failed`); what the error table does not know propagates, for the fetcher
to contain as this source's failure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import BrokenExecutor, Executor
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from connectors.body import GZIP_MAGIC, gunzip
from connectors.discovery import discover, is_html
from connectors.errors import FeedParseError, FetchError
from connectors.feeds import parse_document
from connectors.freshness import ttl_seconds
from connectors.sitemaps import is_sitemap, parse_sitemap, pick_children
from newswatch.bounds import plausible_validator
from newswatch.models import Failed, FeedEntry, Fetched, FetchResult, NotModified, SourceRequest

if TYPE_CHECKING:
    from connectors.http import _Got

__all__ = ["FEED_ACCEPT", "poll_source"]

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
_SITEMAP_ACCEPT = "application/xml, text/xml;q=0.9, application/gzip;q=0.8, */*;q=0.5"

Get = Callable[[str, dict[str, str]], Awaitable["_Got"]]
ParseIn = Callable[[], Executor | None] | None


async def poll_source(get: Get, request: SourceRequest, parse_in: ParseIn, max_bytes: int) -> FetchResult:
    """Poll one source through `get` (the batch's fetcher): NotModified, Fetched or Failed."""
    headers = {"Accept": FEED_ACCEPT}
    if etag := plausible_validator(request.etag):
        headers["If-None-Match"] = etag
    if last_modified := plausible_validator(request.last_modified):
        headers["If-Modified-Since"] = last_modified
    try:
        got = await get(request.feed_url or request.url, headers)
    except FetchError as error:
        return _failed(request, error.as_failed(request.name))
    if got.status == 304:
        return NotModified(request.name)
    try:
        return await _read(get, request, got, parse_in, max_bytes, discovering=request.feed_url is None)
    except FetchError as error:
        failed = error.as_failed(request.name)
    except FeedParseError as exc:
        failed = Failed(request.name, "parse", str(exc))
    return _failed(request, replace(failed, status=failed.status or got.status))


def _failed(request: SourceRequest, failed: Failed) -> Failed:
    """`failed`, naming the feed the page advertised when the request polled it."""
    if request.feed_url is None:
        return failed
    return replace(failed, feed_url=request.feed_url,
                   message=f"{failed.message} (the feed the page advertises, {request.feed_url})")


async def _read(get: Get, request: SourceRequest, got: _Got, parse_in: ParseIn, max_bytes: int, *,
                discovering: bool) -> Fetched:
    """The entries of the document `got` brought: a sitemap's (and its children's), a feed's, or
    those of the feed a page advertises (when `discovering`)."""
    body = _unpacked(got.body or b"", max_bytes)
    now = datetime.now(timezone.utc)
    notes: tuple[str, ...] = ()
    sitemap = request.kind == "sitemap" or is_sitemap(body)
    if sitemap:
        entries, notes = await _sitemap(get, request.name, got.url, body, parse_in, max_bytes, now)
        hint = None
    else:
        try:
            feed = await _parse(parse_in, parse_document, request.name, body, got.url, got.content_type)
        except FeedParseError:
            if not discovering or not is_html(body, got.content_type):
                raise
            return await _discovered(get, request, got.url, body, parse_in, max_bytes)
        entries, hint = feed.entries, feed.ttl
    return Fetched(request.name, entries, etag=plausible_validator(got.headers.get("etag")),
                   last_modified=plausible_validator(got.headers.get("last-modified")), status=got.status,
                   final_url=got.url, ttl_seconds=ttl_seconds(got.headers, hint, now), notes=notes,
                   feed_url=None if discovering else request.feed_url, read_as="sitemap" if sitemap else "feed")


async def _discovered(get: Get, request: SourceRequest, page_url: str, page: bytes, parse_in: ParseIn,
                      max_bytes: int) -> Fetched:
    """The entries of the first feed the page advertises, read in this poll."""
    links = await _parse(parse_in, discover, page, page_url)
    if not links:
        raise FeedParseError('parse: no feed advertised on the page (no <link rel="alternate"> to RSS, Atom '
                             "or JSON Feed)")
    feed_url = links[0].url
    try:
        got = await get(feed_url, {"Accept": FEED_ACCEPT})
        return await _read(get, replace(request, feed_url=feed_url), got, parse_in, max_bytes, discovering=False)
    except FetchError as error:
        raise FetchError("not_found" if error.kind == "gone" else error.kind,
                         f"{error.message} (the feed the page advertises, {feed_url})", status=error.status,
                         retry_after_seconds=error.retry_after_seconds) from None
    except FeedParseError as exc:
        raise FeedParseError(f"{exc} (the feed the page advertises, {feed_url})") from None


async def _sitemap(get: Get, source: str, url: str, body: bytes, parse_in: ParseIn, max_bytes: int,
                   now: datetime) -> tuple[list[FeedEntry], tuple[str, ...]]:
    """A sitemap's entries, or its chosen children's, with a note for each child that failed."""
    sitemap = await _parse(parse_in, parse_sitemap, source, body, url, now)
    if not sitemap.index:
        return sitemap.entries, ()
    chosen = pick_children(sitemap)
    if not chosen:
        raise FeedParseError("parse: a sitemap index naming no sitemap (no <sitemap><loc>)")
    read = await asyncio.gather(*(_child(get, source, ref.url, parse_in, max_bytes, now) for ref in chosen))
    failures = [(ref.url, outcome) for ref, outcome in zip(chosen, read, strict=True) if isinstance(outcome, FetchError)]
    if len(failures) == len(chosen):
        child, error = failures[0]
        more = f"; {len(failures) - 1} more failed" if len(failures) > 1 else ""
        raise FetchError("not_found" if error.kind == "gone" else error.kind,
                         f"{error.message} (sitemap {child}{more})", status=error.status,
                         retry_after_seconds=error.retry_after_seconds)
    entries: dict[str, FeedEntry] = {}
    for outcome in read:
        if not isinstance(outcome, FetchError):
            for entry in outcome:
                entries.setdefault(entry.url, entry)
    notes = tuple(f"sitemap {child}: {error.message}" for child, error in failures)
    for note in notes:
        log.warning("sitemap source=%s %s", source, note)
    return list(entries.values()), notes


async def _child(get: Get, source: str, url: str, parse_in: ParseIn, max_bytes: int,
                 now: datetime) -> list[FeedEntry] | FetchError:
    """A child sitemap's entries, or why it could not be read."""
    try:
        got = await get(url, {"Accept": _SITEMAP_ACCEPT})
        sitemap = await _parse(parse_in, parse_sitemap, source, _unpacked(got.body or b"", max_bytes), got.url, now)
    except FetchError as error:
        return error
    except FeedParseError as exc:
        return FetchError("parse", str(exc))
    if sitemap.index:
        return FetchError("parse", "parse: an index inside a sitemap index is not followed")
    return sitemap.entries


def _unpacked(body: bytes, max_bytes: int) -> bytes:
    """`body`, or the content of the gzip file it is."""
    return gunzip(body, max_bytes) if body.startswith(GZIP_MAGIC) else body


async def _parse(parse_in: ParseIn, parse, *args):  # noqa: ANN001, ANN202 - parse_document or parse_sitemap
    """`parse(*args)` in the executor `parse_in` names, else here."""
    executor = parse_in() if parse_in is not None else None
    if executor is not None:
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, parse, *args)
        except BrokenExecutor:
            log.warning("the parsing pool broke; parsing here")
    return parse(*args)
