"""The status/exception → error-kind table (connectors.errors.classify), driven by MockTransport."""

from __future__ import annotations

import asyncio
import socket
import zlib
from datetime import datetime, timedelta, timezone

import httpx
import idna
import pytest

from connectors.errors import FetchError, classify

NOW = datetime(2024, 1, 2, 10, 0, 0, tzinfo=timezone.utc)


def respond(status: int, headers: dict[str, str] | None = None) -> httpx.Response:
    """A response from a client whose transport answers `status` with `headers`."""
    transport = httpx.MockTransport(lambda request: httpx.Response(status, headers=headers))

    async def get() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport) as client:
            return await client.get("http://feeds.example/rss")

    return asyncio.run(get())


def raised(exc: Exception) -> BaseException:
    """The exception a client raises when its transport raises `exc`."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    async def get() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            await client.get("http://feeds.example/rss")

    with pytest.raises(BaseException) as info:
        asyncio.run(get())
    return info.value


STATUSES = [
    (200, {}, None, None, None),
    (204, {}, None, None, None),
    (304, {}, None, None, None),
    (404, {}, "not_found", "fetch: 404 not found", None),
    (410, {}, "gone", "fetch: 410 gone", None),
    (429, {"Retry-After": "30"}, "rate_limited", "fetch: 429 too many requests, retry after 30s", 30.0),
    (429, {"Retry-After": "Tue, 02 Jan 2024 10:05:00 GMT"}, "rate_limited",
     "fetch: 429 too many requests, retry after 5m", 300.0),
    (429, {}, "rate_limited", "fetch: 429 too many requests", None),
    (429, {"Retry-After": "soon"}, "rate_limited", "fetch: 429 too many requests", None),
    (429, {"Retry-After": "99999999999999"}, "rate_limited", "fetch: 429 too many requests, retry after 7d",
     604800.0),
    # the server's Date counts, not our clock (newswatch.bounds.retry_after reads the header)
    (429, {"Retry-After": "Tue, 02 Jan 2024 12:00:30 GMT", "Date": "Tue, 02 Jan 2024 12:00:00 GMT"},
     "rate_limited", "fetch: 429 too many requests, retry after 30s", 30.0),
    (400, {}, "http", "fetch: 400 bad request", None),
    (401, {}, "http", "fetch: 401 unauthorized", None),
    (403, {}, "http", "fetch: 403 forbidden", None),
    (451, {}, "http", "fetch: 451 unavailable for legal reasons", None),
    (500, {}, "http", "fetch: 500 internal server error", None),
    (502, {}, "http", "fetch: 502 bad gateway", None),
    (503, {"Retry-After": "60"}, "http", "fetch: 503 service unavailable", None),
    (599, {}, "http", "fetch: 599 error", None),
    (302, {}, "http", "fetch: 302 found (no redirect to follow)", None),
]


@pytest.mark.parametrize(
    ("status", "headers", "kind", "message", "retry_after"),
    STATUSES,
    ids=[f"{s[0]}-{next(iter(s[1].values()), 'plain')}" for s in STATUSES],
)
def test_status_table(status: int, headers: dict, kind: str | None, message: str | None,
                      retry_after: float | None) -> None:
    error = classify(respond(status, headers), now=NOW)
    if kind is None:
        assert error is None
        return
    assert isinstance(error, FetchError)
    assert (error.kind, error.message, error.status, error.retry_after_seconds) == (
        kind, message, status, retry_after
    )
    assert error.as_failed("src").message == message


EXCEPTIONS = [
    (httpx.ConnectTimeout("connect timed out"), "timeout", "fetch: timed out after 20s"),
    (httpx.ReadTimeout("read timed out"), "timeout", "fetch: timed out after 20s"),
    (httpx.ConnectError("[Errno 111] Connection refused"), "network",
     "fetch: network error ([Errno 111] Connection refused)"),
    (httpx.ReadError("connection reset by peer"), "network", "fetch: network error (connection reset by peer)"),
    (httpx.RemoteProtocolError("peer closed connection"), "network", "fetch: network error (peer closed connection)"),
    (httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"), "network",
     "fetch: network error ([SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed)"),
]


@pytest.mark.parametrize(
    ("exc", "kind", "message"), EXCEPTIONS,
    ids=["connect-timeout", "read-timeout", "refused", "reset", "protocol", "tls"],
)
def test_exception_table_through_a_client(exc: Exception, kind: str, message: str) -> None:
    error = classify(raised(exc), timeout=timedelta(seconds=20))
    assert error is not None and (error.kind, error.message) == (kind, message)


def _dns_failure() -> BaseException:
    try:
        raise httpx.ConnectError("[Errno -2] Name or service not known") from socket.gaierror(
            -2, "Name or service not known")
    except httpx.ConnectError as exc:
        return exc


PLAIN = [
    (TimeoutError(), "timeout", "fetch: timed out after 1.5s"),
    (socket.gaierror(-2, "Name or service not known"), "network",
     "fetch: cannot resolve host (Name or service not known)"),
    (_dns_failure(), "network", "fetch: cannot resolve host (Name or service not known)"),
    (ConnectionResetError(104, "Connection reset by peer"), "network",
     "fetch: network error ([Errno 104] Connection reset by peer)"),
    (httpx.InvalidURL("Invalid port: 'x'"), "http", "fetch: invalid URL (Invalid port: 'x')"),
    (zlib.error("incorrect header check"), "http", "fetch: corrupt compressed body (incorrect header check)"),
    # what gets past connectors.targets (a Location's host httpx reads itself, say) is still a value
    (OverflowError("connect(): port must be 0-65535."), "http",
     "fetch: invalid URL (connect(): port must be 0-65535.)"),
    (ExceptionGroup("unhandled errors in a TaskGroup", [OverflowError("port must be 0-65535.")]), "http",
     "fetch: invalid URL (port must be 0-65535.)"),
    (ExceptionGroup("two", [KeyError("x"), ConnectionRefusedError(111, "Connection refused")]), "network",
     "fetch: network error ([Errno 111] Connection refused)"),
    (idna.InvalidCodepoint("Codepoint U+0080 at position 1 of '\\x80' not allowed"), "http",
     "fetch: invalid URL (Codepoint U+0080 at position 1 of '\\x80' not allowed)"),
    (UnicodeError("encoding with 'idna' codec failed (UnicodeError: label too long)"), "http",
     "fetch: invalid URL (encoding with 'idna' codec failed (UnicodeError: label too long))"),
    (UnicodeEncodeError("ascii", '"caf\u00e9"', 4, 5, "ordinal not in range(128)"), "http",
     "fetch: invalid request header ('ascii' codec can't encode character '\\xe9' in position 4: "
     "ordinal not in range(128))"),
]


@pytest.mark.parametrize(
    ("exc", "kind", "message"), PLAIN,
    ids=["deadline", "dns", "dns-wrapped", "reset", "url", "zlib", "port-overflow", "group", "group-second",
         "idna-codepoint", "idna-label", "header-encoding"],
)
def test_exception_table(exc: BaseException, kind: str, message: str) -> None:
    error = classify(exc, timeout=timedelta(seconds=1.5))
    assert error is not None and (error.kind, error.message) == (kind, message)


@pytest.mark.parametrize(
    "exc", [ValueError("bug"), KeyError("bug"), RuntimeError("bug")], ids=["value", "key", "runtime"]
)
def test_unknown_exceptions_are_not_classified(exc: Exception) -> None:
    assert classify(exc) is None
