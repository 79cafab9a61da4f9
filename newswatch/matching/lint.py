"""Advice on watch queries that parse but are likely to be noisy: warnings, never errors.

Rules (each warning names the term as written):
- a prefix whose stem has fewer than MIN_PREFIX letters matches too many words;
- NEAR wider than MAX_NEAR words is as loose as AND;
- a stop word alone as a positive term (`the`, `and` in lower case, `of`) matches nearly every
  article; an all-capitals one (`US`) is probably an acronym, so the advice is `case:US`.
  Exact-case terms and terms under NOT are left alone.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from newswatch.matching.nodes import Leaf, Near, Node, Not, Prefix
from newswatch.matching.parser import parse

__all__ = ["lint_query"]

MIN_PREFIX = 3
MAX_NEAR = 50
STOP_WORDS = frozenset("""
a an and are as at be been but by for from had has have he her his i if in into is it its of on or
our she so than that the their them then there they this to us was we were which who will with you
le la les de des du et un une der die das und ein eine el los las y en ve bir bu ile da
و في من على
""".split())


def _walk(node: Node, positive: bool = True) -> Iterator[tuple[Node, bool]]:
    yield node, positive
    for child in node.children():
        yield from _walk(child, positive != isinstance(node, Not))


def lint_query(text: str, aliases: Mapping[str, list[str]] | None = None) -> list[str]:
    """Warnings about `text` (empty when it looks fine); raises QuerySyntaxError if it does not parse."""
    warnings: list[str] = []
    for node, positive in _walk(parse(text, aliases)):
        if isinstance(node, Prefix):
            stem = min((alt[-1].text for alt in node.pattern.slots[-1]), key=len)
            if len(stem) < MIN_PREFIX:
                warnings.append(f"prefix '{node.describe()}' has fewer than {MIN_PREFIX} letters "
                                "and matches too many words")
        elif isinstance(node, Near) and node.distance > MAX_NEAR:
            warnings.append(f"NEAR/{node.distance} is wider than {MAX_NEAR} words: almost the same as AND")
        elif (isinstance(node, Leaf) and positive and not node.case and len(node.pattern.slots) == 1
              and len(node.pattern.slots[0]) == 1 and node.pattern.slots[0][0][0].text in STOP_WORDS):
            advice = f": for the acronym, write case:{node.raw}" if node.raw.isupper() else ""
            warnings.append(f"'{node.describe()}' is a stop word and on its own matches almost every article{advice}")
    return list(dict.fromkeys(warnings))
