"""One function derives an article's title, language, fingerprint and matches: the reader and
triage agree because both call it, and triage does not derive again what the reader gave."""

from __future__ import annotations

import pytest
from sqlmodel import select

from newswatch import derive as derive_module
from newswatch import triage as triage_module
from newswatch.derive import derive, language_of, title_of, with_page
from newswatch.matching import WatchSpec, watch_index
from newswatch.models import Extracted, PageText
from newswatch.reading import read
from newswatch.store import session
from newswatch.store.tables import Article, Match
from newswatch.stories.similarity import fingerprint
from newswatch.triage import settle
from tests.newswatch.test_triage import NOW, configured
from tests.newswatch.test_triage_containment import TEXTS, stored

PAGE = b"""<html lang="de"><head><title>Page title</title></head><body><article><p>
Delegations met in Moscow on Tuesday to discuss the ceasefire around Idlib, officials said, and
agreed to meet again next week in Ankara to review the patrols along the M4 highway.</p><p>
The talks lasted six hours; neither side gave details of the maps exchanged, the officials said,
but both described the meeting as useful and the ceasefire as holding.</p></article></body></html>"""


def test_the_feed_title_wins_over_the_page_title_and_the_page_language_over_the_feed_and_source():
    assert title_of("Feed title", "Page title") == "Feed title"
    assert title_of("", "Page title") == "Page title"
    assert title_of(None, None) == ""
    assert language_of("de", "en", "fr") == "de"
    assert language_of(None, "", "fr") == "fr"
    assert language_of(None, None) is None


def test_derive_matches_only_given_an_index_and_fingerprints_as_the_story_stage_does():
    index = watch_index([WatchSpec("idlib", "idlib")])
    text = "Delegations met in Moscow to discuss Idlib. " * 20
    matched, unmatched = derive("Idlib talks", text, "en", "https://x.example/a", "x", index), derive(
        "Idlib talks", text, "en", "https://x.example/a", "x")
    assert [name for name, _ in matched.hits] == ["idlib"] and unmatched.hits is None
    assert matched.fingerprint == fingerprint("Idlib talks", text, "en", "https://x.example/a").to_bytes()
    assert matched.content_hash and matched.content_hash == unmatched.content_hash


def test_the_reader_derives_with_the_feed_title_and_the_page_language():
    reading = read(PAGE, "https://x.example/a", "Feed title", "en", True, "x")
    text = reading.extracted.text
    assert reading.fingerprint == derive("Feed title", text, "de", "https://x.example/a").fingerprint
    assert reading.fingerprint != derive("Page title", text, "de", "https://x.example/a").fingerprint


@pytest.mark.parametrize("given", [True, False])
def test_triage_derives_only_what_the_reader_did_not_give(database, monkeypatch, given):
    """With the reader's fingerprint and matches, triage derives nothing; without them, once."""
    config = configured(database)
    ids = stored(config, ["first"])
    title, text = TEXTS["first"]
    index = watch_index(config.watchlists, config.aliases)
    found = derive(title, text, "en", "https://duvar.example/first", "duvar", index)
    page = (PageText(ids[0], Extracted(text=text, language="en"), None, found.fingerprint, found.content_hash,
                     found.hits) if given else PageText(ids[0], Extracted(text=text, language="en")))
    calls = []
    monkeypatch.setattr(triage_module, "derive", lambda *args: calls.append(args) or derive_module.derive(*args))
    settle(config, index, ids, NOW, [page])
    assert len(calls) == (0 if given else 1)
    with session(config.database) as current:
        article = current.get(Article, ids[0])
        assert article.stage == "done" and article.fingerprint == found.fingerprint
        assert [m.watchlist for m in current.exec(select(Match))] == [name for name, _ in found.hits]


def test_a_page_leaves_its_article_with_the_feed_title_the_page_language_and_a_canonical_address():
    article = with_page(Article(source_id=1, url="https://x.example/a", title="Feed title", language="en",
                                summary="The summary.", fetched_at=NOW),
                        PageText(1, Extracted(text="Page text.", title="Page title", language="de",
                                              canonical_url="HTTPS://X.example/a?utm_source=rss")))
    assert (article.title, article.language, article.text, article.stage) == ("Feed title", "de", "Page text.",
                                                                             "extracted")
    assert article.canonical_url == "https://x.example/a"
    empty = with_page(Article(source_id=1, url="https://x.example/b", title="", summary="The summary.",
                              fetched_at=NOW), PageText(2, None, "fetch: 404"))
    assert (empty.text, empty.from_summary, empty.page_error) == ("The summary.", True, "fetch: 404")
