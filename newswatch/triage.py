"""Triage extracted articles: put each in a story, match it against every watchlist, and
enqueue one alert per new story × watchlist (the outbox) in the same transaction.

Rules: each article is settled in its own transaction, so a crash loses at most the article in
hand, which stays `extracted` and is triaged again. A later article of a known story alerts a
watchlist only if that story had not matched it yet. A watchlist's `max_age` (off by default)
skips articles published longer ago than that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from newswatch import cadence
from newswatch.config import Config, Watchlist
from newswatch.matching import WatchIndex, WatchSpec
from newswatch.models import Document
from newswatch.store import articles, db, deliveries, matches, session, stories
from newswatch.store.tables import Article, Source
from newswatch.stories import cluster, similarity, story_keys

__all__ = ["TriageCounts", "build_index", "settle_story", "triage"]


@dataclass
class TriageCounts:
    articles: int = 0
    new_stories: int = 0
    matches: int = 0


def build_index(config: Config) -> WatchIndex:
    specs = [WatchSpec(w.name, w.query, w.exclude, w.languages, w.sources) for w in config.watchlists]
    return WatchIndex(specs, config.aliases)


def triage(config: Config, now: datetime, batch: int = 200) -> TriageCounts:
    index, counts = build_index(config), TriageCounts()
    with session(config.database) as current:
        # fuzzy keys outlive the window twice over, for late-arriving copies; then they go
        stories.prune_keys(current, now - 2 * config.stories.window)
    while True:
        with session(config.database) as current:
            pending = articles.pending(current, "extracted", batch)
        if not pending:
            return counts
        # CPU work before the story lock is taken, so the lock is held only for the store lookups
        fingerprints = {a.id: similarity.fingerprint(a.title, a.text or "", a.language) for a in pending}
        for article_id, found in fingerprints.items():
            with session(config.database) as current:
                _settle(current, config, index, article_id, found, now, counts)


def _settle(current, config: Config, index: WatchIndex, article_id: int, found: similarity.Fingerprint,
            now: datetime, counts: TriageCounts) -> None:
    # skip_locked: on PostgreSQL a second worker passes over an article the first one holds
    article = current.get(Article, article_id, with_for_update={"skip_locked": True})
    if article is None or article.stage != "extracted":
        return
    db.redo_on_crash(current)  # lost in a crash, the article is still `extracted`: triaged again
    source = current.get(Source, article.source_id)
    story_id, is_new = settle_story(current, config, article, found, now)
    counts.articles += 1
    counts.new_stories += is_new
    document = Document(article.title, article.text or "", _language(config, article, source.name),
                        source.name)
    for name, hit in index.match(document):
        watchlist = config.watchlist(name)
        if watchlist.max_age and article.published_at and article.published_at < now - watchlist.max_age:
            continue
        match_id = matches.add(current, story_id, article.id, name, hit, now)
        if match_id is not None:
            _enqueue(current, watchlist, match_id, now)
            counts.matches += 1
    article.stage = "done"
    current.add(article)


def settle_story(current, config: Config, article: Article, found: similarity.Fingerprint,
                 now: datetime) -> tuple[int, bool]:
    """Exact keys first (same URL, same text); else the closest related recent article's story."""
    stories.lock(current)
    keys = story_keys(article.url, article.canonical_url, article.text)
    at = article.published_at or article.fetched_at
    related = stories.owner(current, keys)
    if related is None:
        window = config.stories.window
        candidates = [cluster.Candidate(story_id, similarity.Fingerprint.from_bytes(data),
                                        abs((at - moment).total_seconds()) / 3600)
                      for story_id, data, moment in stories.candidates(current, found.lookup_keys, at, window)]
        chosen = cluster.choose(found, candidates)
        related = chosen[0] if chosen else None
    article.fingerprint = found.to_bytes()
    stories.remember_keys(current, article.id, found.lookup_keys, at)
    if related is None:
        return stories.start(current, article, keys, now)
    stories.join(current, article, related, keys, now)
    return related, False


def _enqueue(current, watchlist: Watchlist, match_id: int, now: datetime) -> None:
    """The outbox: one delivery per channel, due at once or with the next digest."""
    for channel in watchlist.channel_names:
        settings = watchlist.delivery_for(channel)
        recent = 0
        if settings.digest == "adaptive":
            recent = deliveries.sent_at_once_since(current, watchlist.name, channel, now - timedelta(hours=1))
        due, digest = cadence.plan(settings, now, recent)
        deliveries.enqueue(current, match_id, channel, due, digest, now)


def _language(config: Config, article: Article, source: str) -> str | None:
    if article.language:
        return article.language
    configured = [s.language for s in config.sources if s.name == source]
    return configured[0] if configured else None
