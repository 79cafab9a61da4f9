"""WatchIndex gives exactly what evaluating every spec in turn gives, filters included."""

from __future__ import annotations

import gc
import weakref

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newswatch.matching import Query, WatchIndex, WatchSpec, compile_query, document
from newswatch.matching.nodes import And, Field, Near, Node, Not, Or, Phrase, Prefix, Term
from newswatch.models import Document, Hit

ALIASES = {"idlib": ["Idlib", "İdlib", "Idleb", "إدلب"], "talks": ["negotiat*", "peace talks"]}
VOCABULARY = ["Idlib", "İDLİB", "Idleb", "إدلب", "Turkey", "Erdoğan", "Erdogan", "Putin", "Sochi", "agreement",
              "de-escalation", "deescalation", "escalation", "negotiations", "negotiate", "peace", "talks",
              "US", "us", "the", "and", "Damascus", "ceasefire", "cease-fire", "Russia's", "NATO", "national"]
WORDS = ["idlib", "Idleb", "إدلب", "turkey", "Erdoğan", "putin", "sochi", "agreement", "de-escalation",
         "deescalation", "peace", "US", "damascus", "cease-fire", "Russia's", "NATO"]
STEMS = ["negotiat", "escal", "nat", "pea", "erdo", "de-esc"]


def _leaves() -> st.SearchStrategy[Node]:
    case = st.booleans()
    return st.one_of(
        st.builds(lambda w, c: Term(w, case=c), st.sampled_from(WORDS), case),
        st.builds(lambda w, c: Prefix(w, case=c), st.sampled_from(STEMS), case),
        st.builds(lambda ws, c: Phrase(" ".join(ws), case=c), st.lists(st.sampled_from(WORDS), min_size=1,
                                                                       max_size=2), case),
    )


