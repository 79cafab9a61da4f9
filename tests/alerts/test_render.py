"""Rendering: golden files per channel shape, plus the rules golden files cannot show at a glance
(escaping, limits, highlight repair, template override)."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from datetime import datetime, timezone

import pytest
from rich.console import Console

from alerts import render
from tests.alerts.samples import ALERTS, DIGEST

CASES = sorted(ALERTS)


def _dump(payload: object) -> str:
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def _slack_texts(payload: dict) -> list[str]:
    texts = []
    for block in payload["blocks"]:
        if "text" in block:
            texts.append(block["text"]["text"])
        texts += [e["text"] for e in block.get("elements", [])]
    return texts


# -- golden files ------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES)
def test_slack_golden(case, golden):
    golden(f"slack/{case}.json", _dump(render.slack([ALERTS[case]])))


def test_slack_digest_golden(golden):
    golden("slack/digest.json", _dump(render.slack(DIGEST, digest=True)))


@pytest.mark.parametrize("case", CASES)
def test_email_golden(case, golden):
    content = render.email([ALERTS[case]])
    golden(f"email/{case}.txt", content.text)
    golden(f"email/{case}.html", content.html)


def test_email_digest_golden(golden):
    content = render.email(DIGEST, digest=True)
    golden("email/digest.txt", content.text)
    golden("email/digest.html", content.html)


@pytest.mark.parametrize("case", [*CASES, "digest"])
def test_markdown_golden(case, golden):
    alerts, digest = (DIGEST, True) if case == "digest" else ([ALERTS[case]], False)
    title, body = render.markdown(alerts, digest)
    golden(f"apprise/{case}.md", f"# {title}\n\n{body}\n")


@pytest.mark.parametrize("case", [*CASES, "digest"])
def test_console_golden(case, golden):
    out = io.StringIO()
    alerts, digest = (DIGEST, True) if case == "digest" else ([ALERTS[case]], False)
    renderable = render.console(alerts, digest)
    Console(file=out, width=100, color_system=None, highlight=False).print(renderable)
    golden(f"console/{case}.txt", out.getvalue())


# -- slack rules -------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("a & b", "a &amp; b"),
    ("<b>x</b>", "&lt;b&gt;x&lt;/b&gt;"),
    ("it's \"quoted\"", "it's \"quoted\""),  # nothing else is entity-encoded
    ("&amp;", "&amp;amp;"),  # text, not markup: escaped again
    ("çok güzel — نفط", "çok güzel — نفط"),
], ids=["ampersand", "angle-brackets", "quotes-untouched", "entity-escaped-again", "unicode"])
def test_slack_escape(text, expected):
    assert render.slack_escape(text) == expected


@pytest.mark.parametrize("title", [
    "Profits *soar* at Acme",
    "snake_case _italic_ title",
    "A | B | C",
    "Shares > $10 and < $20",
    "`code` and ~strike~",
    "<https://evil.example|click me>",
], ids=["asterisks", "underscores", "pipes", "angle-brackets", "backtick-tilde", "fake-link"])
def test_slack_title_cannot_break_the_link(title):
    alert = replace(ALERTS["escaping"], title=title)
    headline = render.slack([alert])["blocks"][0]["text"]["text"]
    match = re.fullmatch(r"\*<([^|<>]+)\|([^<>]*)>\*", headline)
    assert match, headline
    url, label = match.groups()
    assert url == "https://news.example.com/business/acme-q3?utm_source=rss&amp;id=42"
    assert not set(label) & set("*_~`|<>")


def test_slack_hits_are_bold_and_escaped_before_marking():
    text = render.slack([ALERTS["escaping"]])["blocks"][2]["text"]["text"]
    assert text.startswith("*Acme* &amp; Sons said")
    assert "*profits*" in text and "*&lt;widgets&gt;*" in text
    assert "∗best∗" in text  # the snippet's own asterisks cannot pair with ours


def test_slack_unsafe_url_is_not_linked():
    payload = render.slack(DIGEST, digest=True)
    assert "javascript:" not in json.dumps(payload)


def test_slack_limits_for_long_texts():
    payload = render.slack([ALERTS["long"]])
    for text in _slack_texts(payload):
        assert len(text) <= render.SLACK_TEXT_MAX
    snippet = payload["blocks"][2]["text"]["text"]
    assert snippet.endswith("…")
    assert payload["blocks"][0]["text"]["text"].endswith("…>*")  # headline cut too
    assert "and 15 more" in payload["blocks"][3]["elements"][0]["text"]


def test_slack_cuts_escaped_text_to_the_section_limit():
    snippet = "&<>" * 330 + "Acme" + " & more" * 50  # 1,000 characters, 4,000 once escaped
    alert = replace(ALERTS["escaping"], snippet=snippet, highlights=[(0, 6), (990, 994)])
    text = render.slack([alert])["blocks"][2]["text"]["text"]
    assert len(text) <= render.SLACK_TEXT_MAX and text.endswith("…")
    assert text.startswith("*&amp;&lt;&gt;&amp;&lt;&gt;*")
    assert not re.search(r"&[a-z]{0,3}…", text)  # never cut inside an entity
    assert text.count("*") == 2  # the second hit is cut away whole, no dangling marker


@pytest.mark.parametrize("count", [1, 3, 49, 50, 120])
def test_slack_digest_block_limit(count):
    alerts = [replace(DIGEST[1], story_id=n, title=f"Story {n}") for n in range(count)]
    blocks = render.slack(alerts, digest=True)["blocks"]
    assert len(blocks) <= render.SLACK_BLOCKS_MAX
    assert blocks[0]["text"]["text"] == f"{count} stories for acme"
    shown = sum(1 for b in blocks if b["type"] == "section")
    if shown < count:
        assert blocks[-1]["elements"][0]["text"] == f"and {count - shown} more"
    else:
        assert blocks[-1]["type"] == "section"


def test_slack_digest_stops_at_total_size():
    alerts = [replace(ALERTS["long"], story_id=n) for n in range(48)]
    payload = render.slack(alerts, digest=True)
    assert sum(len(t) for t in _slack_texts(payload)) <= render.SLACK_DIGEST_CHARS + 200
    assert payload["blocks"][-1]["elements"][0]["text"].startswith("and ")


def test_slack_header_is_cut_to_150():
    alerts = [replace(DIGEST[1], watchlist="w" * 300)] * 2
    header = render.slack(alerts, digest=True)["blocks"][0]["text"]["text"]
    assert len(header) == render.SLACK_HEADER_MAX and header.endswith("…")


# -- shared rules ------------------------------------------------------------------------------

@pytest.mark.parametrize(("highlights", "expected"), [
    ([], [("Acme buys Widget Co", False)]),
    ([(0, 4)], [("Acme", True), (" buys Widget Co", False)]),
    ([(10, 16), (0, 4)], [("Acme", True), (" buys ", False), ("Widget", True), (" Co", False)]),
    ([(0, 6), (2, 9)], [("Acme buys", True), (" Widget Co", False)]),
    ([(-5, 4), (17, 99)], [("Acme", True), (" buys Widget ", False), ("Co", True)]),
    ([(5, 5), (9, 3)], [("Acme buys Widget Co", False)]),
    ([(4, 10)], [("Acme ", False), ("buys", True), (" Widget Co", False)]),
], ids=["none", "one", "unsorted", "overlapping", "out-of-range", "empty-or-reversed",
        "spaces-moved-out"])
def test_segments(highlights, expected):
    assert render.segments("Acme buys Widget Co", highlights) == expected


def test_segments_fold_whitespace():
    assert render.segments("a\r\n\tb  c", [(7, 8)]) == [("a b ", False), ("c", True)]


@pytest.mark.parametrize("case", CASES)
def test_email_subject_is_one_line(case):
    subject = render.email([ALERTS[case]]).subject
    assert "\r" not in subject and "\n" not in subject
    assert subject.startswith(f"[newswatch] {ALERTS[case].watchlist}: ")
    assert len(subject) <= 200


def test_email_digest_subject():
    assert render.email(DIGEST, digest=True).subject == "[newswatch] acme: 3 stories"


def test_email_html_is_escaped():
    html = render.email([ALERTS["escaping"]]).html
    assert "<b>record</b>" not in html and "&lt;b&gt;record&lt;/b&gt;" in html
    assert "<b>&lt;widgets&gt;</b>" in html
    assert 'href="https://news.example.com/business/acme-q3?utm_source=rss&amp;id=42"' in html


def test_email_html_links_only_http():
    html = render.email(DIGEST, digest=True).html
    assert "javascript:" not in html


def test_arabic_and_turkish_survive_intact():
    assert "أوبك+ تتفق على خفض" in render.email([ALERTS["arabic"]]).html
    assert "<b>İstanbul</b>" in render.email([ALERTS["turkish"]]).html
    # published 15:49 at +03:00 is shown in UTC
    assert "2026-04-23 12:49 UTC" in render.email([ALERTS["turkish"]]).text


@pytest.mark.parametrize(("story_id", "watchlist", "revision", "expected"), [
    (7, "acme", 0, ("<story-7.acme@newswatch>", None)),
    (7, "acme", 2, ("<story-7.acme.r2@newswatch>", "<story-7.acme@newswatch>")),
    (7, "energy.eu", 0, ("<story-7.energy.eu@newswatch>", None)),
    (7, "a b<c>@d", 0, ("<story-7.a-b-c-d@newswatch>", None)),
], ids=["root", "follow-up", "dotted-name", "unsafe-name"])
def test_message_ids(story_id, watchlist, revision, expected):
    assert render.message_ids(story_id, watchlist, revision) == expected


def test_digest_message_id_is_deterministic_and_its_own():
    first = render.digest_message_id(DIGEST)
    assert first == render.digest_message_id(list(reversed(DIGEST)))
    assert first != render.digest_message_id(DIGEST[:2])
    assert re.fullmatch(r"<digest-[0-9a-f]{16}\.acme@newswatch>", first)


def test_record_has_the_documented_keys():
    sent_at = datetime(2026, 3, 14, 10, 0, tzinfo=timezone.utc)
    record = render.record(ALERTS["arabic"], sent_at)
    assert record["published"] is None and record["sent_at"] == "2026-03-14T10:00:00+00:00"
    assert set(record) >= {"watchlist", "story_id", "title", "url", "source", "published", "terms",
                           "snippet", "highlights", "also_reported_by", "revision", "sent_at"}
    assert record["revision"] == 0 and record["title"] == ALERTS["arabic"].title
    json.dumps(record)


def test_atom_entry():
    entry = render.atom_entry(ALERTS["escaping"])
    assert entry["id"] == "tag:newswatch,2026:story-101-acme"
    assert "\n" not in entry["title"]
    assert "<b>Acme</b>" in entry["summary_html"]


@pytest.mark.parametrize("digest", [False, True], ids=["single", "digest"])
def test_render_refuses_a_wrong_count(digest):
    with pytest.raises(ValueError):
        render.slack([] if digest else DIGEST, digest=digest)


# -- templates ---------------------------------------------------------------------------------

def test_template_directory_overrides_one_template(tmp_path):
    (tmp_path / "alert.txt").write_text("STORY {{ a.title }}\n", encoding="utf-8")
    content = render.email([ALERTS["turkish"]], templates=tmp_path)
    assert content.text.startswith("STORY İstanbul'da")
    assert "<!DOCTYPE html>" in content.html  # email.html still the built-in one


def test_set_template_dir(tmp_path):
    (tmp_path / "email.html").write_text("<p>{{ alerts[0].title }}</p>", encoding="utf-8")
    render.set_template_dir(tmp_path)
    assert render.email([ALERTS["escaping"]]).html.startswith("<p>Acme &amp; Sons")
    render.set_template_dir(None)
    assert render.email([ALERTS["escaping"]]).html.startswith("<!DOCTYPE html>")
