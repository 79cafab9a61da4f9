"""The cycle's summary: its counts, its one log line and its row in the store.

The line (`sources=… not_modified=… failed=… … seconds=…`) and the counts are a contract:
`newswatch run --once` prints them, `newswatch stats` reads the rows, and the benchmarks parse the
line. `unexpected=` counts every contained failure of the cycle (newswatch.contain): items and
batches whose work raised, and stages that failed whole.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from prefect import get_run_logger

from flows.pages import PageCounts
from newswatch.config import Config
from newswatch.contain import ItemFailure
from newswatch.ingest import IngestCounts
from newswatch.store import cycles, session
from newswatch.store.tables import CycleCounts
from newswatch.triage import TriageCounts

__all__ = ["CycleSummary", "report"]

_LINE = ("sources", "not_modified", "failed", "new_articles", "extracted", "matches", "sent", "delivery_failures",
         "unexpected", "quarantined", "seconds")


class CycleSummary(CycleCounts):
    """The counts of the cycle's row, with what only its line says."""
    extracted: int = 0
    seconds: float = 0.0

    def counts(self) -> dict[str, float]:
        """The line's counts by its names (the flow's return value)."""
        values = self.model_dump()
        values["sources"] = values.pop("sources_polled")
        return {key: values[key] for key in _LINE}

    def line(self) -> str:
        return " ".join(f"{key}={value}" for key, value in self.counts().items())

    @classmethod
    def of(cls, ingested: IngestCounts, pages: PageCounts, triaged: TriageCounts, outcomes: Sequence, stages: Sequence,
           seconds: float) -> CycleSummary:
        """The summary of a cycle's stage counts; `stages`: the outcomes of the stages run whole,
        an `ItemFailure` for each that failed."""
        return cls(
            sources_polled=ingested.polled, not_modified=ingested.not_modified, failed=ingested.failed,
            new_articles=ingested.new_articles, extracted=pages.read, matches=triaged.matches,
            sent=sum(o.sent for o in outcomes), delivery_failures=sum(o.failed + o.dead for o in outcomes),
            unexpected=(ingested.unexpected + pages.unexpected + triaged.failed
                        + sum(isinstance(outcome, ItemFailure) for outcome in stages)
                        + sum(o.unexpected for o in outcomes)),
            quarantined=triaged.quarantined, seconds=round(seconds, 2),
        )


def report(config: Config, summary: CycleSummary, errors: list[str], outcomes: Sequence, started: datetime,
           finished: datetime) -> None:
    """Log the sources' and channels' errors and the summary line; store the cycle's row."""
    logger = _logger()
    for error in errors:
        logger.warning("source failed: %s", error)
    for outcome in outcomes:
        if outcome.error:
            logger.warning("channel %s: %s", outcome.channel, outcome.error)
    with session(config.database) as current:
        cycles.record(current, started, finished, summary)
    logger.info("cycle %s", summary.line())


def _logger():
    try:
        return get_run_logger()
    except Exception:  # outside a flow run (tests calling .fn)
        return logging.getLogger("newswatch.monitor")
