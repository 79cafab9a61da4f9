"""Ingest fetch results: record each source's health, keep only the entries not seen before.

Rules: an entry older than its source's `max_age` (off by default) is skipped, so a source seen
for the first time alerts on everything its feed holds now, whatever the dates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from newswatch.config import Config
from newswatch.models import Failed, Fetched, FetchResult, NotModified
from newswatch.store import articles, session, sources

__all__ = ["IngestCounts", "ingest", "plan"]


@dataclass
class IngestCounts:
    polled: int = 0
    not_modified: int = 0
    failed: int = 0
    new_articles: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: IngestCounts) -> None:
        self.polled += other.polled
        self.not_modified += other.not_modified
        self.failed += other.failed
        self.new_articles += other.new_articles
        self.errors += other.errors


def plan(config: Config, now: datetime):
    """Sync the configured sources into the store and return the ones due now."""
    with session(config.database) as current:
        sources.sync(current, config.sources)
        enabled = [s.name for s in config.sources if s.enabled]
        return sources.due(current, now, enabled)


def ingest(config: Config, results: list[FetchResult], now: datetime) -> IngestCounts:
    counts = IngestCounts(polled=len(results))
    with session(config.database) as current:
        sources.record(current, results, now)
        ids = sources.ids_by_name(current, [r.source for r in results if isinstance(r, Fetched)])
    for result in results:
        if isinstance(result, NotModified):
            counts.not_modified += 1
        elif isinstance(result, Failed):
            counts.failed += 1
            counts.errors.append(f"{result.source}: {result.message}")
        elif isinstance(result, Fetched):
            # one transaction per source: shards meeting the same articles never wait on each other long
            entries = _recent(config, result, now)
            kept = [entry for entry in entries if articles.fits(entry)]
            if len(kept) < len(entries):
                counts.errors.append(f"{result.source}: {len(entries) - len(kept)} of its entries left out: a link "
                                     f"longer than the {articles.URL_LENGTH:,} characters the store keeps")
            with session(config.database) as current:
                counts.new_articles += len(articles.add_new(current, ids[result.source], kept, now))
    return counts


def _recent(config: Config, result: Fetched, now: datetime):
    max_age = config.source(result.source).max_age
    if max_age is None:
        return result.entries
    return [e for e in result.entries if e.published is None or e.published >= now - max_age]
