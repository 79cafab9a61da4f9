"""The monitor flow's tasks: thin wrappers that choose the task grain, the retries and the containment
of a stage; the stages themselves are elsewhere.

Task grain: one task run per batch of sources, one for reading all the article pages, one for
the sweep of triage and one for delivery: a few task runs a cycle, never one per article (a task
run costs Prefect ~25 ms of CPU, most of it in the server). Retries only on the feed fetches: an
error elsewhere is not the network's (a failing item is a value). A stage run whole that raises
is the cycle's unexpected failure (an `ItemFailure`), not its end. `now` comes from the flow,
which reads the clock in one place.
"""

from __future__ import annotations

from datetime import datetime

from prefect import task
from prefect.cache_policies import NO_CACHE

import alerts
from connectors import fetch_feeds_sync
from flows import pages, progress
from flows.cycle import CycleWork, Ingesting
from newswatch import outbox
from newswatch.config import Config
from newswatch.contain import ItemFailure, contain
from newswatch.matching import WatchIndex
from newswatch.models import Failed, SourceRequest
from newswatch.notices import report_health
from newswatch.triage import TriageCounts, forget_old_keys, triage

__all__ = ["deliver_alerts", "extract_articles", "fetch_sources", "forget_keys", "review_health", "triage_articles"]


@task(retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def fetch_sources(config: Config, batch: list[SourceRequest], work: CycleWork):
    """Poll one batch of sources; a failing source is a result, not an exception."""
    results = fetch_feeds_sync(config.fetch, batch, parse_in=work.for_feed)
    progress.advance("feeds", len(results))
    progress.advance("failed", sum(isinstance(r, Failed) for r in results))
    return results


@task(cache_policy=NO_CACHE)
def extract_articles(config: Config, work: CycleWork, ingesting: Ingesting,
                     source_ids: frozenset[int] | None) -> pages.PageCounts:
    """Fetch and read the pending article pages of `source_ids` (None: all), batch after batch as
    the feeds' entries are stored (flows/pages.py).

    One task run for the stage, not one per batch (40 batches at 4,000 pages: ~1 s). No retries:
    the pages a failed batch left are read next cycle."""
    return pages.read_pending(config, work, ingesting, source_ids)


@task(cache_policy=NO_CACHE)
def review_health(config: Config, now: datetime):
    """Source health alerts; a failure here is the cycle's unexpected failure, not its end."""
    return contain("health", "the sources' health review", report_health, config, now)


@task(cache_policy=NO_CACHE)
def forget_keys(config: Config, now: datetime):
    """Old fuzzy keys go, while the cycle polls its feeds (a first cycle on old feeds stores
    ~35 keys an article that the next one drops: ~0.5 s at 4,000 articles, off its critical path)."""
    return contain("stories", "forgetting old story keys", forget_old_keys, config, now)


@task(cache_policy=NO_CACHE)
def triage_articles(config: Config, index: WatchIndex, cycle_start: datetime, now: datetime) -> TriageCounts:
    """Whatever is still `extracted` (feed summaries, a batch lost in a crash); an article that
    failed this cycle waits for the next."""
    swept = contain("triage", "the sweep of extracted articles", triage, config, now, index=index,
                    cycle_start=cycle_start)
    swept = TriageCounts(failed=1) if isinstance(swept, ItemFailure) else swept
    progress.advance("matches", swept.matches)
    return swept


@task(cache_policy=NO_CACHE)
def deliver_alerts(config: Config, now: datetime):
    return outbox.drain(config.database, config.channels, now, alerts, config.templates)
