"""Shared fixtures: a store on SQLite and on PostgreSQL, and the project's paths.

PostgreSQL tests use NEWSWATCH_TEST_PG_URL (default: the local server at 127.0.0.1:5432, database
test). Where no server answers they skip, saying why, unless NEWSWATCH_REQUIRE_PG=1 (as .ci/run
sets), where they fail. Each test session gets its own database, each test empty tables.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from newswatch.store import db

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DATA = Path(__file__).resolve().parent / "data"

PG_URL = os.environ.get("NEWSWATCH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pytest_collection_modifyitems(config, items):
    """The files with slow tests first: with one process per core (./scripts/test, by file), the
    long ones start early while the quick ones fill the other core, instead of ending the run
    with one core busy and the other idle."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)  # stable: each file keeps its order


def postgres_unavailable(message: str) -> None:
    """Skip the test saying why, or fail it where PostgreSQL is required (NEWSWATCH_REQUIRE_PG=1)."""
    if os.environ.get("NEWSWATCH_REQUIRE_PG") == "1":
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def fresh_pg_database(prefix: str, extensions: tuple[str, ...] = ()) -> Iterator[sa.URL]:
    """An empty database of our own on the test server, dropped on exit (skips without a server)."""
    try:
        # pre-ping: the chaos tests restart the server, which ends the pooled connection of a
        # session-long database made before them
        admin = sa.create_engine(db.normalise_url(PG_URL), isolation_level="AUTOCOMMIT", pool_pre_ping=True)
        with admin.connect() as connection:
            connection.execute(sa.text("select 1"))
    except Exception as error:  # noqa: BLE001 - any connection failure means "no server"
        postgres_unavailable(f"PostgreSQL not reachable at {PG_URL}: {str(error).splitlines()[0]}")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(db.normalise_url(PG_URL)).set(database=name)
    try:
        if extensions:
            scoped = sa.create_engine(url, isolation_level="AUTOCOMMIT")
            with scoped.connect() as connection:
                for extension in extensions:
                    connection.execute(sa.text(f"CREATE EXTENSION IF NOT EXISTS {extension}"))
            scoped.dispose()
        yield url
    finally:
        db.engine.cache_clear()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_database():
    """A fresh PostgreSQL database for this test session, migrated, dropped at the end."""
    with fresh_pg_database("newswatch_test") as url:
        rendered = url.render_as_string(hide_password=False)
        db.upgrade(rendered)
        yield rendered
        db.engine(rendered).dispose()


def _truncate(url: str) -> None:
    with db.engine(url).begin() as connection:
        connection.execute(sa.text(
            "TRUNCATE deliveries, notices, matches, story_keys, articles, stories, sources, cycles "
            "RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request, tmp_path) -> str:
    """A migrated, empty store: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
        db.upgrade(url)
        return url
    url = request.getfixturevalue("pg_database")
    _truncate(url)
    return url


@pytest.fixture
def slack_server():
    """A local endpoint answering like a Slack incoming webhook (tests/support/slack_server.py)."""
    from tests.support.slack_server import SlackServer

    with SlackServer() as server:
        yield server


@pytest.fixture
def slack(slack_server):
    """The local Slack endpoint, by the short name the tests of a desk's channels use."""
    return slack_server


@pytest.fixture
def smtp_server():
    """A real local SMTP server, aiosmtpd (tests/support/smtp_server.py)."""
    from tests.support.smtp_server import SmtpServer

    with SmtpServer() as server:
        yield server


@pytest.fixture
def smtp(smtp_server):
    """The local SMTP server, by its short name."""
    return smtp_server


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """One Prefect test server for the session's flow runs (started only when a test asks).

    Heartbeats are off (they add ~1 s to every sync flow run); analytics are off (their telemetry
    prints "database is locked" tracebacks on SQLite).
    """
    from flows.runtime import prefect_defaults

    prefect_defaults(tmp_path_factory.mktemp("prefect-data"))
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        with prefect_test_harness(server_startup_timeout=120):
            yield
