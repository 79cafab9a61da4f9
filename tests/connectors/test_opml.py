"""The OPML codec: real feed readers' lists, every outline shape they write, hostile files, and
write → parse giving back what went in."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from lxml import etree

from connectors import opml
from connectors.opml import OpmlError, parse_opml, write_opml
from newswatch.config.importing import Subscription
from tests.conftest import ROOT

# real subscription lists, read where they live (beside the repository), never copied into it
REAL = ROOT.parent / "shared" / "data" / "rsparser-realworld-feeds" / "opml"


@pytest.fixture(scope="module")
def real() -> Path:
    if not (REAL / "Subs.opml").is_file() or not (REAL / "SubsNoTitleAttributes.opml").is_file():
        pytest.fail(f"the real OPML files are missing: expected Subs.opml and SubsNoTitleAttributes.opml "
                    f"in {REAL} (the shared data folder beside the repository)")
    return REAL


def doc(body: str, version: str = "2.0", head: str = "<head><title>Mine</title></head>") -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?><opml version="{version}">{head}<body>{body}</body></opml>'.encode()


def test_a_real_list_reads_whole_with_its_folders(real):
    parsed = parse_opml((real / "Subs.opml").read_bytes())
    assert parsed.title == "Subs" and parsed.problems == []
    assert len(parsed.feeds) == 207
    first = parsed.feeds[0]
    assert (first.title, first.url, first.html_url, first.category) == (
        "Daring Fireball", "http://daringfireball.net/feeds/main", "http://daringfireball.net/", ())
    assert {f.category for f in parsed.feeds} == {(), ("Programming",), ("Macintosh",), ("Weblogs",), ("Writers",)}
    assert any(f.title == "chat & code" for f in parsed.feeds)  # &amp; in an attribute
    assert all(f.enabled and f.line for f in parsed.feeds)


def test_a_list_without_title_attributes_gives_the_same_feeds(real):
    with_titles = parse_opml((real / "Subs.opml").read_bytes()).feeds
    without = parse_opml((real / "SubsNoTitleAttributes.opml").read_bytes()).feeds
    assert [(f.url, f.title, f.category) for f in without] == [(f.url, f.title, f.category) for f in with_titles]


@pytest.mark.parametrize(("body", "expected"), [
    ('<outline text="A" xmlUrl="https://a.example/feed"/>', [("A", "https://a.example/feed", ())]),
    ('<outline text="A" xmlurl="https://a.example/feed"/>', [("A", "https://a.example/feed", ())]),
    ('<outline text="A" XMLURL="https://a.example/feed"/>', [("A", "https://a.example/feed", ())]),
    ('<outline title="Only title" xmlUrl="https://a.example/feed"/>', [("Only title", "https://a.example/feed", ())]),
    ('<outline text="Shown" title="Original" xmlUrl="https://a.example/feed"/>',
     [("Shown", "https://a.example/feed", ())]),
    ('<outline xmlUrl="https://a.example/feed"/>', [("", "https://a.example/feed", ())]),
    ('<outline text="  Many \n spaces  " xmlUrl=" https://a.example/feed "/>',
     [("Many spaces", "https://a.example/feed", ())]),
    (('<outline text="News"><outline text="Turkey"><outline text="A" type="atom" xmlUrl="https://a.example/a"/>'
      '</outline><outline text="B" xmlUrl="https://b.example/b"/></outline><outline text="C" xmlUrl="https://c.example/"/>'),
     [("A", "https://a.example/a", ("News", "Turkey")), ("B", "https://b.example/b", ("News",)),
      ("C", "https://c.example/", ())]),
    ('<outline title="Folder by title"><outline text="A" xmlUrl="https://a.example/"/></outline>',
     [("A", "https://a.example/", ("Folder by title",))]),
    ('<outline><outline text="A" xmlUrl="https://a.example/"/></outline>', [("A", "https://a.example/", ())]),
    ('<outline text="a &amp; b" xmlUrl="https://a.example/?x=1&amp;y=2&#38;z=3&#x26;w=4"/>',
     [("a & b", "https://a.example/?x=1&y=2&z=3&w=4", ())]),
    ('<outline text="A" xmlUrl="feed://a.example/rss"/><outline text="B" xmlUrl="feed:https://b.example/rss"/>',
     [("A", "http://a.example/rss", ()), ("B", "https://b.example/rss", ())]),
    ('<outline text="Old" type="rss" url="https://a.example/rss"/>', [("Old", "https://a.example/rss", ())]),
    ('<outline text="Loud" xmlUrl="HTTPS://A.example/RSS"/>', [("Loud", "https://A.example/RSS", ())]),
    ('<outline text="İstanbul ☕" xmlUrl="https://a.example/"/>', [("İstanbul ☕", "https://a.example/", ())]),
], ids=["xmlUrl", "xmlurl", "XMLURL", "title-only", "text-wins", "no-title", "whitespace", "nested-folders",
        "folder-title", "untitled-folder", "entities", "feed-scheme", "url-attribute", "upper-scheme", "unicode"])
def test_outline_shapes(body, expected):
    parsed = parse_opml(doc(body))
    assert [(f.title, f.url, f.category) for f in parsed.feeds] == expected
    assert parsed.problems == []


@pytest.mark.parametrize(("body", "problem"), [
    ('<outline text="Bad" xmlUrl="javascript:alert(1)"/>', "line 1: Bad: xmlUrl 'javascript:alert(1)' is not an http(s) URL"),
    ('<outline text="Rel" xmlUrl="/feed.xml"/>', "is not an http(s) URL"),
    ('<outline text="Ftp" xmlUrl="ftp://a.example/feed"/>', "is not an http(s) URL"),
    ('<outline text="Empty" xmlUrl=""/>', "is not an http(s) URL"),
    ('<outline text="Port" xmlUrl="http://a.example:port/feed"/>', "is not an http(s) URL"),
    ('<outline text="Bracket" xmlUrl="http://[a.example/feed"/>', "is not an http(s) URL"),
    ('<outline text="Space" xmlUrl="http://a.example/a feed"/>', "is not an http(s) URL"),
    ('<outline text="Nothing"/>', "Nothing: no xmlUrl and nothing inside"),
    ('<outline text="More" type="include" url="https://a.example/more.opml"/>', "More: a include outline, not a feed"),
    ('<outline text="Site" type="link" url="https://a.example/"/>', "Site: a link outline, not a feed"),
], ids=["javascript", "relative", "ftp", "empty", "port", "bracket", "space", "empty-outline", "include", "link"])
def test_malformed_outlines_are_reported_and_the_rest_kept(body, problem):
    parsed = parse_opml(doc(body + '<outline text="Good" xmlUrl="https://good.example/rss"/>'))
    assert [f.url for f in parsed.feeds] == ["https://good.example/rss"]
    assert len(parsed.problems) == 1 and problem in parsed.problems[0]


def test_commented_outlines_come_back_disabled_with_their_children():
    parsed = parse_opml(doc('<outline text="A" isComment="true" xmlUrl="https://a.example/"/>'
                            '<outline text="Off" iscomment="TRUE"><outline text="B" xmlUrl="https://b.example/"/></outline>'
                            '<outline text="C" isComment="false" xmlUrl="https://c.example/"/>'))
    assert [(f.title, f.enabled) for f in parsed.feeds] == [("A", False), ("B", False), ("C", True)]


def test_language_is_kept_when_it_is_a_language_tag():
    parsed = parse_opml(doc('<outline text="A" language="tr" xmlUrl="https://a.example/"/>'
                            '<outline text="B" language="unknown" xmlUrl="https://b.example/"/>'
                            '<outline text="C" language="pt-BR" xmlUrl="https://c.example/"/>'))
    assert [f.language for f in parsed.feeds] == ["tr", None, "pt-BR"]


@pytest.mark.parametrize("data", [
    (b'<?xml version="1.0"?><opml version="1.0"><head><title>Mine</title></head><body>'
     b'<outline text="A" type="rss" xmlUrl="https://a.example/"/></body></opml>'),
    (b'<opml xmlns="http://example.org/opml" version="2.0"><head><title>Mine</title></head><body>'
     b'<outline text="A" xmlUrl="https://a.example/"/></body></opml>'),
    b'<opml version="2.0"><head><title>Mine</title></head><outline text="A" xmlUrl="https://a.example/"/></opml>',
    ('<?xml version="1.0" encoding="UTF-16"?><opml version="2.0"><head><title>Mine</title></head><body>'
     '<outline text="A" xmlUrl="https://a.example/"/></body></opml>').encode("utf-16"),
    (b'\xef\xbb\xbf<opml version="2.0"><head><title>Mine</title><!-- a comment --></head><body>'
     b'<?pi x?><outline text="A" xmlUrl="https://a.example/"/></body></opml>'),
], ids=["opml-1.0", "namespace", "no-body", "utf-16", "bom-comment-pi"])
def test_writers_variants(data):
    parsed = parse_opml(data)
    assert parsed.title == "Mine" and [(f.title, f.url) for f in parsed.feeds] == [("A", "https://a.example/")]


LAUGHS = ('<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY e0 "lollollollol">'
          + "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 10))
          + ']><opml version="2.0"><body><outline text="&e9;" xmlUrl="https://a.example/"/></body></opml>')
QUADRATIC = ('<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "' + "x" * 50_000 + '">]><opml><body>'
             '<outline text="' + "&a;" * 10_000 + '" xmlUrl="https://a.example/"/></body></opml>')
XXE = ('<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       '<opml><body><outline text="&x;" xmlUrl="https://a.example/"/></body></opml>')
XXE_NETWORK = ('<?xml version="1.0"?><!DOCTYPE opml SYSTEM "http://127.0.0.1:9/evil.dtd">'
               '<opml><body><outline text="&evil;" xmlUrl="https://a.example/"/></body></opml>')
ONE_ENTITY = ('<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY n "News">]>'
              '<opml><body><outline text="&n;" xmlUrl="https://a.example/"/></body></opml>')


@pytest.mark.parametrize(("data", "message"), [
    (b"", "not well-formed XML"),
    (b"<opml><body><outline text='A' xmlUrl='https://a.example/'></body></opml>", "not well-formed XML"),
    (b"<opml><body><outline text='a & b' xmlUrl='https://a.example/'/></body></opml>", "not well-formed XML"),
    (b"<opml><body><outline text='&nbsp;' xmlUrl='https://a.example/'/></body></opml>", "not well-formed XML"),
    (b"just text", "not well-formed XML"),
    (b"<rss version='2.0'><channel/></rss>", "not an OPML document (its root is <rss>)"),
    (b"<html><body><outline xmlUrl='https://a.example/'/></body></html>", "not an OPML document"),
    # libxml2's amplification limit stops these (its wording varies by version)
    (LAUGHS.encode(), "not well-formed XML"),
    (QUADRATIC.encode(), "not well-formed XML"),
    (XXE.encode(), "not well-formed XML"),
    (XXE_NETWORK.encode(), "names an external DTD (http://127.0.0.1:9/evil.dtd)"),
    (ONE_ENTITY.encode(), "declares XML entities"),
], ids=["empty", "unclosed", "bare-ampersand", "undefined-entity", "text", "rss", "html", "billion-laughs",
        "quadratic", "xxe-file", "xxe-network", "entity-declared"])
def test_unreadable_and_hostile_files_are_refused(tmp_path, data, message):
    path = tmp_path / "hostile.opml"
    path.write_bytes(data)
    started = time.monotonic()
    with pytest.raises(OpmlError, match=re.escape(message)) as refused:
        parse_opml(path.read_bytes())
    assert time.monotonic() - started < 2
    assert "root:" not in str(refused.value)  # no file's content leaks: /etc/passwd starts with root:


def test_a_broken_file_says_where(tmp_path):
    with pytest.raises(OpmlError, match=r"^not well-formed XML: line 4, column 1: "):
        parse_opml(b'<opml version="2.0">\n<body>\n<outline text="A" xmlUrl="x"\n</body></opml>')


def test_a_file_over_the_size_cap_is_refused(monkeypatch):
    monkeypatch.setattr(opml, "MAX_BYTES", 100)
    with pytest.raises(OpmlError, match="larger than"):
        parse_opml(doc("<outline/>" * 20))


def test_a_huge_list_parses_quickly():
    body = "".join(f'<outline text="Folder {f}">' + "".join(
        f'<outline text="Feed {f}-{i}" type="rss" xmlUrl="https://host{f}.example/feed/{i}"/>' for i in range(500))
        + "</outline>" for f in range(100))
    started = time.monotonic()
    parsed = parse_opml(doc(body))
    assert len(parsed.feeds) == 50_000 and parsed.feeds[-1].category == ("Folder 99",)
    assert time.monotonic() - started < 10


FEEDS = [
    Subscription(url="https://a.example/rss?x=1&y=2", title="Ampersand & <angle> \"quotes\"", html_url="https://a.example/"),
    Subscription(url="https://b.example/feed", title="b", language="tr", category=("News", "Turkey")),
    Subscription(url="https://c.example/feed", title="c", category=("News",), enabled=False),
    Subscription(url="https://d.example/feed", title="d", category=("News", "Turkey")),
    Subscription(url="https://e.example/feed", title="İstanbul ☕ bell\x07", category=("Other",)),
]


def test_write_then_parse_gives_the_feeds_back():
    now = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    data = write_opml(FEEDS, "newswatch & co", now)
    root = etree.fromstring(data)
    assert root.get("version") == "2.0" and data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert root.findtext("head/title") == "newswatch & co"
    assert parsedate_to_datetime(root.findtext("head/dateCreated")) == now
    assert [o.get("text") for o in root.find("body")] == ["Ampersand & <angle> \"quotes\"", "News", "Other"]
    parsed = parse_opml(data)
    assert parsed.title == "newswatch & co" and parsed.problems == []
    got = [(f.url, f.title, f.html_url, f.language, f.category, f.enabled) for f in parsed.feeds]
    expected_order = [FEEDS[0], FEEDS[1], FEEDS[3], FEEDS[2], FEEDS[4]]  # grouped by folder, first seen first
    assert got == [(f.url, f.title.replace("\x07", ""), f.html_url, f.language, f.category, f.enabled)
                   for f in expected_order]
    assert all(o.get("type") == "rss" for o in root.iter("outline") if o.get("xmlUrl"))


def test_write_of_nothing_is_an_empty_body():
    parsed = parse_opml(write_opml([], "empty", datetime(2026, 1, 1, tzinfo=UTC)))
    assert parsed.feeds == [] and parsed.title == "empty"
