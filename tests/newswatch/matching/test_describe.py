"""describe() prints canonical text that compiles back to an equal tree, and is stable."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newswatch.matching import Query, compile_query
from newswatch.matching.lexer import RESERVED
from newswatch.matching.nodes import (
    And,
    Field,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    Term,
)

LETTERS = "abcxyzABCXYZğİıéßإدلب北0"
_word = st.from_regex(rf"[{LETTERS}]{{1,6}}([-'’][{LETTERS}]{{1,4}})?", fullmatch=True).filter(
    lambda w: w not in RESERVED)
_phrase = st.text(alphabet=LETTERS + ' ,.;"\\-()@:/', min_size=1, max_size=15).filter(
    lambda s: any(ch.isalnum() for ch in s))


def _leaves() -> st.SearchStrategy[Node]:
    case = st.booleans()
    return st.one_of(
        st.builds(lambda w, c: Term(w, case=c), _word, case),
        st.builds(lambda w, c: Prefix(w, case=c), _word, case),
        st.builds(lambda p, c: Phrase(p, case=c), _phrase, case),
    )


def _positional(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.one_of(
        st.builds(Near, children, children, st.integers(0, 60)),
        st.builds(lambda items: Or(tuple(items)), st.lists(children, min_size=2, max_size=3)),
        st.builds(Field, st.sampled_from(["title", "text"]), children),
    )


POSITIONAL = st.recursive(_leaves(), _positional, max_leaves=6)


def _anchored(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    negated = st.builds(Not, st.one_of(children, POSITIONAL))
    return st.one_of(
        st.builds(lambda first, rest: And((first, *rest)), children, st.lists(st.one_of(children, negated),
                                                                              min_size=1, max_size=2)),
        st.builds(lambda items: Or(tuple(items)), st.lists(children, min_size=2, max_size=3)),
        st.builds(Field, st.sampled_from(["title", "text"]), children),
    )


QUERIES = st.recursive(POSITIONAL, _anchored, max_leaves=10).map(Query)


@settings(max_examples=300, deadline=None)
@given(QUERIES)
def test_describe_round_trips(query: Query) -> None:
    text = query.describe()
    again = compile_query(text)
    assert again == query, text
    assert again.describe() == text


CANONICAL = [
    ("implicit-and", "Idlib Turkey", "Idlib AND Turkey"),
    ("precedence-no-parens", "a OR b AND c", "a OR b AND c"),
    ("or-in-and", "(a OR b) c", "(a OR b) AND c"),
    ("nested-or-kept", "(a OR b) OR c", "(a OR b) OR c"),
    ("not-group", "a NOT (b OR c)", "a AND NOT (b OR c)"),
    ("near-left-assoc", "a NEAR/1 b NEAR/2 c", "a NEAR/1 b NEAR/2 c"),
    ("near-right-group", "a NEAR/1 (b NEAR/2 c)", "a NEAR/1 (b NEAR/2 c)"),
    ("field-group", "title:( a OR b )", "title:(a OR b)"),
    ("field-space", "title: a", "title:a"),
    ("phrase-escapes", r'"say \"no\" \\ now"', r'"say \"no\" \\ now"'),
    ("case", 'case:US OR case:"New York"', 'case:US OR case:"New York"'),
    ("alias-expanded", "@idlib", "Idlib OR Idleb OR \"Idlib city\""),
    ("alias-in-and", "@idlib Turkey", "(Idlib OR Idleb OR \"Idlib city\") AND Turkey"),
    ("alias-reserved-entry", "@ops", '"AND" OR "NEAR"'),
]


@pytest.mark.parametrize(("query", "expected"), [c[1:] for c in CANONICAL], ids=[c[0] for c in CANONICAL])
def test_canonical_text(query: str, expected: str) -> None:
    aliases = {"idlib": ["Idlib", "Idleb", "Idlib city"], "ops": ["AND", "NEAR"]}
    compiled = compile_query(query, aliases)
    assert compiled.describe() == expected
    assert compile_query(expected) == compiled
