"""Dialect-specific SQL the store needs on both SQLite and PostgreSQL.

Rules: no statement carries more bound parameters than its store takes ("too many SQL variables"
on SQLite, 65,535 on PostgreSQL's wire protocol), whatever the size of the batch (a feed of
100,000 entries is one batch). Multi-row inserts are cut into chunks under `parameter_limit`, in
the caller's row order; `IN (...)` lists go through `in_lists`: at most half the limit (the
statement's other parameters fit in the other half) and at most IN_LIST values.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlmodel import Session

if TYPE_CHECKING:  # imported where a PostgreSQL store needs it: its pg_catalog costs ~0.1 s of every start-up
    from sqlalchemy.dialects import postgresql

__all__ = ["IN_LIST", "chunks", "in_lists", "insert_all", "insert_ignore", "parameter_limit"]

T = TypeVar("T")

# the most values an IN list carries even where the store takes more: a statement of modest size
IN_LIST = 2000
_POSTGRES_PARAMETERS = 65_535  # the wire protocol counts a statement's parameters in 16 bits
_SQLITE_DEFAULT_PARAMETERS = 999  # SQLite before 3.32, when the build does not say


def chunks(items: Iterable[T], size: int = IN_LIST) -> Iterator[list[T]]:
    """`items` in order, `size` at a time."""
    items = items if isinstance(items, Sequence) else list(items)
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def in_lists(session: Session, values: Iterable[T]) -> Iterator[list[T]]:
    """`values` in order, as lists each small enough for one `IN (...)` on this session's store."""
    return chunks(values, min(IN_LIST, parameter_limit(session) // 2))


def parameter_limit(session: Session) -> int:
    """The most bound parameters one statement may carry on this session's store."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return _POSTGRES_PARAMETERS
    try:  # the build's real limit (Python 3.11+): 32,766 by default since SQLite 3.32, more on some
        return connection.connection.driver_connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except AttributeError:
        return _SQLITE_DEFAULT_PARAMETERS


def insert_ignore(session: Session, table, rows: list[dict], returning=None) -> list:
    """INSERT … ON CONFLICT DO NOTHING; returns the `returning` column of the rows inserted.

    The rows (all of the same columns) go in their order, so that concurrent inserts, which
    callers sort, lock in the same order; in the caller's transaction; a chunk at a time, under
    the store's parameter limit. On SQLite a chunk is an executemany of one statement compiled
    once, which SQLAlchemy sends as multi-row VALUES ("insertmanyvalues"): the VALUES of 100,000
    rows built as one statement took 30 s to compile. On PostgreSQL, rows of plain values go in
    as `_unnested` arrays, JSON ones as SQLite's do."""
    if not rows:
        return []
    unnest = session.get_bind().dialect.name == "postgresql" and _scalar(table, rows[0])
    module = _postgresql() if session.get_bind().dialect.name == "postgresql" else sqlite
    # every column at most one parameter a row (SQLAlchemy adds the missing ones' defaults)
    per_statement = max(1, parameter_limit(session) // len(table.columns))
    inserted = []
    for chunk in chunks(rows, per_statement):
        statement = (_unnested(table, chunk) if unnest else module.insert(table)).on_conflict_do_nothing()
        if returning is not None:
            statement = statement.returning(returning)
        result = session.execute(statement) if unnest else session.execute(statement, chunk)
        if returning is not None:
            inserted += result.scalars()
    return inserted


def _scalar(table: sa.Table, row: dict) -> bool:
    """Whether the row's columns all hold plain values (a list in a JSON column would be read as
    one more dimension of the column's array)."""
    return not any(isinstance(table.c[name].type, (sa.JSON, sa.ARRAY)) for name in row)


def _unnested(table: sa.Table, rows: list[dict]) -> postgresql.Insert:
    """INSERT … SELECT FROM unnest(one array a column) WITH ORDINALITY, in the rows' order.

    A parameter a column, not a value: psycopg rewrites a statement's parameter names on every
    execution, which for VALUES of 100,000 rows took 20 s of the 30 their insert cost."""
    postgresql = _postgresql()
    names = list(rows[0])
    arrays = [sa.cast(sa.bindparam(f"_{name}", [row[name] for row in rows], type_=postgresql.ARRAY(table.c[name].type)),
                      postgresql.ARRAY(table.c[name].type)) for name in names]
    unnested = sa.func.unnest(*arrays).table_valued(*names, with_ordinality="_at").render_derived()
    ordered = sa.select(*(unnested.c[name] for name in names)).order_by(unnested.c._at)
    return postgresql.insert(table).from_select(names, ordered)


def _postgresql():
    """SQLAlchemy's PostgreSQL dialect module, imported on first use."""
    from sqlalchemy.dialects import postgresql

    return postgresql


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
