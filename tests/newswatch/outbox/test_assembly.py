"""What an alert says (newswatch.outbox.assembly), from the store's rows on SQLite and PostgreSQL:
a match's article, source and "also reported by"; a notice as an alert of its topic."""

from __future__ import annotations

from datetime import UTC, datetime

from newswatch.config.schema import SourceConfig
from newswatch.ingest import add_entries
from newswatch.models import Alert, FeedEntry, Hit
from newswatch.outbox import assembly
from newswatch.store import deliveries, matches, session, sources
from newswatch.store.tables import Article
from tests.support.stories import assign

NOW = datetime(2020, 2, 24, 12, 0, tzinfo=UTC)
HIT = Hit(terms=["Idlib"], hits=[], snippet="talks on Idlib", highlights=[(9, 14)])
SOURCES = ["duvar", "wire", "post"]


def story_of_three(database: str) -> None:
    """One story reported by duvar, then wire, then duvar again, then post; its first article matched."""
    with session(database) as current:
        sources.sync(current, [SourceConfig(name=n, url=f"https://{n}.example/rss") for n in SOURCES])
        ids = sources.ids_by_name(current)
        added = [add_entries(current, ids[name], [FeedEntry(name, f"https://{name}.example/{n}", None,
                                                                 "Lavrov on Idlib", "Short summary.")], NOW)[0]
                 for n, name in enumerate(["duvar", "wire", "duvar", "post"])]
        story_id, _ = assign(current, current.get(Article, added[0]), ["url:a"], NOW)
        for article_id in added[1:]:
            assign(current, current.get(Article, article_id), ["url:a"], NOW)
        match_id = matches.add(current, story_id, added[0], "idlib", HIT, NOW)
        deliveries.enqueue(current, match_id, "slack", NOW, False, NOW)


def claimed_alerts(database: str, channel: str) -> list[Alert]:
    with session(database) as current:
        claimed = deliveries.claim(current, channel, NOW)
        said = assembly.alerts(current, [c.delivery_id for c in claimed])
    return [said[c.delivery_id] for c in claimed]


def test_a_matchs_alert_names_its_article_and_the_storys_other_sources_once(database):
    story_of_three(database)
    (alert,) = claimed_alerts(database, "slack")
    assert (alert.watchlist, alert.title, alert.url, alert.source) == (
        "idlib", "Lavrov on Idlib", "https://duvar.example/0", "duvar")
    assert alert.terms == ["Idlib"] and alert.snippet == "talks on Idlib" and alert.highlights == [(9, 14)]
    assert alert.also_reported_by == ["wire", "post"] and alert.revision == 0 and alert.delivery_id is not None
    assert alert.also_reports == (("wire", "https://wire.example/1"), ("post", "https://post.example/3"))
    assert alert.named() == [("idlib", ["Idlib"])]


def test_a_notice_is_an_alert_of_its_topic_on_story_zero(database):
    with session(database) as current:
        deliveries.enqueue_notice(current, "quarantine:7", "3 articles quarantined", "See newswatch errors.",
                                  ["ops"], NOW, url="https://example.org/help")
    (alert,) = claimed_alerts(database, "ops")
    assert (alert.watchlist, alert.story_id, alert.source, alert.title, alert.snippet, alert.url) == (
        "quarantine", 0, "newswatch", "3 articles quarantined", "See newswatch errors.", "https://example.org/help")
    assert alert.published is not None and alert.terms == []