def _positional(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.one_of(
        st.builds(Near, children, children, st.integers(0, 6)),
        st.builds(lambda items: Or(tuple(items)), st.lists(children, min_size=2, max_size=3)),
        st.builds(Field, st.sampled_from(["title", "text"]), children),
    )


POSITIONAL = st.recursive(_leaves(), _positional, max_leaves=4)


def _anchored(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    negated = st.builds(Not, POSITIONAL)
    return st.one_of(
        st.builds(lambda first, rest: And((first, *rest)), children,
                  st.lists(st.one_of(children, negated), min_size=1, max_size=2)),
        st.builds(lambda items: Or(tuple(items)), st.lists(children, min_size=2, max_size=3)),
    )


QUERY_TEXT = st.one_of(
    st.recursive(POSITIONAL, _anchored, max_leaves=6).map(lambda node: Query(node).describe()),
    st.sampled_from(["@idlib", "@talks NEAR/3 @idlib", "title:@idlib OR Turkey"]),
)
SPECS = st.lists(st.builds(
    WatchSpec,
    name=st.text(alphabet="abc", min_size=1, max_size=3),
    query=QUERY_TEXT,
    exclude=st.one_of(st.none(), QUERY_TEXT),
    languages=st.lists(st.sampled_from(["en", "EN-us", "tr", "ar"]), max_size=2),
    sources=st.lists(st.sampled_from(["wire", "blog"]), max_size=2),
), min_size=1, max_size=12)
_SEPARATORS = st.sampled_from([" ", " ", ", ", ". ", " - ", "\n"])
_TEXT = st.lists(st.tuples(st.sampled_from(VOCABULARY), _SEPARATORS), max_size=14).map(
    lambda pairs: "".join(w + s for w, s in pairs))
DOCS = st.lists(st.builds(Document, title=_TEXT, text=_TEXT,
                          language=st.sampled_from([None, "en", "en-GB", "tr", "AR", "fr"]),
                          source=st.sampled_from([None, "wire", "blog", "tv"])), min_size=1, max_size=6)


def evaluate_each(specs: list[WatchSpec], doc: Document) -> list[tuple[str, Hit]]:
    """The reference: every spec in turn, with the filters written out independently."""
    found = []
    for spec in specs:
        if spec.languages and (doc.language is None or doc.language.lower().split("-")[0]
                               not in {lang.lower().split("-")[0] for lang in spec.languages}):
            continue
        if spec.sources and doc.source not in spec.sources:
            continue
        hit = compile_query(spec.query, ALIASES).evaluate(doc)
        if hit is not None and not (spec.exclude and compile_query(spec.exclude, ALIASES).evaluate(doc)):
            found.append((spec.name, hit))
    return found


@settings(max_examples=250, deadline=None)
@given(SPECS, DOCS)
def test_index_matches_evaluating_every_spec(specs: list[WatchSpec], docs: list[Document]) -> None:
    index = WatchIndex(specs, ALIASES)
    for doc in docs:
        assert index.match(doc) == evaluate_each(specs, doc)


@settings(max_examples=300, deadline=None)
@given(QUERY_TEXT, DOCS)
def test_a_query_is_possible_wherever_it_matches(text: str, docs: list[Document]) -> None:
    query = compile_query(text, ALIASES)
    for doc in docs:
        assert query.evaluate(doc) is None or query.possible(doc)


# (query, title, text): each matches, in a way a literal search for the query's words would miss
TRICKY = [
    ("deescalation", "", "talks on de-escalation"),  # the text's compound, joined
    ("de-escalation", "", "a deescalation zone"),
    ('"de escalation zone"', "", "the de-escalation zone"),
    ("russias", "", "Russia's troops"),
    ("Idlib", "", "İDLİB"),
    ("strasse", "", "die Straße"),  # ß folds to ss
    ('"北京"', "", "会谈在北京举行"),  # a Han character is a word of its own
    ("नमस्ते", "", "उसने नमस्ते कहा"),  # combining marks inside the word
    ("negotiat*", "", "NEGOTIATIONS resumed"),
    ("case:US", "", "the US said"),
    ('"Sochi agreement"', "", "Sochi — agreement"),
    ("Putin NEAR/2 Erdoğan", "", "Erdogan met Putin"),
    ("title:Idlib AND talks", "Idlib", "talks"),
    ("Aleppo OR Idlib", "", "Idlib"),
    ("Idlib NOT Aleppo", "", "Idlib"),
]


@pytest.mark.parametrize(("text", "title", "body"), TRICKY, ids=[case[0] for case in TRICKY])
def test_a_query_is_possible_where_its_words_are_spelt_otherwise(text: str, title: str, body: str) -> None:
    query, doc = compile_query(text), Document(title, body)
    assert query.evaluate(doc) is not None
    assert query.possible(doc)


def test_possible_rules_out_a_phrase_whose_words_are_apart() -> None:
    doc = Document("Grain prices", "Wheat rose; a deal on fuel was signed.")
    for text in ('"grain deal"', '"grain deal" OR "fuel price"', '"grain deal" AND signed'):
        query = compile_query(text)
        assert not query.possible(doc) and query.evaluate(doc) is None
    assert compile_query('"deal on fuel"').possible(doc)
    assert compile_query('signed NOT "grain deal"').possible(doc)


def test_random_queries_do_match_sometimes() -> None:
    """Guard for the property above: the generated queries and documents are not all misses."""
    index = WatchIndex([WatchSpec("a", "Idlib OR Turkey"), WatchSpec("b", "negotiat* NEAR/2 Putin")])
    assert [name for name, _ in index.match(Document("", "Putin negotiates; Idlib"))] == ["a", "b"]


FILTER_CASES = [
    # (id, spec keyword arguments, document language, document source, matches)
    ("no-filters", {}, None, None, True),
    ("language-exact", {"languages": ["en"]}, "en", None, True),
    ("language-region-in-doc", {"languages": ["en"]}, "en-GB", None, True),
    ("language-region-in-spec", {"languages": ["en-US"]}, "en-GB", None, True),
    ("language-case", {"languages": ["EN"]}, "en_gb", None, True),
    ("language-other", {"languages": ["en"]}, "tr", None, False),
    ("language-unknown", {"languages": ["en"]}, None, None, False),
    ("language-one-of", {"languages": ["tr", "en"]}, "en", None, True),
    ("source-listed", {"sources": ["wire"]}, None, "wire", True),
    ("source-not-listed", {"sources": ["wire"]}, None, "blog", False),
    ("source-unknown", {"sources": ["wire"]}, None, None, False),
    ("exclude-vetoes", {"exclude": "Damascus"}, None, None, False),
    ("exclude-not-found", {"exclude": "Aleppo"}, None, None, True),
    ("both-filters", {"languages": ["en"], "sources": ["wire"]}, "en", "wire", True),
]


@pytest.mark.parametrize(("kwargs", "language", "source", "matches"), [c[1:] for c in FILTER_CASES],
                         ids=[c[0] for c in FILTER_CASES])
def test_filters(kwargs: dict, language: str | None, source: str | None, matches: bool) -> None:
    doc = Document("Idlib", "Idlib and Damascus", language=language, source=source)
    spec = WatchSpec("w", "Idlib", **kwargs)
    assert bool(WatchIndex([spec]).match(doc)) == matches
    assert spec.admits(doc) == matches or "exclude" in kwargs


def test_results_in_spec_order_with_hits() -> None:
    specs = [WatchSpec("z", "Turkey"), WatchSpec("a", "Aleppo"), WatchSpec("m", "@idlib", languages=["en"])]
    doc = Document("Turkey", "Shelling in İdlib", language="en")
    found = WatchIndex(specs, ALIASES).match(doc)
    assert [name for name, _ in found] == ["z", "m"]
    assert found[1][1].terms == ["Idlib"]


def test_candidates_skip_queries_whose_terms_are_absent() -> None:
    specs = [WatchSpec("a", "Idlib AND Turkey"), WatchSpec("b", "Aleppo OR Homs"), WatchSpec("c", "negotiat*"),
             WatchSpec("d", "Turkey NOT Idlib")]
    index = WatchIndex(specs)
    assert index.candidates(Document("", "Turkish negotiators in Turkey")) == [2, 3]  # "a" lacks Idlib
    assert index.candidates(Document("", "nothing relevant")) == []


def test_bad_query_raises_at_construction() -> None:
    with pytest.raises(ValueError, match="unknown alias"):
        WatchIndex([WatchSpec("a", "@nope")])


def test_a_matched_document_is_let_go_once_two_others_are_matched() -> None:
    # the reading processes match page after page: a cache of 64 documents kept the largest alive
    index = WatchIndex([WatchSpec("near", '"Erdogan" NEAR/10 Putin'), WatchSpec("idlib", "Idlib AND talks")])
    first = Document("Erdogan meets Putin", "Erdogan and Putin met in Moscow to discuss Idlib talks. " * 50)
    assert [name for name, _ in index.match(first)] == ["near", "idlib"]
    analysed, words = weakref.ref(document.analyse(first)), weakref.ref(document.vocabulary(first))

    index.match(Document("Putin speaks", "Putin spoke about Erdogan's visit."))
    index.match(Document("Idlib", "Idlib talks resume."))
    gc.collect()

    assert analysed() is None and words() is None
