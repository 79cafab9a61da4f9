"""The query tree: every node can describe itself, match an analysed document and say what it needs.

Rules:
- `describe()` prints canonical text that parses back to an equal tree: explicit `AND`, the fewest
  parentheses the precedence allows (field: > NEAR > NOT > AND > OR), phrases re-escaped.
- `match(doc, scope)` returns the hits (possibly none, for NOT) when the node matches within the
  fields in `scope`, or None when it does not. OR collects the hits of every matching branch,
  so an alert can show all the terms found.
- Positional nodes (leaves, NEAR, field: and OR over positional nodes) also list their
  `occurrences`: word spans within one field. NEAR pairs non-overlapping occurrences of its two
  sides in the same field with at most `distance` words between them.
- `clauses()` says which words a document needs for the node to match: every clause must have at
  least one of its words (or prefixes) in the document. A leaf needs one per compound word (any
  of its spellings); AND and NEAR need all their operands' clauses; OR one clause joining one
  clause of each branch; NOT needs nothing. `anchors()` is the cheapest clause, None if there are
  none. The index looks documents up by anchors, then checks the clauses, then evaluates.
- `possible(text)` is a cheap necessary condition, on a document's folded fields (`folded`): False
  only when the node cannot match. A leaf asks that its `appearance` regex be found; AND, NEAR
  and field: that every operand be possible; OR that one be; NOT is always possible.
- `pos` (where the node starts in the query) is for error messages and never part of equality.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import cached_property
from operator import itemgetter
from typing import NamedTuple

from newswatch.matching.document import Analysed, Pattern, appearance, compile_pattern, find
from newswatch.models import TermHit

__all__ = ["And", "Field", "Leaf", "Near", "Node", "Not", "Or", "Phrase", "Prefix", "Term"]

Hits = tuple[TermHit, ...]
Scope = tuple[str, ...]
Key = tuple[str, str]  # ("word", folded word) or ("prefix", folded stem)


class Occurrence(NamedTuple):
    """Where a positional node was found: one field, a span of word positions, and its hits."""

    field: str
    first: int  # word positions
    last: int
    hits: Hits


def _cost(keys: frozenset[Key]) -> int:
    # Short words and prefixes are in many documents, so they make poor anchors.
    return sum((1 if len(text) >= 4 else 2) * (3 if kind == "prefix" else 1) for kind, text in keys)


class Node:
    """A query operator or leaf."""

    level = 5  # binding strength, for parentheses in describe()
    pos: int

    def describe(self) -> str:
        """Canonical query text for this node."""
        raise NotImplementedError

    def match(self, doc: Analysed, scope: Scope) -> Hits | None:
        """The hits when the node matches within the fields in `scope`, else None."""
        raise NotImplementedError

    def clauses(self) -> tuple[frozenset[Key], ...]:
        """Sets of words/prefixes a matching document has at least one of, each."""
        raise NotImplementedError

    def anchors(self) -> frozenset[Key] | None:
        """The cheapest clause, to look the node up by; None when it needs nothing."""
        return _cheapest(self.clauses())

    def possible(self, folded: str) -> bool:
        """False only when the node cannot match a document whose folded fields are `folded`."""
        return all(child.possible(folded) for child in self.children())

    def positional(self) -> bool:
        """Whether the node has word positions (can be an operand of NEAR)."""
        return False

    def children(self) -> tuple[Node, ...]:
        """The operands."""
        return ()

    def _wrap(self, child: Node, above: int) -> str:
        text = child.describe()
        return f"({text})" if child.level <= above else text


class Positional(Node):
    """A node found at word positions: its match is having occurrences."""

    def occurrences(self, doc: Analysed, scope: Scope) -> list[Occurrence]:
        """Every place the node occurs within the fields in `scope`."""
        raise NotImplementedError

    def match(self, doc: Analysed, scope: Scope) -> Hits | None:
        found = self.occurrences(doc, scope)
        return tuple(hit for occurrence in found for hit in occurrence.hits) if found else None


@dataclass(frozen=True)
class Leaf(Positional):
    """A word, phrase or prefix; `case` asks for the exact letter case."""

    case: bool = field(default=False, kw_only=True)
    pos: int = field(default=0, compare=False, repr=False, kw_only=True)
    pattern: Pattern = field(init=False, compare=False, repr=False)
    term: str = field(init=False, compare=False, repr=False)  # describe(), named in every hit

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", compile_pattern(self.raw, prefix=isinstance(self, Prefix),
                                                            case=self.case))
        object.__setattr__(self, "term", ("case:" if self.case else "") + self._text())

    @property
    def raw(self) -> str:
        raise NotImplementedError

    def positional(self) -> bool:
        return True

    def describe(self) -> str:
        return self.term

    def _text(self) -> str:
        raise NotImplementedError

    @cached_property
    def _appearance(self) -> re.Pattern[str]:  # compiled on first use: an index may hold 10,000s
        return appearance(self.pattern)

    def possible(self, folded: str) -> bool:
        return self._appearance.search(folded) is not None

    def occurrences(self, doc: Analysed, scope: Scope) -> list[Occurrence]:
        term = self.term
        found: dict[tuple[str, int, int], Occurrence] = {}
        for name in scope:
            for first, last in find(self.pattern, doc.fields[name]):
                # the split and the joined form of a compound find the same span: keep one
                found.setdefault((name, first.start, last.end), Occurrence(
                    name, first.position, last.last, (TermHit(term, name, first.start, last.end),)))  # type: ignore[arg-type]
        return list(found.values())

    def clauses(self) -> tuple[frozenset[Key], ...]:
        # one clause per compound word: for each of its spellings, its most selective atom
        slots = self.pattern.slots
        clauses = []
        for s, slot in enumerate(slots):
            clause = set()
            for alternative in slot:
                keys = [("prefix" if self.pattern.prefix and s == len(slots) - 1 and a == len(alternative) - 1
                         else "word", atom.text) for a, atom in enumerate(alternative)]
                clause.add(min(keys, key=lambda key: _cost(frozenset([key]))))
            clauses.append(frozenset(clause))
        return tuple(dict.fromkeys(clauses))


@dataclass(frozen=True)
class Term(Leaf):
    """`Idlib`, `de-escalation`: one word (a compound counts as one)."""

    word: str

    @property
    def raw(self) -> str:
        return self.word

    def _text(self) -> str:
        return self.word


@dataclass(frozen=True)
class Prefix(Leaf):
    """`negotiat*`: any word starting with the stem."""

    stem: str

    @property
    def raw(self) -> str:
        return self.stem

    def _text(self) -> str:
        return self.stem + "*"


@dataclass(frozen=True)
class Phrase(Leaf):
    """`"Sochi agreement"`: words in a row, punctuation between them ignored."""

    words: str  # as written between the quotes, escapes removed

    @property
    def raw(self) -> str:
        return self.words

    def _text(self) -> str:
        return '"' + self.words.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class Near(Positional):
    """`a NEAR/n b`: both, at most n words between them, either order."""

    left: Node
    right: Node
    distance: int
    pos: int = field(default=0, compare=False, repr=False, kw_only=True)
    level = 4

    def describe(self) -> str:
        return f"{self._wrap(self.left, 3)} NEAR/{self.distance} {self._wrap(self.right, 4)}"

    def positional(self) -> bool:
        return True

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)

    def occurrences(self, doc: Analysed, scope: Scope) -> list[Occurrence]:
        assert isinstance(self.left, Positional) and isinstance(self.right, Positional)
        lefts = self.left.occurrences(doc, scope)
        rights = self.right.occurrences(doc, scope) if lefts else []
        pairs: dict[tuple[int, int], Occurrence] = {}
        # each occurrence on either side pairs with its nearest partner on the other side
        for ones, others, flip in ((lefts, rights, False), (rights, lefts, True)):
            nearest = _Nearest(others)
            for i, one in enumerate(ones):
                best = nearest.to(one)
                if best is None or best[0] > self.distance:
                    continue
                other = others[best[1]]
                key = (best[1], i) if flip else (i, best[1])
                left, right = (other, one) if flip else (one, other)
                pairs.setdefault(key, Occurrence(one.field, min(one.first, other.first),
                                                 max(one.last, other.last), left.hits + right.hits))
        return list(pairs.values())

    def clauses(self) -> tuple[frozenset[Key], ...]:
        return tuple(dict.fromkeys(self.left.clauses() + self.right.clauses()))


class _Nearest:
    """The occurrence nearest to a given one among `others` of its field, by the number of words
    between them (overlapping spans are one mention, never near each other), the first listed on
    a tie: found by bisection, since a page can hold thousands of each side's occurrences."""

    def __init__(self, others: list[Occurrence]) -> None:
        # per field, (first position, index in others) and (last position, index), sorted
        self._starts: dict[str, list[tuple[int, int]]] = {}
        self._ends: dict[str, list[tuple[int, int]]] = {}
        for j, other in enumerate(others):
            self._starts.setdefault(other.field, []).append((other.first, j))
            self._ends.setdefault(other.field, []).append((other.last, j))
        for spans in (*self._starts.values(), *self._ends.values()):
            spans.sort()

    def to(self, one: Occurrence) -> tuple[int, int] | None:
        """(words between, index in others) of the nearest, or None if none is apart from `one`."""
        if one.field not in self._starts:
            return None
        starts, ends = self._starts[one.field], self._ends[one.field]
        found = []
        k = bisect_right(starts, one.last, key=_position)  # the first starting after `one` ends
        if k < len(starts):
            found.append((starts[k][0] - one.last - 1, starts[k][1]))
        k = bisect_left(ends, one.first, key=_position) - 1  # the last ending before `one` starts
        if k >= 0:
            k = bisect_left(ends, ends[k][0], key=_position)  # the first listed among those ending there
            found.append((one.first - ends[k][0] - 1, ends[k][1]))
        return min(found, default=None)


