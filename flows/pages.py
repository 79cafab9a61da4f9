"""The page pipeline: the pages of the stored articles fetched, read and handed to triage, batch
after batch as the feeds' entries are stored.

Rules. Two batches at a time, so that one downloads while the readers extract the other's last
pages (bench/README.md, "## Fetching at scale"). Within a batch, pages go to the reading
processes as they arrive, a few a submission (`_PAGES_A_SUBMISSION`): each costs this process
~0.1 ms of CPU (on the thread that downloads), where reading a page costs ~6 ms in a reader.
Each batch's texts go to triage as soon as the batch is read (`CycleWork.settle`), so that
triage overlaps the other batches' downloads and extraction instead of running alone at the end
of the cycle. Batches come in article id order: a full one as soon as there is one, the rest once
every feed is stored (flows/cycle.py, `Ingesting`).

Containment: a page whose fetch or reading raises, or whose reader dies, is that page's failure
(its article falls back to its feed summary); a batch that fails whole is counted, and its
articles wait in the store for the next cycle.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

from connectors import fetch_pages_sync
from flows import progress
from flows.cycle import CycleWork, Ingesting
from flows.processes import NotHandedOver
from flows.shards import in_shard
from newswatch.config import DEFAULTS, Config
from newswatch.contain import failure_of
from newswatch.derive import language_of, source_language
from newswatch.models import Page, PageText
from newswatch.reading import ReadFailure, Reading
from newswatch.store import articles, read_only, sources

__all__ = ["PageCounts", "PageJob", "read_pending", "shard_source_ids"]

# Pages read per submission to the readers (the last of a batch's may wait for its download's end).
_PAGES_A_SUBMISSION = 4


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


def read_pending(config: Config, work: CycleWork, ingesting: Ingesting,
                 source_ids: frozenset[int] | None) -> PageCounts:
    """Fetch and read the pending article pages of `source_ids` (None: all), two batches at a time."""
    running: deque[tuple[Future, list[PageJob]]] = deque()
    counts = PageCounts()
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="pages") as batches:
        try:
            for batch in _pending_pages(config, ingesting, source_ids):
                running.append((batches.submit(_read_pages, config, work, batch), batch))
                if len(running) == 2:
                    counts.add(_batch_counts(*running.popleft()))
        except Exception as error:  # noqa: BLE001 - contained: the pages not read wait for the next cycle
            failure_of("pages", "listing the pending pages", error)
            counts.unexpected += 1
        while running:
            counts.add(_batch_counts(*running.popleft()))
    return counts


def shard_source_ids(config: Config, shard: int, shards: int) -> frozenset[int] | None:
    """The ids of the sources shard `shard` of `shards` polls, whose pages it reads; None: one shard, all."""
    if shards == 1:
        return None
    with read_only(config.database) as current:
        ids = sources.ids_by_name(current)
    return frozenset(ids[s.name] for s in in_shard(config.sources, shard, shards) if s.name in ids)


def _batch_counts(future: Future, batch: list[PageJob]) -> PageCounts:
    """A page batch's counts; one that failed whole is an unexpected failure, its pages left for the next cycle."""
    try:
        return future.result()
    except Exception as error:  # noqa: BLE001 - contained: the batch's articles wait in the store
        failure_of("pages", f"a batch of {len(batch)} pages from article {batch[0].article_id}", error)
        return PageCounts(unexpected=1)


def _read_pages(config: Config, work: CycleWork, batch: list[PageJob]) -> PageCounts:
    """Fetch and read one batch of pages, then hand the texts to triage, which stores them."""
    extraction = _Extraction(work, work.readers(len(batch)), batch)
    pages = fetch_pages_sync(config.fetch, [job.url for job in batch], on_page=extraction.submit)
    readings = extraction.results(pages)
    results = [_page_text(job, page, reading) for job, page, reading in zip(batch, pages, readings, strict=True)]
    progress.advance("articles", len(results))
    work.settle(results)
    unexpected = sum(isinstance(r, ReadFailure) or p.unexpected for p, r in zip(pages, readings, strict=True))
    return PageCounts(len(batch), unexpected)


def _page_text(job: PageJob, page: Page, reading: Reading | ReadFailure | None) -> PageText:
    if isinstance(reading, Reading):
        return PageText(job.article_id, reading.extracted, page.error, reading.fingerprint, reading.content_hash,
                        reading.hits)
    return PageText(job.article_id, None, reading.error if isinstance(reading, ReadFailure) else page.error)


def _pending_pages(config: Config, ingesting: Ingesting, source_ids: frozenset[int] | None = None):
    """Batches of the articles waiting for their page (of `source_ids`, if given), in id order,
    read as they are needed: a full batch as soon as there is one, the rest once every feed is stored.

    Read-only sessions: on SQLite they do not wait for the triage process's writes."""
    size, after = DEFAULTS["page_batch_size"], 0
    while True:
        stored, complete = ingesting.progress()  # before the query: what it is sure to see
        with read_only(config.database) as current:
            waiting = articles.pending(current, "fetched", size, after=after, source_ids=source_ids)
            names = {number: name for name, number in sources.ids_by_name(current).items()}
        if len(waiting) < size and not complete:
            ingesting.wait_past(stored)
            continue
        if not waiting:
            return
        after = waiting[-1].id
        yield [PageJob(a.id, a.url, a.title, language_of(a.language, source_language(config, names[a.source_id])),
                       not (a.title and a.author and a.published_at), names[a.source_id]) for a in waiting]


class _Extraction:
    """One batch's readings: pages go to `pool` as they arrive, so that reading overlaps the
    download; without a pool, they are read here at the end."""

    def __init__(self, work: CycleWork, pool: Executor | None, batch: list[PageJob]) -> None:
        self._work, self._pool, self._batch = work, pool, batch
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
                else self._work.read_here([self._arguments(i, page)])[0] if page.body else None
                for i, page in enumerate(pages)]

    def _pooled(self, index: int, page: Page) -> Reading | ReadFailure | None:
        """The page's reading from the pool; a process that died reading it (or a page sent with
        it) fails the page, which falls back to its feed summary. A page the pool never took (it
        broke while starting) is read here, as a page sent to a broken pool is (CycleWork.read)."""
        future, place = self._futures[index]
        try:
            return future.result()[place]
        except NotHandedOver:
            return self._work.read_here([self._arguments(index, page)])[0]
        except Exception as error:  # noqa: BLE001 - BrokenProcessPool, above all: contained to the page
            return ReadFailure(failure_of("extract", page.final_url or page.url, error).describe())

    def _send(self) -> None:
        assert self._pool is not None
        waiting, self._waiting = self._waiting, []
        future = self._work.read(self._pool, [self._arguments(i, page) for i, page in waiting])
        for place, (i, _) in enumerate(waiting):
            self._futures[i] = (future, place)

    def _arguments(self, index: int, page: Page) -> tuple:
        job = self._batch[index]
        return page.body, page.final_url or page.url, job.title, job.language, job.metadata, job.source
