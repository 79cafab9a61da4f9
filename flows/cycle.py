"""The cycle's concurrency: how feeds, pages, extraction and triage overlap.

What overlaps with what:

- the fetch tasks (flows/tasks.py, one per batch of sources) run at once; `Ingesting` stores
  their results in a thread of its own, batch after batch in submission order, as they finish;
- the page pipeline (flows/pages.py) reads the pages of the stored articles meanwhile, two page
  batches at a time, each handing its pages to the reading processes a few at a time as they
  download, and each batch's texts to the triage process without waiting for it;
- `CycleWork` owns the processes: one reader a core (changed feeds are parsed there too) and one
  triage process, which settles page batches one at a time (settling stories is serial: it holds
  the story lock) instead of competing for this process's GIL with the downloads.

The interface, created per run by the flow (`with CycleWork(...) as work:`) and passed to the
tasks that need it: `for_feed` (the pool to parse a changed feed in), `readers` (the pool for a
page batch), `read` (a few pages' readings, as a future), `settle` (a batch's texts to triage)
and `settled` (what triage made of them, once all are done). Leaving the block shuts the processes.

Rules. The processes start lazily: none for an unchanged cycle; the first changed feed starts the
fork server (`flows.processes.warm`), and the pools start with the first page batch of at least
`POOL_THRESHOLD` pages or that many changed feeds; the triage process with the readers (until
then a batch settles in the thread that read it). Workers are forked from the fork server
(flows/processes.py): forking this process, which runs Prefect's threads, is unsafe; once per
cycle, because a pool per batch of pages cost ~20 s of CPU at 4,000 articles, half the stage
(bench/README.md, "## Fetching at scale"). What the workers run and keep is in flows/workers.py.
Backlog: at most `_SETTLE_BACKLOG` batches wait for triage; beyond, the batch that would add one
waits (the texts in triage's queue are memory).

Containment: a process that dies is its work's failure, never the cycle's. A reader that dies
fails the pages it was reading (flows/pages.py gives them their feed summary), and later pages
get a new pool; a triage process that dies fails its batch, read again next cycle (`settled`
counts it), and the next batch gets a new one; a fetch task that raised fails its sources
(`Ingesting`); storing a batch that raises fails that batch's sources.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Sequence
from concurrent import futures
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING

from flows import progress
from flows.processes import POOL_THRESHOLD, WORKERS, StartedAside, warm
from flows.workers import read_pages, settle_pages, start_reader, start_triage
from newswatch.config import Config
from newswatch.contain import ItemFailure, contain, failure_of
from newswatch.ingest import IngestCounts, ingest
from newswatch.matching import WatchIndex
from newswatch.models import Failed, FetchResult, PageText, SourceRequest
from newswatch.reading import ReadFailure, Reading, read_all
from newswatch.store.tables import utcnow
from newswatch.triage import TriageCounts, settle

if TYPE_CHECKING:
    from prefect.futures import PrefectFuture

__all__ = ["CycleWork", "Ingesting"]

# Page batches handed to triage and not settled yet, at most: beyond, the downloads wait.
_SETTLE_BACKLOG = 4

# (workers, initializer, its arguments) → an executor of that many worker processes
Processes = Callable[[int, Callable, tuple], Executor]


def _forked(workers: int, initializer: Callable, initargs: tuple) -> ProcessPoolExecutor:
    """`workers` processes forked from the fork server, each set up once by `initializer`."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=WORKERS, initializer=initializer, initargs=initargs)


