"""The store at its edges, on SQLite and PostgreSQL: more keys than one statement can carry, and
dates at the calendar's ends (issue "Nothing stops the watch")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from newswatch import ingest
from newswatch.config.schema import Config, SourceConfig
from newswatch.ingest import add_entries
from newswatch.models import Extracted, FeedEntry, PageText
from newswatch.store import articles, session, sources, stories
from newswatch.store.ledger import Ledger, Pending
from newswatch.store.tables import Article, Story
from newswatch.triage import triage
from tests.newswatch.store.test_sql import squeezed

NOW = datetime(2020, 2, 24, 12, tzinfo=UTC)
YEAR_1 = datetime.min.replace(tzinfo=UTC)
YEAR_9999 = datetime.max.replace(tzinfo=UTC)


def seeded(current) -> int:
    sources.sync(current, [SourceConfig(name="duvar", url="https://duvar.example/rss")])
    return sources.ids_by_name(current)["duvar"]


def entries(*published: datetime | None) -> list[FeedEntry]:
    return [FeedEntry("duvar", f"https://duvar.example/{n}", f"g{n}", f"Idlib talks, part {n}", "", when)
            for n, when in enumerate(published)]


def test_lookups_take_more_keys_than_one_statement_can_carry(database):
    """One IN (...) of every id or name passed the store's limit (PostgreSQL: 65,535)."""
    with session(database) as current:
        many = squeezed(current) + 1
        source_id = seeded(current)
        ids = add_entries(current, source_id, entries(None, None, None), NOW)
        absent = list(range(max(ids) + 1, max(ids) + many))
        assert [a.id for a in articles.claim(current, [*absent, *reversed(ids)], "fetched")] == sorted(ids)
        ingest.attach_text(current, [PageText(i, Extracted(text=f"Idlib talks {i} in Moscow."), fingerprint=b"p")
                                       for i in [*absent, *ids]])
        assert articles.fingerprints(current, [*absent, *ids]) == [b"p"] * 3
        names = [f"nobody {n}" for n in range(many)]
        assert sources.ids_by_name(current, [*names, "duvar"]) == {"duvar": source_id}
        assert [r.name for r in sources.due(current, NOW, [*names, "duvar"])] == ["duvar"]
        assert [s.name for s in sources.health_states(current, [*names, "duvar"])] == ["duvar"]
        assert sources.mark_alerted(current, [*names, "duvar"], NOW) == ["duvar"]
        stored = current.exec(select(Article).order_by(Article.id)).all()
        batch = [Pending(article, [f"url:{article.id}"], [f"k{n}" for n in range(many)], NOW) for article in stored]
        ledger = Ledger(current, batch, timedelta(hours=48))
        for pending in batch:  # no fingerprint: no fuzzy keys written, the reads are what is tested
            ledger.settle(pending, ledger.owner(pending.keys), None)
        story_ids = {story for story, _ in ledger.write(NOW).values()}
        found = stories.stories_sources(current, [*range(max(story_ids) + 1, max(story_ids) + many), *story_ids])
        assert found == {story: ["duvar"] for story in story_ids}


@pytest.mark.parametrize("edge", [YEAR_1, YEAR_9999], ids=["year-1", "year-9999"])
def test_a_story_batch_at_the_calendars_ends_settles(database, edge):
    """`published ± the story window` raised OverflowError('date value out of range') for the batch."""
    with session(database) as current:
        first, second = (current.get(Article, i) for i in add_entries(current, seeded(current),
                                                                            entries(edge, edge), NOW))
        ledger = Ledger(current, [Pending(first, ["url:1"], ["k"], edge)], timedelta(hours=48))
        ledger.settle(Pending(first, ["url:1"], ["k"], edge), None, b"print")
        (story, _), = ledger.write(NOW).values()
    with session(database) as current:  # the stored article, at the edge, is the next one's candidate
        pending = Pending(current.get(Article, second.id), ["url:2"], ["k"], edge)
        ledger = Ledger(current, [pending], timedelta(hours=48))
        assert [(s, moment) for _, s, _, moment in ledger.candidates(["k"], edge)] == [(story, edge)]


def test_triage_settles_articles_dated_at_the_calendars_ends_with_the_rest_of_their_batch(database):
    config = Config.model_validate({
        "database": database, "sources": [{"name": "duvar", "url": "https://duvar.example/rss"}],
        "channels": {"log": {"type": "console"}},
        "watchlists": [{"name": "idlib", "query": "Idlib", "channels": ["log"]}]})
    with session(database) as current:
        ids = add_entries(current, seeded(current), entries(YEAR_1, YEAR_9999, NOW), NOW)
        ingest.attach_text(current, [PageText(i, Extracted(text=f"Idlib talks resumed in Moscow ({i}).", title="t"))
                                       for i in ids])
    counts = triage(config, NOW)
    with session(database) as current:
        assert (counts.articles, counts.matches) == (3, 3)
        assert {a.stage for a in current.exec(select(Article))} == {"done"}
        assert len(current.exec(select(Story)).all()) == 3


def test_a_lost_connection_is_told_from_a_statement_that_failed(tmp_path):
    import sqlalchemy as sa

    from newswatch.store import db

    dead = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(sa.exc.OperationalError) as refused:
        dead.connect()
    assert db.connection_lost(refused.value)
    url = f"sqlite:///{tmp_path}/store.db"
    with pytest.raises(sa.exc.OperationalError) as bad, db.engine(url).connect() as connection:
        connection.execute(sa.text("select * from no_such_table"))
    assert not db.connection_lost(bad.value)
    assert not db.connection_lost(OverflowError("date value out of range"))
