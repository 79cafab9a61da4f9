"""Parse watch-query tokens (lexer.py) into a tree of `nodes`, or raise QuerySyntaxError with a caret.

Grammar (docs/queries.md is the user-facing reference; precedence from tightest):

    query   := or EOF
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*          two operands side by side mean AND
    unary   := "NOT" unary | near
    near    := primary ("NEAR/" digits primary)*
    primary := "(" or ")" | ("title:" | "text:") primary | "case:" (word | phrase) | word | phrase | "@" alias
    word    := wordchar+ (joiner wordchar+)* ["*"]     joiner: a hyphen or an apostrophe
    phrase  := '"' (char | '\\"' | '\\\\')* '"'

Rules:
- AND, OR, NOT and NEAR/n are operators only in upper case and as whole words.
- NEAR's operands must be positional: terms, phrases, prefixes, aliases, NEAR, field: of those,
  or parenthesised OR-groups of those.
- An alias expands, at parse time, to the OR of its entries (an entry with spaces or punctuation is
  a phrase, one word ending in "*" a prefix), so the tree and describe() stand alone.
- Every query, and every OR branch, needs a positive term: NOT only excludes.
- Error positions: the offending character or token; for a missing operand, the operator that
  lacks it; for an unclosed "(" or quote, the opening one; for an unknown alias, the "@".
"""

from __future__ import annotations

from collections.abc import Mapping

from newswatch.matching.lexer import RESERVED, WORD_RE, QuerySyntaxError, Tok, lex
from newswatch.matching.nodes import And, Field, Leaf, Near, Node, Not, Or, Phrase, Prefix, Term

__all__ = ["QuerySyntaxError", "parse"]

