"""Triage extracted articles: put each in a story, match it against every watchlist, and
enqueue one alert per new story × watchlist (the outbox) in the same transaction.

Rules: a batch of articles is settled in one transaction, so a crash loses at most the batch in
hand, which stays `extracted` and is triaged again. A later article of a known story alerts a
watchlist only if that story had not matched it yet. A watchlist's `max_age` (off by default)
skips articles published longer ago than that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from newswatch import cadence
from newswatch.config import Config, Watchlist
from newswatch.matching import WatchIndex, WatchSpec
from newswatch.models import Document
from newswatch.store import articles, db, deliveries, matches, session, sources, stories
from newswatch.store.tables import Article
from newswatch.stories import cluster, similarity, story_keys

__all__ = ["TriageCounts", "build_index", "in_process", "settle", "settle_in_process", "settle_story",
           "triage"]


@dataclass
class TriageCounts:
    articles: int = 0
    new_stories: int = 0
    matches: int = 0

    def add(self, other: TriageCounts) -> None:
        self.articles += other.articles
        self.new_stories += other.new_stories
        self.matches += other.matches


def build_index(config: Config) -> WatchIndex:
    specs = [WatchSpec(w.name, w.query, w.exclude, w.languages, w.sources) for w in config.watchlists]
    return WatchIndex(specs, config.aliases)


def triage(config: Config, now: datetime, batch: int = 200, index: WatchIndex | None = None) -> TriageCounts:
    """Triage every `extracted` article still waiting; the cycle's sweep after extraction."""
    index, counts = index or build_index(config), TriageCounts()
    with session(config.database) as current:
        # fuzzy keys outlive the window twice over, for late-arriving copies; then they go
        stories.prune_keys(current, now - 2 * config.stories.window)
    while True:
        with session(config.database) as current:
            pending = [a.id for a in articles.pending(current, "extracted", batch)]
        if not pending:
            return counts
        counts.add(settle(config, index, pending, now))


def settle(config: Config, index: WatchIndex, article_ids: list[int], now: datetime) -> TriageCounts:
    """Triage these articles (those still `extracted`) in one transaction.

    One transaction a batch, not an article: a commit and the story lock cost more than the story
    decision itself. Lost in a crash, the batch is still `extracted` and is triaged again.
    """
    counts = TriageCounts()
    with session(config.database) as current:
        db.redo_on_crash(current)
        claimed = articles.claim(current, article_ids, "extracted")
        # CPU work before the story lock is taken, so the lock is held only for the store lookups;
        # pages read in the extraction pool come with their fingerprint
        names = {number: name for name, number in sources.ids_by_name(current).items()}
        found = {a.id: _decoded(a.fingerprint) if a.fingerprint else
                 similarity.fingerprint(a.title, a.text or "", language_of(config, a, names[a.source_id]))
                 for a in claimed}
        stories.lock(current)
        for article in claimed:
            _settle(current, config, index, article, names[article.source_id], found[article.id], now, counts)
    return counts


# A process that only settles batches (flows/monitor.py starts one a cycle) gets the config and the
# index once, as a pool initializer, not with every batch: an index of many watchlists is large.
_PROCESS: dict[str, object] = {}


def in_process(config: Config, index: WatchIndex) -> None:
    """Pool initializer: what `settle_in_process` settles with."""
    _PROCESS.update(config=config, index=index)


def settle_in_process(article_ids: list[int], now: datetime) -> TriageCounts:
    """`settle` with the config and index `in_process` gave this process."""
    return settle(_PROCESS["config"], _PROCESS["index"], article_ids, now)


def _settle(current, config: Config, index: WatchIndex, article: Article, source: str,
            found: similarity.Fingerprint, now: datetime, counts: TriageCounts) -> None:
    story_id, is_new = settle_story(current, config, article, found, now)
    counts.articles += 1
    counts.new_stories += is_new
    document = Document(article.title, article.text or "", language_of(config, article, source), source)
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
    keys = story_keys(article.url, article.canonical_url, article.content_hash)
    at = article.published_at or article.fetched_at
    related = stories.owner(current, keys)
    if related is None:
        window = config.stories.window
        candidates = [cluster.Candidate(story_id, _decoded(data),
                                        abs((at - moment).total_seconds()) / 3600)
                      for story_id, data, moment in stories.candidates(current, found.lookup_keys, at, window)]
        chosen = cluster.choose(found, candidates)
        related = chosen[0] if chosen else None
    article.fingerprint = article.fingerprint or found.to_bytes()
    stories.remember_keys(current, article.id, found.lookup_keys, at)
    if related is None:
        return stories.start(current, article, keys, now)
    stories.join(current, article, related, keys, now)
    return related, False


# an article settled now is a candidate again and again within the cycle: one decoding serves all
_decoded = lru_cache(maxsize=4096)(similarity.Fingerprint.from_bytes)


def _enqueue(current, watchlist: Watchlist, match_id: int, now: datetime) -> None:
    """The outbox: one delivery per channel, due at once or with the next digest."""
    for channel in watchlist.channel_names:
        settings = watchlist.delivery_for(channel)
        recent = 0
        if settings.digest == "adaptive":
            recent = deliveries.sent_at_once_since(current, watchlist.name, channel, now - timedelta(hours=1))
        due, digest = cadence.plan(settings, now, recent)
        deliveries.enqueue(current, match_id, channel, due, digest, now)


def language_of(config: Config, article: Article, source: str) -> str | None:
    """The article's language: its own (page or feed entry), else its source's configured one."""
    if article.language:
        return article.language
    configured = [s.language for s in config.sources if s.name == source]
    return configured[0] if configured else None
