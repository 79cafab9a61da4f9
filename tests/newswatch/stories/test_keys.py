"""story_keys and text_hash: the identity keys of an article."""

from __future__ import annotations

import pytest

from newswatch.stories import story_keys, text_hash
from newswatch.stories.keys import KEY_LENGTH

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
