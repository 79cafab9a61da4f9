"""The URL rules: absolute_url (feed entries' links and a page's canonical link), canonical_url
(one spelling for one article), is_article_address (an article, not a root, a section or an archive)."""

from __future__ import annotations

import pytest

from newswatch.urls import absolute_url, canonical_url, is_article_address

BASE = "https://example.com/feeds/main"


@pytest.mark.parametrize(("link", "expected"), [
    ("/news/1", "https://example.com/news/1"),
    ("  news/2?x=1 ", "https://example.com/feeds/news/2?x=1"),
    ("http://other.example/a", "http://other.example/a"),
    ("javascript:alert(1)", ""),
    ("mailto:desk@example.com", ""),
    ("http://[not-an-address/x", ""),
    ("   ", ""),
    ("", ""),
    (None, ""),
])
def test_absolute_url(link, expected):
    assert absolute_url(link, BASE) == expected


@pytest.mark.parametrize("url, expected", [
    ("HTTPS://WWW.Example.ORG:443/a/b?utm_source=rss&utm_medium=feed#comments", "https://www.example.org/a/b"),
    ("http://example.org:80/x?b=2&a=1", "http://example.org/x?a=1&b=2"),
    ("http://example.org:8080/x", "http://example.org:8080/x"),
    ("https://example.org/x?fbclid=abc&gclid=def&id=7", "https://example.org/x?id=7"),
    ("https://example.org/news/story/amp", "https://example.org/news/story/"),
    ("https://example.org/amp/news/story", "https://example.org/news/story"),
    ("https://example.org/news/story.amp.html", "https://example.org/news/story.html"),
    ("https://example.org/news/story?amp=1", "https://example.org/news/story"),
    ("https://example.org/camp/site", "https://example.org/camp/site"),
    ("https://example.org", "https://example.org/"),
    ("urn:uuid:1234", "urn:uuid:1234"),
    ("http://[::1]:8080/a?b=1", "http://[::1]:8080/a?b=1"),
    ("https://[2001:DB8::1]:443/a", "https://[2001:db8::1]/a"),
    (" http://example.org:abc/x?utm_source=rss ", "http://example.org:abc/x?utm_source=rss"),
    ("http://[::1/a", "http://[::1/a"),
    ("https://www-bbc-com.cdn.ampproject.org/c/s/www.bbc.com/news/world-51612400.amp?amp_js_v=0.1&usqp=mq331AQF",
     "https://www.bbc.com/news/world-51612400"),
    ("https://duvarenglish-com.cdn.ampproject.org/v/duvarenglish.com/amp/lavrov-idlib?id=3&amp_gsa=1",
     "http://duvarenglish.com/lavrov-idlib?id=3"),
    ("https://www.google.com/amp/s/www.reuters.com/article/idUSKBN20I0XY?outputType=amp",
     "https://www.reuters.com/article/idUSKBN20I0XY"),
    ("https://www.google.com/search?q=amp", "https://www.google.com/search?q=amp"),
    ("https://cdn.ampproject.org/v0.js", "https://cdn.ampproject.org/v0.js"),
    ("https://example.org/lamp", "https://example.org/lamp"),
    ("https://www.bbc.com/news/world-51612400.amp", "https://www.bbc.com/news/world-51612400"),
], ids=lambda v: v[:40])
def test_canonical_url(url, expected):
    assert canonical_url(url) == expected


@pytest.mark.parametrize("url, article", [
    ("https://site.example/", False), ("https://site.example", False), ("https://site.example/world/", False),
    ("https://site.example/news/europe", False), ("https://site.example/middle-east/", False),
    ("https://site.example/index.html", False), ("https://site.example/home", False),
    ("https://site.example/2020/02/27/", False), ("https://site.example/2020/02", False), ("not a url [", False),
    ("https://site.example/2020/02/27/turkish-soldiers-killed", True),
    ("https://www.bbc.co.uk/news/world-europe-51662140", True), ("https://site.example/article/12345", True),
    ("https://apnews.com/article/0b5c6f9e2a", True), ("https://site.example/?p=123", True),
    ("https://site.example/read.php?id=9", True), ("https://site.example/erdogan_putin_talks", True),
    ("https://site.example/eenbijzonderlangewoordvoorartikel", True),
])
def test_an_article_address_is_told_from_a_root_a_section_or_an_archive(url, article):
    assert is_article_address(url) is article