_position = itemgetter(0)


@dataclass(frozen=True)
class Field(Positional):
    """`title:x` or `text:x`: the child, looked for only in that field."""

    name: str
    child: Node
    pos: int = field(default=0, compare=False, repr=False, kw_only=True)

    def describe(self) -> str:
        return f"{self.name}:{self._wrap(self.child, 4)}"

    def positional(self) -> bool:
        return self.child.positional()

    def children(self) -> tuple[Node, ...]:
        return (self.child,)

    def _scope(self, scope: Scope) -> Scope:
        return tuple(name for name in scope if name == self.name)

    def occurrences(self, doc: Analysed, scope: Scope) -> list[Occurrence]:
        assert isinstance(self.child, Positional)
        return self.child.occurrences(doc, self._scope(scope))

    def match(self, doc: Analysed, scope: Scope) -> Hits | None:
        return self.child.match(doc, self._scope(scope))

    def clauses(self) -> tuple[frozenset[Key], ...]:
        return self.child.clauses()


@dataclass(frozen=True)
class Not(Node):
    """`NOT x`: matches (with no hits) when x does not."""

    child: Node
    pos: int = field(default=0, compare=False, repr=False, kw_only=True)
    level = 3

    def describe(self) -> str:
        return f"NOT {self._wrap(self.child, 2)}"

    def children(self) -> tuple[Node, ...]:
        return (self.child,)

    def possible(self, folded: str) -> bool:
        return True  # x being possible says nothing about NOT x

    def match(self, doc: Analysed, scope: Scope) -> Hits | None:
        return None if self.child.match(doc, scope) is not None else ()

    def clauses(self) -> tuple[frozenset[Key], ...]:
        return ()


