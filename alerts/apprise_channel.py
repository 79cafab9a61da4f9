"""The apprise channel: send through the Apprise library to each URL in `urls`.

Title is the headline (a digest: "N stories for <watchlist>"), body is Markdown, which Apprise
converts for each service. Every URL is sent to separately, so the error names which ones failed
(by position and service, never the URL: Apprise URLs carry tokens). Apprise reports only "failed",
not why (the reason is in its log, which can contain the URL), so a failed notify is "retry"; a
URL Apprise does not understand is "permanent". A retry sends to every URL again, including the
ones that succeeded.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from types import ModuleType

from alerts import render
from alerts.errors import ChannelError
from newswatch.config.schema import AppriseChannel
from newswatch.models import Alert

__all__ = ["send"]


@lru_cache(maxsize=1)
def _apprise() -> ModuleType:
    """Apprise, with its plugins loaded once, quietly.

    Imported on first use (it loads ~150 plugin modules); some of them import deprecated stdlib
    modules (imghdr), which would fail under `-W error`.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise

        apprise.Apprise().details()
    return apprise


def send(name: str, channel: AppriseChannel, alerts: list[Alert], digest: bool = False) -> None:
    """Notify every URL; raise ChannelError naming the ones that failed."""
    apprise = _apprise()
    title, body = render.markdown(alerts, digest)
    clients = []
    for number, url in enumerate(channel.urls, 1):
        plugin = apprise.Apprise.instantiate(url.get_secret_value())
        if plugin is None:
            raise ChannelError("permanent",
                               f"apprise: URL #{number} is not one Apprise understands")
        client = apprise.Apprise()
        client.add(plugin)
        clients.append((number, plugin.service_name, client))
    markdown = apprise.NotifyFormat.MARKDOWN
    failed = [f"#{number} ({service})" for number, service, client in clients
              if not client.notify(body=body, title=title, body_format=markdown)]
    if failed:
        names = ", ".join(failed)
        raise ChannelError("retry", f"apprise: {len(failed)} of {len(clients)} URLs failed: "
                                    f"{names} (Apprise does not report why; see its log)")
