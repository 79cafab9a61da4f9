"""Ingest fetch results: record each source's health, keep only the entries not seen before.

What a poll changes in its source is newswatch.polling's decision (`record_polls`), which entries
are articles and under which address newswatch.entries' (`add_entries`); the store writes both.

Rules:
- a source's configured `type` (feed or sitemap) goes with its request (`plan`); what a poll read
  but could not use (a broken child sitemap: `Fetched.notes`) is one line of the counts' errors;
- an entry older than its source's `max_age` (off by default) is skipped, so a source seen for the
  first time alerts on everything its feed holds now, whatever the dates;
- what marks a feed as seen (its new ETag and Last-Modified, its next poll) is committed in the
  same transaction as the articles it covers, one transaction per source: if storing them fails,
  neither is kept and the next poll fetches the feed whole again;
- storing is contained (newswatch.contain): whatever one source's storing raises is that source's
  failure, recorded as a failed poll of kind "unexpected" (`Source.unexpected_errors` counts
  them) and counted as failed and unexpected, and the batch's other sources go on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlmodel import Session

from newswatch import entries, polling
from newswatch.config import Config
from newswatch.contain import ItemFailure, contain
from newswatch.derive import with_page
from newswatch.models import Failed, FeedEntry, Fetched, FetchResult, NotModified, PageText
from newswatch.store import articles, session, sources

__all__ = ["IngestCounts", "add_entries", "attach_text", "ingest", "plan", "record_polls"]


@dataclass
class IngestCounts:
    polled: int = 0
    not_modified: int = 0
    failed: int = 0
    new_articles: int = 0
    unexpected: int = 0  # failed sources whose fetch or storing raised (newswatch.contain)
    errors: list[str] = field(default_factory=list)

    def add(self, other: IngestCounts) -> None:
        self.polled += other.polled
        self.not_modified += other.not_modified
        self.failed += other.failed
        self.new_articles += other.new_articles
        self.unexpected += other.unexpected
        self.errors += other.errors


def plan(config: Config, now: datetime):
    """Sync the configured sources into the store and return the ones due now."""
    with session(config.database) as current:
        sources.sync(current, config.sources)
        enabled = [s.name for s in config.sources if s.enabled]
        return [replace(request, kind=config.source(request.name).type)
                for request in sources.due(current, now, enabled)]


def ingest(config: Config, results: list[FetchResult], now: datetime) -> IngestCounts:
    counts = IngestCounts(polled=len(results))
    with session(config.database) as current:
        record_polls(current, [r for r in results if not isinstance(r, Fetched)], now)
        ids = sources.ids_by_name(current, [r.source for r in results if isinstance(r, Fetched)])
    for result in results:
        if isinstance(result, NotModified):
            counts.not_modified += 1
        elif isinstance(result, Failed):
            counts.failed += 1
            counts.unexpected += result.kind == "unexpected"
            counts.errors.append(f"{result.source}: {result.message}")
        elif isinstance(result, Fetched):
            stored = contain("ingest", result.source, _store, config, ids[result.source], result, now)
            if isinstance(stored, ItemFailure):
                _fail(config, result.source, stored, now, counts)
                continue
            new, left_out = stored
            counts.new_articles += new
            counts.errors += [f"{result.source}: {note}" for note in result.notes]
            if left_out:
                counts.errors.append(f"{result.source}: {left_out} of its entries left out: a link longer than "
                                     f"the {articles.URL_LENGTH:,} characters the store keeps")
    return counts


def _store(config: Config, source_id: int, result: Fetched, now: datetime) -> tuple[int, int]:
    """Store the feed's new entries and its validators in one transaction: (new, left out).

    One transaction per source: shards meeting the same articles never wait on each other long."""
    recent = _recent(config, result, now)
    kept = [entry for entry in recent if entries.fits(entry, articles.URL_LENGTH)]
    with session(config.database) as current:
        new = add_entries(current, source_id, kept, now)
        # after the articles, in their transaction: the validators say "seen" only of what is stored
        record_polls(current, [result], now)
    return len(new), len(recent) - len(kept)


def add_entries(current: Session, source_id: int, found: Iterable[FeedEntry], now: datetime) -> list[int]:
    """Store the source's entries not seen before as articles; the new ones' ids."""
    return articles.add_new(current, source_id, entries.new_articles(source_id, found, articles.GUID_KEY_LENGTH), now)


def attach_text(current: Session, texts: Iterable[PageText]) -> None:
    """The pages' texts stored with their articles (newswatch.derive.with_page), which move on to
    `extracted`; an article no longer waiting for its text (stored by another worker) is left."""
    texts = list(texts)
    if not texts:
        return
    waiting = {article.id: article for article in articles.waiting_for_text(current, [t.article_id for t in texts])}
    for text in texts:
        if text.article_id in waiting:
            current.add(with_page(waiting[text.article_id], text))
    current.flush()


def record_polls(current: Session, results: Iterable[FetchResult], now: datetime) -> None:
    """Record what each poll said in its source's state (validators, next poll, health)."""
    results = list(results)
    states = sources.poll_states(current, [r.source for r in results])
    for result in results:  # in order: a source polled twice ends as the second poll left it
        states[result.source] = polling.after_poll(states[result.source], result, now)
    sources.record(current, states.values())


def _fail(config: Config, source: str, failure: ItemFailure, now: datetime, counts: IngestCounts) -> None:
    """Record the source's failed storing as a failed poll, without the validators it brought."""
    with session(config.database) as current:
        record_polls(current, [Failed(source, "unexpected", failure.describe())], now)
    counts.failed += 1
    counts.unexpected += 1
    counts.errors.append(f"{source}: {failure.describe()}")


def _recent(config: Config, result: Fetched, now: datetime):
    max_age = config.source(result.source).max_age
    if max_age is None:
        return result.entries
    return [e for e in result.entries if e.published is None or e.published >= now - max_age]
