"""POST a JSON document for the HTTP channels (slack, webhook); failures become ChannelError."""

from __future__ import annotations

from typing import Any

import httpx

from alerts.errors import ChannelError, http_error, redact

__all__ = ["post_json"]


def post_json(channel_type: str, url: str, payload: Any, *, timeout: float,
              headers: dict[str, str] | None = None, hints: dict[str, str] | None = None,
              secrets: list[str] | None = None) -> httpx.Response:
    """POST `payload`; return the 2xx response or raise ChannelError (see alerts.errors)."""
    secrets = [url, *(headers or {}).values(), *(secrets or [])]
    try:
        response = httpx.post(url, json=payload, headers=headers, timeout=timeout,
                              follow_redirects=False)
    except httpx.TimeoutException:
        raise ChannelError("retry", f"{channel_type}: timed out after {timeout:g}s") from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL):
        raise ChannelError("permanent", f"{channel_type}: the configured URL is not a valid "
                                        "http(s) URL") from None
    except httpx.TransportError as exc:
        detail = redact(str(exc), secrets) or type(exc).__name__
        raise ChannelError("retry", f"{channel_type}: connection failed ({detail})") from None
    error = http_error(channel_type, response.status_code, response.text,
                       response.headers.get("Retry-After"), hints or {}, secrets)
    if error is not None:
        raise error
    return response
