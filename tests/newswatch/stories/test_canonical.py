from __future__ import annotations

import pytest

from newswatch.stories import canonical_url, story_keys, text_hash
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
    keys = story_keys("https://a.example/x?utm_source=rss", "https://b.example/y", text_hash(LONG))
    assert keys == ["url:https://a.example/x", "url:https://b.example/y", f"text:{text_hash(LONG)}"]


def test_an_item_whose_link_others_share_is_keyed_by_its_own_link_fragment_and_all():
    assert story_keys("https://d.example/live#u1", None, None) == ["item:https://d.example/live#u1"]


def test_a_key_longer_than_the_store_keeps_is_its_start_and_its_digest():
    long_url = "https://d.example/" + "idlib/" * 200
    [key] = story_keys(long_url, None, None)
    other = story_keys(long_url + "more", None, None)[0]
    assert len(key) <= KEY_LENGTH and key.startswith("url:https://d.example/idlib/") and key != other
    assert story_keys(long_url + "?utm_source=rss", None, None) == [key]
