"""`ChannelError` and the one table that decides whether a failed send is worth retrying.

Every channel raises `ChannelError(kind, message, retry_after_seconds)`; `kind` is "retry"
(transient: try again later, `newswatch.outbox.retry` decides when) or "permanent" (retrying
cannot help: the delivery is dead). Messages start with the channel type and never contain a
secret: every message built from outside text goes through `redact`. A Retry-After header is read
by newswatch.bounds.retry_after, the one parser both edges use (delay-seconds or an HTTP-date, at
most a week: `Retry-After: 99999999999999` once overflowed the retry's date).

    HTTP (slack, webhook)                     SMTP (email)
    2xx                     sent              250 …                 sent
    429                     retry (Retry-After)  4xx reply          retry
    5xx, 408                retry (Retry-After if any)  5xx reply   permanent
    other 4xx               permanent         connection refused/reset/closed, timeout  retry
    timeout, connect/read   retry             certificate rejected  permanent
    bad URL / scheme        permanent         server lacks STARTTLS/AUTH  permanent
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from newswatch import bounds

__all__ = ["ChannelError", "ErrorKind", "http_error", "redact"]

ErrorKind = Literal["retry", "permanent"]

_BODY_CHARS = 120  # how much of a server's error body a message quotes


class ChannelError(Exception):
    """A send failed; `kind` says whether a later attempt can succeed."""

    def __init__(self, kind: ErrorKind, message: str, retry_after_seconds: float | None = None):
        if kind not in ("retry", "permanent"):
            raise ValueError(f"unknown ChannelError kind {kind!r}")
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.retry_after_seconds = retry_after_seconds

    def __repr__(self) -> str:
        return f"ChannelError({self.kind!r}, {self.message!r}, {self.retry_after_seconds!r})"


def redact(text: str, secrets: list[str]) -> str:
    """`text` with every non-empty secret replaced by `***`."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def http_error(channel_type: str, status: int, body: str, retry_after: str | None,
               hints: dict[str, str], secrets: list[str]) -> ChannelError | None:
    """The error a non-2xx HTTP answer means, or None for 2xx; `hints` explain known bodies."""
    if 200 <= status < 300:
        return None
    text = " ".join(body.split())[:_BODY_CHARS]
    hint = next((f" ({why})" for code, why in hints.items() if code in text), "")
    seconds = bounds.retry_after(retry_after, datetime.now(timezone.utc))  # at most a week
    if status == 429:
        when = f", retry after {seconds:g}s" if seconds is not None else " rate limited"
        message, kind = f"{channel_type}: 429{when}", "retry"
    elif status >= 500 or status == 408:
        message, kind = f"{channel_type}: {status} {text or 'server error'}".rstrip(), "retry"
    else:
        message, kind = f"{channel_type}: {status} {text}".rstrip() + hint, "permanent"
        seconds = None
    return ChannelError(kind, redact(message, secrets), seconds)
