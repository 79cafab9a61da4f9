"""One row per monitor cycle, for `newswatch stats`."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from newswatch.store.tables import Cycle, CycleCounts

__all__ = ["recent", "record"]


def record(session: Session, started: datetime, finished: datetime, counts: CycleCounts) -> None:
    session.add(Cycle(started_at=started, finished_at=finished,
                      **counts.model_dump(include=set(CycleCounts.model_fields))))


def recent(session: Session, limit: int = 20) -> list[Cycle]:
    return list(session.exec(select(Cycle).order_by(col(Cycle.id).desc()).limit(limit)))
