"""Feeds are stored batch by batch while the first full page batches are already read."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from datetime import UTC, datetime

import pytest

from flows.monitor import _Ingesting, _pending_pages
from newswatch.config import DEFAULTS
from newswatch.config.schema import Config
from newswatch.models import Failed, FeedEntry, Fetched
from newswatch.store import db, session, sources

NOW = datetime(2020, 2, 24, 12, tzinfo=UTC)
SIZE = DEFAULTS["page_batch_size"]


@pytest.fixture
def config(tmp_path) -> Config:
    loaded = Config.model_validate({
        "database": f"sqlite:///{tmp_path}/store.db",
        "sources": [{"name": f"s{n}", "url": f"https://s{n}.example/rss"} for n in range(3)]})
    db.upgrade(loaded.database)
    with session(loaded.database) as current:
        sources.sync(current, loaded.sources)
    return loaded


def fetched(source: str, count: int) -> list[Fetched]:
    return [Fetched(source, [FeedEntry(source, f"https://{source}.example/{i}", None, f"Item {i}", "")
                             for i in range(count)])]


def test_a_full_batch_is_read_before_the_last_feeds_are_stored(config):
    polled = [Future() for _ in range(3)]
    ingesting = _Ingesting(config, polled, NOW)
    pages = _pending_pages(config, ingesting)
    polled[0].set_result(fetched("s0", SIZE + 30))
    first = next(pages)  # the other feeds are still out
    assert len(first) == SIZE and not ingesting.progress()[1]
    got: list[list] = []
    reader = threading.Thread(target=lambda: got.extend(pages))
    reader.start()
    reader.join(0.5)
    assert reader.is_alive() and got == []  # 30 pages wait for a full batch or the last feed
    polled[1].set_result(fetched("s1", 20))
    polled[2].set_result([Failed("s2", "not_found", "fetch: 404 not found", status=404)])
    reader.join(5)
    assert [len(batch) for batch in got] == [50]
    counts = ingesting.finish()
    assert (counts.polled, counts.new_articles, counts.failed) == (3, SIZE + 50, 1)


def test_a_fetch_that_raised_is_raised_by_finish_after_the_others_are_read(config):
    polled = [Future(), Future()]
    polled[0].set_result(fetched("s0", 5))
    polled[1].set_exception(RuntimeError("a bug in a fetch task"))
    ingesting = _Ingesting(config, polled, NOW)
    assert [len(batch) for batch in _pending_pages(config, ingesting)] == [5]
    with pytest.raises(RuntimeError, match="a bug"):
        ingesting.finish()
