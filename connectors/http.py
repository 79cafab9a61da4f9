"""Fetch feeds and article pages over one shared HTTP client per batch.

Rules, in the order a request meets them:
1. Limits: at most `fetch.concurrency` requests in flight for the batch and `fetch.per_host` per
   host (keyed by the requested URL's host); the rest wait on asyncio semaphores, not in httpx's
   pool. The pool holds 16-32 connections: httpcore's pool bookkeeping grows with the square of
   its open connections, so 64 measured slower than 16. Within that, it keeps room for twice the
   requests in flight, so a host's idle connections survive while other hosts' requests run (a
   batch of 100 pages from 5 hosts opened 80 connections with room for 16, 20 with 32).
   One TLS context serves every client of the process (building one costs ~18 ms of CPU).
2. Deadline: `fetch.timeout` bounds connect and each read, AND the whole fetch including redirect
   hops and the body (a server dripping one byte a second never trips a per-read timeout).
3. Redirects are followed by hand, at most DEFAULTS["max_redirects"] hops; a loop or one hop too
   many fails with kind "redirects". Every hop is first checked as a URL (connectors.targets:
   port, host, length, credentials; before any DNS query) and then passes the address guard
   (connectors.addresses).
4. A source's poll (connectors.sources): conditional GET (If-None-Match / If-Modified-Since;
   304 → NotModified; a validator that is not short printable ASCII is dropped both ways: httpx
   cannot send one back, so a feed whose ETag held "é" failed every cycle after its first), then
   its feed, or its sitemap and the index's children, read.
5. Feeds and sitemaps are parsed where `parse_in` says: an executor (the cycle's process pool, so
   that parsing hundreds of changed feeds does not hold up this event loop), or here when it
   gives none.
6. Status and exception → error kind: connectors.errors (the one table). Bodies: connectors.body
   (size cap and bomb guard). Caching hints → ttl_seconds: connectors.freshness.
7. Pages: only text/html and application/xhtml+xml bodies are returned (a body without a
   Content-Type is sniffed); anything else is `Page(error="fetch: not an HTML page (…)")`.

A failing source or page is a value (Failed, Page.error), never an exception, and one source's or
page's work can never fail its batch: an exception the error table does not know is contained
(newswatch.contain) as that item's failure, `Failed(kind="unexpected")` or `Page.error`, with
"fetch: unexpected <type> (…)" as its message and its traceback in the log. `on_page` is called
for a failed page too. Proxy variables are ignored (trust_env=False): the address guard must see
the real peer.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import ssl
import threading
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass

import httpx

from connectors.addresses import AddressPolicy
from connectors.body import ACCEPT_ENCODING, looks_like_html, read_body
from connectors.errors import FetchError, classify
from connectors.sources import poll_source
from connectors.targets import check_target
from connectors.transport import transport
from newswatch.config.schema import DEFAULTS, FetchSettings
from newswatch.contain import ItemFailure, contain, contain_async
from newswatch.models import Failed, FetchResult, Page, SourceRequest

__all__ = ["fetch_feeds", "fetch_feeds_sync", "fetch_pages", "fetch_pages_sync"]

log = logging.getLogger(__name__)

_POOL = (16, 32)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_HTML = ("text/html", "application/xhtml+xml")
_PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
_MEDIA_TYPE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")


async def fetch_feeds(
    settings: FetchSettings, requests: list[SourceRequest], *, trusted_hosts: Collection[str] = (),
    parse_in: Callable[[], Executor | None] | None = None,
) -> list[FetchResult]:
    """Fetch and parse every source's feed; one result per request, in the same order.

    `parse_in()`, asked at each feed that arrived, may name the executor to parse it in."""
    async def fetch(request: SourceRequest) -> FetchResult:
        result = await contain_async("fetch", request.name,
                                     poll_source(fetcher.get, request, parse_in, settings.max_bytes))
        if isinstance(result, ItemFailure):
            result = Failed(request.name, "unexpected", result.describe())
        return _logged(request.url, result)

    async with _Fetcher(settings, trusted_hosts) as fetcher:
        return list(await asyncio.gather(*(fetch(r) for r in requests)))


async def fetch_pages(
    settings: FetchSettings, urls: list[str], *, trusted_hosts: Collection[str] = (),
    on_page: Callable[[int, Page], None] | None = None,
) -> list[Page]:
    """Fetch article pages; one Page per URL, in the same order (errors in Page.error).

    `on_page(index, page)` is called as each page arrives, failed ones too, so a caller can start
    extracting it while the rest of the batch downloads; if it raises, that is logged (contained)
    and the page is still returned with the others.
    """
    async def fetch(index: int, url: str) -> Page:
        page = await contain_async("fetch", url, _fetch_page(fetcher, url))
        if isinstance(page, ItemFailure):
            page = Page(url, error=page.describe(), unexpected=True)
        if on_page is not None:
            contain("fetch", url, on_page, index, page)
        return page

    async with _Fetcher(settings, trusted_hosts) as fetcher:
        return list(await asyncio.gather(*(fetch(i, url) for i, url in enumerate(urls))))


def fetch_feeds_sync(
    settings: FetchSettings, requests: list[SourceRequest], *, trusted_hosts: Collection[str] = (),
    parse_in: Callable[[], Executor | None] | None = None,
) -> list[FetchResult]:
    """`fetch_feeds` for synchronous callers (Prefect sync tasks)."""
    return asyncio.run(fetch_feeds(settings, requests, trusted_hosts=trusted_hosts, parse_in=parse_in))


def fetch_pages_sync(
    settings: FetchSettings, urls: list[str], *, trusted_hosts: Collection[str] = (),
    on_page: Callable[[int, Page], None] | None = None,
) -> list[Page]:
    """`fetch_pages` for synchronous callers (Prefect sync tasks)."""
    return asyncio.run(fetch_pages(settings, urls, trusted_hosts=trusted_hosts, on_page=on_page))


async def _fetch_page(fetcher: _Fetcher, url: str) -> Page:
    try:
        got = await fetcher.get(url, {"Accept": _PAGE_ACCEPT}, accept=_HTML)
    except FetchError as error:
        return Page(url, status=error.status, error=error.message)
    if got.body is None or (got.content_type is None and not looks_like_html(got.body)):
        kind = got.content_type or "no Content-Type"
        return Page(url, got.url, got.status, got.content_type, error=f"fetch: not an HTML page ({kind})")
    return Page(url, got.url, got.status, got.content_type, got.body)


@dataclass(frozen=True)
class _Got:
    """A successful final response: body None for 304, or for a media type not accepted."""

    url: str
    status: int
    headers: httpx.Headers
    body: bytes | None

    @property
    def content_type(self) -> str | None:
        """The Content-Type, or None when it names no media type (`text/éÿ`, `;;;`): such a
        body is sniffed like one sent without a Content-Type (RFC 9110 8.3)."""
        value = self.headers.get("content-type")
        return value if value and _MEDIA_TYPE.match(value.split(";")[0].strip()) else None


class _Fetcher:
    """One batch: the shared client, the global and per-host limits, the address policy."""

    def __init__(self, settings: FetchSettings, trusted_hosts: Iterable[str]) -> None:
        pool = min(_POOL[1], max(_POOL[0], 2 * settings.concurrency))
        self._settings = settings
        self._policy = AddressPolicy(settings.allow_private_networks, frozenset(trusted_hosts))
        self._all = asyncio.Semaphore(min(settings.concurrency, pool))
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._client = httpx.AsyncClient(
            transport=transport(_tls_context(), httpx.Limits(max_connections=pool, max_keepalive_connections=pool),
                                http2=True),
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            timeout=httpx.Timeout(settings.timeout.total_seconds()),
            follow_redirects=False,
            trust_env=False,
        )

    async def __aenter__(self) -> _Fetcher:
        await self._client.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._client.__aexit__(*exc_info)

    async def get(self, url: str, headers: dict[str, str], accept: tuple[str, ...] = ()) -> _Got:
        """GET `url` within the limits and the deadline, following redirects; or FetchError.

        An exception the error table does not know propagates, for the caller to contain."""
        try:
            start = check_target(url)
            host = self._hosts.setdefault(start.raw_host.lower(), asyncio.Semaphore(self._settings.per_host))
            # The host's slot first: a request waiting for a busy host must not hold a global one.
            async with host, self._all:
                async with asyncio.timeout(self._settings.timeout.total_seconds()):
                    return await self._follow(start, headers, accept)
        except FetchError:
            raise
        except Exception as exc:  # noqa: BLE001 - the table decides; what it does not know goes on
            error = classify(exc, timeout=self._settings.timeout)
            if error is None:
                raise
            raise error from exc

    async def _follow(self, url: httpx.URL, headers: dict[str, str], accept: tuple[str, ...]) -> _Got:
        seen = {str(url)}
        for _hop in range(DEFAULTS["max_redirects"] + 1):  # `url` passed check_target (get, or the hop before)
            await self._policy.check_url(url)
            async with self._client.stream("GET", url, headers=headers) as response:
                self._policy.check_peer(response)
                location = response.headers.get("location")
                if response.status_code not in _REDIRECTS or not location:
                    return await self._finish(response, accept)
            url = check_target(url.join(location))
            if str(url) in seen:
                raise FetchError("redirects", f"fetch: redirect loop back to {url}")
            seen.add(str(url))
        raise FetchError("redirects", f"fetch: more than {DEFAULTS['max_redirects']} redirects")

    async def _finish(self, response: httpx.Response, accept: tuple[str, ...]) -> _Got:
        error = classify(response)
        if error is not None:
            raise error
        got = _Got(str(response.url), response.status_code, response.headers, None)
        media = got.content_type.split(";")[0].strip().lower() if got.content_type else None
        if response.status_code == 304 or (accept and media is not None and media not in accept):
            return got
        body = await read_body(response, self._settings.max_bytes)
        return _Got(got.url, got.status, got.headers, body)


def _tls_context() -> ssl.SSLContext:
    """The default verifying context (certifi's roots), as httpx builds it, once per process: the
    cycle's fetch threads all ask for it at their first request, and a build costs ~18 ms of CPU."""
    with _TLS_LOCK:
        return _built_tls_context()


_TLS_LOCK = threading.Lock()


@functools.cache
def _built_tls_context() -> ssl.SSLContext:
    return httpx.create_ssl_context(trust_env=False)


def _logged(url: str, result: FetchResult) -> FetchResult:
    kind = result.kind if isinstance(result, Failed) else "-"
    log.info("fetch source=%s url=%s status=%s error_kind=%s", result.source, url,
             getattr(result, "status", None), kind)
    return result
