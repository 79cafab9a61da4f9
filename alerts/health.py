"""Send source-health alerts (failing for long, recovered, network down) to their channels.

They bypass the outbox: a failed send leaves the source unmarked, so the next cycle tries again.
"""

from __future__ import annotations

import logging
from datetime import datetime

from alerts import ChannelError, send
from newswatch import health
from newswatch.config import Config
from newswatch.store import session, sources

__all__ = ["report_health"]

log = logging.getLogger("newswatch.health")


def report_health(config: Config, now: datetime) -> health.HealthReport:
    names = [s.name for s in config.sources if s.enabled]
    with session(config.database) as current:
        report = health.review(sources.health_states(current, names), now, config.health.after)
    messages = health.alerts_for(report, now)
    for message in messages:
        log.warning("source health: %s", message.title)
    if not messages:
        return report
    # with no channel configured the log line above is the alert: mark it given, all the same
    if all([_send(config, channel, messages) for channel in config.health.channels]):
        with session(config.database) as current:
            sources.mark_alerted(current, [s.name for s in report.failing], now)
            sources.mark_alerted(current, [s.name for s in report.recovered], None)
    return report


def _send(config: Config, channel: str, messages) -> bool:
    try:
        for message in messages:
            send(channel, config.channels[channel], [message])
    except ChannelError as error:
        log.warning("source health: %s", error)
        return False
    return True
