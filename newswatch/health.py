"""Source health worth telling someone about: a pure review of every source's failure state.

Rules (what Miniflux, Huginn and rss2email users ask for): a source failing for longer than
`after` raises one alert, and one more when it recovers; never one per failed poll. When every
source fails at once the cause is ours, not theirs: one "network down?" alert names them all.
It reviews the failure counts newswatch.polling keeps, as `SourceState`s read from the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from newswatch.models import Alert, SourceState

__all__ = ["HealthReport", "alerts_for", "review"]


@dataclass(frozen=True)
class HealthReport:
    failing: list[SourceState]  # newly failing for longer than the threshold
    recovered: list[SourceState]  # alerted before, working again
    network_down: bool  # every source is failing


def review(states: list[SourceState], now: datetime, after: timedelta) -> HealthReport:
    failing = [s for s in states if not s.alerted and s.consecutive_failures and s.failing_since
               and now - s.failing_since >= after]
    recovered = [s for s in states if s.alerted and not s.consecutive_failures]
    network_down = len(states) >= 2 and all(s.consecutive_failures for s in states)
    return HealthReport(failing, recovered, network_down)


def alerts_for(report: HealthReport, now: datetime) -> list[Alert]:
    """At most two messages: the failures (or the network) and the recoveries."""
    found = []
    if report.failing:
        names = ", ".join(s.name for s in report.failing)
        since = min(s.failing_since for s in report.failing)
        if report.network_down:
            title = f"Network down? Every source has been failing since {since:%Y-%m-%d %H:%M} UTC"
        else:
            title = f"{len(report.failing)} source(s) failing since {since:%Y-%m-%d %H:%M} UTC: {names}"
        details = "; ".join(f"{s.name}: {s.last_error} ({s.consecutive_failures} failures)" for s in report.failing)
        found.append(_alert(title, report.failing[0].url, details, now))
    if report.recovered:
        names = ", ".join(s.name for s in report.recovered)
        found.append(_alert(f"{len(report.recovered)} source(s) working again: {names}",
                            report.recovered[0].url, f"Recovered: {names}.", now))
    return found


def _alert(title: str, url: str, text: str, now: datetime) -> Alert:
    return Alert(watchlist="source-health", story_id=0, title=title, url=url, source="newswatch",
                 published=now, terms=[], snippet=text)
