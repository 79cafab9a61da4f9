"""Feed entries as articles: their addresses (canonical, or a shared link's fragment), their GUID
keys, the feed text that stands for a shared link's page, and the links too long to keep."""

from __future__ import annotations

from hashlib import sha1

import pytest

from newswatch.entries import fits, new_articles
from newswatch.models import FeedEntry
from newswatch.stories import text_hash

KEY_LENGTH = 520  # a GUID of up to 500 characters is kept as it is
SUMMARY = "Two Turkish soldiers were killed by an air strike near Saraqib in Idlib."


def entry(url: str, guid: str | None = None, title: str = "Idlib", summary: str = SUMMARY) -> FeedEntry:
    return FeedEntry("duvar", url, guid, title, summary)


@pytest.mark.parametrize("entries, urls", [
    ([entry("https://d.example/a?utm_source=rss")], ["https://d.example/a"]),
    ([entry("https://d.example/a", "g1"), entry("https://d.example/b", "g2")], ["https://d.example/a",
                                                                              "https://d.example/b"]),
    ([entry("https://d.example/live", "u1"), entry("https://d.example/live?utm_source=rss", "u2")],
     ["https://d.example/live#u1", "https://d.example/live#u2"]),
    ([entry("https://d.example/a", "g1"), entry("https://d.example/a", "g1")],
     ["https://d.example/a", "https://d.example/a"]),
    ([entry("https://d.example/live", "a b/c"), entry("https://d.example/live", "x" * 65)],
     ["https://d.example/live#a%20b%2Fc", f"https://d.example/live#{sha1(b'x' * 65).hexdigest()[:16]}"]),
    ([entry(""), entry("https://d.example/a")], ["https://d.example/a"]),
    ([entry("http://d.example:abc/a")], ["http://d.example:abc/a"]),
], ids=["canonical", "own-links", "shared-link", "one-item-twice", "fragment-quoted-or-digested", "no-link",
        "no-valid-url"])
def test_addresses(entries, urls):
    assert [article.url for article in new_articles(7, entries, KEY_LENGTH)] == urls


def test_items_without_guids_are_told_apart_by_their_title_and_summary():
    first, second = new_articles(7, [entry("https://d.example/live", title="One"),
                                     entry("https://d.example/live", title="Two")], KEY_LENGTH)
    assert first.url != second.url and first.url.startswith("https://d.example/live#")
    assert (first.guid_key, second.guid_key) == (None, None)


def test_an_item_whose_link_others_share_starts_from_its_feed_text():
    shared, _ = new_articles(7, [entry("https://d.example/live", "u1"), entry("https://d.example/live", "u2",
                                                                              summary="")], KEY_LENGTH)
    assert (shared.from_feed, shared.text, shared.content_hash) == (True, SUMMARY, text_hash(SUMMARY))
    assert shared.page_error == "feed: other items share this link; the item's own text is used"
    _, titled = new_articles(7, [entry("https://d.example/live", "u1"), entry("https://d.example/live", "u2",
                                                                              summary="")], KEY_LENGTH)
    assert titled.text == "Idlib"
    (own,) = new_articles(7, [entry("https://d.example/a", "g1")], KEY_LENGTH)
    assert (own.from_feed, own.text, own.content_hash, own.page_error) == (False, None, None, None)


@pytest.mark.parametrize("guid, key", [
    (None, None),
    ("", None),
    ("urn:duvar:1", "7:urn:duvar:1"),
    ("g" * 500, "7:" + "g" * 500),
    ("g" * 501, f"7:sha1:{sha1(b'g' * 501).hexdigest()}"),
], ids=["none", "empty", "kept", "longest-kept", "digested"])
def test_guid_keys(guid, key):
    (article,) = new_articles(7, [entry("https://d.example/a", guid)], KEY_LENGTH)
    assert article.guid_key == key


@pytest.mark.parametrize("url, fit", [
    ("https://d.example/" + "x" * 917, True),
    ("https://d.example/" + "x" * 918, False),
    ("https://d.example/" + "x" * 917 + "?utm_source=rss", True),
], ids=["longest-kept", "too-long", "measured-canonical"])
def test_a_link_fits_with_room_for_a_shared_links_fragment(url, fit):
    assert fits(entry(url), 1000) is fit
