"""The slack channel: POST a Block Kit message to an incoming webhook.

Outcomes (alerts.errors has the whole table): 200 "ok" is sent; 429 is "retry" after the
Retry-After seconds; 5xx, timeouts and connection errors are "retry"; 400/403/404/410 and the
bodies below are "permanent". The webhook URL is the secret: it never appears in a message.
"""

from __future__ import annotations

from alerts import render
from alerts._http import post_json
from newswatch.config.schema import SlackChannel
from newswatch.models import Alert

__all__ = ["send"]

# Error bodies of incoming webhooks (docs.slack.dev "Sending messages using incoming webhooks").
_HINTS = {
    "invalid_payload": "Slack rejected the message: a newswatch bug, please report it",
    "invalid_token": "webhook URL revoked or mistyped?",
    "no_service": "webhook URL revoked?",
    "no_active_hooks": "webhook disabled?",
    "channel_not_found": "channel deleted, or the app removed from it?",
    "channel_is_archived": "channel archived",
    "action_prohibited": "a workspace admin restricted posting",
    "posting_to_general_channel_denied": "only admins may post in this channel",
    "too_many_attachments": "message too large",
}


def send(name: str, channel: SlackChannel, alerts: list[Alert], digest: bool = False) -> None:
    """Post the alert or digest; raise ChannelError when Slack did not take it."""
    post_json("slack", channel.webhook_url.get_secret_value(), render.slack(alerts, digest),
              timeout=channel.timeout.total_seconds(), hints=_HINTS)
