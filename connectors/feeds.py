"""Turn a fetched feed document into FeedEntry values: RSS 0.9x/1.0/2.0, Atom, JSON Feed.

Rules:
- feedparser only ever sees bytes (as a stream, so it can never open a file or fetch a URL), with
  the response's Content-Type (charset) and the fetched URL as Content-Location (relative links).
- Charset: the declared one (HTTP, then the XML declaration, as RFC 7303 orders them), except that
  a body which is valid UTF-8 with non-ASCII bytes is read as UTF-8 when the declaration is a
  Latin-1/ASCII default or absent: servers mislabel UTF-8, the reverse is vanishingly rare.
  (A Latin-1 body declared UTF-8 fails to decode and feedparser falls back by itself.)
- JSON Feed, which feedparser 6.0 cannot read, goes to connectors.jsonfeed: chosen by a body
  that starts with "{", or a JSON Content-Type on a body that does not start with "<".
- Accepted: any document feedparser recognises that yields entries, even if "bozo" (not
  well-formed); and a well-formed feed with no entries at all (an empty feed is still a feed).
- Refused with FeedParseError, message `parse: not a feed (…)`: a document with no feed structure
  (an HTML page, random bytes), a broken one with no entries, or one whose entries all lack both
  a title and a link.
- Character references to no character (`&#xD800;`, a UTF-16 surrogate; past U+10FFFF) become
  U+FFFD first: feedparser's lenient parser raises on them. Any other exception the parsers raise
  on a document is that feed's FeedParseError (`parse: the feed parser failed (…)`), never the
  batch's: one feed's bytes must not stop the other sources.
- Entity expansion: a DOCTYPE's internal subset (where entity declarations live) is cut out before
  parsing: feeds never need one, and "billion laughs" and quadratic-blowup documents live there.
  Behind that, feedparser's SAX parser does not resolve external entities (no XXE) and expat
  >= 2.4 caps entity amplification; tests/connectors/test_feeds.py checks time and memory.
Field rules (plain text, absolute URLs, UTC dates, language subtags): connectors.fields.
"""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import dataclass

import feedparser

from connectors import fields
from connectors.errors import FeedParseError
from connectors.jsonfeed import parse_json_feed
from newswatch.models import FeedEntry

__all__ = ["ParsedFeed", "parse_document", "parse_feed"]

_JSON_TYPES = ("application/feed+json", "application/json")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_LEGACY = frozenset({"iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii", "windows-1252", "cp1252"})
_DOCTYPE_SUBSET = re.compile(rb"<!DOCTYPE\b[^>\[]*\[", re.IGNORECASE)
_SUBSET_END = re.compile(rb"\]\s*>")
_CHAR_REF = re.compile(rb"&#([xX][0-9a-fA-F]{1,16}|[0-9]{1,20});")
_WIDE_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)


@dataclass(frozen=True)
class ParsedFeed:
    """A feed's entries plus the feed-level hints the fetcher needs (RSS <ttl>, in minutes)."""

    entries: list[FeedEntry]
    ttl: str | None = None


def parse_feed(source: str, body: bytes, url: str, content_type: str | None = None) -> list[FeedEntry]:
    """The entries of a feed document fetched from `url`, or FeedParseError saying why it is not one."""
    return parse_document(source, body, url, content_type).entries


