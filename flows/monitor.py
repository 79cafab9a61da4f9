"""The monitor flow: one cycle of the pipeline, each line one stage.

Task grain: one task run per batch of sources, one for reading all the article pages, one for
triage and one for delivery: a few task runs a cycle, never one per article (a task run costs
Prefect ~25 ms of CPU, most of it in the server). Retries only on the feed fetches. Every stage
restarts from the store, so a cycle that dies is finished by the next one.

Containment (newswatch.contain): each stage returns one outcome per item (source, page, article,
delivery), and whatever one item's work raises is that item's failure, never its batch's or the
cycle's. What escapes a whole batch anyway (a fetch task that fails, a page batch, a triage
process that dies) is logged with its traceback and counted, and the batch's items wait in the
store for the next cycle; the later stages run for everything else, and delivery always runs.
Unexpected failures stay loud: `unexpected=` and `quarantined=` in the cycle's summary line and
in `newswatch stats`, per source in `newswatch sources`, per article in `newswatch errors`.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections import deque
from concurrent import futures
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import NamedTuple

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.utilities.annotations import quote

from alerts.deliver import deliver
from connectors import fetch_feeds_sync, fetch_pages_sync
from flows import progress
from flows.processes import POOL_THRESHOLD, WORKERS, warm
from flows.shards import in_shard
from newswatch import config as configuration
from newswatch.config import DEFAULTS, Config
from newswatch.contain import ItemFailure, contain, failure_of
from newswatch.ingest import IngestCounts, ingest, plan
from newswatch.matching import WatchIndex
from newswatch.models import Failed, FetchResult, Page, SourceRequest
from newswatch.notices import report_health, report_quarantined
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
    unexpected: int = 0  # items whose work raised, contained (newswatch.contain)
    quarantined: int = 0  # articles that failed the same way a third cycle in a row
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


@dataclass
class PageCounts:
    read: int = 0
    unexpected: int = 0  # pages whose fetch or reading raised, and page batches that failed whole

    def add(self, other: PageCounts) -> None:
        self.read += other.read
        self.unexpected += other.unexpected


@task(cache_policy=NO_CACHE)
def extract_articles(config: Config, ingesting: _Ingesting, source_ids: frozenset[int] | None) -> PageCounts:
    """Fetch and read the pending article pages of `source_ids` (None: all), batch after batch as
    the feeds' entries are stored, two batches at a time.

    Two, so that one batch downloads while the pool extracts the other's last pages (bench/
    README.md, "## Fetching at scale"). One task run for the stage, not one per batch: a task run
    costs Prefect ~25 ms of CPU (40 batches at 4,000 pages: ~1 s). No retries: an error here is
    not the network's (a failing page is a value), and the pages a failed batch left are read next
    cycle.
    """
    running: deque[tuple[Future, list[PageJob]]] = deque()
    counts = PageCounts()
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="pages") as batches:
        try:
            for batch in _pending_pages(config, ingesting, source_ids):
                running.append((batches.submit(_read_pages, config, batch), batch))
                if len(running) == 2:
                    counts.add(_batch_counts(*running.popleft()))
        except Exception as error:  # noqa: BLE001 - contained: the pages not read wait for the next cycle
            failure_of("pages", "listing the pending pages", error)
            counts.unexpected += 1
        while running:
            counts.add(_batch_counts(*running.popleft()))
    return counts


def _batch_counts(future: Future, batch: list[PageJob]) -> PageCounts:
    """A page batch's counts; one that failed whole is an unexpected failure, its pages left for the next cycle."""
    try:
        return future.result()
    except Exception as error:  # noqa: BLE001 - contained: the batch's articles wait in the store
        failure_of("pages", f"a batch of {len(batch)} pages from article {batch[0].article_id}", error)
        return PageCounts(unexpected=1)


def _read_pages(config: Config, batch: list[PageJob]) -> PageCounts:
    """Fetch and read one batch of pages, then hand the texts to triage, which stores them.

    Triage here rather than after the last batch, so that it overlaps the other batches' downloads
    and extraction instead of running alone at the end of the cycle.
    """
    extraction = _Extraction(_POOL.get(len(batch)), batch)
    pages = fetch_pages_sync(config.fetch, [job.url for job in batch], on_page=extraction.submit)
    readings = extraction.results(pages)
    results = [_page_text(job, page, reading) for job, page, reading in zip(batch, pages, readings, strict=True)]
    progress.advance("articles", len(results))
    _POOL.settle(config, results, utcnow())
    unexpected = sum(isinstance(r, ReadFailure) or p.unexpected for p, r in zip(pages, readings, strict=True))
    return PageCounts(len(batch), unexpected)


