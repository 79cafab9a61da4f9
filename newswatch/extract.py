"""Turn an article page's HTML into its text and metadata (trafilatura), or None.

A top-level, picklable function, so a process pool can run it. Rules:
- Bytes are decoded here, in this order: a BOM; valid UTF-8 (a strong signal that beats a wrong
  declaration); the charset the page declares in <meta>, if the bytes decode with it (latin-1
  and ascii are read as windows-1252, as browsers do); charset_normalizer's guess, near-ties
  going to the charsets most common on the web; windows-1252 with replacement characters as the
  last resort. (trafilatura alone skips the declaration and takes the first guess.)
- Text excludes reader comments (trafilatura keeps them by default: 65 false matches in 4,000
  articles) and boilerplate such as navigation; data tables inside the article are kept.
- trafilatura runs in fast mode (no readability/jusText fallback): on the scrapinghub benchmark
  F1 0.962 against 0.960 with the fallbacks, for about a fifth less CPU per page
  (bench/extraction_eval.py; bench/README.md, "## Extraction").
- date: the publication date as a timezone-aware UTC datetime (midnight UTC when the page gives
  only a day), if plausible (newswatch.bounds: 1900 to two years ahead), else None: a page dated
  year 1 or 9999 failed its triage batch where the story window was added to it; title and
  author from the page's metadata.
- language: <html lang>, else <meta http-equiv="content-language">, else og:locale; as the
  lowercase primary subtag ("en-GB" → "en"), like feed entries.
- canonical_url: <link rel="canonical">, else og:url, made absolute against `url`.
- None when no article text comes out (an empty page, a page that is not an article), or when
  what comes out is under _MIN_CHARS non-blank characters (a menu, a cookie notice): the caller
  then falls back to the feed's summary. Counted in characters, not words, for CJK text.
"""

from __future__ import annotations

import codecs
import re
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from newswatch.bounds import plausible_date
from newswatch.models import Extracted
from newswatch.urls import absolute_url

if TYPE_CHECKING:
    from lxml.html import HtmlElement

__all__ = ["decode_html", "extract"]

_DECLARED = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_WINDOWS = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "ascii": "cp1252"}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_COMMON = (
    "cp1252", "cp1251", "cp1250", "gb18030", "gbk", "gb2312", "big5", "shift_jis", "euc_jp", "euc_kr",
    "cp1256", "cp1253", "cp1254", "cp1255", "koi8_r", "koi8_u", "iso8859_2", "iso8859_15", "cp1257",
)
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
_MIN_CHARS = 100
# trafilatura's switches, chosen by bench/extraction_eval.py (bench/README.md, "## Extraction").
_SETTINGS = {"include_comments": False, "include_tables": True, "fast": True}


def extract(html: bytes | str, url: str, metadata: bool = True) -> Extracted | None:
    """The article text and metadata of a page fetched from `url`, or None when there is none.

    metadata=False leaves out title, author and date (the caller has them from the feed): their
    search costs trafilatura ~45 % of its time on a typical page, and the text is the same.
    """
    import trafilatura  # here, not at the top: most cycles extract nothing in this process (start-up)

    tree = trafilatura.load_html(decode_html(html) if isinstance(html, bytes) else html)
    if tree is None:
        return None
    language, canonical = _language(tree), _canonical(tree, url)
    document = trafilatura.bare_extraction(tree, url=url, with_metadata=metadata,
                                           date_extraction_params=_date_params(), **_SETTINGS)
    text = (document.text or "").strip() if document is not None else ""
    if len("".join(text.split())) < _MIN_CHARS:
        return None
    return Extracted(
        text=text,
        title=(document.title or None) if metadata else None,
        author=(document.author or None) if metadata else None,
        date=_utc(document.date) if metadata else None,
        language=language,
        canonical_url=canonical,
    )


def decode_html(body: bytes) -> str:
    """`body` as text: BOM, valid UTF-8, the declared charset, a guess, then windows-1252."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body.decode(encoding, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    candidates = []
    if declared := _DECLARED.search(body[:4096]):
        name = declared.group(1).decode("ascii").lower()
        candidates.append(_WINDOWS.get(name, name))
    if guess := _guess(body[:20_000]):
        candidates.append(guess)
    for encoding in candidates:
        try:
            return body.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("cp1252", errors="replace")


def _guess(body: bytes) -> str | None:
    """charset_normalizer's guess; among near-equal ones, the charset most common on the web.

    On short single-byte text many code pages tie (Latin-1 French reads as cp775 or cp1257 as
    well as cp1252), so the order of _COMMON breaks ties the way browsers' defaults would.
    """
    from charset_normalizer import from_bytes

    matches = list(from_bytes(body))
    if not matches:
        return None
    best = min(match.chaos for match in matches)
    close = [match.encoding for match in matches if match.chaos <= best + 0.02]
    return min(close, key=lambda name: _COMMON.index(name) if name in _COMMON else len(_COMMON))


def _language(tree: HtmlElement) -> str | None:
    root = tree.getroottree().getroot()
    candidates = [
        root.get("lang"),
        root.get("{http://www.w3.org/XML/1998/namespace}lang"),
        *tree.xpath("//meta[translate(@http-equiv,'CONTENTLAGU','contentlagu')='content-language']/@content"),
        *tree.xpath("//meta[@property='og:locale']/@content"),
    ]
    for candidate in candidates:
        primary = re.split(r"[-_\s,]", (candidate or "").strip(), maxsplit=1)[0].lower()
        if primary.isalpha() and 2 <= len(primary) <= 3:
            return primary
    return None


def _canonical(tree: HtmlElement, url: str) -> str | None:
    links = tree.xpath("//link[contains(concat(' ', normalize-space(@rel), ' '), ' canonical ')]/@href")
    for href in [*links, *tree.xpath("//meta[@property='og:url']/@content")]:
        if absolute := absolute_url(href, url):
            return absolute
    return None


def _date_params() -> dict[str, object]:
    tomorrow = datetime.now(timezone.utc) + timedelta(days=1)  # pages dated "today" in any zone
    return {"original_date": True, "extensive_search": True,
            "max_date": tomorrow.strftime("%Y-%m-%d"), "outputformat": _DATE_FORMAT}


def _utc(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.strptime(value, _DATE_FORMAT)
    except ValueError:
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            return None
    try:
        when = when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)
    except OverflowError:  # "0001-01-01T00:00:00+01:00" is before year 1 in UTC
        return None
    return plausible_date(when)
