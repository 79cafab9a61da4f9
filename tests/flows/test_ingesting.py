"""Feeds are stored batch by batch while the first full page batches are already read."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from datetime import UTC, datetime

import pytest

from flows.monitor import _Ingesting, _pending_pages
from newswatch.config import DEFAULTS
from newswatch.config.schema import Config
from newswatch.models import Failed, FeedEntry, Fetched, SourceRequest
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


def requests(*names: str) -> list[SourceRequest]:
    return [SourceRequest(name, f"https://{name}.example/rss") for name in names]


def fetched(source: str, count: int) -> list[Fetched]:
    return [Fetched(source, [FeedEntry(source, f"https://{source}.example/{i}", None, f"Item {i}", "")
                             for i in range(count)])]


def test_a_full_batch_is_read_before_the_last_feeds_are_stored(config):
    polled = [Future() for _ in range(3)]
    ingesting = _Ingesting(config, list(zip([requests(f"s{n}") for n in range(3)], polled, strict=True)), NOW)
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


def test_a_fetch_task_that_raised_fails_its_sources_and_the_others_go_on(config):
    polled = [Future(), Future(), Future()]
    polled[0].set_exception(RuntimeError("a bug in a fetch task"))
    polled[1].set_result(fetched("s1", 5))
    polled[2].set_result(fetched("s2", 3))
    ingesting = _Ingesting(config, [(requests("s0"), polled[0]), (requests("s1"), polled[1]),
                                    (requests("s2"), polled[2])], NOW)
    assert [len(batch) for batch in _pending_pages(config, ingesting)] == [8]
    counts = ingesting.finish()
    assert (counts.polled, counts.failed, counts.unexpected, counts.new_articles) == (3, 1, 1, 8)
    with session(config.database) as current:
        failing = {s.name: s for s in sources.states(current)}["s0"]
    assert failing.last_error == "fetch: unexpected RuntimeError (a bug in a fetch task)"
    assert (failing.last_error_kind, failing.consecutive_failures) == ("unexpected", 1)


def test_the_pages_of_other_shards_sources_are_left_to_them(config):
    polled = [Future()]
    polled[0].set_result(fetched("s0", 4) + fetched("s1", 2))
    ingesting = _Ingesting(config, [(requests("s0", "s1"), polled[0])], NOW)
    with session(config.database) as current:
        mine = frozenset({sources.ids_by_name(current)["s1"]})
    assert [{job.source for job in batch} for batch in _pending_pages(config, ingesting, mine)] == [{"s1"}]


def test_a_batch_whose_storing_raises_fails_its_sources_and_the_others_go_on(config):
    polled = [Future(), Future()]
    polled[0].set_result(fetched("ghost", 2))  # a source the store does not know: storing the batch raises
    polled[1].set_result(fetched("s1", 3))
    ingesting = _Ingesting(config, [(requests("ghost"), polled[0]), (requests("s1"), polled[1])], NOW)
    assert [len(batch) for batch in _pending_pages(config, ingesting)] == [3]
    counts = ingesting.finish()
    assert (counts.polled, counts.failed, counts.unexpected, counts.new_articles) == (2, 1, 1, 3)
    assert counts.errors[0].startswith("ghost: ingest: unexpected KeyError")