def _page_text(job: PageJob, page: Page, reading: Reading | ReadFailure | None) -> PageText:
    if isinstance(reading, Reading):
        return PageText(job.article_id, reading.extracted, page.error, reading.fingerprint, reading.content_hash,
                        reading.hits)
    return PageText(job.article_id, None, reading.error if isinstance(reading, ReadFailure) else page.error)


@task(cache_policy=NO_CACHE)
def review_health(config: Config):
    """Source health alerts; a failure here is the cycle's unexpected failure, not its end."""
    return contain("health", "the sources' health review", report_health, config, utcnow())


@task(cache_policy=NO_CACHE)
def forget_keys(config: Config, now: datetime):
    """Old fuzzy keys go, while the cycle polls its feeds (a first cycle on old feeds stores
    ~35 keys an article that the next one drops: ~0.5 s at 4,000 articles, off its critical path)."""
    return contain("stories", "forgetting old story keys", forget_old_keys, config, now)


@task(cache_policy=NO_CACHE)
def triage_articles(config: Config, index: WatchIndex, cycle_start: datetime) -> TriageCounts:
    """Whatever is still `extracted` (feed summaries, a batch lost in a crash); an article that
    failed this cycle waits for the next."""
    swept = contain("triage", "the sweep of extracted articles", triage, config, utcnow(), index=index,
                    cycle_start=cycle_start)
    return TriageCounts(failed=1) if isinstance(swept, ItemFailure) else swept


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
        ingesting = _Ingesting(config, [(b, fetch_sources.submit(quote(config), quote(b))) for b in batches], now)
        pages = extract_articles(quote(config), quote(ingesting), _shard_source_ids(config, shard, shards))
        ingested = ingesting.finish()
        health = review_health(quote(config))
        triaged = _POOL.settled()
    forgotten = forgetting.result()
    swept = triage_articles(quote(config), quote(index), now)
    progress.advance("matches", swept.matches)
    triaged.add(swept)
    told = contain("health", "the quarantine notice", report_quarantined, config, utcnow())
    outcomes = deliver_alerts(quote(config))
    failed_stages = sum(isinstance(outcome, ItemFailure) for outcome in (health, forgotten, told))
    summary = CycleSummary(
        sources=ingested.polled, not_modified=ingested.not_modified, failed=ingested.failed,
        new_articles=ingested.new_articles, extracted=pages.read, matches=triaged.matches,
        sent=sum(o.sent for o in outcomes), delivery_failures=sum(o.failed + o.dead for o in outcomes),
        unexpected=(ingested.unexpected + pages.unexpected + triaged.failed + failed_stages
                    + sum(o.unexpected for o in outcomes)),
        quarantined=triaged.quarantined, seconds=round(time.monotonic() - started, 2),
    )
    _report(config, summary, ingested.errors, outcomes, now)
    return asdict(summary)


def _shard_source_ids(config: Config, shard: int, shards: int) -> frozenset[int] | None:
    """The ids of the sources shard `shard` of `shards` polls, whose pages it reads; None: one shard, all."""
    if shards == 1:
        return None
    with reading(config.database) as current:
        ids = sources.ids_by_name(current)
    return frozenset(ids[s.name] for s in in_shard(config.sources, shard, shards) if s.name in ids)


def _pending_pages(config: Config, ingesting: _Ingesting, source_ids: frozenset[int] | None = None):
    """Batches of the articles waiting for their page (of `source_ids`, if given), in id order,
    read as they are needed: a full batch as soon as there is one, the rest once every feed is stored.

    Read-only sessions: on SQLite they do not wait for the triage process's writes."""
    size, after = DEFAULTS["page_batch_size"], 0
    while True:
        stored, complete = ingesting.progress()  # before the query: what it is sure to see
        with reading(config.database) as current:
            waiting = articles.pending(current, "fetched", size, after=after, source_ids=source_ids)
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
    so article ids grow in the order their rows commit (`_pending_pages` pages by id).

    A fetch task that raised (after its retries) is its sources' failure, kind "unexpected": their
    health records it, and the other batches go on."""

    def __init__(self, config: Config, polled: list[tuple[list[SourceRequest], PrefectFuture]],
                 now: datetime) -> None:
        self._config, self._polled, self._now = config, polled, now
        self._counts = IngestCounts()
        self._stored, self._complete, self._error = 0, False, None
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="ingest", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for batch, future in self._polled:
                counts = _stored(self._config, batch, future, self._now)
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
        """The counts of every batch, once all are stored; a failure to store them, raised here."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._counts


