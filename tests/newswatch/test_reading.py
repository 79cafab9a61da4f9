"""read(): a page's text with the fingerprint and hash triage would compute from it."""

from __future__ import annotations

import gzip
import json
import pickle
from pathlib import Path

import newswatch.reading
from newswatch.reading import ReadFailure, Reading, read, read_all
from newswatch.stories import text_hash
from newswatch.stories.similarity import Fingerprint, fingerprint

PAGES = Path(__file__).parents[1] / "data" / "pages" / "scrapinghub"
KEY, PAGE = next(iter(sorted(json.loads((PAGES / "ground-truth.json").read_text(encoding="utf-8")).items())))
HTML = gzip.decompress((PAGES / f"{KEY}.html.gz").read_bytes())


def test_the_fingerprint_and_hash_are_those_of_the_text_under_the_feed_title():
    reading = read(HTML, PAGE["url"], "A feed title", "en")
    assert reading is not None
    text = reading.extracted.text
    assert reading.fingerprint == fingerprint("A feed title", text, reading.extracted.language or "en").to_bytes()
    assert reading.content_hash == text_hash(text)
    Fingerprint.from_bytes(reading.fingerprint)


def test_without_a_feed_title_the_page_title_is_fingerprinted():
    """With the page's address as its site: the outlet's own name is no evidence (stories.similarity)."""
    reading = read(HTML, PAGE["url"], "", None)
    assert reading is not None and reading.extracted.title
    assert reading.fingerprint == fingerprint(reading.extracted.title, reading.extracted.text,
                                              reading.extracted.language, PAGE["url"]).to_bytes()


def test_metadata_is_looked_for_only_when_asked():
    assert read(HTML, PAGE["url"], "t", "en", metadata=False).extracted.title is None
    assert read(HTML, PAGE["url"], "t", "en", metadata=True).extracted.title


def test_a_page_without_an_article_reads_as_none_and_a_reading_pickles():
    assert read(b"<html><body><nav>Home</nav></body></html>", "https://x.example/", "t", None) is None
    reading = read(HTML, PAGE["url"], "t", "en")
    assert pickle.loads(pickle.dumps(reading)) == reading


def test_a_reader_given_the_watch_index_matches_what_it_reads_as_triage_would():
    from newswatch.matching import WatchIndex, WatchSpec
    from newswatch.models import Document

    plain = read(HTML, PAGE["url"], "A feed title", "en", source="wire")
    assert plain.hits is None  # no index here: triage matches
    word = max(plain.extracted.text.split(), key=len).strip(".,;:\"'()")
    index = WatchIndex([WatchSpec("found", word), WatchSpec("elsewhere", word, sources=["other"]),
                        WatchSpec("absent", "zzyzx")])
    matched = read(HTML, PAGE["url"], "A feed title", "en", source="wire", index=index)
    expected = index.match(Document("A feed title", matched.extracted.text, matched.extracted.language or "en", "wire"))
    assert [name for name, _ in matched.hits] == ["found"] and list(matched.hits) == expected


def test_a_reader_that_raises_is_that_pages_failure_not_its_submissions(monkeypatch):
    real = newswatch.reading.extract
    monkeypatch.setattr(newswatch.reading, "extract",
                        lambda body, url, metadata=True: 1 / 0 if "broken" in url else real(body, url, metadata))
    good, broken = read_all([(HTML, PAGE["url"], "t", "en"), (HTML, "https://x.example/broken", "t", "en")])
    assert isinstance(good, Reading)
    assert broken == ReadFailure("extract: unexpected ZeroDivisionError (division by zero)")
