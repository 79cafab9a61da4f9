"""Split watch-query text into tokens, and the error every stage of parsing raises.

Rules:
- Whitespace separates tokens and is otherwise ignored; "(" ")" stand alone.
- A quoted phrase runs to the next unescaped '"'; inside, \\" is a quote and \\\\ a backslash,
  and "*" is an error (no wildcards in phrases).
- `title:`, `text:`, `case:` are field tokens; any other `word:` is an unknown field.
- `NEAR/<digits>` is the NEAR operator; NEAR alone, or NEAR/ without digits, is an error.
  NEARLY, NEAR-by and NEAR* are words.
- A word is word characters joined by hyphens or apostrophes, with an optional final "*"
  (a prefix). AND, OR and NOT are operators only exactly so, in upper case.
- A word or NEAR/n must end at whitespace, a parenthesis, a quote or the end; any other
  character is an error at that character, with a hint.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from newswatch.matching.text import JOINERS, WORD_CHAR

__all__ = ["RESERVED", "WORD_RE", "QuerySyntaxError", "Tok", "lex"]

_JOINER = "[" + re.escape(JOINERS) + "]"
WORD_RE = re.compile(rf"{WORD_CHAR}+(?:{_JOINER}{WORD_CHAR}+)*")
_FIELD_RE = re.compile(r"(\w+):")
_ALIAS_RE = re.compile(r"@([\w-]+)")
_DIGITS_RE = re.compile(r"\d+")
_OPERATORS = {"AND", "OR", "NOT"}
RESERVED = _OPERATORS | {"NEAR"}
_FIELDS = ("title", "text", "case")
_HINTS = {"-": ": use NOT to exclude a term", "*": ": '*' goes at the end of a word",
          "'": ": use double quotes for a phrase"}


class QuerySyntaxError(ValueError):
    """A query that does not parse; `position` is the column of the problem in `query`."""

    def __init__(self, message: str, query: str, position: int):
        super().__init__(message)
        self.message, self.query, self.position = message, query, position

    def explain(self) -> str:
        """The message, the query, and a caret under the problem."""
        return f"{self.message}\n    {self.query}\n    {' ' * self.position}^"


class Tok(NamedTuple):
    """One token, with where it starts in the query."""

    kind: str  # WORD PREFIX PHRASE ( ) AND OR NOT NEAR FIELD ALIAS EOF
    value: str | int
    pos: int

    def name(self) -> str:
        return {"NEAR": f"NEAR/{self.value}", "FIELD": f"{self.value}:"}.get(self.kind, self.kind)


def lex(text: str) -> list[Tok]:
    """The tokens of `text`, ending with an EOF token; raises QuerySyntaxError."""
    tokens: list[Tok] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            tokens.append(Tok(ch, ch, i))
            i += 1
        elif ch == '"':
            i = _lex_phrase(text, i, tokens)
        elif ch == "@":
            m = _ALIAS_RE.match(text, i)
            if not m:
                raise QuerySyntaxError("@ needs an alias name, e.g. @idlib", text, i)
            tokens.append(Tok("ALIAS", m[1], i))
            i = m.end()
        elif (m := _FIELD_RE.match(text, i)) is not None:
            if m[1] not in _FIELDS:
                raise QuerySyntaxError(f"unknown field '{m[1]}:' (known: title:, text:, case:)", text, i)
            tokens.append(Tok("FIELD", m[1], i))
            i = m.end()
        elif text.startswith("NEAR", i) and (i + 4 == n or not WORD_RE.match(text, i + 4)
                                              and text[i + 4] not in JOINERS + "*"):
            i = _lex_near(text, i, tokens)
        elif (m := WORD_RE.match(text, i)) is not None:
            i = _lex_word(text, m, tokens)
        else:
            raise QuerySyntaxError(f"unexpected {ch!r}" + _HINTS.get(ch, ": put punctuation inside quotes"), text, i)
    tokens.append(Tok("EOF", "", n))
    return tokens


def _lex_phrase(text: str, i: int, tokens: list[Tok]) -> int:
    chars: list[str] = []
    j = i + 1
    while j < len(text) and text[j] != '"':
        if text[j] == "\\" and text[j + 1:j + 2] in ('"', "\\"):
            j += 1
        elif text[j] == "*":
            raise QuerySyntaxError("'*' does not work inside quotes", text, j)
        chars.append(text[j])
        j += 1
    if j >= len(text):
        raise QuerySyntaxError("unclosed quote", text, i)
    tokens.append(Tok("PHRASE", "".join(chars), i))
    return j + 1


def _lex_near(text: str, i: int, tokens: list[Tok]) -> int:
    if text[i + 4:i + 5] != "/":
        raise QuerySyntaxError("NEAR needs a distance in words, e.g. NEAR/5", text, i)
    m = _DIGITS_RE.match(text, i + 5)
    if not m:
        raise QuerySyntaxError("NEAR/ needs a number of words, e.g. NEAR/5", text, i + 5)
    tokens.append(Tok("NEAR", int(m[0]), i))
    _check_end(text, m.end())
    return m.end()


def _lex_word(text: str, m: re.Match[str], tokens: list[Tok]) -> int:
    end = m.end()
    if text[end:end + 1] == "*":
        tokens.append(Tok("PREFIX", m[0], m.start()))
        end += 1
    elif m[0] in _OPERATORS:
        tokens.append(Tok(m[0], m[0], m.start()))
    else:
        tokens.append(Tok("WORD", m[0], m.start()))
    _check_end(text, end)
    return end


def _check_end(text: str, i: int) -> None:
    """A word or NEAR/n must end at a space, a parenthesis, a quote or the end of the query."""
    if i < len(text) and not text[i].isspace() and text[i] not in '()"':
        if text[i] == "*":
            raise QuerySyntaxError("'*' only once, at the end of a word", text, i)
        if text[i - 1] == "*":
            raise QuerySyntaxError("'*' only at the end of a word", text, i - 1)
        raise QuerySyntaxError(f"unexpected {text[i]!r}" + _HINTS.get(text[i], ": put punctuation inside quotes"),
                               text, i)
