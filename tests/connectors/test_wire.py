"""Responses broken below the HTTP layer, written byte for byte by a keep-alive server on 127.0.0.1.

Each bad answer must be its own source's error, never an exception, and never spoil the good feed
fetched right after it from the same host (per_host=1: one request at a time, so the second one
reuses the first one's connection whenever the pool thinks it can).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from connectors import fetch_feeds_sync, fetch_pages_sync
from newswatch.config.schema import FetchSettings
from newswatch.models import Failed, Fetched, SourceRequest
from tests.support.bad_server import RawServer

ONE_AT_A_TIME = FetchSettings(timeout="2s", allow_private_networks=True, per_host=1)


@pytest.fixture(scope="module")
def server() -> Iterator[RawServer]:
    with RawServer() as raw:
        yield raw


def then_good(server: RawServer, path: str, **request: str) -> list:
    """`path`, then the good feed on the same host, one after the other."""
    return fetch_feeds_sync(ONE_AT_A_TIME, [SourceRequest("bad", server.url(path), **request),
                                            SourceRequest("good", server.url("/feed.xml"))])


@pytest.mark.parametrize("path", ["/short-length.xml", "/smuggled.xml", "/late-smuggled.xml", "/feed.xml"],
                         ids=["short-length", "smuggled", "smuggled-late", "clean"])
def test_bytes_past_a_response_are_never_read_as_the_next_one(server: RawServer, path: str) -> None:
    first, good = then_good(server, path)
    assert isinstance(first, Fetched), first  # the body up to its Content-Length is the feed
    assert isinstance(good, Fetched), good  # was: "illegal status line: <!-- and then some -->HTTP/1.1…"
    assert [e.title for e in good.entries] == [e.title for e in first.entries]  # not the smuggled decoy
    connections = [number for number, p in server.requests if p in (path, "/feed.xml")][-2:]
    assert connections[0] != connections[1]  # no HTTP/1.1 connection is used twice


BROKEN = [
    ("long-length", "/long-length.xml", "network", "fetch: network error (peer closed connection without sending"),
    ("reset-mid-body", "/reset.xml", "network", "fetch: network error ("),
    ("bad-chunks", "/bad-chunks.xml", "network", "fetch: network error (illegal chunk header"),
    ("bad-gzip", "/bad-gzip.xml", "http", "fetch: corrupt compressed body ("),
    ("bad-deflate", "/bad-deflate.xml", "http", "fetch: corrupt compressed body ("),
    ("brotli", "/brotli.xml", "http", "fetch: unsupported content-encoding 'br'"),
    ("garbage-status", "/garbage-status.xml", "network", "fetch: network error (illegal status line"),
    ("no-status", "/no-status.xml", "network", "fetch: network error (illegal status line"),
    ("nul-in-header", "/nul-header.xml", "network", "fetch: network error (illegal header line"),
    ("huge-header", "/huge-header.xml", "network", "fetch: network error (Receive buffer too long)"),
    ("retry-after-forever", "/retry-forever.xml", "rate_limited", "fetch: 429 too many requests, retry after 7d"),
]


@pytest.mark.parametrize(("path", "kind", "message"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_a_broken_response_fails_its_source_and_spares_the_next(
    server: RawServer, path: str, kind: str, message: str
) -> None:
    bad, good = then_good(server, path)
    assert isinstance(bad, Failed) and (bad.kind, bad.source) == (kind, "bad"), bad
    assert bad.message.startswith(message), bad.message
    assert isinstance(good, Fetched), good


def test_retry_after_is_clamped_to_a_week(server: RawServer) -> None:
    bad, _ = then_good(server, "/retry-forever.xml")
    assert isinstance(bad, Failed) and bad.retry_after_seconds == 7 * 86400


def test_a_redirect_chain_to_a_closed_port_fails_its_source(server: RawServer) -> None:
    with socket.socket() as probe:  # a port nobody listens on once this closes
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    for hop in range(3):
        server.redirect_to(f"/hop/{hop}", server.url(f"/hop/{hop + 1}") if hop < 2 else f"http://127.0.0.1:{closed}/")
    bad, good = then_good(server, "/hop/0")
    assert isinstance(bad, Failed) and bad.kind == "network", bad
    assert isinstance(good, Fetched)


@pytest.mark.parametrize(("path", "ttl"), [("/expires-forever.xml", 7 * 86400), ("/expires-year-9999.xml", 7 * 86400)],
                         ids=["max-age-10e20", "expires-9999"])
def test_caching_hints_past_a_week_are_a_week(server: RawServer, path: str, ttl: int) -> None:
    result, _ = then_good(server, path)
    assert isinstance(result, Fetched) and result.ttl_seconds == ttl


@pytest.mark.parametrize("path", ["/etag-latin1.xml", "/etag-utf8.xml"], ids=["latin1", "utf8"])
def test_a_validator_no_header_can_carry_is_not_kept(server: RawServer, path: str) -> None:
    first, _ = then_good(server, path)
    assert isinstance(first, Fetched) and (first.etag, first.last_modified) == (None, None), first


@pytest.mark.parametrize(
    ("etag", "last_modified"),
    [('"caf\u00e9"', None), (None, "mardi 2 janvier \u00e0 10h"), ('"\u2603"', "Tue, 02 Jan 2024 10:00:00 GMT"),
     ('"a\r\nX-Injected: 1"', None), ('"' + "a" * 5000 + '"', None)],
    ids=["etag-latin1", "last-modified-latin1", "etag-snowman", "etag-crlf", "etag-5000-chars"],
)
def test_a_stored_validator_no_header_can_carry_is_not_sent(
    server: RawServer, etag: str | None, last_modified: str | None
) -> None:
    bad, good = fetch_feeds_sync(ONE_AT_A_TIME, [
        SourceRequest("bad", server.url("/feed.xml"), etag=etag, last_modified=last_modified),
        SourceRequest("good", server.url("/feed.xml")),
    ])
    assert isinstance(bad, Fetched), bad  # was: UnicodeEncodeError out of httpx, every cycle
    assert isinstance(good, Fetched)


@pytest.mark.parametrize("path", ["/garbled-type.html", "/punctuation-type.html"])
def test_a_page_whose_content_type_names_no_media_type_is_sniffed(server: RawServer, path: str) -> None:
    (page,) = fetch_pages_sync(ONE_AT_A_TIME, [server.url(path)])
    assert page.error is None and page.body.startswith(b"<!DOCTYPE html>")
    assert page.content_type is None
