"""A compiled watch query: evaluate it against a document and explain the hit, or describe it.

Rules:
- `compile_query` parses once (parser.py); `Query.evaluate` tokenizes the document once per
  document (document.analyse is cached), so many queries can share the work.
- A hit lists the distinct terms found in query order (as written: `Idlib`, `"Sochi agreement"`,
  `negotiat*`, `case:US`), every term occurrence with offsets into the original title or text
  (title first, then by position; one per span, credited to the first term in query order), and a
  snippet (snippet.py).
- Two queries are equal when their trees are: `compile_query(q.describe()) == q`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from newswatch.matching.document import FIELDS, analyse, folded
from newswatch.matching.nodes import Node
from newswatch.matching.parser import parse
from newswatch.matching.snippet import make_snippet
from newswatch.models import Document, Hit

__all__ = ["Query", "compile_query"]


@dataclass(frozen=True)
class Query:
    """A parsed watch query."""

    root: Node

    def evaluate(self, doc: Document) -> Hit | None:
        """The hit explaining why `doc` matches, or None when it does not."""
        found = self.root.match(analyse(doc), FIELDS)
        if not found:  # an anchored query never matches with no hits; be safe anyway
            return None
        # one hit per span: the first term in query order (@idlib's Idlib and İdlib both find "İdlib")
        kept = list({(hit.field, hit.start, hit.end): hit for hit in reversed(found)}.values())
        terms = [term for term in dict.fromkeys(hit.term for hit in found) if any(h.term == term for h in kept)]
        hits = sorted(kept, key=lambda h: (FIELDS.index(h.field), h.start, h.end))
        snippet, highlights = make_snippet(doc, hits)
        return Hit(terms=terms, hits=hits, snippet=snippet, highlights=highlights)

    def possible(self, doc: Document) -> bool:
        """False only when `doc` cannot match: a check without tokenizing (nodes.py, `possible`)."""
        return self.root.possible(folded(doc))

    def describe(self) -> str:
        """Canonical query text; it compiles back to an equal query."""
        return self.root.describe()

    def __str__(self) -> str:
        return self.describe()


def compile_query(text: str, aliases: Mapping[str, list[str]] | None = None) -> Query:
    """Parse `text`, expanding `@alias` from `aliases`; raises QuerySyntaxError with a position."""
    return Query(parse(text, aliases))
