"""What an alert says: the `Alert` a claimed delivery is rendered from, made of the store's rows.

- A match's alert: its watchlist, story and revision; the matched article's title, address, date
  and source; the match's terms, snippet and highlights; and "also reported by": the sources of
  the story's other articles, oldest article first, each once, never the alert's own source, each
  with the address of its first report of the story.
- A notice (newswatch's own message, newswatch.notices) is an alert of its topic, the key's part
  before the first ":" ("source-health", "quarantine"), where a match's shows its watchlist: story
  0, from "newswatch", dated when it was enqueued, its text as the snippet.
- `combine`: alerts of one story and revision that go out together (several watchlists matched
  it) become one alert naming every watchlist with its terms (issue 19): the first one's article,
  snippet and ids, so a channel gets one message per story. Notices are never combined.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from newswatch.models import Alert
from newswatch.store import deliveries
from newswatch.store.deliveries import AlertRow
from newswatch.store.tables import Notice

__all__ = ["alerts", "combine", "of_match", "of_notice"]


def alerts(session, delivery_ids: list[int]) -> dict[int, Alert]:
    """The alert of each delivery, read in three queries (the matches, their stories' reports, the
    notices)."""
    rows = deliveries.alert_rows(session, delivery_ids)
    reports = deliveries.story_reports(session, {row.match.story_id for row in rows})
    found = {row.delivery_id: of_match(row, reports.get(row.match.story_id, ())) for row in rows}
    for delivery_id, notice in deliveries.notice_rows(session, delivery_ids):
        found[delivery_id] = of_notice(delivery_id, notice)
    return found


def of_match(row: AlertRow, story_reports: Iterable[tuple[str, str]]) -> Alert:
    """A match's alert; `story_reports`: (source, URL) of its story's articles, oldest first."""
    match = row.match
    also: dict[str, str] = {}
    for name, url in story_reports:
        if name != row.source:
            also.setdefault(name, url)
    return Alert(
        watchlist=match.watchlist, story_id=match.story_id, title=row.title, url=row.url, source=row.source,
        published=row.published, terms=list(match.terms), snippet=match.snippet,
        highlights=[tuple(h) for h in match.highlights], also_reported_by=list(also),
        delivery_id=row.delivery_id, revision=match.revision, also_reports=tuple(also.items()),
    )


def of_notice(delivery_id: int, notice: Notice) -> Alert:
    """A notice as an alert of its topic (story 0)."""
    return Alert(
        watchlist=notice.key.split(":", 1)[0], story_id=0, title=notice.title, url=notice.url,
        source="newswatch", published=notice.created_at, terms=[], snippet=notice.text,
        delivery_id=delivery_id,
    )


def combine(said: list[Alert]) -> list[Alert]:
    """One alert per story and revision, naming every watchlist of `said` that alerted it, in
    the order of each story's first alert."""
    groups: dict[tuple[int, int] | int, list[Alert]] = {}
    for position, alert in enumerate(said):
        key = (alert.story_id, alert.revision) if alert.story_id else -position - 1
        groups.setdefault(key, []).append(alert)
    return [group[0] if len(group) == 1 else _named(group) for group in groups.values()]


def _named(group: list[Alert]) -> Alert:
    """The first alert of `group`, naming every watchlist of the group (each once)."""
    named: dict[str, list[str]] = {}
    for alert in group:
        for name, terms in alert.named():
            named.setdefault(name, [])
            named[name] += [term for term in terms if term not in named[name]]
    return replace(group[0], watchlists=tuple((name, tuple(terms)) for name, terms in named.items()))
