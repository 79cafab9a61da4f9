"""Plausible values: what the web sends is clamped or refused where it enters.

A server can say anything: `Retry-After: 99999999999999`, `max-age=10**20`, a date in year 1 or
9999, a validator in bytes no header can carry again. Each such value raised somewhere far from
where it entered (formatting a duration, adding the story window to a date, encoding the next
request's headers) and failed a whole batch. The rules here are the one place that says what is
plausible; connectors and the reader apply them to every value as it arrives.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

__all__ = ["MAX_WAIT", "http_date", "plausible_date", "plausible_validator", "plausible_wait", "retry_after"]

MAX_WAIT = timedelta(days=7)  # the longest Retry-After (or cache lifetime) honoured
_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
_LATEST_AHEAD = timedelta(days=366 * 2)  # a date this far in the future is a typo or a trick
_VALIDATOR_CHARS = 1000


def plausible_wait(seconds: float | None) -> float | None:
    """A wait the web asked for, in seconds, within [0, MAX_WAIT]; None for none or not a number."""
    if seconds is None or seconds != seconds:  # NaN
        return None
    try:
        seconds = float(seconds)
    except OverflowError:  # an int past any float: 10**400
        return MAX_WAIT.total_seconds() if seconds > 0 else 0.0
    return min(max(seconds, 0.0), MAX_WAIT.total_seconds())


def plausible_date(when: datetime | None, now: datetime | None = None) -> datetime | None:
    """`when` (timezone-aware) if it could be a publication date: from 1900 to two years ahead."""
    if when is None or when.tzinfo is None:
        return when
    now = now or datetime.now(UTC)
    try:
        if when < _EARLIEST or when > now + _LATEST_AHEAD:
            return None
    except OverflowError:  # now + two years past year 9999
        return None
    return when


def http_date(value: str | None) -> datetime | None:
    """An HTTP-date (RFC 9110 5.6.7; also the obsolete forms), timezone-aware; None if it is none."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):  # OverflowError: a 20-digit year
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def retry_after(value: str | None, now: datetime, server_date: str | None = None) -> float | None:
    """Seconds to wait from a Retry-After header, delay-seconds or an HTTP-date (RFC 9110
    10.2.3), within [0, MAX_WAIT]: an HTTP-date is measured against the server's own Date header
    when it sent one (clocks differ), else against `now`."""
    value = (value or "").strip()
    if value.isascii() and value.isdigit():  # str.isdigit alone takes "²", which float() refuses
        return plausible_wait(float(value))
    when = http_date(value)
    if when is None:
        return None
    return plausible_wait((when - (http_date(server_date) or now)).total_seconds())


def plausible_validator(value: str | None) -> str | None:
    """An ETag or Last-Modified worth sending back: printable ASCII and short, else None."""
    if not value or len(value) > _VALIDATOR_CHARS:
        return None
    if not value.isascii() or not value.isprintable():
        return None
    return value
