"""The console channel: print each alert (or a digest) as a readable rich panel on stdout."""

from __future__ import annotations

from rich.console import Console

from alerts import render
from newswatch.config.schema import ConsoleChannel
from newswatch.models import Alert

__all__ = ["send"]


def send(name: str, channel: ConsoleChannel, alerts: list[Alert], digest: bool = False) -> None:
    """Print the alert or digest; a console never fails in a way worth retrying."""
    # A new Console per call, so it writes to whatever sys.stdout is now (tests capture it).
    Console(highlight=False, soft_wrap=False).print(render.console(alerts, digest))
