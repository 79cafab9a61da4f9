"""Feed discovery: the feeds an HTML page advertises, in the page's order.

discover(body, page_url) → [FeedLink(url, type, title)]. Rules:
- Advertised: a `<link>` whose rel holds the token `alternate` (case aside, among others:
  `rel="Alternate feed"`) and whose type (parameters and case aside) is a kind the feed parser
  reads: RSS (`application/rss+xml`, RSS 1.0's `application/rdf+xml`), Atom
  (`application/atom+xml`), JSON Feed (`application/feed+json`, `application/json`), and the
  variants sites write for them (FEED_TYPES). No link without one of these types is guessed at
  (an `<a href="/rss">` is no advertisement).
- In the page's own order, each URL once: the poll reads the first (connectors.sources).
  Comment feeds (the word `comments` in the href, WordPress's "Comments Feed") are left out.
- Relative hrefs are resolved against the page's `<base href>`, itself resolved against the
  page's URL (the final one, after redirects); only http(s) URLs are kept (newswatch.urls).
- `is_html` says whether a response that is no feed is a page worth reading for links: an HTML
  Content-Type, or (with none) a body that starts like HTML.
- The page is parsed by trafilatura's HTML loader (trafilatura.load_html: lxml's HTML parser,
  no network, no entities); the bytes are read as UTF-8, else windows-1252 (links are ASCII).
  At most MAX_LINKS links are read.

Why not trafilatura.feeds.determine_feed, which needs no network: it resolves a relative href
against the site's root rather than the page (`feed.xml` on /news/ became /feed.xml), ignores
`<base href>`, matches `rel="alternate"` only as that exact string, drops each link's type (so
the kinds cannot be told apart), rewrites URLs (courlan's clean_url) and, when the page advertises
nothing, falls back to any `<a>` whose href looks like a feed: a guess where the issue asks for
what the page advertises. Its HTML loader is used; the choice of links is here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice

from connectors.body import looks_like_html
from newswatch.extract import decode_html
from newswatch.urls import absolute_url

__all__ = ["FEED_TYPES", "MAX_LINKS", "FeedLink", "discover", "is_html"]

FEED_TYPES = frozenset({
    "application/rss+xml", "application/rdf+xml", "application/atom+xml", "application/feed+json",
    "application/json", "application/x-rss+xml", "application/x-atom+xml", "application/rss",
    "application/atom", "text/rss+xml", "text/atom+xml", "text/xml", "application/xml",
})
MAX_LINKS = 500
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_COMMENTS = re.compile(r"\bcomments\b", re.IGNORECASE)


@dataclass(frozen=True)
class FeedLink:
    """A feed a page advertises."""

    url: str
    type: str
    title: str | None = None


def discover(body: bytes, page_url: str) -> list[FeedLink]:
    """The feeds the HTML page `body`, fetched from `page_url`, advertises, in its order."""
    # imported here: every cycle's process imports the connectors, few cycles meet a page where
    # a feed was expected, and trafilatura costs ~0.15 s of the command's start-up
    from trafilatura import load_html

    tree = load_html(decode_html(body))
    if tree is None:
        return []
    base = next(iter(tree.xpath("//base[@href]/@href")), None)
    base = absolute_url(base, page_url) or page_url if base else page_url
    found: dict[str, FeedLink] = {}
    for link in islice(tree.iter("link"), MAX_LINKS):
        rel = (link.get("rel") or "").lower().split()
        media = (link.get("type") or "").split(";")[0].strip().lower()
        url = absolute_url(link.get("href"), base)
        if "alternate" in rel and media in FEED_TYPES and url and not _COMMENTS.search(url):
            title = " ".join((link.get("title") or "").split()) or None
            found.setdefault(url, FeedLink(url, media, title))
    return list(found.values())


def is_html(body: bytes, content_type: str | None) -> bool:
    """Whether a response is an HTML page: by its Content-Type, or by its first bytes without one."""
    if content_type:
        return content_type.split(";")[0].strip().lower() in _HTML_TYPES
    return looks_like_html(body)
