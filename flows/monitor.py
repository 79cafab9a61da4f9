"""The monitor flow: one cycle of the pipeline, each line one stage.

Every stage restarts from the store, so a cycle that dies is finished by the next one. The tasks
(flows/tasks.py) choose the grain and the retries; how the stages overlap, and the processes they
share, is the cycle's work (flows/cycle.py), created per cycle and shut at its end; the pages'
stage is flows/pages.py. The flow reads the clock (`utcnow`) here only and hands `now` on.

Containment (newswatch.contain): each stage returns one outcome per item (source, page, article,
delivery), and whatever one item's work raises is that item's failure, never its batch's or the
cycle's. What escapes a whole batch anyway (a fetch task that fails, a page batch, a triage
process that dies) is logged with its traceback and counted, and the batch's items wait in the
store for the next cycle; the later stages run for everything else, and delivery always runs.
Unexpected failures stay loud: `unexpected=` and `quarantined=` in the cycle's summary line
(flows/summary.py) and in `newswatch stats`, per source in `newswatch sources`, per article in
`newswatch errors`.
"""

from __future__ import annotations

import time

from prefect import flow
from prefect.utilities.annotations import quote

from flows import progress
from flows.cycle import CycleWork, Ingesting
from flows.pages import shard_source_ids
from flows.shards import in_shard
from flows.summary import CycleSummary, report
from flows.tasks import deliver_alerts, extract_articles, fetch_sources, forget_keys, review_health, triage_articles
from newswatch import config as configuration
from newswatch.config import DEFAULTS
from newswatch.contain import contain
from newswatch.ingest import plan
from newswatch.matching import watch_index
from newswatch.notices import report_quarantined
from newswatch.store import upgrade
from newswatch.store.tables import utcnow

__all__ = ["monitor"]


@flow(name="monitor", log_prints=True)
def monitor(config_path: str = "config", shard: int = 0, shards: int = 1) -> dict:
    """One cycle: fetch due sources, extract new articles, triage them, deliver alerts."""
    started, now = time.monotonic(), utcnow()
    config = configuration.load(config_path)  # reloaded each cycle: edits need no restart
    upgrade(config.database)
    due = in_shard(plan(config, now), shard, shards)  # prefect.yaml: deployment k of n
    progress.advance("feeds", 0, total=len(due))
    forgetting = forget_keys.submit(quote(config), now)
    index = watch_index(config.watchlists, config.aliases)
    with CycleWork(config, index, clock=utcnow) as work:
        size = DEFAULTS["feed_batch_size"]
        polled = [(batch, fetch_sources.submit(quote(config), quote(batch), quote(work)))
                  for batch in (due[i:i + size] for i in range(0, len(due), size))]
        ingesting = Ingesting(config, polled, now)  # stored as they come, while their pages are read
        pages = extract_articles(quote(config), quote(work), quote(ingesting), shard_source_ids(config, shard, shards))
        ingested = ingesting.finish()
        health = review_health(quote(config), utcnow())
        triaged = work.settled()
    forgotten = forgetting.result()
    triaged.add(triage_articles(quote(config), quote(index), now, utcnow()))
    told = contain("health", "the quarantine notice", report_quarantined, config, utcnow())
    outcomes = deliver_alerts(quote(config), utcnow())
    summary = CycleSummary.of(ingested, pages, triaged, outcomes, stages=(health, forgotten, told),
                              seconds=time.monotonic() - started)
    report(config, summary, ingested.errors, outcomes, now, utcnow())
    return summary.counts()
