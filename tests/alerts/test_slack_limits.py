"""Slack's Block Kit limits hold for the worst alert we can make (issue 19, point 5): many
watchlists with many terms, a huge headline, a long snippet full of hits and markup, many outlets
with long URLs, and a digest of many such stories. Each limit is Slack's documented one
(docs.slack.dev "Blocks", "Composition objects", "chat.postMessage"); a payload over any of them
is refused with `invalid_blocks` or `invalid_payload`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from alerts import render
from newswatch.models import Alert

TEXT_OBJECT = 3000  # a section's text, a context element's text
HEADER = 150  # a header block's plain_text
BLOCKS = 50  # blocks in one message
FIELDS, FIELD_TEXT = 10, 2000  # a section's fields
CONTEXT_ELEMENTS = 10
FALLBACK = 40_000  # the message's top-level `text`


def worst(story: int, watchlists: int = 40, outlets: int = 200) -> Alert:
    snippet = " ".join(f"*Idlib* & <Erdogan> | `Putin` ~ {n} _talks_" for n in range(400))
    highlights = [(m, m + 7) for m in range(len(snippet)) if snippet.startswith("*Idlib*", m)]
    return Alert(
        watchlist="w0-" + "x" * 200, story_id=story, title="<Headline> & *bold* | " * 400,
        url="https://news.example/" + "a/" * 1500 + "?q=<x>|y", source="Outlet & <Co> " * 50,
        published=datetime(2020, 2, 28, 2, 40, tzinfo=UTC), terms=[f"term-{n}-" + "t" * 80 for n in range(30)],
        snippet=snippet, highlights=highlights,
        also_reported_by=[f"Outlet {n} <&> |*_~`" for n in range(outlets)],
        also_reports=tuple((f"Outlet {n} <&> |*_~`", f"https://o{n}.example/" + "p/" * 1000 + "?a=<b>|c")
                           for n in range(outlets)),
        watchlists=tuple((f"w{n}-" + "x" * 200, tuple(f"term-{m}-" + "t" * 80 for m in range(30)))
                         for n in range(watchlists)),
        delivery_id=story,
    )


def check_limits(payload: dict[str, Any]) -> None:
    assert len(payload["text"]) <= FALLBACK
    blocks = payload["blocks"]
    assert 1 <= len(blocks) <= BLOCKS
    for block in blocks:
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text" and 1 <= len(block["text"]["text"]) <= HEADER
        elif block["type"] == "section":
            if "text" in block:
                assert 1 <= len(block["text"]["text"]) <= TEXT_OBJECT
            fields = block.get("fields", [])
            assert len(fields) <= FIELDS and all(len(f["text"]) <= FIELD_TEXT for f in fields)
        elif block["type"] == "context":
            assert 1 <= len(block["elements"]) <= CONTEXT_ELEMENTS
            assert all(1 <= len(e["text"]) <= TEXT_OBJECT for e in block["elements"])
        else:
            pytest.fail(f"unexpected block {block['type']}")


@pytest.mark.parametrize(("watchlists", "outlets"), [(1, 0), (2, 1), (9, 10), (40, 200)],
                         ids=["one-watchlist", "two", "nine-watchlists-ten-outlets", "worst"])
def test_a_single_alert_stays_within_block_kits_limits(watchlists, outlets):
    payload = render.slack([worst(1, watchlists, outlets)])
    check_limits(payload)
    context = payload["blocks"][1]["elements"]
    if watchlists > 8:  # source and date, then eight watchlist elements, the last naming the rest
        assert context[-1]["text"].startswith(f"and {watchlists - 7} more watchlists: ")


@pytest.mark.parametrize("stories", [2, 60])
def test_a_digest_of_worst_alerts_stays_within_block_kits_limits(stories):
    payload = render.slack([worst(n) for n in range(1, stories + 1)], digest=True)
    check_limits(payload)
    assert sum(len(b["text"]["text"]) for b in payload["blocks"] if b["type"] == "section") <= 12_000


def test_also_reported_by_links_every_outlet_that_fits_and_names_the_others():
    alert = worst(1, 1, 200)
    alert = replace(alert, also_reports=tuple((name, url[:20] + url[-400:]) for name, url in alert.also_reports))
    also = render.slack([alert])["blocks"][-1]["elements"][0]["text"]
    assert also.startswith("also reported by 200 outlets: <https://o0.example/") and also.endswith(" and 190 more")
    assert "%3Cb%3E%7Cc|Outlet 0 &lt;&amp;&gt; ∣∗ˍ∼ˋ>" in also  # the URL's | < > encoded, the label inert
    assert 1 < also.count("<https://") < 10 and ", Outlet 9 &lt;&amp;&gt; |∗ˍ∼ˋ and" in also  # the rest named