class CycleWork:
    """The cycle's worker processes, started as the cycle needs them, shut at its end (see the
    module's docstring). `clock` is the cycle's (the flow's `utcnow`); `processes` starts a pool."""

    def __init__(self, config: Config, index: WatchIndex, clock: Callable[[], datetime] = utcnow,
                 processes: Processes = _forked) -> None:
        self._config, self._index, self._clock, self._processes = config, index, clock, processes
        self._readers: Executor | None = None
        self._triage: Executor | None = None
        self._settling: list[Future] = []
        self._feeds = 0
        self._lock = threading.Lock()  # the fetch tasks and the two page-batch threads run at once

    def __enter__(self) -> CycleWork:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for executor in (self._readers, self._triage):
            if executor is not None:
                # the processes exit while the cycle sweeps and delivers (~0.9 s for three at
                # 4,000 articles): their work is collected by now, or cancelled
                executor.shutdown(wait=False, cancel_futures=True)
        self._readers = self._triage = None
        self._settling.clear()

    def for_feed(self) -> Executor | None:
        """The pool to parse a changed feed in: none for the first few of the cycle.

        The first changed feed starts the fork server, whose imports (~1.2 s of CPU) then run
        while the other feeds download; a cycle whose feeds are all unchanged starts no process
        at all (`newswatch run --once` starts it earlier only for a first cycle)."""
        with self._lock:
            self._feeds += 1
            feeds = self._feeds
        if feeds == 1:
            warm()
        return self.readers(feeds)

    def readers(self, pages: int) -> Executor | None:
        """The reading pool, started now if `pages` are enough for one; None: read here."""
        with self._lock:
            if self._readers is None and pages >= POOL_THRESHOLD:
                # the readers match pages too: settling stories is the one serial stage
                workers = multiprocessing.cpu_count()
                self._readers = StartedAside(self._processes(workers, start_reader, (self._index,)), workers)
            return self._readers

    def read(self, pool: Executor, pages: list[tuple]) -> Future:
        """The readings of a few pages (`newswatch.reading.read` arguments each) in `pool`.

        If a page killed one of its processes, these are read here, and the next batch that needs
        a pool starts another."""
        try:
            return pool.submit(read_pages, pages)
        except BrokenExecutor:
            self._discard(pool)
            return _run_here(self.read_here, pages)

    def read_here(self, pages: list[tuple]) -> list[Reading | ReadFailure | None]:
        """The readings of a few pages read in this process (no pool yet, or a broken one),
        matched against the cycle's index as the readers match theirs: what the reading derived,
        triage does not derive again."""
        return read_all(pages, self._index)

    def settle(self, texts: list[PageText]) -> None:
        """`triage.settle` of a batch's texts in the triage process without waiting, once the
        cycle has readers (see `settled`); here otherwise."""
        now, article_ids = self._clock(), [text.article_id for text in texts]
        with self._lock:
            if self._triage is None and self._readers is not None:
                self._triage = StartedAside(self._processes(1, start_triage, (self._config, self._index)))
            triage_process = self._triage
        if triage_process is None:
            self._settling.append(_run_here(settle, self._config, self._index, article_ids, now, texts))
        else:
            try:
                self._settling.append(triage_process.submit(settle_pages, article_ids, now, texts))
            except BrokenExecutor:  # the triage process died (its batch is read again next cycle): a new one
                with self._lock:
                    if self._triage is triage_process:
                        self._triage = None
                triage_process.shutdown(wait=False, cancel_futures=True)
                self.settle(texts)
                return
        self._settling[-1].add_done_callback(_count_matches)
        waiting = [future for future in self._settling if not future.done()]
        if len(waiting) > _SETTLE_BACKLOG:
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

    def _discard(self, executor: Executor) -> None:
        """Forget a broken pool: the next batch that needs one starts another."""
        with self._lock:
            if self._readers is executor:
                self._readers = None
        executor.shutdown(wait=False, cancel_futures=True)


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


class Ingesting:
    """The feed batches' results, stored batch by batch in a thread of its own as the fetch tasks
    finish, so that the first pages are read while later feeds still download: the feed stage
    ran alone on one core (2.5 s at 200 feeds, 5 s at 1,000). One thread, in submission order,
    so article ids grow in the order their rows commit (flows/pages.py pages by id).

    A fetch task that raised (after its retries) is its sources' failure, kind "unexpected": their
    health records it, and the other batches go on."""

    def __init__(self, config: Config, polled: Sequence[tuple[list[SourceRequest], PrefectFuture | Future]],
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


def _stored(config: Config, batch: list[SourceRequest], polled: PrefectFuture | Future,
            now: datetime) -> IngestCounts:
    """`ingest` of a fetch task's results; if storing the batch raises, the batch's sources count
    as failed (their validators were not stored: they are fetched again) and the others go on."""
    counts = contain("ingest", f"a batch of {len(batch)} sources", ingest, config, _results(batch, polled), now)
    if isinstance(counts, ItemFailure):
        return IngestCounts(polled=len(batch), failed=len(batch), unexpected=1,
                            errors=[f"{request.name}: {counts.describe()}" for request in batch])
    return counts


def _results(batch: list[SourceRequest], polled: PrefectFuture | Future) -> list[FetchResult]:
    """The fetch task's results, or, if it raised, each of its sources' failure."""
    try:
        return polled.result()
    except Exception as error:  # noqa: BLE001 - contained: the batch's sources fail, visibly
        failure = failure_of("fetch", f"a batch of {len(batch)} sources", error)
        return [Failed(request.name, "unexpected", failure.describe()) for request in batch]
