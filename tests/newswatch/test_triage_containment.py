"""Triage contains each article's failure: the batch's other articles alert, the failing one keeps
its error and is quarantined after three cycles in a row, and `requeue` gives it another chance."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from newswatch import triage as triage_module
from newswatch.ingest import add_entries
from newswatch.matching import watch_index
from newswatch.models import Extracted, FeedEntry, PageText
from newswatch.store import articles, session, sources
from newswatch.store.articles import QUARANTINE_AFTER
from newswatch.store.tables import Article, Match, Source
from newswatch.triage import settle, triage
from tests.newswatch.test_triage import NOW, configured

TEXTS = {
    "poison": ("Idlib poison report", "Idlib: a report whose triage raises. " * 20),
    "first": ("Idlib talks resume in Moscow", "Delegations met in Moscow to discuss Idlib. " * 20),
    "second": ("Idlib ceasefire holds", "The ceasefire around Idlib held overnight, monitors said. " * 20),
}


@pytest.fixture
def poisoned(monkeypatch):
    """Triage raises for the article titled "Idlib poison report", as a bug meeting odd data would."""
    real = triage_module._match

    def match(current, config, article, *args):
        if article.title == TEXTS["poison"][0]:
            raise OverflowError("date value out of range")
        return real(current, config, article, *args)

    monkeypatch.setattr(triage_module, "_match", match)


def stored(config, names: list[str]) -> list[int]:
    """The articles of `names`, each from its own source, with page text, not triaged yet."""
    ids = []
    with session(config.database) as current:
        sources.sync(current, config.sources)
        source_ids = sources.ids_by_name(current)
        for source, name in zip(("duvar", "anadolu", "tass"), names, strict=False):
            title, _ = TEXTS[name]
            entry = FeedEntry(source=source, url=f"https://{source}.example/{name}", guid=None, title=title,
                              summary="", published=NOW)
            ids += add_entries(current, source_ids[source], [entry], NOW)
    return ids


def texts(ids: list[int], names: list[str]) -> list[PageText]:
    return [PageText(i, Extracted(text=TEXTS[name][1], language="en")) for i, name in zip(ids, names, strict=True)]


def test_one_failing_article_fails_alone_and_the_batch_alerts(database, poisoned):
    config = configured(database)
    names = ["first", "poison", "second"]
    ids = stored(config, names)
    counts = settle(config, watch_index(config.watchlists, config.aliases), ids, NOW, texts(ids, names))
    assert (counts.articles, counts.failed, counts.quarantined) == (2, 1, 0)
    with session(config.database) as current:
        poison = current.get(Article, ids[1])
        assert [current.get(Article, i).stage for i in (ids[0], ids[2])] == ["done", "done"]
        assert ids[1] not in {m.article_id for m in current.exec(select(Match))}
        # its page text is kept (not fetched again), its failure is told, its source counts it
        assert (poison.stage, poison.failures, poison.text) == ("extracted", 1, TEXTS["poison"][1])
        assert poison.last_failure == "triage: unexpected OverflowError (date value out of range)"
        assert current.get(Source, poison.source_id).unexpected_errors == 1


def test_an_article_failing_three_cycles_in_a_row_is_quarantined_until_requeued(database, poisoned, monkeypatch):
    config = configured(database)
    (poison,) = stored(config, ["poison"])
    settle(config, watch_index(config.watchlists, config.aliases), [poison], NOW, texts([poison], ["poison"]))
    for cycle in range(1, QUARANTINE_AFTER):
        start = NOW + timedelta(minutes=10 * cycle)
        # a sweep tries it once a cycle, however often it runs
        assert triage(config, start, cycle_start=start).failed == 1
        assert triage(config, start, cycle_start=start).failed == 0
    with session(config.database) as current:
        assert current.get(Article, poison).stage == "quarantined"
        assert [a.id for a, _ in articles.failing(current)] == [poison]
    later = NOW + timedelta(hours=2)
    assert triage(config, later, cycle_start=later).articles == 0  # quarantined: no longer tried
    monkeypatch.undo()  # the bug is fixed; the user requeues it
    with session(config.database) as current:
        assert articles.requeue(current) == 1
    assert triage(config, later, cycle_start=later).matches == 1
    with session(config.database) as current:
        assert current.get(Article, poison).stage == "done"


def test_a_failure_of_another_kind_starts_the_count_again(database):
    from newswatch.contain import ItemFailure

    config = configured(database)
    (article,) = stored(config, ["first"])
    overflow = ItemFailure("triage", "article", "OverflowError", "out of range")
    with session(config.database) as current:
        articles.record_failure(current, article, overflow, NOW)
        articles.record_failure(current, article, overflow, NOW)
        articles.record_failure(current, article, ItemFailure("triage", "article", "KeyError", "x"), NOW)
        assert (current.get(Article, article).failures, current.get(Article, article).stage) == (1, "fetched")
