"""Sources and their fetch state: which are due, and what the last poll left.

Rules: the config is the truth for which sources exist (`sync`); a source whose URL changed starts
afresh (no validators, no failures, not gone, no discovered feed). `due(now)` is every enabled
source whose `next_check_at` has passed, never a gone one. What a poll changes (validators, next
poll, failure counts, gone, the discovered feed) is newswatch.polling's decision: the store reads
each source's `PollState` (`poll_states`) and writes the one the core gives back (`record`), a
batch in one statement.
Lists of names of any length are queried in chunks (_sql.in_lists).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, or_, select

from newswatch.config.schema import SourceConfig
from newswatch.models import PollState, SourceRequest, SourceState
from newswatch.store._sql import in_lists, insert_ignore
from newswatch.store.tables import Source

__all__ = ["due", "health_states", "ids_by_name", "mark_alerted", "poll_states", "record", "states", "sync"]


def sync(session: Session, configured: Iterable[SourceConfig]) -> None:
    """Make the sources table hold every configured source (extra rows stay for history)."""
    configured = list(configured)
    existing = {s.name: s for s in session.exec(select(Source))}
    # ON CONFLICT DO NOTHING: shard deployments planning at the same moment add new sources together
    insert_ignore(session, Source.__table__,
                  [{"name": s.name, "url": s.url} for s in configured if s.name not in existing])
    for source in configured:
        row = existing.get(source.name)
        if row is not None and row.url != source.url:
            row.url, row.etag, row.last_modified, row.feed_url = source.url, None, None, None
            row.gone, row.consecutive_failures, row.next_check_at = False, 0, None
            session.add(row)
    session.flush()


def due(session: Session, now: datetime, names: Iterable[str]) -> list[SourceRequest]:
    """The sources among `names` to poll now, oldest-polled first."""
    found = []
    for chunk in in_lists(session, names):
        found += session.exec(select(Source).where(col(Source.name).in_(chunk), Source.gone == False)  # noqa: E712
                              .where(or_(col(Source.next_check_at).is_(None), col(Source.next_check_at) <= now)))
    # never polled first, then by the last attempt, as ORDER BY ... NULLS FIRST, id would
    found.sort(key=lambda s: (s.last_attempt_at is not None, s.last_attempt_at or now, s.id))
    return [SourceRequest(s.name, s.url, s.etag, s.last_modified, feed_url=s.feed_url) for s in found]


def ids_by_name(session: Session, names: Collection[str] | None = None) -> dict[str, int]:
    """Source name → id, of every source or of those `names`."""
    query = select(Source.name, Source.id)
    if names is None:
        return dict(session.exec(query).all())
    found: dict[str, int] = {}
    for chunk in in_lists(session, names):
        found.update(session.exec(query.where(col(Source.name).in_(chunk))).all())
    return found


# PollState's fields after the source's id and name: the columns a poll changes
_POLLED = ("etag", "last_modified", "last_attempt_at", "last_success_at", "next_check_at", "consecutive_failures",
           "failing_since", "last_error", "last_error_kind", "gone", "unexpected_errors", "feed_url")


def poll_states(session: Session, names: Iterable[str]) -> dict[str, PollState]:
    """Source name → its polling state, of these sources."""
    query = select(Source.id, Source.name, *(getattr(Source, name) for name in _POLLED))
    return {state.source: state for chunk in in_lists(session, list(names))
            for state in (PollState(*row) for row in session.exec(query.where(col(Source.name).in_(chunk))))}


def record(session: Session, polled: Iterable[PollState]) -> None:
    """Store these sources' polling states (newswatch.polling decides them)."""
    rows = [{"id": state.source_id, **{name: getattr(state, name) for name in _POLLED}} for state in polled]
    if rows:
        # by primary key, a batch in one statement; the rows this session holds are updated too
        session.execute(sa.update(Source), rows)


def _named(session: Session, names: list[str]) -> list[Source]:
    """The rows of these sources, a chunk of names at a time."""
    return [row for chunk in in_lists(session, names)
            for row in session.exec(select(Source).where(col(Source.name).in_(chunk)))]


def states(session: Session) -> list[Source]:
    """Every stored source with its fetch state, by name."""
    return list(session.exec(select(Source).order_by(col(Source.name))))


def health_states(session: Session, names: Iterable[str]) -> list[SourceState]:
    return [SourceState(s.name, s.url, s.consecutive_failures, s.failing_since, s.last_error,
                        s.health_alerted_at is not None) for s in _named(session, list(names)) if not s.gone]


def mark_alerted(session: Session, names: Iterable[str], when: datetime | None) -> list[str]:
    """Remember that a failure alert is owed or went out (`when`), or that the recovery did (None);
    the names this call changed. Workers reviewing at once each get only what they changed (row
    locks, re-checked on PostgreSQL; one writer at a time on SQLite), so each change is told once."""
    unchanged = col(Source.health_alerted_at).is_(None) if when else col(Source.health_alerted_at).is_not(None)
    rows = [row for chunk in in_lists(session, names) for row in session.exec(
        select(Source).where(col(Source.name).in_(chunk), unchanged).with_for_update())]
    for row in rows:
        row.health_alerted_at = when
        session.add(row)
    session.flush()
    return [row.name for row in rows]
