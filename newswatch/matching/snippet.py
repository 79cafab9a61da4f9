"""The snippet an alert shows: about 200–260 characters of plain text around the best hit.

Rules:
- The snippet comes from the body: the text without the headline that extraction often puts at its
  start (the title's words, case aside, then a line break or punctuation), so an alert never shows the headline twice
  (issue 19). Around the body's best hit; when every hit is in the headline, the body's first
  WIDTH characters, without highlights; the title only when there is no body.
- Whitespace runs collapse to one space first; hit offsets are mapped through the collapse.
- The window (WIDTH characters, starting LEAD characters before a hit) is the one holding the most
  distinct terms, then the most hits, then the earliest. A field shorter than WIDTH is shown whole.
- Cut ends move to a word boundary (by at most SLACK characters, never into the anchoring hit)
  and get "…".
- `highlights` are (start, end) offsets into the snippet of every hit wholly inside it; overlapping
  ones (a NEAR pair sharing a word, a compound found two ways) are merged.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from functools import lru_cache

from newswatch.models import Document, TermHit

__all__ = ["body_start", "make_snippet"]

WIDTH, LEAD, SLACK = 260, 70, 30
_SPACES = re.compile(r"\s+")
_LONG_SPACES = re.compile(r"\s\s+")
_WORD = re.compile(r"\w+")
_AFTER_HEADLINE = re.compile(r"[\s.:;,!?|\-\u2013\u2014\u00bb\"'\u2019\u201d)\]]*")


@lru_cache(maxsize=2)  # the matched document's title and text (newswatch.matching.document says why no more)
def _collapse(source: str) -> tuple[str, list[int], list[int]]:
    """`source` with each whitespace run as one space; the ends of the longer runs, and how many
    characters collapsing has removed up to each of them."""
    ends: list[int] = []
    removed: list[int] = []
    for run in _LONG_SPACES.finditer(source):
        ends.append(run.end())
        removed.append((removed[-1] if removed else 0) + len(run[0]) - 1)
    return _SPACES.sub(" ", source), ends, removed


def _flat_offset(offset: int, ends: list[int], removed: list[int]) -> int:
    """Where an offset of the source (never inside a whitespace run) lands in the collapsed text."""
    i = bisect.bisect_right(ends, offset)
    return offset - removed[i - 1] if i else offset


def _window(flat: str, spans: list[tuple[int, int, str]], lo: int, hi: int) -> tuple[int, int]:
    if hi - lo <= WIDTH:
        return lo, hi
    best: tuple[tuple[int, int, int], int, int, int, int] | None = None
    for start, end, _ in spans[:50] or [(lo, lo, "")]:  # no hit: the start
        a = max(lo, min(start - LEAD, hi - WIDTH))
        b = min(hi, max(a + WIDTH, end))
        inside = [span for span in spans if a <= span[0] and span[1] <= b]
        score = (len({term for *_, term in inside}), len(inside), -a)
        if best is None or score > best[0]:
            best = (score, a, b, start, end)
    assert best is not None
    _, a, b, start, end = best
    if a > lo and flat[a - 1] != " " and (k := flat.find(" ", a, min(a + SLACK, start))) != -1:
        a = k + 1
    if b < hi and flat[b] != " " and (k := flat.rfind(" ", max(b - SLACK, end), b)) != -1:
        b = k
    while flat[a] == " ":
        a += 1
    while flat[b - 1] == " ":
        b -= 1
    return a, b


def body_start(title: str, text: str) -> int:
    """Where the body begins in `text`: past a leading copy of the headline `title`, else 0."""
    words = _WORD.findall(title.casefold())
    found = _WORD.finditer(text)
    end = 0
    for word in words:
        token = next(found, None)
        if token is None or token.group().casefold() != word:
            return 0
        end = token.end()
    gap = _AFTER_HEADLINE.match(text, end)
    if not words or (gap.end() < len(text) and not gap.group().strip() and "\n" not in gap.group()):
        return 0  # the body's first sentence begins with the title's words: not a headline
    return gap.end()


def make_snippet(doc: Document, hits: Sequence[TermHit]) -> tuple[str, list[tuple[int, int]]]:
    """The snippet around the best hit, and the highlighted (start, end) offsets within it."""
    body = body_start(doc.title, doc.text)
    name = "text" if doc.text[body:].strip() or not doc.title.strip() else "title"
    flat, ends, removed = _collapse(doc.text if name == "text" else doc.title)
    first = _flat_offset(body, ends, removed) if name == "text" else 0
    spans = sorted({(_flat_offset(h.start, ends, removed), _flat_offset(h.end, ends, removed), h.term)
                    for h in hits if h.field == name and (name == "title" or h.start >= body)})
    lo, hi = max(first, len(flat) - len(flat.lstrip(" "))), len(flat.rstrip(" "))
    if lo >= hi:
        return "", []
    a, b = _window(flat, spans, lo, hi)
    head, tail = ("…" if a > lo else ""), ("…" if b < hi else "")
    highlights: list[tuple[int, int]] = []
    for start, end, _ in spans:
        if a <= start and end <= b:
            start, end = start - a + len(head), end - a + len(head)
            if highlights and start <= highlights[-1][1]:
                highlights[-1] = (highlights[-1][0], max(end, highlights[-1][1]))
            else:
                highlights.append((start, end))
    return head + flat[a:b] + tail, highlights
