"""The triage stage: each extracted article put in a story (newswatch.stories.settlement), its
matches recorded (found with its text: newswatch.derive) and one alert per new story × watchlist
enqueued (newswatch.outbox), all in one transaction. This module composes those and contains
their failures.

Rules: a batch of articles is settled in one transaction, so a crash loses at most the batch in
hand, which stays `extracted` and is triaged again. Containment (newswatch.contain): when a batch
raises, its articles are settled again one by one, each in its own transaction, so that one
article's bad data fails that article only (counted, its failure recorded with it, quarantined
after `articles.QUARANTINE_AFTER` cycles) and the others alert. A lost database connection is no
article's fault (`db.connection_lost`): it fails the batch, which the next cycle settles again.

A later article of a known story alerts a watchlist only if that story had not matched it yet,
or, with `stories.follow_up.enabled` (off by default), as a follow-up when it is a significant
update (newswatch/stories/updates.py) at least `after` since the story's last alert for that
watchlist, at most `max` times; or, with `stories.evidence_joins.tell` (on by default), when it
joined the story on same-event evidence alone (`joined_by` "same_event": not a copy, not an exact
key) and is about something the story's alerts never named (`new_subject`: at least `new_names`
salient names no alerted article mentions, its most salient name among them), at most `max`
updates a story and watchlist: the story stage's judgement may have folded another event in
(issue 17), and the watchlist must not miss it. Both rules number the story's next revision
(the last alert's + 1, once per article; an update of either rule counts for both rules' `max`);
it goes out through the same outbox as the first alert, as "Update n" in the story's thread. A
watchlist's `max_age` (off by default) skips articles published longer ago than that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from newswatch import ingest, outbox
from newswatch.config import Config
from newswatch.config.schema import StorySettings
from newswatch.contain import ItemFailure, failure_of
from newswatch.derive import derive, language_of, source_language
from newswatch.matching import WatchIndex, watch_index
from newswatch.models import Hit, PageText
from newswatch.store import articles, db, matches, session, sources, stories
from newswatch.store.tables import Article
from newswatch.stories import settlement, similarity, updates

__all__ = ["TriageCounts", "forget_old_keys", "settle", "triage"]


@dataclass
class TriageCounts:
    articles: int = 0
    new_stories: int = 0
    matches: int = 0
    failed: int = 0  # articles whose triage raised (contained; see the module docstring)
    quarantined: int = 0

    def add(self, other: TriageCounts) -> None:
        self.articles += other.articles
        self.new_stories += other.new_stories
        self.matches += other.matches
        self.failed += other.failed
        self.quarantined += other.quarantined


def forget_old_keys(config: Config, now: datetime) -> int:
    """`newswatch.stories.settle.forget_old_keys` in a transaction of its own."""
    with session(config.database) as current:
        return settlement.forget_old_keys(current, config.stories.window, now)


def triage(config: Config, now: datetime, batch: int = 200, index: WatchIndex | None = None,
           cycle_start: datetime | None = None) -> TriageCounts:
    """Triage every `extracted` article still waiting; the cycle's sweep after extraction (an
    article that failed since `cycle_start` waits for the next cycle: one try, one count, a cycle)."""
    index, counts, after = index or watch_index(config.watchlists, config.aliases), TriageCounts(), 0
    while True:
        with session(config.database) as current:
            pending = [a.id for a in articles.pending(current, "extracted", batch, after=after,
                                                      not_failed_since=cycle_start)]
        if not pending:
            return counts
        after = pending[-1]  # an article that failed stays `extracted`: once a sweep
        counts.add(settle(config, index, pending, now))


def settle(config: Config, index: WatchIndex, article_ids: list[int], now: datetime,
           texts: Sequence[PageText] = ()) -> TriageCounts:
    """`settle_batch`; when the batch raises, each article on its own (the module's rules)."""
    try:
        return settle_batch(config, index, article_ids, now, texts)
    except Exception as error:  # noqa: BLE001 - an article's bad data: found below, one article at a time
        if db.connection_lost(error):
            raise
    counts, texts_of = TriageCounts(), {text.article_id: text for text in texts}
    for article_id in article_ids:
        text = (texts_of[article_id],) if article_id in texts_of else ()
        try:
            counts.add(settle_batch(config, index, [article_id], now, text))
        except Exception as error:  # noqa: BLE001 - this article's failure, recorded with it
            if db.connection_lost(error):
                raise
            counts.failed += 1
            failure = failure_of("triage", f"article {article_id}", error)
            counts.quarantined += _record_failure(config, article_id, failure, text, now)
    return counts


def _record_failure(config: Config, article_id: int, failure: ItemFailure, text: Sequence[PageText],
                    now: datetime) -> bool:
    """Keep the article's failure (and its page text, unless storing that was what failed, so the
    page is not fetched again); whether the article is quarantined now."""
    try:
        with session(config.database) as current:
            ingest.attach_text(current, text)
            return articles.record_failure(current, article_id, failure, now)
    except Exception:  # noqa: BLE001 - the text itself cannot be stored: the failure alone
        with session(config.database) as current:
            return articles.record_failure(current, article_id, failure, now)


def settle_batch(config: Config, index: WatchIndex, article_ids: list[int], now: datetime,
                 texts: Sequence[PageText] = ()) -> TriageCounts:
    """Triage these articles (those still `extracted`) in one transaction.

    One transaction a batch, not an article: a commit and the story lock cost more than the story
    decision itself. Lost in a crash, the batch is still `extracted` and is triaged again.
    `texts`: the batch's page texts, stored first in the same transaction, so that the process
    downloading pages never writes (on SQLite it would wait for this one); lost in a crash, the
    articles are still `fetched` and their pages are read again.
    """
    counts = TriageCounts()
    with session(config.database) as current:
        db.redo_on_crash(current)
        ingest.attach_text(current, texts)
        claimed = articles.claim(current, article_ids, "extracted")
        # CPU work before the story lock is taken, so the lock is held only for the store lookups;
        # pages read in the extraction pool come with what their text gives (newswatch.derive)
        names = {number: name for name, number in sources.ids_by_name(current).items()}
        matched = {text.article_id: text.hits for text in texts if text.hits is not None}
        found = {a.id: _derived(config, index, a, names[a.source_id], matched.get(a.id)) for a in claimed}
        prints = {number: article_print for number, (article_print, _) in found.items()}
        stories.lock(current)
        settled = settlement.settle_stories(current, config.stories.window, claimed, prints, now)
        for article in claimed:
            story_id, is_new = settled[article.id]
            counts.articles += 1
            counts.new_stories += is_new
            article_print, hits = found[article.id]
            _match(current, config, article, article_print, hits, story_id, now, counts)
    return counts


def _derived(config: Config, index: WatchIndex, article: Article, source: str,
             hits: Sequence[tuple[str, Hit]] | None) -> tuple[similarity.Fingerprint, Sequence[tuple[str, Hit]]]:
    """The article's fingerprint and matches: those its page's reading gave, else derived here (a
    feed summary; a fingerprint from before an upgrade changed it)."""
    if article.fingerprint and hits is not None and similarity.Fingerprint.is_current(article.fingerprint):
        return settlement.decoded(article.fingerprint), hits
    derived = derive(article.title, article.text or "", language_of(article.language, source_language(config, source)),
                     article.url, source, index)
    article.fingerprint = derived.fingerprint
    return settlement.decoded(derived.fingerprint), derived.hits


def _match(current, config: Config, article: Article, article_print: similarity.Fingerprint,
           hits: Sequence[tuple[str, Hit]], story_id: int, now: datetime, counts: TriageCounts) -> None:
    """Record the article's matches (computed with its text, by the reader or by settle): the
    story's first for a watchlist, else an update of it (`_update`)."""
    for name, hit in hits:
        watchlist = config.watchlist(name)
        if watchlist.max_age and article.published_at and article.published_at < now - watchlist.max_age:
            continue
        match_id = matches.add(current, story_id, article.id, name, hit, now)
        if match_id is None:
            match_id = _update(current, config.stories, article, article_print, story_id, name, hit, now)
        if match_id is not None:
            outbox.enqueue(current, watchlist, match_id, now)
            counts.matches += 1
    article.stage = "done"
    current.add(article)


def _update(current, settings: StorySettings, article: Article, article_print: similarity.Fingerprint,
            story_id: int, watchlist: str, hit: Hit, now: datetime) -> int | None:
    """The story's next revision for the watchlist when the article is a follow-up or a report
    joined on evidence that tells what the alerts never said (the module's rules,
    newswatch.stories.updates); else None. One revision at most, numbered after the story's last
    alert for either rule; its constraint makes two workers agree."""
    if not any(updates.may_tell(settings, article.joined_by)):
        return None
    told = matches.alerted(current, story_id, watchlist)
    if not told:
        return None
    follows, on_evidence = updates.may_tell(settings, article.joined_by, len(told), told[-1].created_at, now)
    if not (follows or on_evidence):
        return None
    alerted = [settlement.decoded(data) for data in articles.fingerprints(current, [m.article_id for m in told])]
    if updates.tells(settings, article_print, alerted, follows, on_evidence):
        return matches.add(current, story_id, article.id, watchlist, hit, now, revision=told[-1].revision + 1)
    return None
