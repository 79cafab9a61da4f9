"""The snippet comes from the body (issue 19, point 5): extraction puts the headline at the start of
an article's text, and the alert shows the headline already, so the snippet skips it, its
highlights still on the matched words."""

from __future__ import annotations

import pytest

from newswatch.extract import extract
from newswatch.matching import compile_query
from newswatch.matching.snippet import body_start
from newswatch.models import Document
from tests.conftest import SEEDS

TITLE = "33 Turkish soldiers killed in Syria's Idlib; Ankara hits back"
BODY = "At least 33 Turkish soldiers were killed in an air strike in Idlib, the governor said."


def shown(query: str, doc: Document) -> tuple[str, list[str]]:
    hit = compile_query(query).evaluate(doc)
    assert hit is not None
    return hit.snippet, [hit.snippet[a:b] for a, b in hit.highlights]


@pytest.mark.parametrize(("title", "text", "query", "snippet", "highlighted"), [
    (TITLE, f"{TITLE}\n{BODY}", "Idlib", BODY, ["Idlib"]),
    (TITLE, f"{TITLE}.\n\n  {BODY}", "Ankara", BODY, []),  # only in the headline: the body's start
    (TITLE.upper(), f"“{TITLE}” – {BODY}", "soldiers", BODY, ["soldiers"]),
    (TITLE, BODY, "Idlib", BODY, ["Idlib"]),  # no headline in the text
    (TITLE, "", "Idlib", TITLE, ["Idlib"]),  # no body: the title
    (TITLE, TITLE, "Ankara", TITLE, ["Ankara"]),  # the text is only the headline
    ("Idlib", "Idlib talks resume. " + BODY, "Idlib", "Idlib talks resume. " + BODY, ["Idlib", "Idlib"]),
], ids=["headline-then-body", "hit-only-in-headline", "headline-quoted-and-cased", "no-headline", "no-body",
        "body-is-headline", "body-starts-with-longer-sentence"])
def test_the_snippet_never_repeats_the_headline(title, text, query, snippet, highlighted):
    assert shown(query, Document(title, text)) == (snippet, highlighted)


def test_body_start_is_past_the_headline_and_its_punctuation():
    assert body_start("Lavrov: talks", "LAVROV – talks.\n\nBody") == len("LAVROV – talks.\n\n")
    assert body_start("Lavrov: talks", "Lavrov said talks") == 0
    assert body_start("", "Body") == 0


def test_a_seed_pages_snippet_starts_in_its_body():
    page = SEEDS / "pages" / "wire" / "turkish-soldiers-killed-idlib-airstrike.html"
    extracted = extract(page.read_bytes(), page.as_uri())
    assert extracted.text.startswith(extracted.title)  # what extraction gives: the headline first
    snippet, highlighted = shown("Ankara", Document(extracted.title, extracted.text, "en"))
    assert "hits back" not in snippet and highlighted == ["Ankara", "ANKARA"]
