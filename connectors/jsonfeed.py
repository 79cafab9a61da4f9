"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1) into FeedEntry values.

feedparser 6.0 does not read JSON Feed, so this module does, with the same field rules as the
XML path (connectors.fields). Mapping:
- url: `url`, else `external_url`, resolved against the fetched URL;
- guid: `id` (a number is turned into a string, as the 1.0 spec allows);
- title: `title` (plain text, though entities are unescaped: publishers do escape them);
  summary: `summary`, else `content_text`, else `content_html` stripped of tags;
- published: `date_published`, else `date_modified` (RFC 3339); an implausible date (year 1 or
  9999, connectors.fields.utc) is none, and `date_modified` is not asked in its place;
- author: 1.1 `authors[0].name`, else 1.0 `author.name`, at item level then feed level;
- language: 1.1 item `language`, else feed `language`.
A document that is not JSON (bytes that are not UTF-8 are read as windows-1252), or not an object
with an `items` list, raises FeedParseError.
"""

from __future__ import annotations

import html
import json
from typing import Any

from connectors import fields
from connectors.errors import FeedParseError
from newswatch.models import FeedEntry

__all__ = ["parse_json_feed"]


def parse_json_feed(source: str, body: bytes, url: str) -> list[FeedEntry]:
    """The entries of a JSON Feed document, or FeedParseError saying why it is not one."""
    try:
        feed = json.loads(_text_of(body))
    except ValueError as exc:  # JSONDecodeError, or a number too long to convert
        reason = f"{exc.msg} at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else exc
        raise FeedParseError(f"parse: not a feed (invalid JSON: {reason})") from None
    except RecursionError:
        raise FeedParseError("parse: not a feed (JSON nested too deeply)") from None
    if not isinstance(feed, dict) or not isinstance(feed.get("items"), list):
        raise FeedParseError("parse: not a feed (JSON without a JSON Feed 'items' list)")
    feed_author = _author(feed)
    feed_language = fields.language(_text(feed.get("language")))
    entries = []
    for item in feed["items"]:
        if isinstance(item, dict):
            entries.append(_entry(source, item, url, feed_author, feed_language))
    return fields.usable(entries)


def _entry(
    source: str, item: dict[str, Any], base: str, feed_author: str | None, feed_language: str | None
) -> FeedEntry | None:
    summary = (
        _plain(item.get("summary")) or _plain(item.get("content_text"))
        or fields.plain_text(_text(item.get("content_html")))
    )
    item_id = item.get("id")
    return fields.entry(
        source,
        url=fields.absolute_url(_text(item.get("url")) or _text(item.get("external_url")), base),
        guid=str(item_id) if isinstance(item_id, (str, int)) and item_id != "" else None,
        title=_plain(item.get("title"), one_line=True),
        summary=summary,
        published=fields.utc(_text(item.get("date_published")) or _text(item.get("date_modified"))),
        author=_author(item) or feed_author,
        lang=fields.language(_text(item.get("language"))) or feed_language,
    )


def _author(node: dict[str, Any]) -> str | None:
    authors = node.get("authors")
    candidates = authors if isinstance(authors, list) else []
    candidates = [*candidates, node.get("author")]
    for author in candidates:
        if isinstance(author, dict) and _text(author.get("name")):
            return _plain(author["name"], one_line=True)
    return None


def _text_of(body: bytes) -> str:
    """JSON text: UTF-8 (or UTF-16/32, detected as RFC 8259 allows), else windows-1252 as browsers do."""
    try:
        return body.decode(json.detect_encoding(body))
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


def _plain(value: object, *, one_line: bool = False) -> str:
    """A plain-text field, with entities unescaped all the same."""
    if not isinstance(value, str):
        return ""
    return fields.plain_text(html.unescape(value), html=False, one_line=one_line)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
