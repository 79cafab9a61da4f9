"""Links as feeds and pages write them, made absolute: one rule for feed entries and a page's own
canonical link. Only http(s) URLs are kept; a link that does not parse ("http://[not-an-address/")
is no link at all, never an exception out of the parser that met it.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

__all__ = ["absolute_url"]


def absolute_url(link: str | None, base: str) -> str:
    """`link` resolved against `base`; "" when missing, malformed or not http(s)."""
    if not isinstance(link, str) or not link.strip():
        return ""
    try:
        url = urljoin(base, link.strip())
        return url if urlsplit(url).scheme in ("http", "https") else ""
    except ValueError:
        return ""
