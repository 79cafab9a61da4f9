"""Syntax errors: the message, the position, and the caret that explain() draws under it."""

from __future__ import annotations

import pytest

from newswatch.matching import QuerySyntaxError, compile_query

ALIASES = {"idlib": ["Idlib", "Idleb"], "empty": [], "bad": ["a*b"]}

CASES = [
    # (id, query, part of the message, position)
    ("empty", "", "empty query", 0),
    ("blank", "   ", "empty query", 0),
    ("unclosed-paren", "(Idlib OR Idleb", "unclosed '('", 0),
    ("unclosed-inner-paren", "Turkey AND (Idlib OR (Idleb)", "unclosed '('", 11),
    ("extra-close-paren", "Idlib OR Idleb)", "no '(' to close", 14),
    ("close-paren-first", ") Idlib", "unexpected ')'", 0),
    ("empty-parens", "Idlib ()", "empty parentheses", 6),
    ("unclosed-quote", 'Idlib "Sochi agreement', "unclosed quote", 6),
    ("unclosed-quote-escaped", r'"Sochi \"agreement\"', "unclosed quote", 0),
    ("empty-phrase", 'Idlib ""', "at least one word", 6),
    ("punctuation-phrase", 'Idlib "!!"', "at least one word", 6),
    ("wildcard-in-phrase", '"negotiat* talks"', "inside quotes", 9),
    ("dangling-and", "Idlib AND", "AND needs a term after it", 6),
    ("dangling-or", "Idlib OR", "OR needs a term after it", 6),
    ("leading-and", "AND Idlib", "AND needs a term on both sides", 0),
    ("double-or", "Idlib OR OR Idleb", "OR needs a term on both sides", 9),
    ("dangling-or-in-parens", "(Idlib OR) Turkey", "OR needs a term after it", 7),
    ("dangling-not", "Idlib AND NOT", "NOT needs a term after it", 10),
    ("dangling-near", "Idlib NEAR/5", "NEAR/5 needs a term after it", 6),
    ("leading-near", "NEAR/5 Idlib", "NEAR/5 needs a term on both sides", 0),
    ("near-without-number", "Idlib NEAR/x Putin", "needs a number", 11),
    ("near-without-slash", "Idlib NEAR Putin", "NEAR needs a distance", 6),
    ("near-number-junk", "Idlib NEAR/5x Putin", "unexpected 'x'", 12),
    ("near-and-operand", "(a AND b) NEAR/5 c", "not AND or NOT", 1),
    ("near-not-operand", "a NEAR/5 NOT b", "NOT cannot follow NEAR/5", 9),
    ("not-alone", "NOT Damascus", "at least one positive term", 0),
    ("not-alone-parens", "(NOT Damascus)", "at least one positive term", 1),
    ("not-not", "NOT NOT Idlib", "at least one positive term", 0),
    ("or-negative-branch", "Idlib OR NOT Damascus", "each side of OR", 9),
    ("unknown-alias", "Turkey AND @idleb", "unknown alias @idleb", 11),
    ("empty-alias", "@empty", "no entries", 0),
    ("bad-alias-entry", "x OR @bad", "only at the end of a single word", 5),
    ("bare-at", "Idlib @ x", "@ needs an alias name", 6),
    ("unknown-field", "Idlib headline:Turkey", "unknown field 'headline:'", 6),
    ("field-without-operand", "Idlib title:", "title: needs a term after it", 6),
    ("case-on-group", "case:(US OR UK)", "case: goes right before a word", 0),
    ("star-inside-word", "nego*tiate", "only at the end of a word", 4),
    ("double-star", "nego**", "only once", 5),
    ("leading-star", "*tiate", "'*' goes at the end", 0),
    ("leading-hyphen", "Idlib -Damascus", "use NOT", 6),
    ("punctuation", "U.S.", "put punctuation inside quotes", 1),
    ("single-quotes", "'Sochi agreement'", "double quotes", 0),
]


@pytest.mark.parametrize(("query", "message", "position"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_syntax_error(query: str, message: str, position: int) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        compile_query(query, ALIASES)
    error = caught.value
    assert message in error.message
    assert (error.query, error.position) == (query, position)
    first, shown, caret = error.explain().split("\n")
    assert first == error.message
    assert shown == "    " + query
    assert caret == " " * (4 + position) + "^"


def test_unknown_alias_lists_the_known_ones() -> None:
    with pytest.raises(QuerySyntaxError, match=r"known: @bad, @empty, @idlib"):
        compile_query("@nope", ALIASES)


def test_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unclosed quote"):
        compile_query('"x')
