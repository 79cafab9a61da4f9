"""Dialect-specific SQL on SQLite and PostgreSQL: what goes in comes back, in the caller's transaction."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import select

from newswatch.config.schema import SourceConfig
from newswatch.ingest import add_entries
from newswatch.models import FeedEntry
from newswatch.store import session, sources
from newswatch.store._sql import insert_all, insert_ignore, parameter_limit
from newswatch.store.tables import ArticleKey, Source

ISTANBUL = timezone(timedelta(hours=3))
KEYS = ["en:erdoğan+putin", "mh:3:1a2b", "odd\tkey\\with\nall\r\"'", "ev:إدلب"]


def one_article(database: str) -> int:
    with session(database) as current:
        sources.sync(current, [SourceConfig(name="duvar", url="https://duvar.example/rss")])
        source_id = sources.ids_by_name(current)["duvar"]
        (article_id,) = add_entries(
            current, source_id, [FeedEntry("duvar", "https://d.example/a", None, "Idlib", "")],
            datetime(2020, 2, 24, tzinfo=UTC))
    return article_id


@pytest.mark.parametrize("insert", [insert_all, insert_ignore], ids=["insert_all", "insert_ignore"])
def test_inserts_store_every_row_as_given_with_times_in_utc(database, insert):
    article_id = one_article(database)
    at = datetime(2020, 2, 24, 15, 30, tzinfo=ISTANBUL)
    with session(database) as current:
        insert(current, ArticleKey.__table__, [{"key": key, "article_id": article_id, "at": at} for key in KEYS])
    with session(database) as current:
        stored = current.exec(select(ArticleKey).order_by(ArticleKey.id)).all()
    assert [(row.key, row.article_id) for row in stored] == [(key, article_id) for key in KEYS]
    assert {row.at for row in stored} == {datetime(2020, 2, 24, 12, 30, tzinfo=UTC)}


def test_insert_all_is_undone_with_the_callers_transaction(database):
    article_id = one_article(database)
    with pytest.raises(RuntimeError), session(database) as current:
        insert_all(current, ArticleKey.__table__, [{"key": "k", "article_id": article_id, "at": datetime.now(UTC)}])
        raise RuntimeError("the batch failed after its keys were written")
    with session(database) as current:
        assert current.exec(select(ArticleKey)).all() == []


def test_insert_all_refuses_a_naive_time_as_the_store_does_everywhere(database):
    article_id = one_article(database)
    # SQLAlchemy wraps the ValueError on SQLite (StatementError); COPY raises it as it is
    with pytest.raises((ValueError, sa.exc.StatementError), match="naive"), session(database) as current:
        insert_all(current, ArticleKey.__table__, [{"key": "k", "article_id": article_id, "at": datetime(2020, 2, 24)}])


def squeezed(current) -> int:
    """The store's parameter limit, on SQLite made the smallest a build has had (this one's may be 250,000)."""
    connection = current.connection()
    if connection.dialect.name == "sqlite":
        connection.connection.driver_connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    return parameter_limit(current)


def test_insert_ignore_takes_more_rows_than_one_statement_can_carry_and_returns_every_new_one(database):
    """Issue "Nothing stops the watch": one INSERT of all the rows, "too many SQL variables"."""
    with session(database) as current:
        count = squeezed(current) // 2 + 1  # two parameters a row: one statement cannot hold them
        rows = [{"name": f"source {n:05}", "url": f"https://s{n}.example/rss"} for n in range(count)]
        table = Source.__table__
        first = insert_ignore(current, table, rows[: count // 2], returning=table.c.name)
        again = insert_ignore(current, table, rows, returning=table.c.name)
        assert (len(first), sorted(again)) == (count // 2, [row["name"] for row in rows[count // 2:]])
        assert insert_ignore(current, table, rows) == []
    with session(database) as current:
        assert sorted(current.exec(select(Source.name)).all()) == [row["name"] for row in rows]
