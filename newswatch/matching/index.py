"""Match one document against many watchlists without evaluating every query.

Rules:
- Each spec's query is compiled once into clauses (nodes.py): sets of words or prefixes, each of
  which must have a member in a document for the query to match. A query whose every OR branch
  needs a word the document lacks fails a clause. Its cheapest clause is its anchor.
- Finding candidates needs only the document's distinct words, not its tokens (tokenizing is
  left to the few candidates). The words are looked up in a dict (anchor → spec numbers); prefixes are found by one Aho-Corasick automaton of every stem, run over the distinct
  words each preceded by a separator, so a stem only matches at the start of a word. A query
  with no clause at all (none today: every query needs a positive term) is always a candidate.
- Candidates whose clauses all hold are evaluated, in spec order, with exactly the semantics of
  evaluating every spec in turn: the languages and sources filters, the query, then the exclude
  query's veto. A query that `possible` rules out (its words are there, but not in a row, say)
  is not evaluated: that would tokenize the document (~1 ms), the check is a few regex searches.
- Languages compare the lower-cased primary subtag ("en" admits "en-GB"); a document with no
  language does not pass a non-empty languages filter; sources must list `doc.source`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import ahocorasick

from newswatch.matching.document import vocabulary
from newswatch.matching.nodes import Key
from newswatch.matching.query import Query, compile_query
from newswatch.models import Document, Hit

__all__ = ["WatchIndex", "WatchSpec", "watch_index"]

_SEPARATOR = "\x1f"  # never inside a word


def _primary(tag: str) -> str:
    return re.split(r"[-_]", tag.strip().lower(), maxsplit=1)[0]


@dataclass(frozen=True)
class WatchSpec:
    """One watchlist's matching rules."""

    name: str
    query: str
    exclude: str | None = None
    languages: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def admits(self, doc: Document) -> bool:
        """Whether the languages and sources filters let `doc` through."""
        if self.languages and (doc.language is None or
                               _primary(doc.language) not in {_primary(lang) for lang in self.languages}):
            return False
        return not self.sources or doc.source in self.sources


class WatchIndex:
    """Many watch specs, indexed by their anchor words so that a document meets only candidates."""

    def __init__(self, specs: list[WatchSpec], aliases: Mapping[str, list[str]] | None = None):
        self.specs = list(specs)
        self._queries: list[tuple[Query, Query | None]] = [
            (compile_query(spec.query, aliases), compile_query(spec.exclude, aliases) if spec.exclude else None)
            for spec in self.specs]
        self._anchors: dict[Key, list[int]] = {}
        self._always: list[int] = []
        # per query, its clauses as (words, prefixes) pairs: a document needs a hit in every one
        self._clauses: list[list[tuple[frozenset[str], frozenset[str]]]] = []
        stems: set[str] = set()
        for number, (query, _) in enumerate(self._queries):
            clauses = query.root.clauses()
            self._clauses.append([(frozenset(t for k, t in c if k == "word"), frozenset(t for k, t in c if k == "prefix"))
                                  for c in clauses])
            stems.update(text for clause in clauses for kind, text in clause if kind == "prefix")
            anchors = query.root.anchors()
            if anchors is None:
                self._always.append(number)
            for key in anchors or ():
                self._anchors.setdefault(key, []).append(number)
        self._stems: ahocorasick.Automaton | None = None
        if stems:
            self._stems = ahocorasick.Automaton(ahocorasick.STORE_ANY)
            for stem in stems:
                self._stems.add_word(_SEPARATOR + stem, stem)
            self._stems.make_automaton()

    def candidates(self, doc: Document) -> list[int]:
        """Indexes into `specs` of the queries whose clauses `doc` satisfies, in spec order."""
        words = vocabulary(doc)
        stems: set[str] = set()
        if self._stems is not None and words:
            stems = {stem for _, stem in self._stems.iter(_SEPARATOR + _SEPARATOR.join(words))}
        found = set(self._always)
        for key in [("word", word) for word in words] + [("prefix", stem) for stem in stems]:
            if (numbers := self._anchors.get(key)) is not None:
                found.update(numbers)
        return [number for number in sorted(found)
                if all(not need_words.isdisjoint(words) or not need_stems.isdisjoint(stems)
                       for need_words, need_stems in self._clauses[number])]

    def match(self, doc: Document) -> list[tuple[str, Hit]]:
        """(watchlist name, hit) for every spec that matches `doc`, in spec order."""
        matched: list[tuple[str, Hit]] = []
        for number in self.candidates(doc):
            spec, (query, exclude) = self.specs[number], self._queries[number]
            if not spec.admits(doc):
                continue
            hit = query.evaluate(doc) if query.possible(doc) else None
            if hit is not None and (exclude is None or exclude.evaluate(doc) is None):
                matched.append((spec.name, hit))
        return matched


def watch_index(watchlists: Iterable, aliases: Mapping[str, list[str]] | None = None) -> WatchIndex:
    """The index of configured watchlists (anything with name, query, exclude, languages and
    sources, as config.Watchlist has), with the configured aliases."""
    return WatchIndex([WatchSpec(w.name, w.query, w.exclude, w.languages, w.sources) for w in watchlists], aliases)
