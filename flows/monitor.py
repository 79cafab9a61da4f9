"""The monitor flow: one cycle of the pipeline, each line one stage.

Task grain: one task run per batch of sources, one for reading all the article pages, one for
triage and one for delivery: a few task runs a cycle, never one per article (a task run costs
Prefect ~25 ms of CPU, most of it in the server). Retries only on the feed fetches. Every stage
restarts from the store, so a cycle that dies is finished by the next one.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections import deque
from concurrent import futures
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import NamedTuple

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.utilities.annotations import quote

from alerts.deliver import deliver
from alerts.health import report_health
from connectors import fetch_feeds_sync, fetch_pages_sync
from flows import progress
from flows.processes import POOL_THRESHOLD, WORKERS
from flows.shards import in_shard
from newswatch import config as configuration
from newswatch.config import DEFAULTS, Config
from newswatch.ingest import IngestCounts, ingest, plan
from newswatch.matching import WatchIndex
from newswatch.models import Failed, Page, SourceRequest
from newswatch.reading import ReadFailure, Reading, read_all, read_safely
from newswatch.reading import in_process as read_in_process
from newswatch.store import articles, cycles, reading, session, sources, upgrade
from newswatch.store.articles import PageText
from newswatch.store.tables import utcnow
from newswatch.triage import (TriageCounts, build_index, forget_old_keys, in_process, language_of, settle,
                              settle_in_process, triage)

__all__ = ["CycleSummary", "monitor"]

# Page batches handed to triage and not settled yet, at most: beyond, the downloads wait.
_SETTLE_BACKLOG = 4
# Pages read per submission to the pool (the last of a batch's may wait for its download's end).
_PAGES_A_SUBMISSION = 4


@dataclass
class CycleSummary:
    sources: int = 0
    not_modified: int = 0
    failed: int = 0
    new_articles: int = 0
    extracted: int = 0
    matches: int = 0
    sent: int = 0
    delivery_failures: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        return " ".join(f"{k}={v}" for k, v in asdict(self).items())


@task(retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def fetch_sources(config: Config, batch: list[SourceRequest]):
    """Poll one batch of sources; a failing source is a result, not an exception."""
    results = fetch_feeds_sync(config.fetch, batch, parse_in=_POOL.for_feed)
    progress.advance("feeds", len(results))
    progress.advance("failed", sum(isinstance(r, Failed) for r in results))
    return results


class PageJob(NamedTuple):
    """An article whose page is to be read, with what its fingerprint needs from the feed."""

    article_id: int
    url: str
    title: str
    language: str | None
    metadata: bool  # whether the page must supply title, author or date (the feed lacks one)
    source: str


@task(cache_policy=NO_CACHE)
def extract_articles(config: Config, ingesting: _Ingesting) -> int:
    """Fetch and read the pending article pages, batch after batch as the feeds' entries are
    stored, two batches at a time: how many pages were read.

    Two, so that one batch downloads while the pool extracts the other's last pages (bench/
    README.md, "## Fetching at scale"). One task run for the stage, not one per batch: a task run
    costs Prefect ~25 ms of CPU (40 batches at 4,000 pages: ~1 s). No retries: an error here is
    not the network's (a failing page is a value), and the pages it left are read next cycle.
    """
    running: deque[Future] = deque()
    read = 0
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="pages") as batches:
        for batch in _pending_pages(config, ingesting):
            running.append(batches.submit(_read_pages, config, batch))
            if len(running) == 2:
                read += running.popleft().result()
        while running:
            read += running.popleft().result()
    return read


def _read_pages(config: Config, batch: list[PageJob]) -> int:
    """Fetch and read one batch of pages, then hand the texts to triage, which stores them.

    Triage here rather than after the last batch, so that it overlaps the other batches' downloads
    and extraction instead of running alone at the end of the cycle.
    """
    extraction = _Extraction(_POOL.get(len(batch)), batch)
    pages = fetch_pages_sync(config.fetch, [job.url for job in batch], on_page=extraction.submit)
    results = [_page_text(job, page, reading) for job, page, reading in zip(batch, pages, extraction.results(pages),
                                                                              strict=True)]
    progress.advance("articles", len(results))
    _POOL.settle(config, results, utcnow())
    return len(batch)


def _page_text(job: PageJob, page: Page, reading: Reading | ReadFailure | None) -> PageText:
    if isinstance(reading, Reading):
        return PageText(job.article_id, reading.extracted, page.error, reading.fingerprint, reading.content_hash,
                        reading.hits)
    return PageText(job.article_id, None, reading.error if isinstance(reading, ReadFailure) else page.error)


@task(cache_policy=NO_CACHE)
def review_health(config: Config):
    return report_health(config, utcnow())


@task(cache_policy=NO_CACHE)
def forget_keys(config: Config, now: datetime) -> int:
    """Old fuzzy keys go, while the cycle polls its feeds (a first cycle on old feeds stores
    ~35 keys an article that the next one drops: ~0.5 s at 4,000 articles, off its critical path)."""
    return forget_old_keys(config, now)


@task(cache_policy=NO_CACHE)
def triage_articles(config: Config, index: WatchIndex):
    """Whatever is still `extracted` (feed summaries, a batch lost in a crash)."""
    return triage(config, utcnow(), index=index)


@task(cache_policy=NO_CACHE)
def deliver_alerts(config: Config):
    return deliver(config.database, config.channels, utcnow(), config.templates)


@flow(name="monitor", log_prints=True)
def monitor(config_path: str = "config", shard: int = 0, shards: int = 1) -> dict:
    """One cycle: fetch due sources, extract new articles, triage them, deliver alerts."""
    started, now = time.monotonic(), utcnow()
    config = configuration.load(config_path)  # reloaded each cycle: edits need no restart
    upgrade(config.database)
    due = in_shard(plan(config, now), shard, shards)  # prefect.yaml: deployment k of n
    batches = _chunks(due, DEFAULTS["feed_batch_size"])
    progress.advance("feeds", 0, total=len(due))
    forgetting = forget_keys.submit(quote(config), now)
    index = build_index(config)
    with _POOL.start(index):  # one process pool for all the cycle's page batches
        ingesting = _Ingesting(config, [fetch_sources.submit(quote(config), quote(b)) for b in batches], now)
        extracted = extract_articles(quote(config), quote(ingesting))
        ingested = ingesting.finish()
        review_health(quote(config))
        triaged = _POOL.settled()
    forgetting.result()
    swept = triage_articles(quote(config), quote(index))
    progress.advance("matches", swept.matches)
    triaged.add(swept)
    outcomes = deliver_alerts(quote(config))
    summary = CycleSummary(
        sources=ingested.polled, not_modified=ingested.not_modified, failed=ingested.failed,
        new_articles=ingested.new_articles, extracted=extracted, matches=triaged.matches,
        sent=sum(o.sent for o in outcomes), delivery_failures=sum(o.failed + o.dead for o in outcomes),
        seconds=round(time.monotonic() - started, 2),
    )
    _report(config, summary, ingested.errors, outcomes, now)
    return asdict(summary)


def _pending_pages(config: Config, ingesting: _Ingesting):
    """Batches of the articles waiting for their page, in id order, read as they are needed: a
    full batch as soon as there is one, the rest once every feed is stored.

    Read-only sessions: on SQLite they do not wait for the triage process's writes."""
    size, after = DEFAULTS["page_batch_size"], 0
    while True:
        stored, complete = ingesting.progress()  # before the query: what it is sure to see
        with reading(config.database) as current:
            waiting = articles.pending(current, "fetched", size, after=after)
            names = {number: name for name, number in sources.ids_by_name(current).items()}
        if len(waiting) < size and not complete:
            ingesting.wait_past(stored)
            continue
        if not waiting:
            return
        after = waiting[-1].id
        yield [PageJob(a.id, a.url, a.title, language_of(config, a, names[a.source_id]),
                       not (a.title and a.author and a.published_at), names[a.source_id]) for a in waiting]


