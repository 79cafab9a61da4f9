"""Text normalisation and tokenization, shared by watch queries and (later) story dedupe.

Rules (the user-facing version is docs/queries.md, "How text is compared"):

1. `fold` works one character at a time: NFKC; `casefold` (skipped with keep_case=True); NFKD,
   dropping the combining marks (category Mn: accents, Arabic harakat, the dot of Turkish İ);
   then the `_SPECIAL` table (dotless ı → i, Arabic alef forms → ا, ة → ه, ى → ي, Persian ی/ک,
   tatweel and invisible joiners removed, typographic quotes and dashes → ' " -).
   Working per character is what lets every folded character point back at the original character
   it came from, even when folding changes the length (ß → ss, ﬁ → fi, e + ◌́ → e).
2. The folded form is decomposed (NFKD), so composed and decomposed input fold alike.
3. `tokenize` finds words with a regex over the folded text. Word characters are `\\w` plus
   combining marks. Words joined by a hyphen or an apostrophe form a compound, which yields its
   parts (one position each) and, with joined=True, the joined form at the first part's position
   spanning to the last part's: "de-escalation" → de, escalation, deescalation. So
   "de-escalation", "de escalation" and "deescalation" all meet (docs/queries.md, "Hyphens").
4. A Han or kana character is a word of its own: those scripts have no spaces and we have no
   segmenter, so a query "北京" becomes the phrase 北 京 (what Lucene's StandardTokenizer does).
5. Token offsets index the ORIGINAL string: `text[token.start:token.end]` is the surface form.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from newswatch.matching.marks import marks as combining_marks

__all__ = ["JOINERS", "Token", "WORD_CHAR", "fold", "tokenize", "words"]


_MARKS = combining_marks()  # not `\w` in Python, yet inside words (newswatch.matching.marks)
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"

#: One word character of raw (unfolded) text, e.g. in a query: `\w` or a combining mark.
WORD_CHAR = rf"(?:\w|[{_MARKS}])"
#: Raw characters that join a compound; each folds to "-" or "'".
JOINERS = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d'\u2018\u2019\u201b\u02bc\u2032\uff07"


@lru_cache(maxsize=2)
def _patterns(marks: bool) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The word and compound-part regexes for folded text, with or without marks in its words.

    Folded text keeps only spacing and enclosing marks (Mc, Me: Indic vowel signs). Text without
    them, nearly all news text, uses the plain `\\w` pattern, three times faster than the
    alternation, which is compiled on first use (~25 ms, else at the start of every command)."""
    plain = rf"(?:[^\W{_CJK}]|[{_MARKS}])" if marks else rf"[^\W{_CJK}]"
    return re.compile(rf"[{_CJK}]|{plain}+(?:[-']{plain}+)*"), re.compile(rf"{plain}+")