@dataclass(frozen=True)
class And(Node):
    """`a AND b` (or `a b`): all of them."""

    items: tuple[Node, ...]
    pos: int = field(default=0, compare=False, repr=False, kw_only=True)
    level = 2

    def describe(self) -> str:
        return " AND ".join(self._wrap(item, 2) for item in self.items)

    def children(self) -> tuple[Node, ...]:
        return self.items

    def match(self, doc: Analysed, scope: Scope) -> Hits | None:
        hits: Hits = ()
        for item in self.items:
            found = item.match(doc, scope)
            if found is None:
                return None
            hits += found
        return hits

    def clauses(self) -> tuple[frozenset[Key], ...]:
        return tuple(dict.fromkeys(clause for item in self.items for clause in item.clauses()))


@dataclass(frozen=True)
class Or(Positional):
    """`a OR b`: any of them; positional when all of them are."""

    items: tuple[Node, ...]
    pos: int = field(default=0, compare=False, repr=False, kw_only=True)
    level = 1

    def describe(self) -> str:
        return " OR ".join(self._wrap(item, 1) for item in self.items)

    def positional(self) -> bool:
        return all(item.positional() for item in self.items)

    def children(self) -> tuple[Node, ...]:
        return self.items

    def occurrences(self, doc: Analysed, scope: Scope) -> list[Occurrence]:
        return [o for item in self.items for o in item.occurrences(doc, scope)]  # type: ignore[attr-defined]

    def possible(self, folded: str) -> bool:
        return any(item.possible(folded) for item in self.items)

    def match(self, doc: Analysed, scope: Scope) -> Hits | None:
        found = [hits for item in self.items if (hits := item.match(doc, scope)) is not None]
        return tuple(hit for hits in found for hit in hits) if found else None

    def clauses(self) -> tuple[frozenset[Key], ...]:
        cheapest = [_cheapest(item.clauses()) for item in self.items]
        if any(clause is None for clause in cheapest):
            return ()
        return (frozenset().union(*cheapest),)  # type: ignore[arg-type]


def _cheapest(clauses: tuple[frozenset[Key], ...]) -> frozenset[Key] | None:
    return min(clauses, key=_cost) if clauses else None
