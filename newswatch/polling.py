"""When to poll a source next, and what its health counts say: pure decisions from its stored
`PollState`, a poll's result and `now`; the store writes the state they give back.

Rules: every poll is an attempt. A success (NotModified is one, with nothing new) clears the
failure count and the last error, and a changed feed brings its validators (ETag, Last-Modified);
the next poll waits for the feed's own ttl/max-age when it asks for later (capped at `MAX_TTL`).
A failure counts (`consecutive_failures`, `failing_since` kept from the first: newswatch.health
reads them) and backs off exponentially from `BASE_DELAY`, capped at `DEFAULTS['backoff_cap']`
(12 h), honouring Retry-After; one of kind "unexpected" (newswatch.contain) also adds to the
running total `unexpected_errors`. A source is never abandoned, except on 410 Gone, which stops
polling until its URL changes in the config.

A source whose URL is a page is polled through the feed the page advertises (`feed_url`): a
changed feed records the one it was read from (None: the URL's own document), and a 404 or 410
of that feed forgets it, so the next cycle finds the page's feed again (the source is not gone,
and is polled on that cycle, whatever the backoff).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from newswatch.config import DEFAULTS
from newswatch.models import Failed, Fetched, FetchResult, PollState

__all__ = ["BASE_DELAY", "MAX_TTL", "after_poll"]

BASE_DELAY = timedelta(minutes=1)
MAX_TTL = timedelta(hours=6)


def after_poll(state: PollState, result: FetchResult, now: datetime) -> PollState:
    """The source's state once `result` is recorded."""
    if isinstance(result, Failed):
        return _failed(state, result, now)
    fetched = isinstance(result, Fetched)
    return replace(state, last_attempt_at=now, last_success_at=now, consecutive_failures=0, failing_since=None,
                   last_error=None, last_error_kind=None,
                   next_check_at=_after_success(now, result.ttl_seconds if fetched else None),
                   etag=result.etag if fetched else state.etag,
                   last_modified=result.last_modified if fetched else state.last_modified,
                   feed_url=result.feed_url if fetched else state.feed_url)


def _failed(state: PollState, failure: Failed, now: datetime) -> PollState:
    failures = state.consecutive_failures + 1
    failed = replace(state, last_attempt_at=now, consecutive_failures=failures,
                     failing_since=state.failing_since or now, last_error=failure.message,
                     last_error_kind=failure.kind, gone=failure.kind == "gone",
                     unexpected_errors=state.unexpected_errors + (failure.kind == "unexpected"),
                     next_check_at=_after_failure(now, failure, failures))
    if failure.feed_url and failure.kind in ("not_found", "gone"):
        # the page's feed moved: found again from the page on the next cycle (no validators: they were its)
        return replace(failed, feed_url=None, gone=False, next_check_at=None, etag=None, last_modified=None)
    return failed


def _after_success(now: datetime, ttl_seconds: int | None) -> datetime | None:
    """None means "poll on every cycle"."""
    if not ttl_seconds or ttl_seconds <= 0:
        return None
    # compared as numbers: a server's max-age of 10**20 is no timedelta at all
    return now + timedelta(seconds=min(ttl_seconds, MAX_TTL.total_seconds()))


def _after_failure(now: datetime, failure: Failed, consecutive_failures: int) -> datetime:
    """`consecutive_failures` counts this failure too."""
    cap: timedelta = DEFAULTS["backoff_cap"]
    delay = min(cap, BASE_DELAY * 2 ** min(max(consecutive_failures - 1, 0), 20))
    if failure.retry_after_seconds:
        delay = max(delay, min(cap, timedelta(seconds=failure.retry_after_seconds)))
    return now + delay