_SPECIAL = {
    "\u0131": "i",  # Turkish dotless ı: İdlib, Idlib and ıdlib are one word
    "\u0671": "\u0627",  # alef wasla → alef (أ إ آ lose their hamza/madda as combining marks)
    "\u0629": "\u0647",  # taa marbuta → haa
    "\u0649": "\u064a",  # alef maqsura → yaa
    "\u06cc": "\u064a",  # Persian yeh → Arabic yaa
    "\u06a9": "\u0643",  # keheh → kaf
    "\u0640": "",  # tatweel (kashida) only stretches a word
    "\u00ad": "",  # soft hyphen, zero-width (non-)joiners, word joiner, BOM: invisible in words
    "\u200c": "",
    "\u200d": "",
    "\u2060": "",
    "\ufeff": "",
    "\u200b": " ",  # zero-width space separates words
    **dict.fromkeys(JOINERS[:11], "-"),
    **dict.fromkeys(JOINERS[11:], "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
}


def _fold_char(ch: str, keep_case: bool) -> str:
    s = unicodedata.normalize("NFKC", ch)
    if not keep_case:
        s = s.casefold()
    s = unicodedata.normalize("NFKD", s)
    return "".join(_SPECIAL.get(c, c) for c in s if unicodedata.category(c) != "Mn")


# Per-character results, filled lazily: {ord: folded}, usable directly by str.translate.
_TABLES: dict[bool, dict[int, str]] = {False: {}, True: {}}
_MARKED: set[int] = set()  # characters whose folded form contains a (spacing) combining mark


# Folds of long texts are cached: a page's text is folded for matching, for its fingerprint and for
# its hash. Short ones (a title part, a host label, a word) cost microseconds and would evict them.
# An entry may hold a large text and its offset maps, which are 4-byte arrays: as lists of ints,
# 2 MB of Arabic with its vowel marks took 106 MB.
_CACHED_FROM = 1000  # characters


def _fold_with_map(text: str, keep_case: bool) -> tuple[str, Sequence[int] | None, Sequence[int] | None, bool]:
    """Fold `text`: for each folded character its original start and end (None: identity), and
    whether the folded text contains combining marks. The maps are shared: read, never change."""
    if len(text) < _CACHED_FROM:
        return _fold_now(text, keep_case)
    return _fold_cached(text, keep_case)


def _fold_now(text: str, keep_case: bool) -> tuple[str, Sequence[int] | None, Sequence[int] | None, bool]:
    table = _TABLES[keep_case]
    one_to_one, marks = True, False
    for ch in set(text):
        folded = table.get(ord(ch))
        if folded is None:
            folded = table[ord(ch)] = _fold_char(ch, keep_case)
            if any(unicodedata.category(c).startswith("M") for c in folded):
                _MARKED.add(ord(ch))
        one_to_one = one_to_one and len(folded) == 1
        marks = marks or ord(ch) in _MARKED
    if one_to_one:  # the common case (most news text): same length, offsets unchanged
        return text.translate(table), None, None, marks
    out: list[str] = []
    starts, ends = array("I"), array("I")
    for i, ch in enumerate(text):
        folded = table[ord(ch)]
        if not folded:
            if ends:  # a dropped mark belongs to the character before it (é = e + ◌́)
                ends[-1] = i + 1
            continue
        out.append(folded)
        starts.extend([i] * len(folded))
        ends.extend([i + 1] * len(folded))
    return "".join(out), starts, ends, marks


# Two pages' texts, each with and without case: two threads of one process read pages when a
# cycle has no reader pool (flows/pages.py).
_fold_cached = lru_cache(maxsize=4)(_fold_now)


def fold(text: str, *, keep_case: bool = False) -> str:
    """Normalise `text` for comparison: NFKC, casefold, no diacritics, Turkish and Arabic rules."""
    return _fold_with_map(text, keep_case)[0]


class Token(NamedTuple):
    """A word of a text: its folded form, where it is in the original, and its word position."""

    text: str
    start: int
    end: int
    position: int
    last: int  # the position of the last word it covers: > position only for a joined compound


def tokenize(text: str, *, joined: bool = True) -> list[Token]:
    """The words of `text`, in order; compounds add their joined form unless joined=False."""
    folded, starts, ends, marks = _fold_with_map(text, keep_case=False)
    word_re, part_re = _patterns(marks)
    tokens: list[Token] = []
    position = 0
    for match in word_re.finditer(folded):
        word = match.group()
        a, b = match.span()
        if "-" not in word and "'" not in word:
            tokens.append(Token(word, a, b, position, position) if starts is None or ends is None
                          else Token(word, starts[a], ends[b - 1], position, position))
            position += 1
            continue
        first = position
        for part in part_re.finditer(folded, a, b):
            tokens.append(_token(part.group(), part.start(), part.end(), position, position, starts, ends))
            position += 1
        if joined:
            tokens.append(_token(word.replace("-", "").replace("'", ""), a, b, first, position - 1, starts, ends))
    return tokens


def _token(word: str, a: int, b: int, position: int, last: int,
           starts: Sequence[int] | None, ends: Sequence[int] | None) -> Token:
    if starts is None or ends is None:
        return Token(word, a, b, position, last)
    return Token(word, starts[a], ends[b - 1], position, last)


def words(text: str) -> set[str]:
    """The distinct folded texts of `tokenize(text)`'s tokens, without building the tokens.

    For deciding which queries a document could match: far cheaper than tokenizing, and most
    documents match none.
    """
    folded, _, _, marks = _fold_with_map(text, keep_case=False)
    word_re, part_re = _patterns(marks)
    found = set(word_re.findall(folded))
    for compound in [w for w in found if "-" in w or "'" in w]:
        found.update(part_re.findall(compound))
        found.discard(compound)
        found.add(compound.replace("-", "").replace("'", ""))
    return found
