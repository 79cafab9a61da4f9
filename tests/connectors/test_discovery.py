"""Feed discovery: the real home pages of ../shared/data/rsparser-realworld-feeds (read where they
are, never copied into the repository), then whole polls of pages served from a local site, hostile
ones too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors import fetch_feeds_sync
from connectors.discovery import MAX_LINKS, discover, is_html
from newswatch.config.schema import FetchSettings
from newswatch.models import Failed, Fetched, NotModified, SourceRequest
from tests.conftest import ROOT
from tests.support.site import Site

REAL = ROOT.parent / "shared" / "data" / "rsparser-realworld-feeds"
FAST = FetchSettings(timeout="2s", allow_private_networks=True)
RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>
<item><title>{title} one</title><link>{{base}}/one</link></item></channel></rss>"""


def real(*parts: str) -> Path:
    path = REAL.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"{path} is missing: these tests read the real pages of rsparser-realworld-feeds in "
                    f"{REAL} (the repository root's parent)")
    return path


@pytest.fixture(scope="module")
def facts() -> dict:
    return json.loads(real("expected-facts.json").read_text(encoding="utf-8"))["html_feed_discovery"]


@pytest.mark.parametrize("name", ["DaringFireball.html", "furbo.html", "inessential.html", "sixcolors.html"])
def test_the_real_pages_advertise_the_feeds_expected(facts, name) -> None:
    expected = facts[name]
    links = discover(real("html-feed-discovery", name).read_bytes(), expected["page_url"])
    assert [(link.type, link.title) for link in links] == [(e["type"], e["title"]) for e in expected["feed_links"]]
    for link, want in zip(links, expected["feed_links"], strict=True):
        if "href" in want:
            assert link.url == want["href"]


def test_an_article_page_advertises_its_sites_feeds_in_its_order(facts) -> None:
    page = facts["coco.html"]["page_url"]
    links = discover(real("html-feed-discovery", "coco.html").read_bytes(), page)
    assert [(link.url, link.title) for link in links] == [
        ("https://www.theatlantic.com/feed/all/", "The Atlantic"),
        ("https://www.theatlantic.com/feed/best-of/", "Best of The Atlantic")]


PAGE = "https://site.example/news/today.html"


@pytest.mark.parametrize(("head", "expected"), [
    ('<link rel="alternate" type="application/atom+xml" href="atom.xml">'
     '<link rel="alternate" type="application/rss+xml" href="/rss.xml">',
     ["https://site.example/news/atom.xml", "https://site.example/rss.xml"]),
    ('<link rel="Alternate Feed" type="Application/Feed+JSON; charset=utf-8" href="feed.json">',
     ["https://site.example/news/feed.json"]),
    ('<base href="/archive/"><link rel="alternate" type="application/rss+xml" href="rss">',
     ["https://site.example/archive/rss"]),
    ('<link rel="alternate" type="application/rss+xml" href="/comments/feed/">'
     '<link rel="alternate" type="application/rss+xml" href="/feed/">', ["https://site.example/feed/"]),
    ('<link rel="alternate" type="text/html" hreflang="fr" href="/fr/">'
     '<link rel="stylesheet" type="text/css" href="/s.css"><link rel="alternate" href="/nothing">', []),
    ('<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">'
     '<link rel="alternate" type="application/rss+xml" href="ftp://site.example/rss">'
     '<link rel="alternate" type="application/rss+xml" href="http://[broken/rss">'
     '<link rel="alternate" type="application/rss+xml">', []),
    ('<link rel="alternate" type="application/rss+xml" href="/rss">' * 3, ["https://site.example/rss"]),
], ids=["order-and-relative", "case-and-tokens", "base-href", "comments", "not-feeds", "hostile-hrefs", "once"])
def test_links_are_chosen_by_rel_and_type_in_the_pages_order(head: str, expected: list[str]) -> None:
    page = f"<!DOCTYPE html><html><head><title>t</title>{head}</head><body><a href='/rss'>RSS</a></body></html>"
    assert [link.url for link in discover(page.encode(), PAGE)] == expected


@pytest.mark.parametrize("body", [b"", b"\x00\xff" * 1000, b"<html>" + b"<div>" * 200_000,
                                  "<html><head><link rel=alternate type=application/rss+xml href=/é></head></html>"
                                  .encode("cp1252")], ids=["empty", "binary", "deep", "latin-1"])
def test_broken_pages_give_no_link_or_theirs_and_never_raise(body: bytes) -> None:
    assert all(link.url.startswith("https://site.example/") for link in discover(body, PAGE))


def test_the_links_read_are_bounded() -> None:
    links = "".join(f'<link rel="icon" href="/i{i}.png">' for i in range(MAX_LINKS))
    page = f'<html><head>{links}<link rel="alternate" type="application/rss+xml" href="/rss"></head></html>'
    assert discover(page.encode(), PAGE) == []


@pytest.mark.parametrize(("body", "content_type", "expected"), [
    (b"<p>", "text/html; charset=utf-8", True), (b"<p>", "application/xhtml+xml", True),
    (b"<!DOCTYPE html><html>", None, True), (b"<rss/>", None, False), (b"<html>", "application/json", False),
])
def test_is_html(body: bytes, content_type: str | None, expected: bool) -> None:
    assert is_html(body, content_type) is expected


