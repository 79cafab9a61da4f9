"""Notices: what newswatch itself tells the health channels, through the outbox like any alert.

- Source health (newswatch.health decides): a source failing for long, its recovery, every
  source failing at once.
- Quarantine: the articles quarantined since the last notice (newswatch.store.articles), up to
  `_LISTED` of them by name, with their error and how to give them back.

Rules: the marks (a source told failing or recovered, an article told quarantined) and the
notices are one transaction, and a mark changes only what is not marked yet (a conditional
update), so workers or shards reviewing at once each tell only what they marked: each change
once. A failed send is retried and dies like any alert's, `newswatch alerts list` shows it.
With no health channel the log line is the notice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from newswatch import health, outbox
from newswatch.config import Config
from newswatch.store import articles, session, sources

__all__ = ["report_health", "report_quarantined"]

log = logging.getLogger("newswatch.health")

_LISTED = 10


def report_health(config: Config, now: datetime) -> health.HealthReport:
    """Review every enabled source; enqueue a notice for each change this worker marked."""
    names = [s.name for s in config.sources if s.enabled]
    with session(config.database) as current:
        report = _mark(current, health.review(sources.health_states(current, names), now, config.health.after), now)
        for message in health.alerts_for(report, now):
            _enqueue(current, config, message.watchlist, message.title, message.snippet, now, message.url)
    return report


def _mark(current, report: health.HealthReport, now: datetime) -> health.HealthReport:
    """The report narrowed to the sources this worker marked (another may have been first)."""
    failing = set(sources.mark_alerted(current, [s.name for s in report.failing], now))
    recovered = set(sources.mark_alerted(current, [s.name for s in report.recovered], None))
    return health.HealthReport([s for s in report.failing if s.name in failing],
                               [s for s in report.recovered if s.name in recovered], report.network_down)


def report_quarantined(config: Config, now: datetime) -> int:
    """Enqueue one notice of the articles quarantined and not told yet; how many it names."""
    with session(config.database) as current:
        found = articles.mark_quarantine_told(current, now)
        if not found:
            return 0
        plural = "s" * (len(found) > 1)
        title = (f"newswatch quarantined {len(found)} article{plural} that failed "
                 f"{articles.QUARANTINE_AFTER} cycles in a row")
        lines = [f"- {source}: {article.title or article.url} ({article.last_failure}) {article.url}"
                 for article, source in found[:_LISTED]]
        if len(found) > _LISTED:
            lines.append(f"- and {len(found) - _LISTED} more")
        lines.append("`newswatch errors` lists them; `newswatch errors requeue` tries them again.")
        _enqueue(current, config, "quarantine", title, "\n".join(lines), now)
    return len(found)


def _enqueue(current, config: Config, topic: str, title: str, text: str, now: datetime, url: str = "") -> None:
    log.warning("%s: %s", topic, title)
    outbox.enqueue_notice(current, topic, title, text, config.health.channels, now, url=url)
