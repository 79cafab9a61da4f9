"""Dialect-specific SQL the store needs on both SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

__all__ = ["insert_all", "insert_ignore"]


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


def insert_all(session: Session, table: sa.Table, rows: list[dict]) -> None:
    """INSERT many rows of the same columns: one COPY on PostgreSQL (psycopg 3), else executemany.

    psycopg runs an executemany one statement a row, each parsed and planned on the server: for
    the story index's 35 keys an article that was most of the server's work in a first cycle."""
    if not rows:
        return
    connection = session.connection()
    if (connection.dialect.name, connection.dialect.driver) != ("postgresql", "psycopg"):
        connection.execute(table.insert(), rows)
        return
    quote = connection.dialect.identifier_preparer.quote
    names = list(rows[0])
    # COPY skips SQLAlchemy's bind processing: apply the columns' own (UTCDateTime's, say) here
    binds = [table.c[name].type.bind_processor(connection.dialect) or _same for name in names]
    statement = f"COPY {quote(table.name)} ({', '.join(quote(name) for name in names)}) FROM STDIN"
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([bind(row[name]) for bind, name in zip(binds, names, strict=True)])


def _same(value: object) -> object:
    return value
