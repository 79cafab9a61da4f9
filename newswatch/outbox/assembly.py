"""What an alert says: the `Alert` a claimed delivery is rendered from, made of the store's rows.

- A match's alert: its watchlist, story and revision; the matched article's title, address, date
  and source; the match's terms, snippet and highlights; and "also reported by": the sources of
  the story's other articles, oldest article first, each once, never the alert's own source.
- A notice (newswatch's own message, newswatch.notices) is an alert of its topic, the key's part
  before the first ":" ("source-health", "quarantine"), where a match's shows its watchlist: story
  0, from "newswatch", dated when it was enqueued, its text as the snippet.
"""

from __future__ import annotations

from collections.abc import Iterable

from newswatch.models import Alert
from newswatch.store import deliveries
from newswatch.store.deliveries import AlertRow
from newswatch.store.stories import stories_sources
from newswatch.store.tables import Notice

__all__ = ["alerts", "of_match", "of_notice"]


def alerts(session, delivery_ids: list[int]) -> dict[int, Alert]:
    """The alert of each delivery, read in three queries (the matches, their stories' sources, the
    notices)."""
    rows = deliveries.alert_rows(session, delivery_ids)
    carried = stories_sources(session, {row.match.story_id for row in rows})
    found = {row.delivery_id: of_match(row, carried.get(row.match.story_id, ())) for row in rows}
    for delivery_id, notice in deliveries.notice_rows(session, delivery_ids):
        found[delivery_id] = of_notice(delivery_id, notice)
    return found


def of_match(row: AlertRow, story_sources: Iterable[str]) -> Alert:
    """A match's alert; `story_sources`: the sources of its story's articles, oldest first."""
    match = row.match
    return Alert(
        watchlist=match.watchlist, story_id=match.story_id, title=row.title, url=row.url, source=row.source,
        published=row.published, terms=list(match.terms), snippet=match.snippet,
        highlights=[tuple(h) for h in match.highlights],
        also_reported_by=list(dict.fromkeys(name for name in story_sources if name != row.source)),
        delivery_id=row.delivery_id, revision=match.revision,
    )


def of_notice(delivery_id: int, notice: Notice) -> Alert:
    """A notice as an alert of its topic (story 0)."""
    return Alert(
        watchlist=notice.key.split(":", 1)[0], story_id=0, title=notice.title, url=notice.url,
        source="newswatch", published=notice.created_at, terms=[], snippet=notice.text,
        delivery_id=delivery_id,
    )
