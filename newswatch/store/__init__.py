"""Persist and query state; the only place with SQL and sessions. Uniqueness lives here."""

from newswatch.store.db import engine, is_postgres, read_only, session, upgrade

__all__ = ["engine", "is_postgres", "read_only", "session", "upgrade"]
