"""Explanations: hit offsets point at the matched words in the original; snippets and highlights."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newswatch.matching import compile_query
from newswatch.matching.text import fold
from newswatch.models import Document

ALIASES = {"idlib": ["Idlib", "İdlib", "Idleb", "إدلب"]}
FILLER = ("The ministers met again on Tuesday to discuss the humanitarian corridor and the exchange of "
          "prisoners, while observers on the ground reported that shelling had decreased markedly. ")

HIT_CASES = [
    ("word", "Idlib", Document("", "Shelling in İdlib.")),
    ("phrase-punctuation", '"Sochi agreement"', Document("", "the Sochi,\n  agreement holds")),
    ("prefix", "negotiat*", Document("", "Negotiations resumed")),
    ("near", "Erdoğan NEAR/3 Putin", Document("", "Putin met with Mr ERDOĞAN")),
    ("title", "title:Idlib Turkey", Document("Idlib talks", "Turkey said")),
    ("alias", "@idlib", Document("", "مدينة إدلب")),
    ("case", "case:US", Document("", "the US said")),
    ("hyphen-joined", "deescalation", Document("", "the de-escalation zone")),
    ("hyphen-spaced", "de-escalation", Document("", "the de escalation zone")),
    ("sharp-s", "Strasse", Document("", "Die Straße")),
    ("ligature", "finance", Document("", "ﬁnance ministers")),
    ("decomposed", "cafe", Document("", "cafe\u0301 owners")),
    ("tatweel", "مدرسة", Document("", "في مـــدرسة")),
]


@pytest.mark.parametrize(("query", "doc"), [c[1:] for c in HIT_CASES], ids=[c[0] for c in HIT_CASES])
def test_hit_offsets_point_at_the_matched_words(query: str, doc: Document) -> None:
    hit = compile_query(query, ALIASES).evaluate(doc)
    assert hit is not None and hit.hits
    for term_hit in hit.hits:
        assert term_hit.term in hit.terms
        surface = getattr(doc, term_hit.field)[term_hit.start:term_hit.end]
        assert surface and not surface[0].isspace() and not surface[-1].isspace()
        # the surface alone, in the same field, matches the term that found it
        alone = Document(surface, "") if term_hit.field == "title" else Document("", surface)
        assert compile_query(term_hit.term).evaluate(alone) is not None, (term_hit, surface)


def test_surface_folds_to_the_term() -> None:
    doc = Document("", "Turkey, Erdoğan and İDLİB")
    hit = compile_query("Erdogan OR idlib").evaluate(doc)
    assert hit is not None
    assert [(h.term, fold(doc.text[h.start:h.end])) for h in hit.hits] == [("Erdogan", "erdogan"), ("idlib", "idlib")]


def test_terms_are_distinct_as_written_in_query_order() -> None:
    doc = Document("Idlib", "Putin and Erdogan on Idlib; negotiations on the Sochi agreement; Idlib again")
    hit = compile_query('"Sochi agreement" OR Idlib OR negotiat* OR Damascus').evaluate(doc)
    assert hit is not None
    assert hit.terms == ['"Sochi agreement"', "Idlib", "negotiat*"]
    assert [(h.field, h.term) for h in hit.hits] == [
        ("title", "Idlib"), ("text", "Idlib"), ("text", "negotiat*"), ("text", '"Sochi agreement"'), ("text", "Idlib")]


def test_one_hit_per_span_even_when_two_alias_entries_find_it() -> None:
    hit = compile_query("@idlib", ALIASES).evaluate(Document("", "in İdlib"))
    assert hit is not None
    assert hit.terms == ["Idlib"] and len(hit.hits) == 1


def _check_highlights(snippet: str, highlights: list[tuple[int, int]], word: str) -> None:
    assert highlights
    for start, end in highlights:
        assert fold(snippet[start:end]) == fold(word)


SNIPPET_CASES = [
    # (id, document, field the snippet comes from, expected snippet or None (long), cut at start, at end)
    ("short-whole-text", Document("T", "Shelling  in\n\nIdlib today."), "text", "Shelling in Idlib today.",
     False, False),
    # a hit only in the title shows the body's start (tests/newswatch/matching/test_snippet.py); no body: the title
    ("title-without-body", Document("Talks on  Idlib", ""), "title", "Talks on Idlib", False, False),
    ("text-preferred", Document("Idlib", "Later, Idlib."), "text", "Later, Idlib.", False, False),
    ("start-of-long-text", Document("", "Idlib " + FILLER * 5), "text", None, False, True),
    ("middle-of-long-text", Document("", FILLER * 3 + "Idlib " + FILLER * 3), "text", None, True, True),
    ("end-of-long-text", Document("", FILLER * 5 + "Idlib"), "text", None, True, False),
]


@pytest.mark.parametrize(("doc", "field", "expected", "cut_start", "cut_end"), [c[1:] for c in SNIPPET_CASES],
                         ids=[c[0] for c in SNIPPET_CASES])
def test_snippet(doc: Document, field: str, expected: str | None, cut_start: bool, cut_end: bool) -> None:
    hit = compile_query("Idlib").evaluate(doc)
    assert hit is not None
    if expected is not None:
        assert hit.snippet == expected
    else:
        assert 160 <= len(hit.snippet) <= 300
    assert hit.snippet.startswith("…") == cut_start
    assert hit.snippet.endswith("…") == cut_end
    assert not re.search(r"\s\s|\n", hit.snippet)
    # whitespace collapsed, cut only at word boundaries: the body is a run of whole words of the source
    source = " ".join(getattr(doc, field).split())
    assert f" {hit.snippet.strip('…')} " in f" {source} "
    _check_highlights(hit.snippet, hit.highlights, "Idlib")


def test_snippet_window_holds_the_most_terms() -> None:
    text = FILLER * 2 + "Idlib " + FILLER * 3 + "Erdogan met Putin over Idlib. " + FILLER * 2
    hit = compile_query("Idlib OR Erdogan OR Putin").evaluate(Document("", text))
    assert hit is not None
    shown = [hit.snippet[a:b] for a, b in hit.highlights]
    assert shown == ["Erdogan", "Putin", "Idlib"]


def test_highlights_of_phrases_and_near_pairs() -> None:
    doc = Document("", "Turkey said the Sochi,   agreement holds and Turkey agreed.")
    hit = compile_query('"Sochi agreement" NEAR/3 Turkey').evaluate(doc)
    assert hit is not None
    assert [hit.snippet[a:b] for a, b in hit.highlights] == ["Turkey", "Sochi, agreement", "Turkey"]


def test_overlapping_highlights_merge() -> None:
    hit = compile_query('"de escalation" OR escalation').evaluate(Document("", "a de-escalation zone"))
    assert hit is not None
    assert [hit.snippet[a:b] for a, b in hit.highlights] == ["de-escalation"]


_WORDS = st.sampled_from(["Idlib", "Turkey", "x", "Erdoğan", "de-escalation", "İDLİB", "ﬁne", "Straße"])
_GAPS = st.sampled_from([" ", "  ", "\n\n", " \t ", ", "])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_WORDS, _GAPS), min_size=1, max_size=120), st.sampled_from(["", "  ", "\n"]))
def test_highlights_point_at_hits_in_any_text(pairs: list[tuple[str, str]], lead: str) -> None:
    query = compile_query('Idlib OR "Turkey x" OR de-escalation OR fine')
    hit = query.evaluate(Document("", lead + "".join(word + gap for word, gap in pairs)))
    if hit is None:
        return
    assert len(hit.snippet) <= 300 and hit.snippet == hit.snippet.strip()
    assert hit.highlights
    for start, end in hit.highlights:
        assert query.evaluate(Document("", hit.snippet[start:end])) is not None, (hit.snippet, start, end)
