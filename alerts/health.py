"""Source-health alerts (failing for long, recovered, network down), sent through the outbox.

Rules: the review, the marks and the notices are one transaction. A source is marked alerted (or
recovered) only by the worker whose update changed it (store.sources.mark_alerted), and that
worker enqueues one notice for just those sources, to each health channel once
(store.deliveries.enqueue_notice, unique key). So shards reviewing at once tell each change once,
a failed send is retried and dies like any alert's, `newswatch alerts list` shows it, and
`alerts.deliver` sends it. With no health channel the log line is the alert.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from newswatch import health
from newswatch.config import Config
from newswatch.store import deliveries, session, sources

__all__ = ["TOPIC", "report_health"]

log = logging.getLogger("newswatch.health")

TOPIC = "source-health"  # the notices' key prefix: their "watchlist" in messages


def report_health(config: Config, now: datetime) -> health.HealthReport:
    """Review every enabled source; enqueue a notice for each change this worker marked."""
    names = [s.name for s in config.sources if s.enabled]
    with session(config.database) as current:
        report = _mark(current, health.review(sources.health_states(current, names), now, config.health.after), now)
        for message in health.alerts_for(report, now):
            log.warning("source health: %s", message.title)
            deliveries.enqueue_notice(current, _key(message.title, now), message.title, message.snippet,
                                      config.health.channels, now, url=message.url)
    return report


def _mark(current, report: health.HealthReport, now: datetime) -> health.HealthReport:
    """The report narrowed to the sources this worker marked (another may have been first)."""
    failing = set(sources.mark_alerted(current, [s.name for s in report.failing], now))
    recovered = set(sources.mark_alerted(current, [s.name for s in report.recovered], None))
    return health.HealthReport([s for s in report.failing if s.name in failing],
                               [s for s in report.recovered if s.name in recovered], report.network_down)


def _key(title: str, now: datetime) -> str:
    return f"{TOPIC}:{hashlib.sha256(f'{now.isoformat()}|{title}'.encode()).hexdigest()[:32]}"