def _stored(config: Config, batch: list[SourceRequest], polled: PrefectFuture, now: datetime) -> IngestCounts:
    """`ingest` of a fetch task's results; if storing the batch raises, the batch's sources count
    as failed (their validators were not stored: they are fetched again) and the others go on."""
    counts = contain("ingest", f"a batch of {len(batch)} sources", ingest, config, _results(batch, polled), now)
    if isinstance(counts, ItemFailure):
        return IngestCounts(polled=len(batch), failed=len(batch), unexpected=1,
                            errors=[f"{request.name}: {counts.describe()}" for request in batch])
    return counts


def _results(batch: list[SourceRequest], polled: PrefectFuture) -> list[FetchResult]:
    """The fetch task's results, or, if it raised, each of its sources' failure."""
    try:
        return polled.result()
    except Exception as error:  # noqa: BLE001 - contained: the batch's sources fail, visibly
        failure = failure_of("fetch", f"a batch of {len(batch)} sources", error)
        return [Failed(request.name, "unexpected", failure.describe()) for request in batch]


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

    def discard(self, executor: ProcessPoolExecutor) -> None:
        """Forget a broken pool: the next batch that needs one starts another."""
        with self._lock:
            if self._executor is executor:
                self._executor = None
        executor.shutdown(wait=False, cancel_futures=True)

    def for_feed(self) -> ProcessPoolExecutor | None:
        """The pool to parse a changed feed in: none for the first few of the cycle.

        The first changed feed starts the fork server, whose imports (~1.2 s of CPU) then run
        while the other feeds download; a cycle whose feeds are all unchanged starts no process
        at all (`newswatch run --once` starts it earlier only for a first cycle)."""
        with self._lock:
            self._feeds += 1
            feeds = self._feeds
        if feeds == 1:
            warm()
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
            try:
                self._settling.append(triage_process.submit(settle_in_process, article_ids, now, texts))
            except BrokenExecutor:  # the triage process died (its batch is read again next cycle): a new one
                with self._lock:
                    if self._triage is triage_process:
                        self._triage = None
                triage_process.shutdown(wait=False, cancel_futures=True)
                self.settle(config, texts, now)
                return
        self._settling[-1].add_done_callback(_count_matches)
        waiting = [future for future in self._settling if not future.done()]
        if len(waiting) > _SETTLE_BACKLOG:  # triage fell behind: the texts in its queue are memory
            futures.wait(waiting[:-_SETTLE_BACKLOG])

    def settled(self) -> TriageCounts:
        """Wait for the batches handed to `settle`: what their triage found.

        A batch that failed is an unexpected failure, logged and left for the next cycle (its
        pages are read again)."""
        counts = TriageCounts()
        for future in self._settling:
            try:
                counts.add(future.result())
            except Exception as error:  # noqa: BLE001 - contained: the next cycle reads the batch again
                failure_of("triage", "a page batch (its pages are read again next cycle)", error)
                counts.failed += 1
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
        return [self._pooled(i, page) if i in self._futures
                else read_safely(*self._arguments(i, page)) if page.body else None
                for i, page in enumerate(pages)]

    def _pooled(self, index: int, page: Page) -> Reading | ReadFailure | None:
        """The page's reading from the pool; a process that died reading it (or a page sent with
        it) fails the page, which falls back to its feed summary."""
        future, place = self._futures[index]
        try:
            return future.result()[place]
        except Exception as error:  # noqa: BLE001 - BrokenProcessPool, above all: contained to the page
            return ReadFailure(failure_of("extract", page.final_url or page.url, error).describe())

    def _send(self) -> None:
        assert self._pool is not None
        waiting, self._waiting = self._waiting, []
        try:
            future = self._pool.submit(read_all, [self._arguments(i, page) for i, page in waiting])
        except BrokenExecutor:  # a page killed a process: these are read here, later batches get a new pool
            _POOL.discard(self._pool)
            future = _run_here(read_all, [self._arguments(i, page) for i, page in waiting])
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
