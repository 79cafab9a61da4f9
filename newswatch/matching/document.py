"""A document analysed once for matching, and the word patterns that query leaves look for.

Rules:
- A `Document` is tokenized once per field ("title", "text") and the result is cached (a small
  LRU keyed by the document), so evaluating 10,000 queries against one article tokenizes it once.
- A leaf (term, phrase or prefix) compiles to a `Pattern`: a sequence of slots, one per compound
  word; a slot offers alternatives (the parts in a row, or the joined form), each a run of atoms.
  Consecutive slots must sit at consecutive word positions; punctuation between words does not
  count. A prefix pattern's final atom matches any word that starts with it.
- Case-sensitive (`case:`) atoms compare the token's original surface folded with keep_case=True,
  so accents and the other normalisations still apply but letter case must agree.
- `appearance(pattern)` is a regex that finds, in a document's folded fields (`folded(doc)`),
  every place the pattern can occur and then some: each atom's letters, with an optional
  hyphen or apostrophe between any two (a token joining a compound's parts), its atoms and slots
  separated by any non-word characters. No search finds it: the pattern is in no token. On a
  news text a search costs ~4 µs, tokenizing the text ~0.7 ms.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from newswatch.matching.text import Token, fold, tokenize, words
from newswatch.models import Document

__all__ = ["FIELDS", "Analysed", "FieldView", "Pattern", "analyse", "appearance", "compile_pattern", "find", "folded",
           "vocabulary"]

FIELDS = ("title", "text")


class Atom(NamedTuple):
    text: str  # folded
    cased: str  # folded with keep_case=True, for case: leaves


Alternative = tuple[Atom, ...]
Slot = tuple[Alternative, ...]


@dataclass(frozen=True)
class Pattern:
    slots: tuple[Slot, ...]
    prefix: bool = False
    case: bool = False
    simple: bool = field(init=False, compare=False)  # one plain word: find() is a dict lookup

    def __post_init__(self) -> None:
        simple = not self.prefix and not self.case and len(self.slots) == 1 and len(self.slots[0]) == 1 \
            and len(self.slots[0][0]) == 1
        object.__setattr__(self, "simple", simple)


def _cased(source: str, token: Token) -> str:
    return fold(source[token.start:token.end], keep_case=True).replace("-", "").replace("'", "")


def compile_pattern(raw: str, *, prefix: bool = False, case: bool = False) -> Pattern:
    """The slots of a leaf's text; no slots means the text has no words at all."""
    slots: list[Slot] = []
    for token in tokenize(raw):
        atom = Atom(token.text, _cased(raw, token))
        if token.last == token.position:
            slots.append(((atom,),))
            continue
        # a joined compound comes right after its parts: fold those slots into one with two ways
        count = token.last - token.position + 1
        parts = tuple(slot[0][0] for slot in slots[-count:])
        slots[-count:] = [(parts, (atom,))]
    return Pattern(tuple(slots), prefix, case)


def appearance(pattern: Pattern) -> re.Pattern[str]:
    """A regex found in `folded(doc)` wherever the pattern occurs in one of the doc's fields."""
    def atom(text: str) -> str:
        return "[-']?".join(map(re.escape, text))

    def run(atoms: tuple[Atom, ...]) -> str:
        return r"\W*".join(atom(a.text) for a in atoms)

    return re.compile(r"\W*".join("(?:" + "|".join(map(run, slot)) + ")" for slot in pattern.slots))


# The caches below hold the documents being matched, which every query of a watch index reads in
# turn: two, as two threads of one process read pages when a cycle has no reader pool
# (flows/pages.py). More entries kept the largest pages alive in the reading processes (a 2 MB
# page's tokens take ~150 MB; 64 of them grew a process by gigabytes).
_DOCUMENTS = 2


@lru_cache(maxsize=_DOCUMENTS)
def folded(doc: Document) -> str:
    """The document's fields, folded as tokenizing folds them, one line apart."""
    return fold(doc.title or "") + "\n" + fold(doc.text or "")


