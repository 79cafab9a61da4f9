"""Ingest on SQLite and PostgreSQL: what a feed brings is stored, or said why not, entry by entry."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from newswatch.config.schema import Config
from newswatch.ingest import ingest, plan
from newswatch.models import Extracted, FeedEntry, Fetched
from newswatch.store import articles, session
from newswatch.store.articles import PageText
from newswatch.store.tables import Article, Match
from newswatch.triage import triage

NOW = datetime(2020, 2, 24, 12, tzinfo=UTC)
LONG_PATH = "/".join(["idlib-talks-in-moscow"] * 70)  # 1,539 characters: long, but a link the store keeps


def configured(database: str) -> Config:
    return Config.model_validate({
        "database": database,
        "sources": [{"name": "duvar", "url": "https://duvar.example/rss", "language": "en"}],
        "channels": {"log": {"type": "console"}},
        "watchlists": [{"name": "idlib", "query": "Idlib", "channels": ["log"]}]})


def test_a_link_too_long_to_store_is_reported_and_the_other_entries_are_alerted(database):
    config = configured(database)
    entries = [FeedEntry("duvar", "https://duvar.example/" + "x" * 2100, "g1", "Idlib talks", ""),
               FeedEntry("duvar", f"https://duvar.example/{LONG_PATH}", "g" * 1500, "Idlib talks resume", ""),
               FeedEntry("duvar", "https://duvar.example/short", "g3", "Idlib ceasefire holds", "")]
    plan(config, NOW)
    counts = ingest(config, [Fetched("duvar", entries)], NOW)
    assert counts.new_articles == 2
    assert counts.errors == [
        "duvar: 1 of its entries left out: a link longer than the 2,000 characters the store keeps"]
    with session(config.database) as current:
        stored = current.exec(select(Article).order_by(Article.id)).all()
        articles.attach_text(current, [PageText(a.id, Extracted(text=f"{a.title} in Moscow, said Lavrov."))
                                       for a in stored])
    triage(config, NOW)  # story keys of the long link fit the store too
    with session(config.database) as current:
        assert [a.stage for a in current.exec(select(Article))] == ["done", "done"]
        assert current.exec(select(Match)).all()
    again = ingest(config, [Fetched("duvar", entries[1:])], NOW)
    assert again.new_articles == 0  # the long GUID, kept as its digest, still identifies its entry
