"""The monitor's extraction stage: batches two at a time on one process pool give what one batch does.

seeds/ replayed over HTTP, real Prefect runs; batches of 3 pages and a pool from 2 pages, so the
cycle runs many batches, two in flight, through the spawned pool (bench/README.md, "## Fetching
at scale", measures the speed; here only the outcome is checked).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from sqlmodel import select

import flows.monitor
import newswatch.reading
from flows.monitor import monitor
from newswatch.config import DEFAULTS
from newswatch.replay import ReplayServer
from newswatch.store import session
from newswatch.store.tables import Article
from tests.conftest import SEEDS
from tests.support.seeds import seed_sources

pytestmark = pytest.mark.prefect


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


def test_small_batches_two_in_flight_through_the_pool_extract_every_page_once(
        prefect_server, tmp_path, monkeypatch):
    with ReplayServer(SEEDS) as server:
        (tmp_path / "one").mkdir()
        whole = monitor(str(write_config(tmp_path / "one", server.base_url)))
        monkeypatch.setitem(DEFAULTS, "page_batch_size", 3)
        monkeypatch.setattr(flows.monitor, "POOL_THRESHOLD", 2)
        (tmp_path / "many").mkdir()
        batched = monitor(str(write_config(tmp_path / "many", server.base_url)))

    assert batched["extracted"] == batched["new_articles"] == whole["extracted"] > 6
    assert texts(tmp_path / "many") == texts(tmp_path / "one")
    assert all(stage == "done" and fingerprint for stage, *_, fingerprint, _ in texts(tmp_path / "many").values())


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


def test_a_page_that_breaks_the_reader_falls_back_to_its_summary_and_the_cycle_goes_on(
        prefect_server, tmp_path, monkeypatch):
    real = newswatch.reading.extract

    def breaks_on_one(body, url, metadata=True):
        if "lavrov-idlib-talks" in url:
            raise RuntimeError("a reader bug on this page")
        return real(body, url, metadata)

    monkeypatch.setattr(flows.monitor, "POOL_THRESHOLD", 10**6)  # read here, where the patch is
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
