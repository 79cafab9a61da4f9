"""The page pipeline (flows/pages.py): small batches two at a time through the readers give what
one batch does; a page that breaks its reader, or kills its process, fails that page alone (and at
most the pages read beside it), never the batch: it falls back to its feed summary, and later
pages are read all the same; the pages of other shards' sources are left to them.

The cycles: seeds/ replayed over HTTP, real Prefect runs; batches of 3 pages and readers from 2
pages, so the cycle runs many batches, two in flight, through the readers (bench/README.md,
"## Fetching at scale", measures the speed; here only the outcome is checked).
"""

from __future__ import annotations

import os
import textwrap
import time
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

import flows.cycle
import newswatch.reading
from cli.replay import ReplayServer
from flows.cycle import CycleWork, Ingesting
from flows.monitor import monitor
from flows.pages import PageJob, _Extraction, _pending_pages
from newswatch.config import DEFAULTS
from newswatch.config.schema import Config
from newswatch.matching import watch_index
from newswatch.models import FeedEntry, Fetched, Page, SourceRequest
from newswatch.reading import ReadFailure, Reading
from newswatch.store import session, sources
from newswatch.store.tables import Article
from tests.conftest import SEEDS
from tests.support.seeds import seed_sources

BODY = ("<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        + "".join(f"<p>The ferry service number {n} between the islands resumed on Monday after the storm "
                  f"had kept {n * 7} boats in port for a week, officials of the harbour said.</p>" for n in range(8))
        + "</article></body></html>")


def write_config(folder: Path, base: str) -> Path:
    path = folder / "newswatch.yaml"
    path.write_text(textwrap.dedent(f"""\
        database: sqlite:///{folder}/store.db
        fetch: {{timeout: 5s, allow_private_networks: true}}
        sources:
        """) + seed_sources(base) + "\n", encoding="utf-8")
    return path


def texts(folder: Path) -> dict[str, tuple]:
    with session(f"sqlite:///{folder}/store.db") as current:
        return {a.url: (a.stage, a.text, a.from_summary, a.fingerprint, a.content_hash)
                for a in current.exec(select(Article))}


@pytest.mark.prefect
def test_small_batches_two_in_flight_through_the_readers_extract_every_page_once(
        prefect_server, tmp_path, monkeypatch):
    with ReplayServer(SEEDS) as server:
        (tmp_path / "one").mkdir()
        whole = monitor(str(write_config(tmp_path / "one", server.base_url)))
        monkeypatch.setitem(DEFAULTS, "page_batch_size", 3)
        monkeypatch.setattr(flows.cycle, "POOL_THRESHOLD", 2)
        (tmp_path / "many").mkdir()
        batched = monitor(str(write_config(tmp_path / "many", server.base_url)))

    assert batched["extracted"] == batched["new_articles"] == whole["extracted"] > 6
    assert texts(tmp_path / "many") == texts(tmp_path / "one")
    assert all(stage == "done" and fingerprint for stage, *_, fingerprint, _ in texts(tmp_path / "many").values())


@pytest.mark.prefect
def test_the_page_supplies_what_the_feed_lacks_and_the_feed_what_it_gives(prefect_server, tmp_path):
    # seeds: wire.xml names no authors, so its pages are searched for one; duvar.xml names all,
    # so its pages' metadata is never looked for and the feed's author stays
    with ReplayServer(SEEDS) as server:
        monitor(str(write_config(tmp_path, server.base_url)))
    with session(f"sqlite:///{tmp_path}/store.db") as current:
        rows = [(a.url, a.author, a.title, a.published_at) for a in current.exec(select(Article))]
    wire = [author for url, author, _, _ in rows if "/pages/wire/" in url and "/ar/" not in url]
    duvar = [author for url, author, _, _ in rows if "/pages/duvar/" in url]
    assert wire and all(wire)
    assert duvar and all(duvar)
    assert all(title and published for _, _, title, published in rows)


