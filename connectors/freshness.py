"""How long a fetched feed asks to be left alone: the hint behind `Fetched.ttl_seconds`.

Three publishers' hints are read, and the longest wins (each one says "not before"):
- the feed's RSS `<ttl>`, in minutes (RSS 2.0 spec);
- `Cache-Control: max-age=N` (RFC 9111 5.2.2.1), ignored with no-cache or no-store;
- `Expires` (RFC 9111 5.3), measured against the response's `Date` when present, else `now`.

None when no hint asks for a later poll (absent, zero, negative or unparseable); a hint past
newswatch.bounds.MAX_WAIT (7 days) is that (`max-age=10**20`, an Expires in year 9999: numbers no
later sum may overflow on). The scheduler decides what to do with the hint (store.sources); this
module only reads it. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from newswatch.bounds import MAX_WAIT, http_date

__all__ = ["ttl_seconds"]

_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)
_LONGEST = int(MAX_WAIT.total_seconds())
_DIGITS = 12  # more is past any plausible hint, and int() refuses over 4,300 digits
_NO_CACHE = re.compile(r"(?:^|[,\s])no-(?:cache|store)\b", re.IGNORECASE)


def ttl_seconds(headers: Mapping[str, str], feed_ttl: str | None, now: datetime) -> int | None:
    """The longest poll-no-sooner hint from the feed's <ttl> and the caching headers, in seconds."""
    hints = [_feed_ttl(feed_ttl), _max_age(headers), _expires(headers, now)]
    longest = max((h for h in hints if h is not None), default=None)
    return min(longest, _LONGEST) if longest and longest > 0 else None


def _feed_ttl(value: str | None) -> int | None:
    text = str(value).strip() if value is not None else ""
    return _number(text) * 60 if text.isascii() and text.isdigit() else None


def _max_age(headers: Mapping[str, str]) -> int | None:
    control = headers.get("cache-control", "")
    match = _MAX_AGE.search(control)
    if not match or _NO_CACHE.search(control):
        return None
    return _number(match.group(1))


def _number(digits: str) -> int:
    """ASCII digits as an int, a hint too long to be plausible as the longest one."""
    return int(digits) if len(digits) <= _DIGITS else _LONGEST


def _expires(headers: Mapping[str, str], now: datetime) -> int | None:
    expires = http_date(headers.get("expires"))
    if expires is None or "max-age" in headers.get("cache-control", "").lower():
        return None  # max-age overrides Expires (RFC 9111 5.3)
    return int((expires - (http_date(headers.get("date")) or now)).total_seconds())