# -- whole polls against a local site --------------------------------------------------------------

@pytest.fixture
def site() -> Iterator[Site]:
    with Site() as served:
        yield served


def poll(site: Site, path: str = "/", settings: FetchSettings = FAST, **request: object):
    return fetch_feeds_sync(settings, [SourceRequest("site", site.url(path), **request)])[0]


def test_the_real_page_is_resolved_to_its_feed_and_read_in_the_same_poll(site: Site) -> None:
    site.set("/", real("html-feed-discovery", "DaringFireball.html").read_bytes())
    site.set("/feeds/main", real("feeds", "DaringFireball.atom").read_bytes(), "application/atom+xml")
    result = poll(site)
    assert isinstance(result, Fetched), result
    assert result.feed_url == site.url("/feeds/main") and result.final_url == site.url("/feeds/main")
    assert len(result.entries) > 0 and result.etag
    again = poll(site, feed_url=result.feed_url, etag=result.etag)  # later polls go to the feed, conditionally
    assert isinstance(again, NotModified)
    assert site.requests[-1] == ("/feeds/main", 304)


def test_a_page_advertising_no_feed_is_a_clear_failure(site: Site) -> None:
    site.set("/", "<!DOCTYPE html><html><head><title>Home</title></head><body><a href='/rss'>rss</a></body></html>")
    result = poll(site)
    assert isinstance(result, Failed) and result.kind == "parse" and result.status == 200
    assert result.message == ('parse: no feed advertised on the page (no <link rel="alternate"> to RSS, Atom '
                              "or JSON Feed)")


@pytest.mark.parametrize(("route", "kind", "message"), [
    ((404, "text/plain", b"no"), "not_found", "fetch: 404 not found"),
    ((410, "text/plain", b"no"), "not_found", "fetch: 410 gone"),  # the page lives: the source is not gone
    ((200, "text/html", b"<html><head><link rel=alternate type=application/rss+xml href=/feed></head></html>"),
     "parse", "parse: not a feed ("),  # an advertised page is not discovered from again
    ((200, "application/rss+xml", b"<rss><channel><item>"), "parse", "parse: not a feed"),
], ids=["404", "410", "a-page-again", "broken"])
def test_an_advertised_feed_that_fails_fails_the_source_naming_it(site: Site, route, kind, message) -> None:
    site.set("/", '<html><head><link rel="alternate" type="application/rss+xml" href="/feed"></head></html>')
    site.routes["/feed"] = route
    result = poll(site)
    assert isinstance(result, Failed) and result.kind == kind, result
    assert result.message.startswith(message)
    assert result.message.endswith(f"(the feed the page advertises, {site.url('/feed')})")
    assert result.feed_url is None  # nothing stored to forget yet
    assert site.requests.count(("/", 200)) == 1


def test_a_stored_feed_that_is_gone_names_itself_and_the_next_poll_finds_the_new_one(site: Site) -> None:
    site.set("/", '<html><head><link rel="alternate" type="application/rss+xml" href="/new.xml"></head></html>')
    site.set("/new.xml", RSS.format(title="New"), "application/rss+xml")
    failed = poll(site, feed_url=site.url("/old.xml"), etag='"x"')
    assert isinstance(failed, Failed) and failed.kind == "not_found" and failed.feed_url == site.url("/old.xml")
    assert failed.message == f"fetch: 404 not found (the feed the page advertises, {site.url('/old.xml')})"
    assert ("/", 200) not in site.requests  # the page is read again on the next poll (newswatch.polling)
    found = poll(site)
    assert isinstance(found, Fetched) and found.feed_url == site.url("/new.xml")
    assert [e.title for e in found.entries] == ["New one"]


def test_a_page_that_became_a_feed_is_read_as_one(site: Site) -> None:
    site.set("/", RSS.format(title="Own"), "application/rss+xml")
    result = poll(site)
    assert isinstance(result, Fetched) and result.feed_url is None


def test_an_advertised_feed_on_a_private_address_is_refused_by_the_guard(site: Site) -> None:
    site.set("/", '<html><head><link rel="alternate" type="application/rss+xml" '
                  'href="http://10.0.0.1/feed"></head></html>')
    guarded = FetchSettings(timeout="2s", allow_private_networks=False)
    result = fetch_feeds_sync(guarded, [SourceRequest("site", site.url("/"))], trusted_hosts={"127.0.0.1"})[0]
    assert isinstance(result, Failed) and result.kind == "blocked", result
    assert "(the feed the page advertises, http://10.0.0.1/feed)" in result.message


def test_a_huge_page_is_refused_before_discovery(site: Site) -> None:
    site.set("/", b"<html><head>" + b"<meta name=x content=y>" * 300_000 + b"</head></html>")
    result = poll(site)
    assert isinstance(result, Failed) and result.kind == "too_large"


def test_a_sitemap_source_is_never_discovered_from(site: Site) -> None:
    site.set("/", '<html><head><link rel="alternate" type="application/rss+xml" href="/feed"></head></html>')
    result = poll(site, kind="sitemap")
    assert isinstance(result, Failed) and result.message.startswith("parse: not a sitemap (")
    assert site.requests == [("/", 200)]
