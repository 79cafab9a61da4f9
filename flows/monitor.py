"""The monitor flow: one cycle of the pipeline, each line one stage.

Task grain: one task run per batch of sources and per batch of article pages, one for triage and
one for delivery — a few dozen task runs a cycle, never one per article (a task run costs the
Prefect server ~40 ms of CPU). Retries only on the network tasks. Every stage restarts from the
store, so a cycle that dies is finished by the next one.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from alerts.deliver import deliver
from alerts.health import report_health
from connectors import fetch_feeds_sync, fetch_pages_sync
from flows import progress
from flows.shards import in_shard
from newswatch import config as configuration
from newswatch.config import DEFAULTS, Config
from newswatch.extract import extract
from newswatch.ingest import ingest, plan
from newswatch.models import Failed, SourceRequest
from newswatch.store import articles, cycles, session, upgrade
from newswatch.store.articles import PageText
from newswatch.store.tables import utcnow
from newswatch.triage import triage

__all__ = ["CycleSummary", "monitor"]

# Below this many pages a process pool costs more to start than it saves.
_POOL_THRESHOLD = 8


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
    results = fetch_feeds_sync(config.fetch, batch)
    progress.advance("feeds", len(results))
    progress.advance("failed", sum(isinstance(r, Failed) for r in results))
    return results


@task(retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def extract_articles(config: Config, batch: list[tuple[int, str]]) -> int:
    """Fetch and extract one batch of article pages, then store the text."""
    pages = fetch_pages_sync(config.fetch, [url for _, url in batch])
    extracted = _extract_all([(p.body, p.final_url or p.url) if p.body else None for p in pages])
    results = [PageText(article_id, found, page.error)
               for (article_id, _), page, found in zip(batch, pages, extracted, strict=True)]
    with session(config.database) as current:
        articles.attach_text(current, results)
    progress.advance("articles", len(results))
    return len(results)


@task(cache_policy=NO_CACHE)
def review_health(config: Config):
    return report_health(config, utcnow())


@task(cache_policy=NO_CACHE)
def triage_articles(config: Config):
    return triage(config, utcnow())


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
    results = [r for future in [fetch_sources.submit(config, b) for b in batches] for r in future.result()]
    ingested = ingest(config, results, now)
    review_health(config)
    extracted = sum(extract_articles(config, batch) for batch in _pending_pages(config))
    triaged = triage_articles(config)
    progress.advance("matches", triaged.matches)
    outcomes = deliver_alerts(config)
    summary = CycleSummary(
        sources=ingested.polled, not_modified=ingested.not_modified, failed=ingested.failed,
        new_articles=ingested.new_articles, extracted=extracted, matches=triaged.matches,
        sent=sum(o.sent for o in outcomes), delivery_failures=sum(o.failed + o.dead for o in outcomes),
        seconds=round(time.monotonic() - started, 2),
    )
    _report(config, summary, ingested.errors, outcomes, now)
    return asdict(summary)


def _pending_pages(config: Config):
    """Batches of (article id, url) still waiting for their page, until none are left."""
    while True:
        with session(config.database) as current:
            batch = [(a.id, a.url) for a in articles.pending(current, "fetched", DEFAULTS["page_batch_size"])]
        if not batch:
            return
        yield batch


def _extract_all(pages: list[tuple[bytes, str] | None]) -> list:
    work = [p for p in pages if p is not None]
    if len(work) < _POOL_THRESHOLD:
        found = [extract(body, url) for body, url in work]
    else:
        # CPU-bound: a process pool sized to the cores, not the event loop; spawn, because
        # forking a process that runs Prefect's threads is unsafe
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=multiprocessing.cpu_count(), mp_context=context) as pool:
            found = list(pool.map(extract, *zip(*work), chunksize=4))
    results = iter(found)
    return [next(results) if p is not None else None for p in pages]


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