class FieldView:
    """One field's tokens, indexed by folded text and by position."""

    def __init__(self, name: str, source: str):
        self.name, self.source = name, source
        self.tokens = tokenize(source)
        self.by_text: dict[str, list[Token]] = {}
        for token in self.tokens:
            self.by_text.setdefault(token.text, []).append(token)
        self._by_pos: list[list[Token]] | None = None
        self._vocabulary: list[str] | None = None
        self._cased: dict[Token, str] = {}

    def starting_with(self, stem: str) -> list[Token]:
        """Tokens whose folded text starts with `stem` (a bisect over the sorted vocabulary)."""
        if self._vocabulary is None:
            self._vocabulary = sorted(self.by_text)
        i = bisect.bisect_left(self._vocabulary, stem)
        found: list[Token] = []
        while i < len(self._vocabulary) and self._vocabulary[i].startswith(stem):
            found += self.by_text[self._vocabulary[i]]
            i += 1
        return found

    @property
    def by_pos(self) -> list[list[Token]]:
        """Tokens by word position; built on first use, since only phrases and NEAR need it."""
        if self._by_pos is None:
            # the last token is a plain word or a joined compound: either way its `last` is the highest
            self._by_pos = [[] for _ in range(self.tokens[-1].last + 1)] if self.tokens else []
            for token in self.tokens:
                self._by_pos[token.position].append(token)
        return self._by_pos

    def cased(self, token: Token) -> str:
        if token not in self._cased:
            self._cased[token] = _cased(self.source, token)
        return self._cased[token]


class Analysed:
    """A document ready for matching: one `FieldView` per field, and every word it contains."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.fields = {"title": FieldView("title", doc.title or ""), "text": FieldView("text", doc.text or "")}
        self.words = frozenset(self.fields["title"].by_text) | frozenset(self.fields["text"].by_text)


@lru_cache(maxsize=_DOCUMENTS)
def vocabulary(doc: Document) -> frozenset[str]:
    """Every word of the document's fields, as `Analysed.words` has them, without tokenizing."""
    return frozenset(words(doc.title or "") | words(doc.text or ""))


@lru_cache(maxsize=_DOCUMENTS)
def analyse(doc: Document) -> Analysed:
    """Tokenize a document once; repeated calls with the same document hit the cache."""
    return Analysed(doc)


def _accepts(view: FieldView, token: Token, atom: Atom, is_prefix: bool, case: bool) -> bool:
    if is_prefix:
        return token.text.startswith(atom.text) and (not case or view.cased(token).startswith(atom.cased))
    return token.text == atom.text and (not case or view.cased(token) == atom.cased)


def find(pattern: Pattern, view: FieldView) -> list[tuple[Token, Token]]:
    """Every (first token, last token) where the pattern occurs in the field."""
    if pattern.simple:
        return [(t, t) for t in view.by_text.get(pattern.slots[0][0][0].text, ())]
    last_slot = len(pattern.slots) - 1
    found: list[tuple[Token, Token]] = []
    for s, slot in enumerate(pattern.slots):
        next_found: list[tuple[Token, Token]] = []
        for alternative in slot:
            final = len(alternative) - 1
            for a, atom in enumerate(alternative):
                is_prefix = pattern.prefix and s == last_slot and a == final
                if s == 0 and a == 0:
                    pool = view.starting_with(atom.text) if is_prefix else view.by_text.get(atom.text, [])
                    states = [(t, t) for t in pool if _accepts(view, t, atom, is_prefix, pattern.case)]
                else:
                    source = states if a else found
                    states = [(first, t) for first, last in source
                              for t in _at(view, last.last + 1)
                              if _accepts(view, t, atom, is_prefix, pattern.case)]
                if not states:
                    break
            next_found += states
        found = next_found
        if not found:
            return []
    return found


def _at(view: FieldView, position: int) -> list[Token]:
    return view.by_pos[position] if position < len(view.by_pos) else []