def parse_document(source: str, body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """`parse_feed` plus the feed-level hints."""
    try:
        return _parse_document(source, body, url, content_type)
    except FeedParseError:
        raise
    except Exception as exc:  # noqa: BLE001 - a parser's own failure on a feed is that feed's error
        raise FeedParseError(f"parse: the feed parser failed ({type(exc).__name__}: {exc})") from exc


def _parse_document(source: str, body: bytes, url: str, content_type: str | None) -> ParsedFeed:
    media = (content_type or "").split(";")[0].strip().lower()
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start == b"{" or (media in _JSON_TYPES and start != b"<"):
        return ParsedFeed(parse_json_feed(source, body, url))
    # Without a Content-Type feedparser flags every document as bozo; application/xml is neutral
    # (the charset then comes from the BOM or the XML declaration, RFC 7303).
    headers = {"content-location": url, "content-type": _utf8_wins(content_type, body)}
    parsed = feedparser.parse(io.BytesIO(_char_refs_made_valid(_without_internal_dtd(body))), response_headers=headers)
    if not parsed.entries and (not parsed.get("version") or _broken(parsed)):
        raise FeedParseError(f"parse: not a feed ({_why(parsed)})")
    feed = parsed.feed
    feed_language = fields.language(feed.get("language"))
    feed_author = _author(feed)
    entries = [_entry(source, raw, url, feed_language, feed_author) for raw in parsed.entries]
    return ParsedFeed(fields.usable(entries), feed.get("ttl"))


def _entry(
    source: str, raw: feedparser.FeedParserDict, url: str, feed_language: str | None,
    feed_author: str | None,
) -> FeedEntry | None:
    content = raw.get("content") or [{}]
    summary = _text(raw.get("summary_detail")) or _text(content[0])
    return fields.entry(
        source,
        url=fields.absolute_url(raw.get("link"), url),  # a permalink guid is already the link
        guid=raw.get("id"),
        title=_text(raw.get("title_detail"), one_line=True),
        summary=summary,
        # dict.get: FeedParserDict maps a missing updated_parsed to published_parsed, with a warning
        published=fields.utc(dict.get(raw, "published_parsed") or dict.get(raw, "updated_parsed")),
        author=_author(raw) or feed_author,
        lang=fields.language((raw.get("title_detail") or {}).get("language")) or feed_language,
    )


def _char_refs_made_valid(body: bytes) -> bytes:
    """`body` with each character reference to no character (a UTF-16 surrogate, past U+10FFFF)
    made U+FFFD: feedparser's lenient parser raises on them, losing every entry."""
    return _CHAR_REF.sub(_valid_ref, body) if b"&#" in body else body


def _valid_ref(found: re.Match) -> bytes:
    digits = found[1]
    value = int(digits[1:], 16) if digits[:1] in (b"x", b"X") else int(digits)
    return b"&#xFFFD;" if 0xD800 <= value <= 0xDFFF or value > 0x10FFFF else found[0]


def _without_internal_dtd(body: bytes) -> bytes:
    """`body` without the internal subset of a DOCTYPE in its prolog (first 4 KB)."""
    start = _DOCTYPE_SUBSET.search(body, 0, 4096)
    end = _SUBSET_END.search(body, start.end()) if start else None
    return body[: start.start()] + body[end.end():] if start and end else body


def _utf8_wins(content_type: str | None, body: bytes) -> str:
    """The Content-Type to hand feedparser: charset=utf-8 when the body is UTF-8 with non-ASCII."""
    content_type = content_type or "application/xml"
    declared = _CHARSET.search(content_type)
    if declared and declared.group(1).lower() not in _LEGACY or body.startswith(_WIDE_BOMS):
        return content_type
    if body.isascii():
        return content_type
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return content_type
    return f"{content_type.split(';')[0].strip()}; charset=utf-8"


def _text(detail: dict | None, *, one_line: bool = False) -> str:
    """Plain text of a feedparser text construct ({"type", "value"}); HTML only when it says so."""
    if not detail:
        return ""
    html = "html" in str(detail.get("type", "text/html"))
    return fields.plain_text(detail.get("value"), html=html, one_line=one_line)


def _author(node: feedparser.FeedParserDict) -> str | None:
    name = (node.get("author_detail") or {}).get("name") or node.get("author")
    return fields.plain_text(name, one_line=True) or None


def _broken(parsed: feedparser.FeedParserDict) -> bool:
    """Bozo for a reason other than a surprising Content-Type or charset (those still parse)."""
    harmless = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
    return bool(parsed.bozo) and not isinstance(parsed.get("bozo_exception"), harmless)


def _why(parsed: feedparser.FeedParserDict) -> str:
    if parsed.bozo and parsed.get("bozo_exception") is not None:
        problem = str(parsed.bozo_exception).replace("<unknown>:", "line ")
        if parsed.get("version"):
            return f"a broken {parsed.version} document with no entries: {problem}"
        return f"no RSS, Atom or JSON Feed structure; the XML parser says: {problem}"
    return "no RSS, Atom or JSON Feed structure"
