"""One source's or page's surprise is its own failure, never its batch's (newswatch.contain).

A bug is injected where only one URL meets it (the body reader, for URLs with "?boom"); the
server is real. Before containment, the exception left asyncio.gather and the whole batch, every
other source's result with it, was lost.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors import fetch_feeds_sync, fetch_pages_sync, http
from newswatch.config.schema import FetchSettings
from newswatch.models import Failed, Fetched, Page, SourceRequest
from tests.support.bad_server import BadServer

FAST = FetchSettings(timeout="2s", allow_private_networks=True)
BOOM = "fetch: unexpected RuntimeError (boom: a bug in one item's work)"


@pytest.fixture(scope="module")
def server() -> Iterator[BadServer]:
    with BadServer() as bad:
        yield bad


@pytest.fixture(autouse=True)
def bug_for_boom(monkeypatch: pytest.MonkeyPatch) -> None:
    real = http.read_body

    async def read_body(response, max_bytes):  # noqa: ANN001, ANN202 - read_body's signature
        if response.url.query == b"boom":
            raise RuntimeError("boom: a bug in one item's work")
        return await real(response, max_bytes)

    monkeypatch.setattr(http, "read_body", read_body)


def test_a_feed_that_raises_fails_alone_as_unexpected(server: BadServer, caplog: pytest.LogCaptureFixture) -> None:
    requests = [SourceRequest("a", server.url("/feed.xml")), SourceRequest("boom", server.url("/feed.xml?boom")),
                SourceRequest("c", server.url("/feed.xml"))]
    a, boom, c = fetch_feeds_sync(FAST, requests)
    assert isinstance(a, Fetched) and isinstance(c, Fetched)
    assert boom == Failed("boom", "unexpected", BOOM)
    assert any(r.exc_info and "boom" in r.getMessage() for r in caplog.records)  # loud: the traceback is logged


def test_a_page_that_raises_fails_alone_and_on_page_still_hears_of_it(server: BadServer) -> None:
    urls = [server.url("/article.html"), server.url("/article.html?boom"), server.url("/article.html")]
    seen: list[tuple[int, str | None]] = []
    pages = fetch_pages_sync(FAST, urls, on_page=lambda index, page: seen.append((index, page.error)))
    assert pages[1] == Page(urls[1], error=BOOM, unexpected=True)
    assert pages[0].body and pages[2].body
    assert sorted(seen) == [(0, None), (1, BOOM), (2, None)]


def test_an_on_page_callback_that_raises_loses_no_page(server: BadServer) -> None:
    urls = [server.url("/article.html"), server.url("/missing"), server.url("/article.html")]

    def on_page(index: int, page: Page) -> None:
        if index == 0:
            raise RuntimeError("the caller's bug")

    pages = fetch_pages_sync(FAST, urls, on_page=on_page)
    assert [p.url for p in pages] == urls and pages[0].body and pages[2].body
