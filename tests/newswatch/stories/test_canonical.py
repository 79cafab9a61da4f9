from __future__ import annotations

import pytest

from newswatch.stories import canonical_url, story_keys, text_hash
from newswatch.stories.canonical import is_article_address
from newswatch.stories.keys import KEY_LENGTH


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


LONG = " ".join(f"word{i}" for i in range(60))


def test_text_hash_ignores_case_punctuation_and_whitespace():
    assert text_hash(LONG) == text_hash("  " + LONG.upper().replace(" ", " ,\n ") + "!")
    assert text_hash(LONG) != text_hash(LONG + " more")


def test_short_texts_get_no_fingerprint():
    assert text_hash("Read more on our site") is None


def test_story_keys_include_both_urls_and_the_text():
    keys = story_keys("https://a.example/x?utm_source=rss", "https://b.example/news/idlib-talks-resume",
                      text_hash(LONG))
    assert keys == ["url:https://a.example/x", "url:https://b.example/news/idlib-talks-resume",
                    f"text:{text_hash(LONG)}"]


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


@pytest.mark.parametrize("declared", ["https://site.example/", "https://site.example/world/",
                                      "https://site.example/2020/02/"])
def test_a_page_that_declares_a_listing_as_its_canonical_url_gets_no_key_from_it(declared):
    assert story_keys("https://site.example/quake-hits-the-coast", declared, None) == [
        "url:https://site.example/quake-hits-the-coast"]


def test_an_item_whose_link_others_share_is_keyed_by_its_own_link_fragment_and_all():
    assert story_keys("https://d.example/live#u1", None, None) == ["item:https://d.example/live#u1"]


def test_a_key_longer_than_the_store_keeps_is_its_start_and_its_digest():
    long_url = "https://d.example/" + "idlib/" * 200
    [key] = story_keys(long_url, None, None)
    other = story_keys(long_url + "more", None, None)[0]
    assert len(key) <= KEY_LENGTH and key.startswith("url:https://d.example/idlib/") and key != other
    assert story_keys(long_url + "?utm_source=rss", None, None) == [key]
