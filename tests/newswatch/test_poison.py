"""The health channels hear once of the articles a cycle quarantined."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from newswatch.contain import ItemFailure
from newswatch.poison import report_quarantined
from newswatch.store import articles, session
from newswatch.store.articles import QUARANTINE_AFTER
from newswatch.store.tables import Delivery, Notice
from tests.newswatch.test_triage import NOW, configured
from tests.newswatch.test_triage_containment import stored

FAILURE = ItemFailure("triage", "article", "OverflowError", "date value out of range")


def quarantine(config, names: list[str], at) -> list[int]:
    ids = stored(config, names)
    with session(config.database) as current:
        for article_id in ids:
            for _ in range(QUARANTINE_AFTER):
                articles.record_failure(current, article_id, FAILURE, at)
    return ids


def notices(config) -> list[tuple[str, str, list[str]]]:
    with session(config.database) as current:
        return [(n.title, n.text, sorted(d.channel for d in current.exec(select(Delivery).where(
                 Delivery.notice_id == n.id)))) for n in current.exec(select(Notice))]


def test_one_notice_a_cycle_names_the_articles_it_quarantined_on_every_health_channel(database):
    config = configured(database).model_copy(update={"health": configured(database).health.model_copy(
        update={"channels": ["log", "mail"]})})
    quarantine(config, ["first"], NOW - timedelta(hours=1))  # an earlier cycle's: told then
    quarantine(config, ["poison", "second"], NOW)
    assert report_quarantined(config, NOW, NOW) == 2
    assert report_quarantined(config, NOW, NOW) == 2  # a second shard seeing the same: no second notice
    ((title, text, channels),) = notices(config)
    assert title == "newswatch quarantined 2 articles that failed 3 cycles in a row"
    assert "Idlib poison report" in text and "Idlib ceasefire holds" in text and "talks resume" not in text
    assert "triage: unexpected OverflowError (date value out of range)" in text and "errors requeue" in text
    assert channels == ["log", "mail"]


def test_a_cycle_that_quarantined_nothing_says_nothing(database):
    config = configured(database)
    stored(config, ["first"])
    assert report_quarantined(config, NOW, NOW) == 0
    assert notices(config) == []
