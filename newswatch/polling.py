"""When to poll a source next: a pure decision from its last result, its history and `now`.

Rules: a success clears the failure count; the next poll waits for the feed's own ttl/max-age
when it asks for later (capped at `MAX_TTL`). A failure backs off exponentially from `BASE_DELAY`,
capped at `DEFAULTS['backoff_cap']` (12 h), and honours Retry-After; a source is never abandoned,
except on 410 Gone, which stops polling until its URL changes in the config.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from newswatch.config import DEFAULTS
from newswatch.models import Failed

__all__ = ["BASE_DELAY", "MAX_TTL", "after_failure", "after_success"]

BASE_DELAY = timedelta(minutes=1)
MAX_TTL = timedelta(hours=6)


def after_success(now: datetime, ttl_seconds: int | None) -> datetime | None:
    """None means "poll on every cycle"."""
    if not ttl_seconds or ttl_seconds <= 0:
        return None
    # compared as numbers: a server's max-age of 10**20 is no timedelta at all
    return now + timedelta(seconds=min(ttl_seconds, MAX_TTL.total_seconds()))


def after_failure(now: datetime, failure: Failed, consecutive_failures: int) -> datetime:
    """`consecutive_failures` counts this failure too."""
    cap: timedelta = DEFAULTS["backoff_cap"]
    delay = min(cap, BASE_DELAY * 2 ** min(max(consecutive_failures - 1, 0), 20))
    if failure.retry_after_seconds:
        delay = max(delay, min(cap, timedelta(seconds=failure.retry_after_seconds)))
    return now + delay
