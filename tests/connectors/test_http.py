"""fetch_feeds / fetch_pages against a real misbehaving server on 127.0.0.1 (tests/support).

The verbs run with allow_private_networks=True here (the server is on loopback), except in the
address-guard tests: those pass `trusted_hosts={"localhost"}` so the first hop (to localhost) is
allowed by name and a redirect to http://127.0.0.1/… must still be refused by address.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors import fetch_feeds_sync, fetch_pages_sync
from newswatch.config.schema import FetchSettings
from newswatch.extract import extract
from newswatch.models import Failed, Fetched, SourceRequest
from tests.support.bad_server import BadServer

FAST = FetchSettings(timeout="1s", allow_private_networks=True)


@pytest.fixture(scope="module")
def server() -> Iterator[BadServer]:
    with BadServer() as bad:
        yield bad


def fetch_one(server: BadServer, path: str, settings: FetchSettings = FAST, **kwargs: object):
    return fetch_feeds_sync(settings, [SourceRequest("src", server.url(path))], **kwargs)[0]


BAD_ROUTES = [
    ("/missing", "not_found", "fetch: 404 not found", 404),
    ("/gone", "gone", "fetch: 410 gone", 410),
    ("/error", "http", "fetch: 500 internal server error", 500),
    ("/rate-limited", "rate_limited", "fetch: 429 too many requests, retry after 2m", 429),
    ("/slow-drip", "timeout", "fetch: timed out after 1s", None),
    ("/stall", "timeout", "fetch: timed out after 1s", None),
    ("/endless", "too_large", "fetch: too large: body is over the 5,000,000-byte limit", None),
    ("/too-big", "too_large", "fetch: too large: Content-Length 10,000,000,000 is over", None),
    ("/gzip-bomb", "too_large", "fetch: too large: body expands over 100x", None),
    ("/loop/a", "redirects", "fetch: redirect loop back to http://127.0.0.1:", None),
    ("/chain/6", "redirects", "fetch: more than 5 redirects", None),
    ("/to-ftp", "blocked", "fetch: refusing ftp URL ftp://example.com/feed.xml", None),
    ("/no-location", "http", "fetch: 302 found (no redirect to follow)", 302),
    ("/not-a-feed.html", "parse", "parse: no feed advertised on the page", 200),
    ("/garbage.xml", "parse", "parse: not a feed (", 200),
]


@pytest.mark.parametrize(("path", "kind", "message", "status"), BAD_ROUTES, ids=[r[0] for r in BAD_ROUTES])
def test_bad_route_fails_with_its_kind(
    server: BadServer, path: str, kind: str, message: str, status: int | None
) -> None:
    result = fetch_one(server, path)
    assert isinstance(result, Failed), result
    assert (result.source, result.kind, result.status) == ("src", kind, status)
    assert result.message.startswith(message)


def test_retry_after_as_http_date(server: BadServer) -> None:
    result = fetch_one(server, "/rate-limited-date")
    assert isinstance(result, Failed) and result.kind == "rate_limited"
    assert result.retry_after_seconds is not None and 88 <= result.retry_after_seconds <= 91


def test_the_size_cap_counts_decoded_bytes_of_a_gzip_bomb(server: BadServer) -> None:
    small = FetchSettings(timeout="5s", allow_private_networks=True, max_bytes=200_000)
    result = fetch_one(server, "/gzip-bomb", small)
    assert isinstance(result, Failed) and result.kind == "too_large"
    assert "200,000-byte limit" in result.message


@pytest.mark.parametrize("path", ["/feed.xml", "/moved", "/chain/5"], ids=["direct", "301", "5-hops"])
def test_good_feed_is_fetched_with_caching_headers(server: BadServer, path: str) -> None:
    result = fetch_one(server, path)
    assert isinstance(result, Fetched), result
    assert result.final_url == server.url("/feed.xml")
    assert (result.etag, result.last_modified) == ('"v1"', "Tue, 02 Jan 2024 10:00:00 GMT")
    assert result.ttl_seconds == 1800  # <ttl>30</ttl> beats Cache-Control: max-age=600
    assert [e.url for e in result.entries] == [server.url("/news/1"), "http://example.com/news/2"]
    assert result.entries[0].language == "en"


@pytest.mark.parametrize(
    "path", ["/malformed.xml", "/latin1-as-utf8.xml", "/utf8-as-latin1.xml"],
    ids=["bozo-with-items", "latin1-declared-utf8", "utf8-declared-latin1"],
)
def test_imperfect_feeds_still_yield_entries(server: BadServer, path: str) -> None:
    result = fetch_one(server, path)
    assert isinstance(result, Fetched), result
    assert result.entries
    if "latin1" in path:
        assert result.entries[0].title == "Café crème"


def test_results_keep_request_order_and_one_failure_does_not_spoil_the_batch(server: BadServer) -> None:
    paths = ["/gone", "/feed.xml", "/missing", "/moved"]
    results = fetch_feeds_sync(FAST, [SourceRequest(p, server.url(p)) for p in paths])
    assert [r.source for r in results] == paths
    assert [type(r).__name__ for r in results] == ["Failed", "Fetched", "Failed", "Fetched"]


@pytest.mark.parametrize(
    ("concurrency", "per_host", "most"), [(16, 2, 2), (3, 32, 3)], ids=["per-host", "global"]
)
def test_concurrency_limits(server: BadServer, concurrency: int, per_host: int, most: int) -> None:
    settings = FetchSettings(timeout="5s", allow_private_networks=True, concurrency=concurrency,
                             per_host=per_host)
    server.max_in_flight = 0
    results = fetch_feeds_sync(settings, [SourceRequest(str(i), server.url("/hold")) for i in range(6)])
    assert all(isinstance(r, Fetched) for r in results)
    assert server.max_in_flight == most


def test_first_hop_to_a_private_address_is_blocked_before_any_request(server: BadServer) -> None:
    before = len(server.requests)
    result = fetch_one(server, "/feed.xml", FetchSettings())
    assert isinstance(result, Failed) and result.kind == "blocked"
    assert result.message == (
        "fetch: blocked 127.0.0.1: it resolves to loopback address 127.0.0.1 "
        "(set fetch.allow_private_networks to allow)"
    )
    assert len(server.requests) == before


def test_redirect_to_a_private_address_is_blocked(server: BadServer) -> None:
    request = SourceRequest("src", server.url("/to-private", host="localhost"))
    result = fetch_feeds_sync(FetchSettings(timeout="2s"), [request], trusted_hosts={"localhost"})[0]
    assert isinstance(result, Failed) and result.kind == "blocked", result
    assert result.message.startswith("fetch: blocked 127.0.0.1: it resolves to loopback address")
    assert server.requests[-1] == "/to-private"  # the private target was never requested


def test_trusted_host_is_fetched_without_private_networks(server: BadServer) -> None:
    request = SourceRequest("src", server.url("/feed.xml", host="localhost"))
    result = fetch_feeds_sync(FetchSettings(timeout="2s"), [request], trusted_hosts={"localhost"})[0]
    assert isinstance(result, Fetched)


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/article.html", None),
        ("/paper.pdf", "fetch: not an HTML page (application/pdf)"),
        ("/missing", "fetch: 404 not found"),
        ("/endless.html", "fetch: too large: body is over the 5,000,000-byte limit"),
        ("/feed.xml", "fetch: not an HTML page (application/rss+xml)"),
    ],
    ids=["html", "pdf", "404", "endless", "feed"],
)
def test_fetch_pages(server: BadServer, path: str, error: str | None) -> None:
    [page] = fetch_pages_sync(FAST, [server.url(path)])
    assert page.url == server.url(path)
    assert page.error == error
    assert (page.body is None) == (error is not None)


@pytest.mark.parametrize("path", ["/latin1-as-utf8.html", "/utf8-as-latin1.html"])
def test_mislabelled_page_charset_is_decoded_right(server: BadServer, path: str) -> None:
    [page] = fetch_pages_sync(FAST, [server.url(path)])
    extracted = extract(page.body or b"", page.url)
    assert extracted is not None and "Le café de la gare a rouvert" in extracted.text
    assert extracted.language == "fr"


def test_invalid_and_unresolvable_urls_are_values_not_exceptions() -> None:
    pages = fetch_pages_sync(FAST, ["http://[::1", "http://no-such-host.invalid/x", "mailto:x@y.z"])
    assert [p.error.split(" (")[0] for p in pages if p.error] == [
        "fetch: invalid URL", "fetch: cannot resolve host", "fetch: refusing mailto URL mailto:x@y.z",
    ]


def test_on_page_sees_each_page_once_with_its_index_as_it_arrives(server: BadServer) -> None:
    urls = [server.url(path) for path in ("/article.html", "/missing", "/paper.pdf", "/article.html")]
    seen: list[tuple[int, str, str | None]] = []
    pages = fetch_pages_sync(FAST, urls, on_page=lambda index, page: seen.append((index, page.url, page.error)))
    assert sorted(seen) == [(i, page.url, page.error) for i, page in enumerate(pages)]
