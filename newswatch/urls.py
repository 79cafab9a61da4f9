"""URL rules, all in one place: how a link is made absolute, how an article's address is spelled
once, and whether an address can be an article's.

absolute_url: links as feeds and pages write them, made absolute; one rule for feed entries and a
page's own canonical link. Only http(s) URLs are kept; a link that does not parse
("http://[not-an-address/") is no link at all, never an exception out of the parser that met it.

canonical_url: one spelling for one article, whatever feed or share button linked it. Scheme and
host lower-cased, default ports and the fragment dropped, tracking parameters (utm_*, fbclid, gclid,
…) removed, the remaining query sorted, AMP variants mapped to the plain page (`/amp` path segment,
`amp=1`, `outputType=amp`, `.amp.html`, `.amp`), and AMP cache and viewer URLs
(`…cdn.ampproject.org/c/s/…`, `google.com/amp/s/…`) to the page they serve. A string that is no
valid URL (a port that is not a number, an unclosed IPv6 bracket) is kept as written: feeds and
pages carry such links, and the page fetch reports them.

is_article_address: a page's own `<link rel="canonical">` or og:url, when known, is a second key for
the same article (newswatch.stories.keys), but only where it is a plausible article address: a CMS
that gives every page the site's home or a section page as its canonical URL would join all its
articles in one story.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

__all__ = ["absolute_url", "canonical_url", "is_article_address"]


def absolute_url(link: str | None, base: str) -> str:
    """`link` resolved against `base`; "" when missing, malformed or not http(s)."""
    if not isinstance(link, str) or not link.strip():
        return ""
    try:
        url = urljoin(base, link.strip())
        return url if urlsplit(url).scheme in ("http", "https") else ""
    except ValueError:
        return ""


_TRACKING = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|mc_cid|mc_eid|igshid|_ga|_gl|"
    r"cmpid|ocid|ncid|sr_share|spm|at_medium|at_campaign|at_custom\d*|__twitter_impression|"
    r"rss|ref_src|ref_url|amp|outputtype|amp_\w+|usqp|aoh|ampshare)$",
    re.IGNORECASE,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# an AMP cache or viewer serving another site's page: …cdn.ampproject.org/c/s/<host>/<path> and
# www.google.com/amp/s/<host>/<path>; "s/" means the page is served over https
_SERVED = r"/(s/)?([^/]+\.[^/]+)(/.*)?"
_AMP_CACHE, _AMP_VIEWER = re.compile(r"/[cvi]" + _SERVED), re.compile(r"/amp" + _SERVED)


# a last path segment that names a listing, not an article: /index.html, /home, /default.aspx
_LISTING_NAMES = frozenset({"index", "default", "home", "main", "start", "latest", "news", "feed", "rss"})
_DATE_PATH = re.compile(r"^/\d{4}(/\d{1,2}){0,2}/?$")  # an archive of a year, a month or a day


def is_article_address(url: str) -> bool:
    """Whether `url` could be one article's address, not a site's root, a section or an archive.

    An article's last path segment is a slug or an id: a digit (outside a bare date archive), three
    words or more (`turkish-soldiers-killed`), or 20 characters or more; a root or a section
    (`/`, `/world/`, `/news/europe`, `/middle-east/`, `/index.html`, `/2020/02/`) is not. A query
    with a number in it (`/?p=123`, `/article.php?id=9`) names an item on any path."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    if any(char.isdigit() for char in parts.query):
        return True
    segments = [segment for segment in parts.path.split("/") if segment]
    if not segments or _DATE_PATH.match(parts.path):
        return False
    stem = segments[-1].rsplit(".", 1)[0].lower()
    if stem in _LISTING_NAMES:
        return False
    words = [word for word in re.split(r"[-_+]", stem) if word]
    return any(char.isdigit() for char in stem) or len(words) >= 3 or len(stem) >= 20


def canonical_url(url: str) -> str:
    """The canonical form of an http(s) URL; other strings come back stripped."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # an unclosed "[" or a port that is no number: nothing to normalise
        return url
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        return url
    origin = _amp_origin(parts.hostname.lower(), parts.path, parts.query)
    if origin:
        return canonical_url(origin)
    scheme = parts.scheme.lower()
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    if port and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    if parts.username:
        host = f"{parts.username}@{host}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                   if not _TRACKING.match(k))
    return urlunsplit((scheme, host, _plain_path(parts.path), urlencode(query), ""))


def _amp_origin(host: str, path: str, query: str) -> str | None:
    """The page an AMP cache or Google's AMP viewer URL serves, or None for any other URL."""
    if host.endswith("cdn.ampproject.org"):
        found = _AMP_CACHE.fullmatch(path)
    elif re.fullmatch(r"(www\.)?google\.[a-z.]+", host):
        found = _AMP_VIEWER.fullmatch(path)
    else:
        return None
    if not found:
        return None
    secure, origin_host, origin_path = found.groups()
    return f"{'https' if secure else 'http'}://{origin_host}{origin_path or '/'}" + (f"?{query}" if query else "")


def _plain_path(path: str) -> str:
    path = path or "/"
    path = re.sub(r"/amp/?$", "/", path)
    path = re.sub(r"^/amp/", "/", path)
    path = re.sub(r"\.amp(\.html)?$", lambda m: m[1] or "", path)
    return path