class _Ingesting:
    """The feed batches' results, stored batch by batch in a thread of its own as the fetch tasks
    finish, so that the first pages are read while later feeds still download: the feed stage
    ran alone on one core (2.5 s at 200 feeds, 5 s at 1,000). One thread, in submission order,
    so article ids grow in the order their rows commit (`_pending_pages` pages by id)."""

    def __init__(self, config: Config, polled: list[PrefectFuture], now: datetime) -> None:
        self._config, self._polled, self._now = config, polled, now
        self._counts = IngestCounts()
        self._stored, self._complete, self._error = 0, False, None
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="ingest", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for future in self._polled:
                counts = ingest(self._config, future.result(), self._now)
                with self._changed:
                    self._counts.add(counts)
                    self._stored += 1
                    self._changed.notify_all()
        except BaseException as error:  # noqa: BLE001 - raised again by finish(), in the flow
            self._error = error
        finally:
            with self._changed:
                self._complete = True
                self._changed.notify_all()

    def progress(self) -> tuple[int, bool]:
        """(batches stored, whether all are)."""
        with self._changed:
            return self._stored, self._complete

    def wait_past(self, stored: int) -> None:
        """Until more than `stored` batches are stored, or all are."""
        with self._changed:
            self._changed.wait_for(lambda: self._stored > stored or self._complete)

    def finish(self) -> IngestCounts:
        """The counts of every batch, once all are stored; the first failure, raised here."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._counts


class _CyclePool:
    """The cycle's processes, started by the first page batch big enough (or enough changed
    feeds), shut at the cycle's end: one per core to parse feeds and read pages, and one to
    settle stories.

    CPU-bound work goes to processes sized to the cores, not to the event loop. Forked from a
    fork server (flows/processes.py), because forking this process, which runs Prefect's threads,
    is unsafe; once per cycle, because a pool per batch of pages cost ~20 s of CPU at 4,000
    articles, half the stage (bench/README.md, "## Fetching at scale"). Settling stories
    is serial (one batch at a time holds the story lock), so it gets a process of its own rather
    than competing for this process's GIL with the downloads.
    """

    def __init__(self) -> None:
        self._executor: ProcessPoolExecutor | None = None
        self._triage: ProcessPoolExecutor | None = None
        self._settling: list[Future] = []
        self._index: WatchIndex | None = None
        self._feeds = 0
        self._lock = threading.Lock()  # the fetch_sources tasks and the two page-batch threads run at once

    def get(self, pages: int) -> ProcessPoolExecutor | None:
        with self._lock:
            if self._executor is None and pages >= POOL_THRESHOLD:
                # the readers match pages too: settling stories is the one serial stage
                self._executor = ProcessPoolExecutor(max_workers=multiprocessing.cpu_count(), mp_context=WORKERS,
                                                     initializer=read_in_process, initargs=(self._index,))
            return self._executor

    def for_feed(self) -> ProcessPoolExecutor | None:
        """The pool to parse a changed feed in: none for the first few of the cycle."""
        with self._lock:
            self._feeds += 1
            feeds = self._feeds
        return self.get(feeds)

    def settle(self, config: Config, texts: list[PageText], now: datetime) -> None:
        """`triage.settle` of a batch's texts (against the index `start` gave) in the triage process
        without waiting, once the cycle has a pool (see `settled`); here otherwise."""
        article_ids, index = [text.article_id for text in texts], self._index
        with self._lock:
            if self._triage is None and self._executor is not None:
                self._triage = ProcessPoolExecutor(max_workers=1, mp_context=WORKERS, initializer=in_process,
                                                   initargs=(config, index))
            triage_process = self._triage
        if triage_process is None:
            self._settling.append(_run_here(settle, config, index, article_ids, now, texts))
        else:
            self._settling.append(triage_process.submit(settle_in_process, article_ids, now, texts))
        self._settling[-1].add_done_callback(_count_matches)
        waiting = [future for future in self._settling if not future.done()]
        if len(waiting) > _SETTLE_BACKLOG:  # triage fell behind: the texts in its queue are memory
            futures.wait(waiting[:-_SETTLE_BACKLOG])

    def settled(self) -> TriageCounts:
        """Wait for the batches handed to `settle`: what their triage found.

        A batch that failed is logged and left for the next cycle (its pages are read again)."""
        counts = TriageCounts()
        for future in self._settling:
            try:
                counts.add(future.result())
            except Exception as error:  # noqa: BLE001 - any failure: the next cycle reads the batch again
                _logger().warning("storing and triaging a page batch failed, left for the next cycle: %r", error)
        self._settling.clear()
        return counts

    def start(self, index: WatchIndex) -> _CyclePool:
        """The pool for a cycle matching pages against `index` (use as a context manager)."""
        self._index = index
        return self

    def __enter__(self) -> _CyclePool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for executor in (self._executor, self._triage):
            if executor is not None:
                # the processes exit while the cycle sweeps and delivers (~0.9 s for three at
                # 4,000 articles): their work is collected by now, or cancelled
                executor.shutdown(wait=False, cancel_futures=True)
        self._executor = self._triage = self._index = None
        self._settling.clear()
        self._feeds = 0


def _run_here(function, *args) -> Future:
    """`function(*args)` run now, as a finished future."""
    future: Future = Future()
    try:
        future.set_result(function(*args))
    except Exception as error:  # noqa: BLE001 - the caller of .result() decides
        future.set_exception(error)
    return future


def _count_matches(future: Future) -> None:
    if not future.cancelled() and future.exception() is None:
        progress.advance("matches", future.result().matches)


_POOL = _CyclePool()


class _Extraction:
    """One batch: pages go to the pool as they arrive, so reading overlaps the download, a few a
    submission: each costs this process ~0.1 ms of CPU (on the thread that downloads), where
    reading a page costs ~6 ms in the pool."""

    def __init__(self, pool: ProcessPoolExecutor | None, batch: list[PageJob]) -> None:
        self._pool, self._batch = pool, batch
        self._futures: dict[int, tuple[Future, int]] = {}  # page → (its submission, its place in it)
        self._waiting: list[tuple[int, Page]] = []

    def submit(self, index: int, page: Page) -> None:
        if self._pool is not None and page.body:
            self._waiting.append((index, page))
            if len(self._waiting) == _PAGES_A_SUBMISSION:
                self._send()

    def results(self, pages: list[Page]) -> list[Reading | ReadFailure | None]:
        """One result per page, in order: from the pool, or read here without one."""
        if self._waiting:
            self._send()
        return [self._futures[i][0].result()[self._futures[i][1]] if i in self._futures
                else read_safely(*self._arguments(i, page)) if page.body else None
                for i, page in enumerate(pages)]

    def _send(self) -> None:
        assert self._pool is not None
        waiting, self._waiting = self._waiting, []
        future = self._pool.submit(read_all, [self._arguments(i, page) for i, page in waiting])
        for place, (i, _) in enumerate(waiting):
            self._futures[i] = (future, place)

    def _arguments(self, index: int, page: Page) -> tuple:
        job = self._batch[index]
        return page.body, page.final_url or page.url, job.title, job.language, job.metadata, job.source


def _report(config: Config, summary: CycleSummary, errors: list[str], outcomes, now) -> None:
    logger = _logger()
    for error in errors:
        logger.warning("source failed: %s", error)
    for outcome in outcomes:
        if outcome.error:
            logger.warning("channel %s: %s", outcome.channel, outcome.error)
    with session(config.database) as current:
        cycles.record(current, now, utcnow(), summary)
    logger.info("cycle %s", summary.line())


def _logger():
    try:
        return get_run_logger()
    except Exception:  # outside a flow run (tests calling .fn)
        return logging.getLogger("newswatch.monitor")


def _chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]
