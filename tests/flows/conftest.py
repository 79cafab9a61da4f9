"""A store of this test with some sources in it, as the cycle's stages find it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from newswatch.config.schema import Config
from newswatch.store import db, session, sources


@pytest.fixture
def synced_config(tmp_path) -> Callable[[int], Config]:
    """Makes a config of `n` sources (s0, s1, …) on a migrated SQLite store, its sources synced."""

    def make(n: int) -> Config:
        config = Config.model_validate({
            "database": f"sqlite:///{tmp_path}/store.db",
            "sources": [{"name": f"s{i}", "url": f"https://s{i}.example/rss"} for i in range(n)]})
        db.upgrade(config.database)
        with session(config.database) as current:
            sources.sync(current, config.sources)
        return config

    return make
