"""The shipped migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import newswatch.store.tables  # noqa: F401  (registers the tables)
from newswatch.models import Hit
from newswatch.store import db, matches, session


def test_migrations_match_the_models(database):
    with db.engine(database).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_upgrade_is_idempotent_and_downgrade_goes_back_to_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    db.upgrade(url)
    db.upgrade(url)
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(db._MIGRATIONS))
    config.attributes["engine"] = db.engine(url)
    command.downgrade(config, "base")
    with db.engine(url).connect() as connection:
        tables = {row[0] for row in connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"alembic_version"}
    db.upgrade(url)


def test_head_names_the_newest_migration():
    from alembic.script import ScriptDirectory

    assert ScriptDirectory(str(db._MIGRATIONS)).get_current_head() == db.HEAD


def test_a_store_behind_head_is_upgraded(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    db.upgrade(url, "0003")
    db.upgrade(url)
    with db.engine(url).connect() as connection:
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == db.HEAD
        columns = {row[1] for row in connection.exec_driver_sql("PRAGMA table_info(articles)")}
    assert "fingerprint" in columns


def test_postgres_connections_never_prepare_statements(pg_database):
    # a plan prepared while a new store's tables were small stayed for the connection's life and
    # made a first cycle's story lookups 5x slower (bench/README.md, "## Fetching at scale")
    with db.engine(pg_database).connect() as connection:
        assert connection.connection.driver_connection.prepare_threshold is None


def test_matches_stored_before_follow_ups_are_first_alerts(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    db.upgrade(url, "0004")
    with db.engine(url).begin() as connection:
        run = connection.exec_driver_sql
        run("INSERT INTO sources (id, name, url, consecutive_failures, gone) VALUES (1, 's', 'https://s/', 0, 0)")
        run("INSERT INTO stories (id, title, article_count, created_at, updated_at) "
            "VALUES (1, 't', 1, '2026-01-01', '2026-01-01')")
        run("INSERT INTO articles (id, source_id, url, title, summary, from_summary, fetched_at, stage) "
            "VALUES (1, 1, 'https://s/1', 't', '', 0, '2026-01-01', 'done')")
        run("INSERT INTO matches (story_id, article_id, watchlist, terms, snippet, highlights, created_at) "
            "VALUES (1, 1, 'w', '[]', '', '[]', '2026-01-01')")
    db.upgrade(url)
    with db.engine(url).connect() as connection:
        assert connection.exec_driver_sql("SELECT revision FROM matches").scalars().all() == [0]
    now = datetime(2026, 1, 2, tzinfo=UTC)
    with session(url) as current:
        hit = Hit(terms=[], hits=[], snippet="")
        assert matches.add(current, 1, 1, "w", hit, now) is None  # still one first alert
        assert matches.add(current, 1, 1, "w", hit, now, revision=1) is not None
