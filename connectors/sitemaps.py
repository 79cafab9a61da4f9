"""Sitemaps as sources: a sitemap index and its news sitemaps into FeedEntry values.

parse_sitemap(source, body, url, now) → Sitemap: an index's `children` (SitemapRef: loc, lastmod)
or a urlset's `entries`. Rules (sitemaps.org 0.9, Google's news extension 0.9):
- A sitemap is a document whose root element is <urlset> or <sitemapindex>, whatever its
  namespace (`is_sitemap` sniffs the first KB: after an XML declaration, comments, a DOCTYPE).
  A gzip file (sitemap.xml.gz served as it is) is inflated by connectors.body.gunzip first, with
  the body's size cap and bomb guard.
- A urlset's entries: each <url> with a <news:news> is an article: url = <loc> (absolute http(s)
  only), title = news:title, published = news:publication_date (else <lastmod>), language =
  news:publication/news:language. A urlset holding any news entry yields only those; a plain one
  yields the URLs whose <lastmod> is within DEFAULTS["sitemap_recent"] of `now` (an undated URL is
  none: a site's whole archive must not flood the store), with no title. Either way at most
  DEFAULTS["sitemap_entries"], the most recent first (undated ones last, in document order).
- An index's children are the <sitemap><loc>s; `pick_children` chooses the ones to read: the
  DEFAULTS["sitemap_children"] most recent by <lastmod> (undated ones after them, in document
  order). The fetcher reads them with the same size cap each, and an index inside an index is
  not followed (one level, as sitemaps.org allows).
- Refused with FeedParseError, `parse: not a sitemap (…)`: not well-formed XML (with the parser's
  line and reason), a root that is neither, a document that declares entities or names an
  external DTD (a sitemap never needs one).
- Safe on hostile input: libxml2 through lxml with no network, no DTD loading and no entity
  resolution (no XXE, no billion laughs), huge_tree off (its depth and text limits stay on).

Why not trafilatura.sitemaps: its `sitemap_search` fetches by itself (trafilatura's own HTTP,
robots.txt, guessed paths), which would bypass our address guard, size caps and conditional GET;
and its parsing helper (`SitemapObject.extract_sitemap_links`) keeps only each <loc>, filtered to
the site's own domain, dropping <lastmod> and the news extension (title, publication date,
language) that make a sitemap's URLs articles. So the parsing is here, on lxml, with
trafilatura's own parser settings (resolve_entities=False, no_network=True).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from connectors import fields
from connectors.errors import FeedParseError
from connectors.xml import XmlRefused, parse_xml
from newswatch.config.schema import DEFAULTS
from newswatch.models import FeedEntry

__all__ = ["Sitemap", "SitemapRef", "is_sitemap", "parse_sitemap", "pick_children"]

# the root element's name, after an optional BOM, XML declaration, comments, PIs and a DOCTYPE
_ROOT = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(?:<\?[^>]*\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>\s*)*"
                   rb"<(?:[\w.-]+:)?(urlset|sitemapindex)\b", re.DOTALL)


@dataclass(frozen=True)
class SitemapRef:
    """A child sitemap named by an index."""

    url: str
    lastmod: datetime | None = None


@dataclass(frozen=True)
class Sitemap:
    """A parsed sitemap: an index's children, or a urlset's entries (and how many it left out)."""

    index: bool
    children: list[SitemapRef] = field(default_factory=list)
    entries: list[FeedEntry] = field(default_factory=list)
    left_out: int = 0  # URLs not taken: plain and not recent, or past the entries' bound


def is_sitemap(body: bytes) -> bool:
    """Whether `body` is a sitemap document (its root is <urlset> or <sitemapindex>)."""
    return _ROOT.match(body[:1024]) is not None


def parse_sitemap(source: str, body: bytes, url: str, now: datetime) -> Sitemap:
    """The sitemap fetched from `url`, or FeedParseError saying why it is not one."""
    root = _root(body)
    name = etree.QName(root).localname
    if name == "sitemapindex":
        children = [SitemapRef(loc, fields.utc(_text(node, "lastmod")))
                    for node in _children(root, "sitemap") if (loc := fields.absolute_url(_text(node, "loc"), url))]
        return Sitemap(index=True, children=children)
    if name != "urlset":
        raise FeedParseError(f"parse: not a sitemap (its root is <{name}>, not <urlset> or <sitemapindex>)")
    found = [_entry(source, node, url) for node in _children(root, "url")]
    found = [entry for entry in found if entry is not None]
    news = [entry for entry, is_news in found if is_news]
    if news:
        kept = news
    else:
        recent = now - DEFAULTS["sitemap_recent"]
        kept = [entry for entry, _ in found if entry.published is not None and entry.published >= recent]
    kept = _newest(kept, DEFAULTS["sitemap_entries"], lambda entry: entry.published)
    return Sitemap(index=False, entries=kept, left_out=len(found) - len(kept))


def pick_children(sitemap: Sitemap) -> list[SitemapRef]:
    """The children of an index to read: the most recent by lastmod, bounded."""
    return _newest(sitemap.children, DEFAULTS["sitemap_children"], lambda ref: ref.lastmod)


def _root(body: bytes):  # noqa: ANN202 - an lxml element
    try:
        return parse_xml(body)
    except XmlRefused as refused:
        raise FeedParseError(f"parse: not a sitemap ({refused})") from None


def _entry(source: str, node, base: str) -> tuple[FeedEntry, bool] | None:
    """(the entry, whether it is a news entry) of a <url>, or None without a usable <loc>."""
    url = fields.absolute_url(_text(node, "loc"), base)
    if not url:
        return None
    news = next(_children(node, "news"), None)
    publication = next(_children(news, "publication"), None) if news is not None else None
    published = fields.utc(_text(news, "publication_date")) if news is not None else None
    entry = fields.entry(
        source, url=url, guid=None, title=fields.plain_text(_text(news, "title"), html=False, one_line=True),
        summary="", published=published or fields.utc(_text(node, "lastmod")), author=None,
        lang=fields.language(_text(publication, "language")),
    )
    return (entry, news is not None) if entry is not None else None


def _newest(items: list, bound: int, when) -> list:  # noqa: ANN001 - when: item → datetime | None
    """At most `bound` of `items`, the most recent first, undated ones after in their order."""
    dated = sorted((item for item in items if when(item)), key=when, reverse=True)  # stable: ties keep their order
    return (dated + [item for item in items if not when(item)])[:bound]


def _children(node, name: str):  # noqa: ANN202 - the element children of `node` called `name`, any namespace
    if node is None:
        return iter(())
    return (child for child in node if isinstance(child.tag, str) and etree.QName(child).localname == name)


def _text(node, name: str) -> str | None:
    """The text of `node`'s first child called `name`, stripped; None without one."""
    child = next(_children(node, name), None)
    return child.text.strip() if child is not None and child.text else None
