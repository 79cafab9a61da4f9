"""parse_feed: hand-written specification feeds (golden pairs), real-world feeds, encodings, attacks.

Regenerate the golden files after a deliberate change with
`UPDATE_GOLDEN=1 .venv/bin/pytest tests/connectors/test_feeds.py`, and review the diff like code.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import resource
import time
from datetime import timezone
from pathlib import Path

import pytest

from connectors.errors import FeedParseError
from connectors.feeds import parse_document, parse_feed

DATA = Path(__file__).parents[1] / "data" / "feeds"
URL = "http://example.com/feeds/main"


def as_json(entries: list) -> list[dict]:
    rows = [dataclasses.asdict(e) for e in entries]
    for row in rows:
        row["published"] = row["published"] and row["published"].isoformat()
    return rows


SPEC = sorted(p for p in (DATA / "spec").iterdir() if not p.name.endswith(".expected.json"))


@pytest.mark.parametrize("path", SPEC, ids=[p.name for p in SPEC])
def test_specification_feeds_match_their_golden_file(path: Path) -> None:
    got = as_json(parse_feed("spec", path.read_bytes(), URL))
    golden = path.with_name(path.name + ".expected.json")
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert got == json.loads(golden.read_text(encoding="utf-8"))


def test_rss_ttl_is_reported_for_the_fetcher() -> None:
    assert parse_document("spec", (DATA / "spec" / "rss20.xml").read_bytes(), URL).ttl == "45"


# Real-world feeds that must be refused, and why. Every other one must yield entries.
REFUSED = {
    "allthis-partial.json": "parse: not a feed (invalid JSON: ",  # truncated download
    "ScriptingNews.json": "parse: not a feed (JSON without a JSON Feed 'items' list)",  # RSS as JSON
    "authors.json": "parse: not a feed (4 entries, none with a title or a link)",
    "jsonfeed-extension.json": "parse: not a feed (3 entries, none with a title or a link)",  # summaries only
    "incomplete-fields.atom": "parse: not a feed (1 entries, none with a title or a link)",
    "missing-fields.atom": "parse: not a feed (1 entries, none with a title or a link)",
    "unrecognized.rss": "parse: not a feed (no RSS, Atom or JSON Feed structure; the XML parser says: "
                        "line 3:0: junk after document element)",
}
REAL = sorted([*(DATA / "rsparser").iterdir(), *(DATA / "rss-parser").iterdir()])


@pytest.mark.parametrize("path", REAL, ids=[f"{p.parent.name}/{p.name}" for p in REAL])
def test_real_world_feed(path: Path) -> None:
    body = path.read_bytes()
    if path.name in REFUSED:
        with pytest.raises(FeedParseError) as info:
            parse_feed("real", body, URL)
        assert str(info.value).startswith(REFUSED[path.name])
        return
    entries = parse_feed("real", body, URL)
    assert any(e.title or e.url for e in entries)
    for entry in entries:
        assert entry.source == "real"
        assert entry.title == " ".join(entry.title.split())
        assert "<p>" not in entry.summary and "&amp;" not in entry.summary
        assert entry.url == "" or entry.url.startswith(("http://", "https://"))
        assert entry.published is None or entry.published.tzinfo == timezone.utc
        assert entry.language is None or entry.language.isalpha()


@pytest.mark.parametrize(
    ("name", "title", "language"),
    [
        ("kc0011.rss", "建国35周年纪念，华表，和平鸽", "zh"),  # GB2312
        ("encoding-gb2312.xml", "拟298亿元重组盛大游戏后 世纪华通发20亿回购预案", "zh"),
        ("latin2.rss", "ZAŻÓŁĆ GĘSLĄ JAŹŃ", "pl"),  # ISO-8859-2
        ("encoding.rss", "Mãe de utente é a nova presidente da Raríssimas", "pt"),  # ISO-8859-1
        ("aktuality.rss", None, "sk"),
        ("heise.atom", None, None),
    ],
    ids=["gb2312", "gb2312-b", "latin2", "latin1", "slovak", "atom-german"],
)
def test_real_world_encodings(name: str, title: str | None, language: str | None) -> None:
    path = next(p for p in REAL if p.name == name)
    first = parse_feed("real", path.read_bytes(), URL)[0]
    if title is not None:
        assert first.title == title
    assert "\ufffd" not in first.title + first.summary
    assert first.language == language


# feedparser's test suite (BSD-2): (file, the Content-Type its Header line asks for, outcome:
# the (url, summary) of each entry, or the FeedParseError message).
SUITE = [
    ("http_text_xml_charset_2.xml", "text/xml; charset=windows-1252",
     [("http://purl.org/rss/2.0/?item", "This is a \xa3\u201ctest.\u201d")]),
    ("http_text_xml_charset_overrides_encoding_2.xml", "text/xml; charset=windows-1252",
     [("http://purl.org/rss/2.0/?item", "This is a \xa3\u201ctest.\u201d")]),
    ("utf-16le-bom.xml", None, []),
    ("utf-32be-autodetect.xml", None, []),
    ("http_i18n.xml", "application/xml", []),
    ("rss_item_link_corrupted_ampersands.xml", None, [("http://link/get?a=1&b=2", "")]),
    ("rss_incomplete_cdata.xml", None, "parse: not a feed (1 entries, none with a title or a link)"),
    ("euc-kr-item.xml", None, "parse: not a feed (1 entries, none with a title or a link)"),
]


@pytest.mark.parametrize(("name", "content_type", "outcome"), SUITE, ids=[e[0] for e in SUITE])
def test_feedparser_suite(name: str, content_type: str | None, outcome: list[tuple[str, str]] | str) -> None:
    body = (DATA / "feedparser" / name).read_bytes()
    if isinstance(outcome, str):
        with pytest.raises(FeedParseError, match=re.escape(outcome)):
            parse_feed("fp", body, URL, content_type)
    else:
        assert [(e.url, e.summary) for e in parse_feed("fp", body, URL, content_type)] == outcome


LATIN1_RSS = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    "<item><title>Café crème</title><link>http://example.com/c</link></item></channel></rss>"
)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (LATIN1_RSS.encode("latin-1"), "application/rss+xml; charset=utf-8"),
        (LATIN1_RSS.encode("utf-8"), "application/rss+xml; charset=iso-8859-1"),
        (LATIN1_RSS.encode("utf-8"), "text/xml"),
        (LATIN1_RSS.replace("?>", ' encoding="iso-8859-1"?>').encode("utf-8"), None),
        (LATIN1_RSS.encode("cp1252"), "application/rss+xml; charset=windows-1252"),
        (LATIN1_RSS.encode("utf-8"), "application/rss+xml; charset=utf-8"),
        (LATIN1_RSS.encode("utf-8"), "application/json"),
    ],
    ids=["latin1-declared-utf8", "utf8-declared-latin1", "utf8-text-xml", "utf8-xml-decl-latin1",
         "cp1252-right", "utf8-right", "xml-labelled-json"],
)
def test_mislabelled_charsets(body: bytes, content_type: str | None) -> None:
    assert parse_feed("s", body, URL, content_type)[0].title == "Café crème"


NOT_FEEDS = [
    (b"", None, "parse: not a feed (no RSS, Atom or JSON Feed structure"),
    (b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>Hi</p></body></html>", "text/html",
     "parse: not a feed (no RSS, Atom or JSON Feed structure"),
    (b"<!DOCTYPE html><html><body><p>Hi</p></body></html>", None,
     "parse: not a feed (no RSS, Atom or JSON Feed structure"),
    (bytes(range(256)) * 8, "application/octet-stream", "parse: not a feed (no RSS, Atom or JSON Feed"),
    (b'<?xml version="1.0"?><note><to>Tove</to></note>', "application/xml",
     "parse: not a feed (no RSS, Atom or JSON Feed structure"),
    (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Cut', "application/rss+xml",
     "parse: not a feed (a broken rss20 document with no entries: line 1:"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1", "ti', None,
     "parse: not a feed (invalid JSON: "),
    (b"[1, 2, 3]", "application/json", "parse: not a feed (JSON without a JSON Feed 'items' list)"),
    (b'{"items": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}", None, "parse: not a feed (JSON nested too deep"),
    (b'{"items": [{"id": ' + b"9" * 10_000 + b"}]}", None, "parse: not a feed (invalid JSON: "),
    (b"/etc/passwd", None, "parse: not a feed ("),  # feedparser would open a file of that name
    (b"http://127.0.0.1:9/feed.xml", None, "parse: not a feed ("),  # ... or fetch a URL
]


@pytest.mark.parametrize(
    ("body", "content_type", "reason"), NOT_FEEDS,
    ids=["empty", "html", "html-untyped", "random-bytes", "other-xml", "truncated-rss", "truncated-json",
         "json-array", "json-deep", "json-huge-number", "a-filename", "a-url"],
)
def test_documents_that_are_not_feeds(body: bytes, content_type: str | None, reason: str) -> None:
    with pytest.raises(FeedParseError) as info:
        parse_feed("s", body, URL, content_type)
    assert str(info.value).startswith(reason)


def test_bozo_feed_with_entries_is_accepted() -> None:
    body = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Fish & chips</title>'
            b"<item><title>Still here</title><link>http://example.com/a</link></item>")
    assert [e.title for e in parse_feed("s", body, URL)] == ["Still here"]


def test_a_guid_shared_by_items_with_different_links_identifies_none_of_them() -> None:
    items = [("One", "http://example.com/", "/1"), ("Two", "http://example.com/", "/2"),
             ("Three", "same", "/3"), ("Three again", "same", "/3"), ("Four", "four", "/4")]
    body = ('<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>' + "".join(
        f'<item><title>{t}</title><link>http://example.com{link}</link><guid isPermaLink="false">{g}</guid></item>'
        for t, g, link in items) + "</channel></rss>").encode()
    assert [(e.title, e.guid) for e in parse_feed("s", body, URL)] == [
        ("One", None), ("Two", None), ("Three", "same"), ("Three again", "same"), ("Four", "four")]
    as_json_feed = json.dumps({"items": [{"id": "x", "url": f"https://example.org/{n}"} for n in (1, 2)]})
    assert [e.guid for e in parse_feed("s", as_json_feed.encode(), URL)] == [None, None]


def test_no_field_keeps_a_nul_character_or_a_lone_surrogate() -> None:
    rss = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>Idlib\x00 talks</title>'
           b"<link>http://example.com/a\x00b</link><guid>g\x001</guid><description>a\x00b</description>"
           b"<author>x\x00@example.com (Ann)</author></item></channel></rss>")
    json_feed = (b'{"items": [{"id": "g\\u00001", "url": "http://example.com/j", "title": "Idlib\\u0000 j",'
                 b' "content_text": "half \\ud83d of an emoji, a whole one \\ud83d\\ude00"}]}')
    entries = parse_feed("s", rss, URL) + parse_feed("s", json_feed, URL)
    assert [e.title for e in entries] == ["Idlib talks", "Idlib j"]
    assert entries[1].summary == "half \ufffd of an emoji, a whole one \U0001F600"
    for value in (str(v) for e in entries for v in dataclasses.astuple(e)):
        value.encode("utf-8")  # no lone surrogate
        assert "\x00" not in value


@pytest.mark.parametrize("ref", [b"&#xD800;", b"&#57343;", b"&#x110000;", b"&#99999999999;"])
def test_a_reference_to_no_character_becomes_a_replacement_character(ref: bytes) -> None:
    body = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>Idlib ' + ref +
            b" &#0; talks &#8217;</title><link>http://example.com/a</link></item></channel></rss>")
    assert [e.title for e in parse_feed("s", body, URL)] == ["Idlib \ufffd talks \u2019"]


def test_a_failure_inside_feedparser_is_the_feeds_parse_error(monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")

    monkeypatch.setattr("connectors.feeds.feedparser.parse", broken)
    monkeypatch.setattr("connectors.feeds.parse_json_feed", broken)
    for body in (b"<rss/>", b'{"items": []}'):
        with pytest.raises(FeedParseError, match=r"^parse: the feed parser failed \(UnicodeEncodeError: "):
            parse_feed("s", body, URL)


def test_a_malformed_link_leaves_the_entry_without_one() -> None:
    body = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
            b"<item><title>Bad</title><link>http://[not-an-address/x</link></item>"
            b"<item><title>Blank</title><link>   </link></item>"
            b"<item><title>Good</title><link>http://example.com/g</link></item></channel></rss>")
    json_feed = (b'{"items": [{"id": "1", "url": "http://[::1/x", "title": "Bad too"},'
                 b' {"url": "  ", "title": "Blank too"}]}')
    assert [(e.title, e.url) for e in parse_feed("s", body, URL) + parse_feed("s", json_feed, URL)] == [
        ("Bad", ""), ("Blank", ""), ("Good", "http://example.com/g"), ("Bad too", ""), ("Blank too", "")]


def test_well_formed_empty_feed_is_an_empty_list() -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    assert parse_feed("s", body, URL) == []


def _laughs(levels: int) -> bytes:
    entities = "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, levels)
    )
    return (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol0 "lol">{entities}]>'
            f'<rss version="2.0"><channel><title>&lol{levels - 1};</title>'
            f"<item><title>Laugh &lol{levels - 1};</title><link>http://example.com/a</link></item>"
            "</channel></rss>").encode()


ATTACKS = [
    _laughs(10),  # "billion laughs": 10^9 expansions if resolved
    ('<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "' + "x" * 50_000 + '">]><rss version="2.0">'
     "<channel><item><title>" + "&a;" * 50_000 + "</title><link>http://example.com/a</link></item>"
     "</channel></rss>").encode(),  # quadratic blowup: 2.5 GB if resolved
    (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><rss version="2.0">'
     b"<channel><item><title>Leak &xxe;</title><link>http://example.com/a</link></item></channel></rss>"),
    # UTF-16 hides the DTD from our byte-level cut: expat's amplification cap (>= 2.4) must hold
    _laughs(10).decode().replace('version="1.0"?>', 'version="1.0" encoding="utf-16"?>').encode("utf-16"),
    (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>'
     b'<rss version="2.0"><channel><item><title>Remote DTD</title><link>http://example.com/a</link></item>'
     b"</channel></rss>"),
]


@pytest.mark.parametrize(
    "body", ATTACKS,
    ids=["billion-laughs", "quadratic-blowup", "xxe-file", "billion-laughs-utf16", "xxe-remote-dtd"],
)
def test_entity_attacks_do_no_harm(body: bytes) -> None:
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    started = time.perf_counter()
    try:
        entries = parse_feed("s", body, URL)
    except FeedParseError:
        entries = []
    elapsed = time.perf_counter() - started
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert elapsed < 10 and grown < 200_000
    text = " ".join(e.title + e.summary for e in entries)
    assert "lollol" not in text and "root:" not in text and len(text) < 1_000_000


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("2024-05-02T10:00:00Z", "2024-05-02T10:00:00+00:00"),
        ("2024-05-02T12:00:00.123456789+02:00", "2024-05-02T10:00:00.123456+00:00"),
        ("2024-05-02T10:00:00", "2024-05-02T10:00:00+00:00"),
        ("Thu, 02 May 2024 12:00:00 +0200", "2024-05-02T10:00:00+00:00"),
        ("yesterday", None),
        ("", None),
        ("0001-01-01T00:00:00+05:00", None),
        ("9999-12-31T23:59:59-05:00", None),
        # dates no publication has: `date ± story window` downstream would leave datetime's range
        ("0001-01-01T00:00:00Z", None),
        ("9999-12-31T23:59:59Z", None),
        ("1899-12-31T23:59:59Z", None),
        ("2999-01-01T00:00:00Z", None),
        ("Fri, 31 Dec 9999 23:59:59 GMT", None),
        ("1900-01-01T00:00:00Z", "1900-01-01T00:00:00+00:00"),
    ],
    ids=["rfc3339-z", "nanoseconds-offset", "no-zone", "rfc822", "garbage", "empty", "before-year-1-in-utc",
         "after-9999-in-utc", "year-1", "year-9999", "before-1900", "year-2999", "rfc822-year-9999", "year-1900"],
)
def test_json_feed_dates(date: str, expected: str | None) -> None:
    body = json.dumps({"items": [{"id": "1", "url": "https://example.org/1", "date_published": date}]})
    [entry] = parse_feed("s", body.encode(), URL)
    assert (entry.published and entry.published.isoformat()) == expected
