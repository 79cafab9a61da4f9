"""Fetch failures: the one table that maps a status or an exception to an error kind.

Every way a fetch can go wrong ends up as one `FetchErrorKind` (newswatch.models), decided here and
nowhere else. Messages start with the stage (`fetch: 404 not found`, `parse: not a feed (…)`), so
a log line or a source's "last error" reads on its own. Whether and when to retry is the store's
decision (per-source backoff); the last column says what the kind suggests.

    outcome                                           kind           suggests
    ────────────────────────────────────────────────  ─────────────  ────────────────────────────
    httpx.TimeoutException, TimeoutError (deadline)   timeout        retry with backoff
    httpx.TransportError (connect, read, write,       network        retry with backoff
      protocol, TLS), OSError (DNS: socket.gaierror)
    304 Not Modified                                  (NotModified)  -
    2xx                                               (Fetched)      -
    404 Not Found                                     not_found      retry with backoff
    410 Gone                                          gone           stop polling for good
    429 Too Many Requests                             rate_limited   wait Retry-After (s or date)
    any other 4xx or 5xx                              http           retry with backoff
    3xx not followed (no Location, 300, 305)          http           retry with backoff
    invalid URL, corrupt gzip, unknown encoding       http           retry with backoff
      (httpx.InvalidURL; UnicodeError and idna's
      errors: a host no DNS can carry; OverflowError:
      a port past 65535; connectors.targets refuses
      these first, the table catches what slips by)
    a header we cannot send (UnicodeEncodeError)      http           retry with backoff
    body over max_bytes; > 100x its gzip past 1 MB   too_large      retry with backoff
    address private/loopback/…, scheme not http(s)    blocked        fix the URL or the setting
    more than max_redirects hops, or a loop           redirects      fix the URL
    not a feed (FeedParseError)                       parse          retry with backoff
    any other exception (a bug or a surprise)         unexpected     retry; loud: traceback logged

`classify` is the table for responses and exceptions (pure: give it `now` to make HTTP-date
Retry-After deterministic); the other rows are raised as `FetchError` where they are detected.
An exception group (anyio's connect raises one) is classified by the first exception in it that
the table knows. An exception the table does not know is a bug or a surprise: `classify` returns
None, and the fetcher contains it as that source's or page's failure, kind "unexpected", logged
with its traceback (newswatch.contain), never the batch's.

Numbers from the web are clamped where they enter: a Retry-After is read by
newswatch.bounds.retry_after, the one parser both edges use (delay-seconds or an HTTP-date against
the server's Date, RFC 9110 10.2.3), and is at most newswatch.bounds.MAX_WAIT (7 days;
`Retry-After: 99999999999999` overflowed the message's duration and failed the batch).
"""

from __future__ import annotations

import socket
import ssl
import zlib
from datetime import datetime, timedelta, timezone
from http import HTTPStatus

import httpx

from newswatch import bounds
from newswatch.config.units import format_duration
from newswatch.contain import one_line
from newswatch.models import Failed, FetchErrorKind

__all__ = ["FeedParseError", "FetchError", "classify"]

_STATUS_KINDS: dict[int, FetchErrorKind] = {404: "not_found", 410: "gone", 429: "rate_limited"}


class FeedParseError(ValueError):
    """The document is not a feed; the message says why (`parse: not a feed (…)`)."""


class FetchError(Exception):
    """A classified fetch failure, raised inside the fetcher and returned as a `Failed` value."""

    def __init__(
        self,
        kind: FetchErrorKind,
        message: str,
        *,
        status: int | None = None,
        retry_after_seconds: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.retry_after_seconds = retry_after_seconds

    def as_failed(self, source: str) -> Failed:
        """This failure as the value the fetch stage returns for `source`."""
        return Failed(source, self.kind, self.message, self.retry_after_seconds, self.status)


def classify(
    outcome: httpx.Response | BaseException,
    *,
    timeout: timedelta | None = None,
    now: datetime | None = None,
) -> FetchError | None:
    """The failure a response or exception stands for; None for success (2xx, 304) or unknown."""
    if isinstance(outcome, httpx.Response):
        return _classify_response(outcome, now)
    return _classify_exception(outcome, timeout)


def _classify_response(response: httpx.Response, now: datetime | None) -> FetchError | None:
    status = response.status_code
    if status < 300 or status == 304:
        return None
    kind = _STATUS_KINDS.get(status, "http")
    message = f"fetch: {status} {_phrase(response)}"
    if status < 400:
        return FetchError("http", f"{message} (no redirect to follow)", status=status)
    retry_after = None
    if kind == "rate_limited":
        retry_after = bounds.retry_after(response.headers.get("retry-after"), now or datetime.now(timezone.utc),
                                         response.headers.get("date"))
        if retry_after is not None:
            message += f", retry after {format_duration(timedelta(seconds=round(retry_after)))}"
    return FetchError(kind, message, status=status, retry_after_seconds=retry_after)


def _classify_exception(exc: BaseException, timeout: timedelta | None) -> FetchError | None:
    if isinstance(exc, BaseExceptionGroup):
        known = (_classify_exception(inner, timeout) for inner in exc.exceptions)
        return next((error for error in known if error is not None), None)
    after = f" after {format_duration(timeout)}" if timeout is not None else ""
    if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
        return FetchError("timeout", f"fetch: timed out{after}")
    if (dns := _cause(exc, socket.gaierror)) is not None:
        return FetchError("network", f"fetch: cannot resolve host ({dns.strerror or dns})")
    if isinstance(exc, (httpx.TransportError, ssl.SSLError, OSError)):
        detail = str(exc) or type(exc).__name__
        return FetchError("network", f"fetch: network error ({detail})")
    if isinstance(exc, UnicodeEncodeError) and exc.encoding in ("ascii", "latin-1"):
        return FetchError("http", f"fetch: invalid request header ({exc})")
    if isinstance(exc, (httpx.InvalidURL, UnicodeError, OverflowError)):
        return FetchError("http", f"fetch: invalid URL ({one_line(exc, 300)})")
    if isinstance(exc, zlib.error):
        return FetchError("http", f"fetch: corrupt compressed body ({exc})")
    return None


def _cause(exc: BaseException | None, wanted: type[BaseException]) -> BaseException | None:
    """`exc` or the first exception in its cause/context chain that is a `wanted`."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, wanted):
            return exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def _phrase(response: httpx.Response) -> str:
    try:
        return HTTPStatus(response.status_code).phrase.lower()
    except ValueError:
        return (response.reason_phrase or "error").lower()