@pytest.mark.prefect
def test_a_page_that_breaks_the_reader_falls_back_to_its_summary_and_the_cycle_goes_on(
        prefect_server, tmp_path, monkeypatch):
    real = newswatch.reading.extract

    def breaks_on_one(body, url, metadata=True):
        if "lavrov-idlib-talks" in url:
            raise RuntimeError("a reader bug on this page")
        return real(body, url, metadata)

    monkeypatch.setattr(flows.cycle, "POOL_THRESHOLD", 10**6)  # read here, where the patch is
    monkeypatch.setattr(newswatch.reading, "extract", breaks_on_one)
    with ReplayServer(SEEDS) as server:
        counts = monitor(str(write_config(tmp_path, server.base_url)))
    with session(f"sqlite:///{tmp_path}/store.db") as current:
        rows = {a.url: a for a in current.exec(select(Article))}
    broken = [a for url, a in rows.items() if "lavrov-idlib-talks" in url]
    assert counts["extracted"] == counts["new_articles"] == len(rows) > 1
    assert broken and all(a.stage == "done" and a.from_summary for a in broken)
    assert all(a.page_error == "extract: unexpected RuntimeError (a reader bug on this page)"
               for a in broken)
    assert all(not a.from_summary for url, a in rows.items() if "lavrov-idlib-talks" not in url and "/pages/" in url)


class KillingIndex:
    """A watch index that kills the reading process on a page titled "kill" (as a crash in a
    parser would), and matches nothing else."""

    def match(self, document):
        if document.title == "kill":
            os._exit(1)
        return []


def one_forked_reader(workers: int, initializer, initargs: tuple) -> ProcessPoolExecutor:
    """The cycle's processes, one of them, forked from this one."""
    return ProcessPoolExecutor(max_workers=1, initializer=initializer, initargs=initargs)


def read(work: CycleWork, titles: list[str]) -> list:
    jobs = [PageJob(i, f"http://127.0.0.1/{i}", title, "en", False, "s") for i, title in enumerate(titles)]
    fetched = [Page(job.url, status=200, content_type="text/html", body=BODY.format(title=job.title).encode())
               for job in jobs]
    extraction = _Extraction(work, work.readers(len(jobs)), jobs)
    for index, page in enumerate(fetched):
        extraction.submit(index, page)
    return extraction.results(fetched)


def test_a_page_that_kills_its_reader_fails_alone_and_later_pages_are_read(tmp_path):
    config = Config.model_validate({"database": f"sqlite:///{tmp_path}/store.db"})
    with CycleWork(config, KillingIndex(), processes=one_forked_reader) as work:
        first = read(work, ["kill", "a", "b", "c", "d", "e", "f", "g"])
        assert isinstance(first[0], ReadFailure) and "BrokenProcessPool" in first[0].error
        assert first[0].error.startswith("extract: unexpected BrokenProcessPool")
        assert len(first) == 8 and all(isinstance(r, (Reading, ReadFailure)) for r in first)
        # the readers are broken now: the next batch's pages are read all the same
        later = read(work, ["h", "i", "j", "k", "l", "m", "n", "o"])
        assert all(isinstance(r, Reading) for r in later)


class CannotStart(ThreadPoolExecutor):
    """A reading pool that breaks before its processes run (a fork server that died), half a
    second into its start: the batch's pages are sent meanwhile."""

    def submit(self, fn, /, *args, **kwargs):
        if not getattr(self, "tried", False):
            self.tried = True
            time.sleep(0.5)
        raise BrokenExecutor("the fork server is gone")


def test_pages_sent_while_the_readers_start_are_read_here_if_the_readers_never_run(tmp_path):
    config = Config.model_validate({"database": f"sqlite:///{tmp_path}/store.db"})
    with CycleWork(config, watch_index([]), processes=lambda *_: CannotStart(1)) as work:
        readings = read(work, ["a", "b", "c", "d", "e", "f", "g", "h"])
    assert len(readings) == 8 and all(isinstance(r, Reading) for r in readings)


def test_the_pages_of_other_shards_sources_are_left_to_them(synced_config):
    config = synced_config(2)
    with session(config.database) as current:
        mine = frozenset({sources.ids_by_name(current)["s1"]})
    polled: Future = Future()
    polled.set_result([Fetched(name, [FeedEntry(name, f"https://{name}.example/{i}", None, f"Item {i}", "")
                                      for i in range(count)]) for name, count in (("s0", 4), ("s1", 2))])
    requests = [SourceRequest(name, f"https://{name}.example/rss") for name in ("s0", "s1")]
    ingesting = Ingesting(config, [(requests, polled)], datetime(2020, 2, 24, 12, tzinfo=UTC))
    assert [{job.source for job in batch} for batch in _pending_pages(config, ingesting, mine)] == [{"s1"}]
