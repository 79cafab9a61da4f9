"""The out-edge: render alerts and send them to channels. No database here.

    send(name, channel, alerts, *, digest=False)   one alert, or a digest of several in one message
    attempt(name, channel, alerts, *, digest=False) → ChannelError | None   send, the refusal a value
    prepare(templates, installation)               the config's templates, the store's id, for renders
    CHANNELS                                       the registry: YAML `type:` → sender
    ChannelError(kind, message, retry_after_seconds)   kind "retry" or "permanent"

A sender is `send(name, channel_config, alerts, digest) -> None` in its own module; built-in
channels are registered here like any other. Rendering is pure (`alerts.render`). The outbox
(newswatch.outbox) decides when to send and to retry, and its drain sends through this package,
handed to it as its outlet (`prepare`, then `attempt` for each message).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alerts import apprise_channel, atom, console, jsonl, slack, smtp, webhook
from alerts.errors import ChannelError
from alerts.render import set_installation, set_template_dir
from newswatch.models import Alert

__all__ = ["CHANNELS", "ChannelError", "Sender", "attempt", "prepare", "send", "set_installation",
           "set_template_dir"]

Sender = Callable[[str, Any, list[Alert], bool], None]

CHANNELS: dict[str, Sender] = {
    "console": console.send,
    "jsonl": jsonl.send,
    "slack": slack.send,
    "email": smtp.send,
    "webhook": webhook.send,
    "atom": atom.send,
    "apprise": apprise_channel.send,
}


def send(name: str, channel: Any, alerts: list[Alert], *, digest: bool = False) -> None:
    """Send one alert (or, with digest=True, several in one message) to the channel `name`."""
    if not alerts:
        raise ValueError("send: no alerts")
    if not digest and len(alerts) != 1:
        raise ValueError(f"send: {len(alerts)} alerts need digest=True")
    try:
        sender = CHANNELS[channel.type]
    except KeyError:
        known = ", ".join(CHANNELS)
        raise ValueError(f"send: no channel type {channel.type!r} (known: {known})") from None
    sender(name, channel, list(alerts), digest)


def attempt(name: str, channel: Any, alerts: list[Alert], *, digest: bool = False) -> ChannelError | None:
    """`send`, the channel's refusal returned instead of raised: None when the message went out."""
    try:
        send(name, channel, alerts, digest=digest)
    except ChannelError as error:
        return error
    return None


def prepare(templates: str | None, installation: str | None) -> None:
    """Render with the config's `templates` (None: the built-in ones) and the store's `installation` id."""
    set_template_dir(templates)
    set_installation(installation)
