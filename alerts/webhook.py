"""The webhook channel: POST the alert as JSON (the jsonl object) with the configured headers.

A digest posts {"watchlist": …, "alerts": [object, …]}. Outcomes as for slack: 2xx is sent, 429
is "retry" after Retry-After, 5xx/408 and network errors are "retry", any other 4xx is
"permanent". The URL and every header value count as secrets and never appear in a message.
"""

from __future__ import annotations

from datetime import datetime, timezone

from alerts import render
from alerts._http import post_json
from newswatch.config.schema import WebhookChannel
from newswatch.models import Alert

__all__ = ["send"]


def send(name: str, channel: WebhookChannel, alerts: list[Alert], digest: bool = False) -> None:
    """Post the alert or digest document."""
    sent_at = datetime.now(timezone.utc)
    records = [render.record(a, sent_at) for a in alerts]
    body = {"watchlist": alerts[0].watchlist, "alerts": records} if digest else records[0]
    headers = {key: value.get_secret_value() for key, value in channel.headers.items()}
    post_json("webhook", channel.url.get_secret_value(), body, headers=headers,
              timeout=channel.timeout.total_seconds())
