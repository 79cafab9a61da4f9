"""A page whose reading kills its process fails that page (and at most the pages read beside it),
never the batch: they fall back to their feed summaries, and later pages are read all the same."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

from flows.monitor import PageJob, _Extraction
from newswatch.models import Page
from newswatch.reading import ReadFailure, Reading, in_process

BODY = ("<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        + "".join(f"<p>The ferry service number {n} between the islands resumed on Monday after the storm "
                  f"had kept {n * 7} boats in port for a week, officials of the harbour said.</p>" for n in range(8))
        + "</article></body></html>")


class KillingIndex:
    """A watch index that kills the reading process on a page titled "kill" (as a crash in a
    parser would), and matches nothing else."""

    def match(self, document):
        if document.title == "kill":
            os._exit(1)
        return []


def pages(titles: list[str]) -> tuple[list[PageJob], list[Page]]:
    jobs = [PageJob(i, f"http://127.0.0.1/{i}", title, "en", False, "s") for i, title in enumerate(titles)]
    return jobs, [Page(job.url, status=200, content_type="text/html", body=BODY.format(title=job.title).encode())
                  for job in jobs]


def read(pool: ProcessPoolExecutor, titles: list[str]) -> list:
    jobs, fetched = pages(titles)
    extraction = _Extraction(pool, jobs)
    for index, page in enumerate(fetched):
        extraction.submit(index, page)
    return extraction.results(fetched)


def test_a_page_that_kills_its_reader_fails_alone_and_later_pages_are_read():
    pool = ProcessPoolExecutor(max_workers=1, initializer=in_process, initargs=(KillingIndex(),))
    try:
        first = read(pool, ["kill", "a", "b", "c", "d", "e"])
        assert isinstance(first[0], ReadFailure) and "BrokenProcessPool" in first[0].error
        assert first[0].error.startswith("extract: unexpected BrokenProcessPool")
        assert len(first) == 6 and all(isinstance(r, (Reading, ReadFailure)) for r in first)
        # the pool is broken now: the next batch's pages are read all the same
        later = read(pool, ["f", "g", "h", "i", "j"])
        assert all(isinstance(r, Reading) for r in later)
    finally:
        pool.shutdown(cancel_futures=True)


def test_a_dead_triage_process_is_replaced_for_the_next_batch(tmp_path):
    from datetime import UTC, datetime

    from flows.monitor import _CyclePool
    from newswatch.config.schema import Config
    from newswatch.store import db
    from newswatch.triage import build_index

    config = Config.model_validate({"database": f"sqlite:///{tmp_path}/store.db"})
    db.upgrade(config.database)
    cycle = _CyclePool().start(build_index(config))
    with cycle:
        cycle._executor = ProcessPoolExecutor(max_workers=1)  # the cycle has a reading pool, so triage has a process
        cycle.settle(config, [], datetime.now(UTC))
        dead = cycle._triage
        dead.submit(os._exit, 1).exception()  # the triage process dies, as a crash in it would end it
        cycle.settled()
        cycle.settle(config, [], datetime.now(UTC))  # raised BrokenProcessPool out of the page batch
        assert cycle._triage is not dead
        assert cycle.settled().articles == 0
