"""Engines, sessions and migrations, for SQLite (the embedded default) and PostgreSQL (by URL).

SQLite gets WAL, a busy timeout and foreign keys, so a service and a CLI command can share the
file. `upgrade()` applies the Alembic migrations shipped inside this package; every command
calls it on start, so a new user never runs a migration by hand.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

__all__ = ["connection_lost", "engine", "is_postgres", "read_only", "redo_on_crash", "session", "upgrade"]

_MIGRATIONS = Path(__file__).parent / "migrations"
#: The newest migration's revision (tests/newswatch/store/test_migrations.py holds it to Alembic's head).
HEAD = "0009"


def normalise_url(url: str) -> str:
    """postgresql:// means psycopg 3 here (the driver we ship); sqlite folders are created."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return parsed.render_as_string(hide_password=False)


@lru_cache(maxsize=8)
def engine(url: str) -> Engine:
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        created = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(created, "connect", _sqlite_pragmas)
        # pysqlite's own BEGIN handling defeats BEGIN IMMEDIATE; take it over (SQLAlchemy docs)
        event.listen(created, "begin", _sqlite_begin)
        return created
    # no server-side prepared statements: psycopg prepares a query after 5 runs, and a plan made
    # while the tables were small (a new store's first cycle) then stays for the connection's life
    created = sa.create_engine(url, pool_pre_ping=True, connect_args={"prepare_threshold": None})
    event.listen(created, "do_connect", _connect_through_restarts)
    return created


#: How long a new connection waits for a PostgreSQL server that is restarting (tests/deploy/test_chaos.py).
RESTART_PATIENCE = 15.0
# what libpq says while the server restarts (a refused connection error carries no SQLSTATE)
_RESTARTING = ("Connection refused", "the database system is shutting down", "the database system is starting up",
               "the database system is not yet accepting connections")


def _connect_through_restarts(dialect, _record, cargs, cparams):
    """Connect, waiting up to RESTART_PATIENCE while the server refuses connections or says it is
    starting or shutting down (57P03, or libpq's words for it): a restart then fails only the
    transactions it cut (pool_pre_ping replaces the pooled connections it broke), not the rest of
    the cycle. Any other error (authentication, unknown database) is raised at once."""
    deadline, delay = time.monotonic() + RESTART_PATIENCE, 0.1
    while True:
        try:
            return dialect.loaded_dbapi.connect(*cargs, **cparams)
        except dialect.loaded_dbapi.OperationalError as error:
            restarting = error.sqlstate == "57P03" or any(sign in str(error) for sign in _RESTARTING)
            if not restarting or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def _sqlite_begin(connection) -> None:
    # a writer takes the write lock up front (no deadlock upgrading a read lock); a reader never
    # waits for it: WAL lets it read while another process writes
    read_only = connection.get_execution_options().get("read_only", False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 64 MiB of page cache a connection, not 2 MiB: the story index (article_keys) is written and
    # read at random places; triage of 4,000 articles used 10-15 % less CPU (bench/README.md)
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def connection_lost(error: BaseException) -> bool:
    """Whether `error` is the store's connection failing (a restart, a cut, no server), not a
    statement's: SQLAlchemy marks a connection it found dead, and a failed connect has no statement."""
    return isinstance(error, sa.exc.DBAPIError) and (error.connection_invalidated or error.statement is None)


def is_postgres(url: str) -> bool:
    return make_url(normalise_url(url)).get_backend_name() == "postgresql"


@contextmanager
def session(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine(url), expire_on_commit=False) as current:
        try:
            yield current
            current.commit()
        except BaseException:
            current.rollback()
            raise


@contextmanager
def read_only(url: str) -> Iterator[Session]:
    """A session that only reads: on SQLite it does not wait while another process writes."""
    with Session(engine(url).execution_options(read_only=True)) as current:
        yield current  # closing ends the transaction and keeps what was read, unlike a rollback


def redo_on_crash(session: Session) -> None:
    """Commit this transaction without waiting for the disk (PostgreSQL).

    Only for work that is done again when lost: a crash may drop the last few such commits, never
    half of one, and the pipeline redoes what the store does not show as done.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))


def upgrade(url: str, revision: str = "head") -> None:
    """Apply the shipped migrations up to `revision`."""
    if revision == "head" and _at_head(url):
        return  # every cycle calls this: loading Alembic costs ~0.5 s of start-up for nothing
    from alembic import command
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["engine"] = engine(url)
    command.upgrade(config, revision)


def _at_head(url: str) -> bool:
    """Whether the store's recorded revision is HEAD (False when it has none yet)."""
    try:
        with engine(url).connect() as connection:
            return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == HEAD
    except sa.exc.DBAPIError:  # no alembic_version table: a new store
        return False
