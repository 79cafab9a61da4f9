"""The cycle's concurrency (flows/cycle.py): feeds stored batch by batch while the first page
batches are read, page batches handed to triage without waiting up to a backlog, a dead triage
process replaced."""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from flows.cycle import _SETTLE_BACKLOG, CycleWork, Ingesting
from flows.pages import _pending_pages
from flows.processes import POOL_THRESHOLD, StartedAside
from newswatch.config import DEFAULTS
from newswatch.config.schema import Config
from newswatch.matching import WatchSpec, watch_index
from newswatch.models import Failed, FeedEntry, Fetched, PageText, SourceRequest
from newswatch.store import session, sources
from newswatch.triage import TriageCounts
from tests.conftest import SEEDS

NOW = datetime(2020, 2, 24, 12, tzinfo=UTC)
SIZE = DEFAULTS["page_batch_size"]


@pytest.fixture
def config(synced_config) -> Config:
    return synced_config(3)


def requests(*names: str) -> list[SourceRequest]:
    return [SourceRequest(name, f"https://{name}.example/rss") for name in names]


def fetched(source: str, count: int) -> list[Fetched]:
    return [Fetched(source, [FeedEntry(source, f"https://{source}.example/{i}", None, f"Item {i}", "")
                             for i in range(count)])]


def test_a_full_batch_is_read_before_the_last_feeds_are_stored(config):
    polled = [Future() for _ in range(3)]
    ingesting = Ingesting(config, list(zip([requests(f"s{n}") for n in range(3)], polled, strict=True)), NOW)
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
    ingesting = Ingesting(config, [(requests("s0"), polled[0]), (requests("s1"), polled[1]),
                                   (requests("s2"), polled[2])], NOW)
    assert [len(batch) for batch in _pending_pages(config, ingesting)] == [8]
    counts = ingesting.finish()
    assert (counts.polled, counts.failed, counts.unexpected, counts.new_articles) == (3, 1, 1, 8)
    with session(config.database) as current:
        failing = {s.name: s for s in sources.states(current)}["s0"]
    assert failing.last_error == "fetch: unexpected RuntimeError (a bug in a fetch task)"
    assert (failing.last_error_kind, failing.consecutive_failures) == ("unexpected", 1)


def test_a_batch_whose_storing_raises_fails_its_sources_and_the_others_go_on(config):
    polled = [Future(), Future()]
    polled[0].set_result(fetched("ghost", 2))  # a source the store does not know: storing the batch raises
    polled[1].set_result(fetched("s1", 3))
    ingesting = Ingesting(config, [(requests("ghost"), polled[0]), (requests("s1"), polled[1])], NOW)
    assert [len(batch) for batch in _pending_pages(config, ingesting)] == [3]
    counts = ingesting.finish()
    assert (counts.polled, counts.failed, counts.unexpected, counts.new_articles) == (2, 1, 1, 3)
    assert counts.errors[0].startswith("ghost: ingest: unexpected KeyError")


class SlowTriage(ThreadPoolExecutor):
    """A stand-in for the cycle's processes: threads, and a triage "process" whose batches wait for `gate`."""

    gate = threading.Event()

    def submit(self, function, *args):
        if function.__name__ != "settle_pages":
            return super().submit(function, *args)
        article_ids, now, texts = args
        return super().submit(lambda: self.gate.wait(10) and TriageCounts(articles=len(texts), matches=1))


def threads(workers: int, initializer, initargs: tuple) -> SlowTriage:
    return SlowTriage(max_workers=workers)


def test_batches_go_to_triage_without_waiting_until_the_backlog_is_full(config):
    handed = []
    with CycleWork(config, watch_index(config.watchlists, config.aliases), processes=threads) as work:
        assert work.readers(POOL_THRESHOLD) is not None  # the cycle has readers: triage has a process

        def hand(batches: int) -> None:
            for number in range(batches):
                work.settle([PageText(number, None)])
                handed.append(number)

        first = threading.Thread(target=hand, args=(_SETTLE_BACKLOG,))
        first.start()
        first.join(5)
        assert not first.is_alive()  # the backlog handed over (one settling, the rest queued): no wait
        more = threading.Thread(target=hand, args=(1,))
        more.start()
        more.join(0.5)
        assert more.is_alive() and len(handed) == _SETTLE_BACKLOG  # one more waits for triage
        SlowTriage.gate.set()
        more.join(5)
        assert work.settled() == TriageCounts(articles=_SETTLE_BACKLOG + 1, matches=_SETTLE_BACKLOG + 1)


def test_without_readers_a_batch_settles_in_the_thread_that_read_it(config):
    with CycleWork(config, watch_index(config.watchlists, config.aliases), clock=lambda: NOW) as work:
        work.settle([])
        assert work.readers(POOL_THRESHOLD - 1) is None
        assert work.settled() == TriageCounts()


def test_a_dead_triage_process_is_replaced_for_the_next_batch(config):
    with CycleWork(config, watch_index(config.watchlists, config.aliases)) as work:
        work.readers(POOL_THRESHOLD)  # the cycle has a reading pool, so triage has a process
        work.settle([])
        dead = work._triage
        dead.submit(os._exit, 1).exception()  # the triage process dies, as a crash in it would end it
        work.settled()
        work.settle([])  # raised BrokenProcessPool out of the page batch
        assert work._triage is not dead
        assert isinstance(work._triage, StartedAside)  # a new pool, started aside like the first
        assert work.settled().articles == 0


def test_pages_read_in_this_process_are_matched_as_the_readers_match_theirs(config):
    """Without a pool (a small batch, a broken one) a page is read here, and its matches come with
    its reading, so triage derives nothing again (newswatch.derive: computed once)."""
    page = (SEEDS / "pages/duvar/lavrov-idlib-talks.html").read_bytes()
    index = watch_index([WatchSpec("idlib", "Idlib")])
    with CycleWork(config, index) as work:
        (reading,) = work.read_here([(page, "https://duvar.example/lavrov", "Lavrov on Idlib", "en", True, "s0")])
    assert [name for name, _ in reading.hits] == ["idlib"]
