"""Dialect-specific SQL the store needs on both SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

__all__ = ["insert_ignore"]


def insert_ignore(session: Session, table, rows: list[dict], returning=None) -> list:
    """INSERT … ON CONFLICT DO NOTHING; returns the `returning` column of the rows inserted."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).values(rows).on_conflict_do_nothing()
    if returning is None:
        session.execute(statement)
        return []
    return list(session.execute(statement.returning(returning)).scalars())