class _Parser:
    def __init__(self, text: str, aliases: Mapping[str, list[str]]):
        self.text, self.aliases = text, aliases
        self.tokens = lex(text)
        self.i = 0

    def error(self, message: str, position: int) -> QuerySyntaxError:
        return QuerySyntaxError(message, self.text, position)

    def peek(self) -> Tok:
        return self.tokens[self.i]

    def take(self) -> Tok:
        self.i += 1
        return self.tokens[self.i - 1]

    def parse(self) -> Node:
        if self.peek().kind == "EOF":
            raise self.error("empty query", 0)
        node = self.or_()
        if self.peek().kind != "EOF":  # only a ")" stops or_() early
            raise self.error("unexpected ')': there is no '(' to close", self.peek().pos)
        return node

    def or_(self, after: Tok | None = None) -> Node:
        items = [self.and_(after)]
        while self.peek().kind == "OR":
            items.append(self.and_(self.take()))
        return items[0] if len(items) == 1 else Or(tuple(items), pos=items[0].pos)

    def and_(self, after: Tok | None) -> Node:
        items = [self.unary(after)]
        while True:
            if self.peek().kind == "AND":
                items.append(self.unary(self.take()))
            elif self.peek().kind in ("WORD", "PREFIX", "PHRASE", "(", "FIELD", "ALIAS", "NOT"):
                items.append(self.unary(None))
            else:
                return items[0] if len(items) == 1 else And(tuple(items), pos=items[0].pos)

    def unary(self, after: Tok | None) -> Node:
        if self.peek().kind == "NOT":
            op = self.take()
            return Not(self.unary(op), pos=op.pos)
        return self.near(after)

    def near(self, after: Tok | None) -> Node:
        left = self.primary(after)
        while self.peek().kind == "NEAR":
            op = self.take()
            right = self.primary(op)
            for side in (left, right):
                if not side.positional():
                    raise self.error(f"{op.name()} joins terms, phrases, prefixes, aliases or OR-groups of them, "
                                     "not AND or NOT", side.pos)
            left = Near(left, right, int(op.value), pos=left.pos)
        return left

    def primary(self, after: Tok | None) -> Node:
        tok = self.peek()
        if tok.kind == "(":
            self.take()
            if self.peek().kind == ")":
                raise self.error("empty parentheses", tok.pos)
            node = self.or_(tok)
            if self.peek().kind != ")":
                raise self.error("unclosed '('", tok.pos)
            self.take()
            return node
        if tok.kind == "FIELD":
            self.take()
            return self._case(tok) if tok.value == "case" else Field(str(tok.value), self.primary(tok), pos=tok.pos)
        if tok.kind in ("WORD", "PREFIX", "PHRASE"):
            return self._leaf(self.take(), case=False, pos=tok.pos)
        if tok.kind == "ALIAS":
            return self._alias(self.take())
        raise self._missing(tok, after)

    def _missing(self, tok: Tok, after: Tok | None) -> QuerySyntaxError:
        if tok.kind in ("AND", "OR", "NEAR"):
            return self.error(f"{tok.name()} needs a term on both sides", tok.pos)
        if tok.kind == "NOT":
            return self.error(f"NOT cannot follow {after.name() if after else 'here'}; "
                              "put NOT in front: NOT (a NEAR/5 b)", tok.pos)
        if after is None:  # a ")" with nothing before it
            return self.error("unexpected ')'", tok.pos)
        if after.kind == "(":  # "()" was caught earlier, so this is the end of the query
            return self.error("unclosed '('", after.pos)
        return self.error(f"{after.name()} needs a term after it", after.pos)

    def _case(self, tok: Tok) -> Leaf:
        if self.peek().kind not in ("WORD", "PREFIX", "PHRASE"):
            raise self.error("case: goes right before a word or a quoted phrase, e.g. case:US", tok.pos)
        return self._leaf(self.take(), case=True, pos=tok.pos)

    def _leaf(self, tok: Tok, *, case: bool, pos: int) -> Leaf:
        cls = {"WORD": Term, "PREFIX": Prefix, "PHRASE": Phrase}[tok.kind]
        leaf = cls(str(tok.value), case=case, pos=pos)
        if not leaf.pattern.slots:
            raise self.error("a phrase needs at least one word" if tok.kind == "PHRASE"
                             else "a term needs a letter or a digit", tok.pos)
        return leaf

    def _alias(self, tok: Tok) -> Node:
        name = str(tok.value)
        if name not in self.aliases:
            known = ", ".join("@" + key for key in sorted(self.aliases)) or "none defined"
            raise self.error(f"unknown alias @{name} (known: {known})", tok.pos)
        leaves = [self._entry(name, entry, tok.pos) for entry in self.aliases[name]]
        if not leaves:
            raise self.error(f"alias @{name} has no entries", tok.pos)
        return leaves[0] if len(leaves) == 1 else Or(tuple(leaves), pos=tok.pos)

    def _entry(self, name: str, entry: str, pos: int) -> Leaf:
        text = entry.strip()
        leaf: Leaf
        if WORD_RE.fullmatch(text.removesuffix("*")) and text not in RESERVED:
            leaf = Prefix(text[:-1], pos=pos) if text.endswith("*") else Term(text, pos=pos)
        elif "*" in text:
            raise self.error(f"alias @{name} entry {entry!r}: '*' only at the end of a single word", pos)
        else:
            leaf = Phrase(text, pos=pos)
        if not leaf.pattern.slots:
            raise self.error(f"alias @{name} entry {entry!r} has no words", pos)
        return leaf


def _unanchored(node: Node) -> tuple[Node, str] | None:
    """The part of the tree that can match without any positive term, and why; None if none."""
    if isinstance(node, Not):
        return node, "a query needs at least one positive term (NOT only excludes)"
    if isinstance(node, Field):
        return _unanchored(node.child)
    if isinstance(node, And):
        found = [_unanchored(item) for item in node.items]
        return found[0] if all(found) else None
    if isinstance(node, Or):
        for item in node.items:
            if (found := _unanchored(item)) is not None:
                return found[0], "each side of OR needs at least one positive term (NOT only excludes)"
    return None


def parse(text: str, aliases: Mapping[str, list[str]] | None = None) -> Node:
    """The tree of `text`; raises QuerySyntaxError."""
    root = _Parser(text, aliases or {}).parse()
    if (found := _unanchored(root)) is not None:
        raise QuerySyntaxError(found[1], text, found[0].pos)
    return root
