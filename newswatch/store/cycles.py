"""One row per monitor cycle, for `newswatch stats`."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from newswatch.store.tables import Cycle

__all__ = ["recent", "record"]


def record(session: Session, started: datetime, finished: datetime, summary) -> None:
    session.add(Cycle(
        started_at=started, finished_at=finished, sources_polled=summary.sources,
        not_modified=summary.not_modified, failed=summary.failed, new_articles=summary.new_articles,
        matches=summary.matches, sent=summary.sent, delivery_failures=summary.delivery_failures,
        unexpected=summary.unexpected, quarantined=summary.quarantined,
    ))


def recent(session: Session, limit: int = 20) -> list[Cycle]:
    return list(session.exec(select(Cycle).order_by(col(Cycle.id).desc()).limit(limit)))
