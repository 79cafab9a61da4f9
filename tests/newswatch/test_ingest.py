"""Ingest on SQLite and PostgreSQL: what a feed brings is stored, or said why not, entry by entry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import select

from newswatch.config.schema import Config
from newswatch.ingest import attach_text, ingest, plan
from newswatch.models import Extracted, FeedEntry, Fetched, PageText
from newswatch.store import articles, session
from newswatch.store.tables import Article, Match, Source
from newswatch.triage import triage

NOW = datetime(2020, 2, 24, 12, tzinfo=UTC)
LONG_PATH = "/".join(["idlib-talks-in-moscow"] * 70)  # 1,539 characters: long, but a link the store keeps


def configured(database: str, *others: str) -> Config:
    return Config.model_validate({
        "database": database,
        "sources": [{"name": "duvar", "url": "https://duvar.example/rss", "language": "en"},
                    *({"name": name, "url": f"https://{name}.example/rss"} for name in others)],
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
        attach_text(current, [PageText(a.id, Extracted(text=f"{a.title} in Moscow, said Lavrov."))
                                       for a in stored])
    triage(config, NOW)  # story keys of the long link fit the store too
    with session(config.database) as current:
        assert [a.stage for a in current.exec(select(Article))] == ["done", "done"]
        assert current.exec(select(Match)).all()
    again = ingest(config, [Fetched("duvar", entries[1:])], NOW)
    assert again.new_articles == 0  # the long GUID, kept as its digest, still identifies its entry


def many_entries(count: int) -> list[FeedEntry]:
    return [FeedEntry("duvar", f"https://duvar.example/news/{n}", f"urn:duvar:{n}", f"Story {n}", "A summary.")
            for n in range(count)]


@pytest.mark.slow
def test_a_feed_of_100_000_entries_is_stored_whole_and_only_once(database):
    """Issue "Nothing stops the watch": one INSERT of every entry passed the store's parameter limit."""
    config = configured(database)
    entries = many_entries(100_000)
    plan(config, NOW)
    first = ingest(config, [Fetched("duvar", entries, etag='"v1"')], NOW)
    assert (first.new_articles, first.errors, first.unexpected) == (100_000, [], 0)
    again = ingest(config, [Fetched("duvar", entries, etag='"v1"')], NOW)
    assert (again.new_articles, again.errors, again.unexpected) == (0, [], 0)
    with session(config.database) as current:
        assert current.exec(select(sa.func.count()).select_from(Article)).one() == 100_000


def broken_store(monkeypatch, source: str) -> None:
    """Make storing `source`'s articles raise, as a bug or a surprise of the store would."""
    add_new = articles.add_new

    def failing(current, source_id, new, now):
        ids = add_new(current, source_id, new, now)  # stored, then undone with the transaction
        if current.get(Source, source_id).name == source:
            raise ValueError("a value the store refuses")
        return ids

    monkeypatch.setattr(articles, "add_new", failing)


def test_a_source_whose_articles_fail_to_store_is_failed_and_fetched_again_and_the_others_go_on(database, monkeypatch):
    config = configured(database, "bianet")
    plan(config, NOW)
    broken_store(monkeypatch, "duvar")
    counts = ingest(config, [Fetched("duvar", many_entries(3), etag='"v1"', last_modified="Mon, 24 Feb 2020"),
                             Fetched("bianet", [FeedEntry("bianet", "https://bianet.example/a", "b1", "Idlib", "")],
                                     etag='"b1"')], NOW)
    assert (counts.new_articles, counts.unexpected, counts.failed) == (1, 1, 1)
    assert counts.errors == ["duvar: ingest: unexpected ValueError (a value the store refuses)"]
    with session(config.database) as current:
        duvar, bianet = (current.exec(select(Source).where(Source.name == name)).one() for name in ["duvar", "bianet"])
        assert (duvar.etag, duvar.last_modified) == (None, None)  # the next poll fetches the feed whole again
        assert (duvar.last_error_kind, duvar.last_error) == ("unexpected", counts.errors[0].removeprefix("duvar: "))
        assert (duvar.consecutive_failures, duvar.unexpected_errors, duvar.last_success_at) == (1, 1, None)
        assert (bianet.etag, bianet.consecutive_failures, bianet.unexpected_errors) == ('"b1"', 0, 0)
        assert [a.url for a in current.exec(select(Article))] == ["https://bianet.example/a"]
    (retry,) = [r for r in plan(config, duvar.next_check_at) if r.name == "duvar"]
    assert (retry.etag, retry.last_modified) == (None, None)
    monkeypatch.undo()
    again = ingest(config, [Fetched("duvar", many_entries(3), etag='"v1"')], duvar.next_check_at)
    assert (again.new_articles, again.unexpected) == (3, 0)


def test_validators_are_committed_with_the_articles_they_cover(database, monkeypatch):
    """A crash between the two must not leave the new ETag stored and the entries lost."""
    config = configured(database)
    plan(config, NOW)

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # not contained: stops the work, as a killed worker does

    monkeypatch.setattr(articles, "add_new", crash)
    with pytest.raises(KeyboardInterrupt):
        ingest(config, [Fetched("duvar", many_entries(3), etag='"v1"')], NOW)
    with session(config.database) as current:
        assert current.exec(select(Source.etag)).one() is None


def test_a_sitemap_source_is_planned_as_one_and_what_it_could_not_read_is_reported(database):
    config = Config.model_validate({
        "database": database,
        "sources": [{"name": "daily", "url": "https://daily.example/sitemap.xml", "type": "sitemap"},
                    {"name": "duvar", "url": "https://duvar.example/rss"}],
        "channels": {"log": {"type": "console"}},
        "watchlists": [{"name": "idlib", "query": "Idlib", "channels": ["log"]}]})
    assert {(r.name, r.kind) for r in plan(config, NOW)} == {("daily", "sitemap"), ("duvar", "feed")}
    old = datetime(2019, 1, 1, tzinfo=UTC)  # a source seen for the first time: its entries, whatever their date
    entries = [FeedEntry("daily", "https://daily.example/idlib", None, "Idlib talks resume", "", old)]
    note = "sitemap https://daily.example/2024.xml: fetch: 404 not found"
    counts = ingest(config, [Fetched("daily", entries, notes=(note,))], NOW)
    assert (counts.new_articles, counts.errors) == (1, [f"daily: {note}"])


def test_a_discovered_feed_is_stored_for_the_next_plan_and_forgotten_when_the_url_changes(database):
    config = configured(database)
    plan(config, NOW)
    feed = "https://duvar.example/feeds/all.xml"
    ingest(config, [Fetched("duvar", [], etag='"f1"', feed_url=feed)], NOW)
    (request,) = plan(config, NOW)
    assert (request.feed_url, request.etag) == (feed, '"f1"')
    moved = configured(database)
    moved.sources[0].url = "https://duvar.example/home"
    (request,) = plan(moved, NOW)
    assert (request.url, request.feed_url, request.etag) == ("https://duvar.example/home", None, None)
