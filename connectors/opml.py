"""OPML, the subscription list every feed reader reads and writes: parse one, write one.

parse_opml(data) → Opml(title, feeds, problems). Rules:
- Any OPML 1.0, 1.1 or 2.0 a feed reader writes: the feeds are the `<outline>`s of `<body>` (of
  the root, where a writer forgot `<body>`) with an `xmlUrl`; attribute names are matched case
  aside (`xmlUrl`, `xmlurl`, `XMLURL`; `htmlUrl`, `isComment`), and namespaces are ignored.
- A feed's title is its `text` (what the reader shows, often renamed by the user), else `title`.
  `htmlUrl` and `language` are kept; `type` (rss, atom, or none) says nothing a parser needs.
- An outline without `xmlUrl` is a folder: the feeds inside it carry the folders' path (their text,
  else title, outermost first) as their category. An outline with `isComment="true"` is commented
  out, with everything inside it (OPML 2.0): its feeds come back disabled.
- An xmlUrl that is no http(s) URL with a host (`feed://` and `feed:https://` are read as
  http(s)), an empty outline, an OPML include (`type="include"`), a link outline: each is one line
  of `problems` (with its line number) and skipped; the others still come through.
- Refused with OpmlError: a file that is not well-formed XML (with the parser's line and reason),
  whose root is not `<opml>`, that declares XML entities or names an external DTD, or that is
  larger than MAX_BYTES.
- Safe on hostile input (connectors/xml.py): libxml2 via lxml with no network, no DTD loading
  and no external entities (no XXE); its entity amplification limit stops "billion laughs" and quadratic blow-up,
  and any document declaring entities is refused anyway (an OPML never needs one).

write_opml(feeds, title, now) → bytes: OPML 2.0 in UTF-8, `<head>` with title and dateCreated
(RFC 822), each feed an `<outline type="rss" text title xmlUrl>` (htmlUrl, language when known;
isComment="true" when disabled) nested in one folder outline per category level, in the order the
feeds first name them. Characters XML 1.0 cannot hold are dropped, the rest escaped by the writer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

from lxml import etree

from connectors.xml import XmlRefused, parse_xml
from newswatch.config.importing import Subscription

__all__ = ["MAX_BYTES", "Opml", "OpmlError", "parse_opml", "write_opml"]

MAX_BYTES = 50_000_000  # a list of 100,000 feeds is about 20 MB
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*$")


class OpmlError(ValueError):
    """The file cannot be read as OPML at all; the message says why (and where)."""


@dataclass(frozen=True)
class Opml:
    title: str
    feeds: list[Subscription]
    problems: list[str] = field(default_factory=list)  # outlines skipped, one line each


def parse_opml(data: bytes) -> Opml:
    """The feeds of an OPML document, with the outlines it had to skip."""
    if len(data) > MAX_BYTES:
        raise OpmlError(f"larger than {MAX_BYTES // 1_000_000} MB; not a subscription list")
    try:
        root = parse_xml(data)
    except XmlRefused as refused:
        raise OpmlError(str(refused)) from None
    if etree.QName(root).localname.lower() != "opml":
        raise OpmlError(f"not an OPML document (its root is <{etree.QName(root).localname}>)")
    head = _child(root, "head")
    title = " ".join((_child(head, "title").text or "").split()) if _child(head, "title") is not None else ""
    body = _child(root, "body")
    feeds: list[Subscription] = []
    problems: list[str] = []
    _walk(root if body is None else body, (), True, feeds, problems)
    return Opml(title, feeds, problems)


def _child(element, name: str):
    if element is None:
        return None
    return next((c for c in element if isinstance(c.tag, str) and etree.QName(c).localname.lower() == name), None)


def _walk(parent, path: tuple[str, ...], enabled: bool, feeds: list[Subscription], problems: list[str]) -> None:
    for outline in parent:
        if not isinstance(outline.tag, str) or etree.QName(outline).localname.lower() != "outline":
            continue
        attrs = {key.split("}")[-1].lower(): value for key, value in outline.attrib.items()}
        label = " ".join((attrs.get("text") or attrs.get("title") or "").split())
        here = enabled and attrs.get("iscomment", "").strip().lower() != "true"
        kind = attrs.get("type", "").strip().lower()
        children = any(isinstance(c.tag, str) for c in outline)
        where = f"line {outline.sourceline}: {label or '(untitled outline)'}"
        if "xmlurl" not in attrs and kind in ("rss", "atom") and attrs.get("url"):
            attrs["xmlurl"] = attrs["url"]  # some old writers spell a feed's address `url`
        if "xmlurl" in attrs:
            url = _feed_url(attrs["xmlurl"])
            if url:
                feeds.append(Subscription(url=url, title=label, html_url=_feed_url(attrs.get("htmlurl", "")),
                                          language=_language(attrs.get("language")),
                                          category=path, enabled=here, line=outline.sourceline))
            else:
                problems.append(f"{where}: xmlUrl {attrs['xmlurl'].strip()!r} is not an http(s) URL")
        elif kind in ("include", "link") or (not children and attrs.get("url")):
            problems.append(f"{where}: a {kind or 'link'} outline, not a feed")
        elif not children:
            problems.append(f"{where}: no xmlUrl and nothing inside (not a feed, not a folder)")
        if children:
            _walk(outline, (*path, label) if label and "xmlurl" not in attrs else path, here, feeds, problems)


def _feed_url(value: str) -> str:
    """The http(s) URL an xmlUrl or htmlUrl names, or "" (feed:// is the feed-reader scheme)."""
    url = value.strip()
    if url.lower().startswith("feed:"):
        rest = url[5:]
        url = rest if rest.lower().startswith(("http://", "https://")) else "http:" + rest
    try:
        parts = urlsplit(url)
        ok = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
        _ = parts.port  # raises on a port that is no number
    except ValueError:
        return ""
    if not ok or any(c.isspace() or ord(c) < 0x20 for c in url):
        return ""
    return parts.scheme.lower() + url[len(parts.scheme):]  # HTTP://… is http://…


def _language(value: str | None) -> str | None:
    value = (value or "").strip()
    return value if _LANGUAGE.match(value) and value.lower() not in ("unknown", "none") else None


def write_opml(feeds: list[Subscription], title: str, now: datetime) -> bytes:
    """An OPML 2.0 document of `feeds`, their categories as nested folder outlines."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = _text(title)
    etree.SubElement(head, "dateCreated").text = format_datetime(now)
    etree.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = etree.SubElement(root, "body")
    folders: dict[tuple[str, ...], etree._Element] = {(): body}
    for feed in feeds:
        _outline(_folder(folders, feed.category), feed)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _folder(folders: dict, path: tuple[str, ...]):
    if path not in folders:
        parent = _folder(folders, path[:-1])
        folders[path] = etree.SubElement(parent, "outline", text=_text(path[-1]), title=_text(path[-1]))
    return folders[path]


def _outline(parent, feed: Subscription) -> None:
    attrs = {"type": "rss", "text": _text(feed.title), "title": _text(feed.title), "xmlUrl": _text(feed.url)}
    if feed.html_url:
        attrs["htmlUrl"] = _text(feed.html_url)
    if feed.language:
        attrs["language"] = _text(feed.language)
    if not feed.enabled:
        attrs["isComment"] = "true"
    etree.SubElement(parent, "outline", attrs)


def _text(value: str) -> str:
    return _NOT_XML.sub("", value)
