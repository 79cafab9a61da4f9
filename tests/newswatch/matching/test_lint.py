"""lint_query: advice, not errors."""

from __future__ import annotations

import pytest

from newswatch.matching import QuerySyntaxError, lint_query

CASES = [
    # (id, query, expected warnings as fragments, in order)
    ("clean", 'Idlib AND "Sochi agreement" NEAR/10 negotiat*', []),
    ("short-prefix", "ne*", ["prefix 'ne*' has fewer than 3 letters"]),
    ("prefix-of-three", "neg*", []),
    ("short-prefix-after-hyphen", "de-e*", ["prefix 'de-e*'"]),
    ("wide-near", "Idlib NEAR/51 Turkey", ["NEAR/51 is wider than 50 words"]),
    ("near-fifty", "Idlib NEAR/50 Turkey", []),
    ("stop-word-the", "Idlib OR the", ["'the' is a stop word"]),
    ("stop-word-and", "Idlib and", ["'and' is a stop word"]),
    ("stop-word-of", "of", ["'of' is a stop word"]),
    ("stop-word-phrase-one-word", '"the"', ["'\"the\"' is a stop word"]),
    ("stop-word-in-phrase-is-fine", '"the Hague"', []),
    ("stop-word-under-not-is-fine", "Idlib NOT the", []),
    ("acronym-advice", "US", ["'US' is a stop word", "write case:US"]),
    ("exact-case-is-fine", "case:US", []),
    ("alias-entries", "@stops", ["'the' is a stop word"]),
    ("several", "ab* OR the OR Idlib NEAR/99 Turkey", ["prefix 'ab*'", "'the' is a stop word", "NEAR/99"]),
]


@pytest.mark.parametrize(("query", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_lint(query: str, expected: list[str]) -> None:
    warnings = lint_query(query, {"stops": ["the", "Hague"]})
    assert len(warnings) == len({w.split(":")[0] for w in warnings})  # no duplicates
    joined = "\n".join(warnings)
    assert all(fragment in joined for fragment in expected), warnings
    assert len(warnings) == len([f for f in expected if not f.startswith("write")])


def test_lint_raises_on_syntax_errors() -> None:
    with pytest.raises(QuerySyntaxError):
        lint_query("(Idlib", None)
