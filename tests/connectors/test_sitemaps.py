"""Sitemaps as sources: parse_sitemap on news, plain and index documents and on hostile ones, then
whole polls against a local server (cli.replay): an index and its children, gzip files,
conditional GET, bounds, and children that fail."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cli.replay import ReplayServer
from connectors import fetch_feeds_sync
from connectors.errors import FeedParseError
from connectors.sitemaps import Sitemap, SitemapRef, is_sitemap, parse_sitemap, pick_children
from newswatch.config.schema import DEFAULTS, FetchSettings
from newswatch.models import Failed, Fetched, NotModified, SourceRequest

NOW = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
FAST = FetchSettings(timeout="2s", allow_private_networks=True)
NS = ('xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
      'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"')


def news_url(loc: str, title: str, published: str, language: str = "en") -> str:
    return (f"<url><loc>{loc}</loc><news:news><news:publication><news:name>Daily</news:name>"
            f"<news:language>{language}</news:language></news:publication>"
            f"<news:publication_date>{published}</news:publication_date><news:title>{title}</news:title>"
            f"</news:news></url>")


def urlset(*urls: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {NS}>{"".join(urls)}</urlset>'.encode()


def index(*children: tuple[str, str | None]) -> bytes:
    parts = "".join(f"<sitemap><loc>{loc}</loc>{f'<lastmod>{mod}</lastmod>' if mod else ''}</sitemap>"
                    for loc, mod in children)
    return f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{parts}</sitemapindex>'.encode()


NEWS = urlset(
    news_url("https://news.example/a", "Storm &amp; rain in the north", "2024-05-02T09:30:00+02:00", "en-GB"),
    news_url("/b", "Second", "2024-05-01"),
    "<url><loc>https://news.example/about</loc><lastmod>2024-05-02</lastmod></url>",
)


def test_a_news_sitemap_gives_its_news_entries_with_titles_dates_and_languages() -> None:
    sitemap = parse_sitemap("daily", NEWS, "https://news.example/news.xml", NOW)
    assert not sitemap.index
    assert [(e.url, e.title, e.published, e.language) for e in sitemap.entries] == [
        ("https://news.example/a", "Storm & rain in the north", datetime(2024, 5, 2, 7, 30, tzinfo=UTC), "en"),
        ("https://news.example/b", "Second", datetime(2024, 5, 1, tzinfo=UTC), "en"),
    ]
    assert sitemap.left_out == 1  # the page that is no news entry
    assert all(e.source == "daily" and e.guid is None for e in sitemap.entries)


def test_a_plain_sitemap_gives_only_its_recently_modified_urls() -> None:
    recent = (NOW - timedelta(hours=5)).isoformat()
    old = (NOW - DEFAULTS["sitemap_recent"] - timedelta(minutes=1)).isoformat()
    body = urlset(f"<url><loc>https://s.example/new</loc><lastmod>{recent}</lastmod></url>",
                  f"<url><loc>https://s.example/old</loc><lastmod>{old}</lastmod></url>",
                  "<url><loc>https://s.example/undated</loc></url>")
    sitemap = parse_sitemap("s", body, "https://s.example/sitemap.xml", NOW)
    assert [(e.url, e.title) for e in sitemap.entries] == [("https://s.example/new", "")]
    assert sitemap.left_out == 2


def test_thousands_of_urls_are_bounded_to_the_most_recent() -> None:
    urls = [news_url(f"https://n.example/{i}", f"Story {i}", (NOW - timedelta(minutes=i)).isoformat())
            for i in range(DEFAULTS["sitemap_entries"] + 500)]
    sitemap = parse_sitemap("n", urlset(*reversed(urls)), "https://n.example/news.xml", NOW)
    assert len(sitemap.entries) == DEFAULTS["sitemap_entries"]
    assert sitemap.entries[0].url == "https://n.example/0"
    assert sitemap.left_out == 500


def test_an_index_names_its_children_and_the_most_recent_are_picked() -> None:
    body = index(("https://n.example/2023.xml", "2023-12-31"), ("/news.xml", "2024-05-02T10:00:00Z"),
                 ("https://n.example/undated.xml", None), ("https://n.example/2024-04.xml", "2024-04-30"),
                 ("ftp://n.example/x.xml", "2024-05-02"), ("https://n.example/2024-03.xml", "2024-03-31"))
    sitemap = parse_sitemap("n", body, "https://n.example/sitemap.xml", NOW)
    assert sitemap.index and len(sitemap.children) == 5  # ftp is no http(s) address
    assert [ref.url for ref in pick_children(sitemap)] == [
        "https://n.example/news.xml", "https://n.example/2024-04.xml", "https://n.example/2024-03.xml"]
    undated = Sitemap(index=True, children=[SitemapRef(f"https://u.example/{i}.xml") for i in range(5)])
    assert [r.url for r in pick_children(undated)] == [f"https://u.example/{i}.xml" for i in range(3)]


@pytest.mark.parametrize(("body", "message"), [
    (b"<urlset><url><loc>https://x.example/a</loc>", "not well-formed XML: line 1"),
    (b"", "not a sitemap (not well-formed XML"),
    (b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>', "its root is <rss>"),
    (b'<!DOCTYPE urlset [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
     b"<urlset><url><loc>https://x.example/&b;</loc></url></urlset>", "declares XML entities"),
    (b'<!DOCTYPE urlset SYSTEM "http://127.0.0.1:9/evil.dtd"><urlset/>', "external DTD"),
    (b'<!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/passwd">]><urlset><url><loc>&x;</loc></url></urlset>',
     "declares XML entities"),
], ids=["truncated", "empty", "a-feed", "billion-laughs", "external-dtd", "xxe"])
def test_a_broken_or_hostile_sitemap_is_a_clear_parse_error(body: bytes, message: str) -> None:
    with pytest.raises(FeedParseError, match="^parse: not a sitemap") as raised:
        parse_sitemap("x", body, "https://x.example/sitemap.xml", NOW)
    assert message in str(raised.value)


def test_a_deep_document_is_refused_quickly() -> None:
    body = b"<urlset>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</urlset>"
    started = time.perf_counter()
    with pytest.raises(FeedParseError):
        parse_sitemap("x", body, "https://x.example/s.xml", NOW)
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize(("body", "expected"), [
    (NEWS, True),
    (index(("https://a.example/s.xml", None)), True),
    (b"\xef\xbb\xbf<!-- made by a CMS --><?xml-stylesheet href='s.xsl'?>\n<urlset/>", True),
    (b'<!DOCTYPE sitemapindex><sm:sitemapindex xmlns:sm="x"/>', True),
    (b'<?xml version="1.0"?><rss version="2.0"/>', False),
    (b"<html><body>urlset</body></html>", False),
    (b"", False),
], ids=["news", "index", "prolog", "prefixed", "rss", "html", "empty"])
def test_a_sitemap_is_known_by_its_root(body: bytes, expected: bool) -> None:
    assert is_sitemap(body) is expected


# -- whole polls against a local server ------------------------------------------------------------

@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[ReplayServer, Path]]:
    with ReplayServer(tmp_path) as server:
        yield server, tmp_path


def write(root: Path, name: str, body: bytes) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)


def poll(server: ReplayServer, path: str, settings: FetchSettings = FAST, **request: object):
    return fetch_feeds_sync(settings, [SourceRequest("site", server.base_url + path, **request)])[0]


def fresh_news(base: str, prefix: str, count: int) -> bytes:
    return urlset(*(news_url(f"{base}/{prefix}/{i}", f"{prefix} story {i}",
                             (datetime.now(UTC) - timedelta(minutes=i)).isoformat()) for i in range(count)))


def test_an_index_is_read_with_its_most_recent_children_and_polled_conditionally(web) -> None:
    server, root = web
    base = server.base_url
    write(root, "sitemap.xml", index((f"{base}/old.xml", "2020-01-01"), (f"{base}/news.xml", "2024-05-02"),
                                     (f"{base}/more.xml.gz", "2024-05-01"), (f"{base}/week.xml", "2024-04-30")))
    write(root, "news.xml", fresh_news(base, "news", 3))
    write(root, "more.xml.gz", gzip.compress(fresh_news(base, "more", 2) + b"\n" * 10))
    write(root, "week.xml", fresh_news(base, "news", 1))  # a URL the news sitemap has too
    write(root, "old.xml", fresh_news(base, "old", 1))

    first = poll(server, "/sitemap.xml")
    assert isinstance(first, Fetched), first
    assert sorted(e.url.removeprefix(base) for e in first.entries) == [
        "/more/0", "/more/1", "/news/0", "/news/1", "/news/2"]
    assert first.notes == () and first.etag
    assert ("GET", "/old.xml", 200) not in server.requests  # past the bound of children

    again = poll(server, "/sitemap.xml", etag=first.etag, last_modified=first.last_modified)
    assert isinstance(again, NotModified)
    assert server.requests[-1] == ("GET", "/sitemap.xml", 304)


def test_a_sitemap_is_detected_without_the_type_key_and_a_feed_refused_with_it(web) -> None:
    server, root = web
    write(root, "news.xml", fresh_news(server.base_url, "n", 2))
    write(root, "feed.rss", b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
                            b"<item><title>One</title><link>http://x.example/1</link></item></channel></rss>")
    detected = poll(server, "/news.xml")
    assert isinstance(detected, Fetched) and len(detected.entries) == 2
    assert isinstance(poll(server, "/feed.rss"), Fetched)
    refused = poll(server, "/feed.rss", kind="sitemap")
    assert isinstance(refused, Failed) and refused.kind == "parse"
    assert refused.message == "parse: not a sitemap (its root is <rss>, not <urlset> or <sitemapindex>)"


def test_a_child_that_fails_is_a_note_and_the_others_still_count(web) -> None:
    server, root = web
    base = server.base_url
    write(root, "sitemap.xml", index((f"{base}/news.xml", "2024-05-02"), (f"{base}/missing.xml", "2024-05-01"),
                                     (f"{base}/broken.xml", "2024-04-01")))
    write(root, "news.xml", fresh_news(base, "n", 2))
    write(root, "broken.xml", b"<urlset><url><loc>")
    result = poll(server, "/sitemap.xml")
    assert isinstance(result, Fetched) and len(result.entries) == 2
    assert result.notes == (f"sitemap {base}/missing.xml: fetch: 404 not found",
                            f"sitemap {base}/broken.xml: parse: not a sitemap (not well-formed XML: line 1, "
                            "column 19: Premature end of data in tag loc line 1)")


def test_every_child_failing_fails_the_source_with_the_first_ones_error(web) -> None:
    server, root = web
    base = server.base_url
    write(root, "sitemap.xml", index((f"{base}/gone.xml", "2024-05-02"), (f"{base}/nested.xml", "2024-05-01")))
    write(root, "nested.xml", index((f"{base}/sitemap.xml", None)))
    result = poll(server, "/sitemap.xml")
    assert isinstance(result, Failed) and result.kind == "not_found"
    assert result.message == f"fetch: 404 not found (sitemap {base}/gone.xml; 1 more failed)"
    empty = "empty.xml"
    write(root, empty, index())
    result = poll(server, "/" + empty)
    assert isinstance(result, Failed) and result.message == (
        "parse: a sitemap index naming no sitemap (no <sitemap><loc>)")


def test_an_index_inside_an_index_is_not_followed(web) -> None:
    server, root = web
    base = server.base_url
    write(root, "sitemap.xml", index((f"{base}/nested.xml", "2024-05-02"), (f"{base}/news.xml", None)))
    write(root, "nested.xml", index((f"{base}/sitemap.xml", None)))
    write(root, "news.xml", fresh_news(base, "n", 1))
    result = poll(server, "/sitemap.xml")
    assert isinstance(result, Fetched) and len(result.entries) == 1
    assert result.notes == (f"sitemap {base}/nested.xml: parse: an index inside a sitemap index is not followed",)


def test_a_gzip_bomb_a_huge_file_and_a_corrupt_gzip_are_clear_failures(web) -> None:
    server, root = web
    write(root, "bomb.xml.gz", gzip.compress(b"<urlset>" + b" " * 300_000_000, compresslevel=9))
    write(root, "huge.xml", b"<urlset>" + b" " * 6_000_000 + b"</urlset>")
    write(root, "corrupt.xml.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + b"\xff" * 64)  # no deflate block
    bomb = poll(server, "/bomb.xml.gz")
    assert isinstance(bomb, Failed) and bomb.kind == "too_large", bomb
    assert "expands over 100x" in bomb.message
    huge = poll(server, "/huge.xml")
    assert isinstance(huge, Failed) and huge.kind == "too_large"
    corrupt = poll(server, "/corrupt.xml.gz")
    assert isinstance(corrupt, Failed) and corrupt.kind == "parse"
    assert corrupt.message.startswith("parse: a corrupt gzip file (")
