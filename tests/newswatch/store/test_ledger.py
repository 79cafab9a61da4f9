"""The ledger a batch is settled against, on SQLite and PostgreSQL: each article sees the batch's
earlier ones and the store's, and the batch's decisions are written in one go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from newswatch.config.schema import SourceConfig
from newswatch.ingest import add_entries
from newswatch.models import FeedEntry
from newswatch.store import session, sources
from newswatch.store.ledger import Ledger, Pending
from newswatch.store.tables import Article, ArticleKey, Story

NOW = datetime(2020, 2, 24, 12, tzinfo=UTC)
WINDOW = timedelta(hours=48)


def new_articles(current, count: int, prefix: str = "a") -> list[Article]:
    sources.sync(current, [SourceConfig(name="duvar", url="https://duvar.example/rss")])
    source_id = sources.ids_by_name(current)["duvar"]
    entries = [FeedEntry("duvar", f"https://d.example/{prefix}{n}", None, f"Title {prefix}{n}", "") for n in range(count)]
    return [current.get(Article, i) for i in add_entries(current, source_id, entries, NOW)]


def settle_all(current, batch: list[Pending], decide) -> dict[int, tuple[int, bool]]:
    """Settle the batch in order; `decide(ledger, pending)` picks the story (None: a new one)."""
    ledger = Ledger(current, batch, WINDOW, limit=2)
    for pending in batch:
        ledger.settle(pending, decide(ledger, pending), f"print {pending.article.id}".encode())
    return ledger.write(NOW)


def by_owner(ledger: Ledger, pending: Pending) -> int | None:
    return ledger.owner(pending.keys)


def test_a_later_article_of_the_batch_joins_the_story_an_earlier_one_started(database):
    with session(database) as current:
        first, second, other = new_articles(current, 3)
        outcome = settle_all(current, [Pending(first, ["url:1", "text:x"], [], NOW),
                                       Pending(second, ["url:2", "text:x"], [], NOW),
                                       Pending(other, ["url:3"], [], NOW)], by_owner)
        story = outcome[first.id][0]
        assert outcome == {first.id: (story, True), second.id: (story, False), other.id: (outcome[other.id][0], True)}
        assert outcome[other.id][0] != story and second.story_id == story
        assert current.get(Story, story).article_count == 2
    with session(database) as current:  # the next batch finds the stored story by any of its keys
        (late,) = new_articles(current, 1, prefix="late")
        outcome = settle_all(current, [Pending(late, ["url:2"], [], NOW)], by_owner)
        assert outcome == {late.id: (story, False)}
        assert current.get(Story, story).article_count == 3


def test_candidates_come_from_the_store_and_the_batch_most_shared_keys_first_within_the_window(database):
    with session(database) as current:
        stored = new_articles(current, 4, prefix="s")
        times = [NOW, NOW, NOW - timedelta(hours=47), NOW - timedelta(hours=49)]
        keys = [["k1", "k2"], ["k1"], ["k1", "k2", "k3"], ["k1", "k2", "k3"]]
        settle_all(current, [Pending(a, [f"url:{a.id}"], k, t) for a, k, t in zip(stored, keys, times)],
                   lambda ledger, pending: None)
    with session(database) as current:
        ids = [a.id for a in stored]
        story_of = dict(current.exec(select(Article.id, Article.story_id).where(Article.id.in_(ids))).all())
        earlier, fresh, follower = new_articles(current, 3, prefix="n")
        seen = {}

        def decide(ledger, pending):
            seen[pending.article.id] = ledger.candidates(pending.lookup_keys, pending.at)
            return None

        # an article of the batch 10 h earlier: the batch reads the store 58 h back
        settle_all(current, [Pending(earlier, ["url:earlier"], ["k0"], NOW - timedelta(hours=10)),
                             Pending(fresh, ["url:fresh"], ["k1", "k2", "k3"], NOW),
                             Pending(follower, ["url:follower"], ["k3", "k9"], NOW)], decide)
        # the 49 h old article is out of the window; the limit (2) keeps the most shared keys
        assert [(a, s, m) for a, s, _, m in seen[fresh.id]] == [(ids[2], story_of[ids[2]], times[2]),
                                                               (ids[0], story_of[ids[0]], NOW)]
        assert seen[fresh.id][0][2] == f"print {ids[2]}".encode()
        # the batch's earlier article is a candidate too, under its provisional story
        assert [(s < 0, print_) for _, s, print_, _ in seen[follower.id]] == [
            (False, f"print {ids[2]}".encode()), (True, f"print {fresh.id}".encode())]
        assert current.exec(select(ArticleKey.key).where(ArticleKey.article_id == follower.id)).all() == ["k3", "k9"]


def test_an_article_without_a_fingerprint_is_no_candidate(database):
    with session(database) as current:
        first, second = new_articles(current, 2)
        ledger = Ledger(current, [], WINDOW)
        ledger.settle(Pending(first, ["url:1"], ["k1"], NOW), None, None)
        assert ledger.candidates(["k1"], NOW) == []
        ledger.write(NOW)
        assert first.fingerprint is None and first.story_id is not None
        assert current.exec(select(ArticleKey)).all() == []
