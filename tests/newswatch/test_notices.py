"""Notices end to end: store state → a notice in the outbox → one message per channel (a local
Slack endpoint, a local SMTP server), once, on SQLite and PostgreSQL: source health, and the
articles a cycle quarantined."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

import alerts
from newswatch import config as configuration
from newswatch import notices, outbox
from newswatch.contain import ItemFailure
from newswatch.ingest import record_polls
from newswatch.models import Failed, Fetched
from newswatch.notices import report_health, report_quarantined
from newswatch.store import articles, db, deliveries, session, sources
from newswatch.store.articles import QUARANTINE_AFTER
from newswatch.store.tables import Delivery, Notice
from tests.newswatch.test_triage import configured
from tests.newswatch.test_triage_containment import stored
from tests.support.slack_server import Reply

NOW = datetime(2020, 2, 24, 12, tzinfo=UTC)


@pytest.fixture
def store(database):
    """The migrated store, without the notices an earlier test left (PostgreSQL keeps its tables)."""
    if db.is_postgres(database):
        with db.engine(database).begin() as connection:
            connection.execute(sa.text("TRUNCATE notices RESTART IDENTITY CASCADE"))
    return database


@pytest.fixture
def config(tmp_path, store, slack_server, smtp_server):
    path = tmp_path / "newswatch.yaml"
    path.write_text(textwrap.dedent(f"""\
        database: {store}
        health: {{channels: [ops], after: 6h}}
        sources:
          - {{name: a, url: "https://a.example/rss"}}
          - {{name: b, url: "https://b.example/rss"}}
        channels:
          ops: {{type: slack, webhook_url: "{slack_server.url}"}}
          mail: {{type: email, smtp_host: 127.0.0.1, smtp_port: {smtp_server.port}, starttls: false,
                  from: nw@example.org, to: [ops@example.org]}}
        """), encoding="utf-8")
    loaded = configuration.load(path)
    with session(loaded.database) as current:
        sources.sync(current, loaded.sources)
    return loaded


def with_channels(config, *names: str):
    return config.model_copy(update={"health": config.health.model_copy(update={"channels": list(names)})})


def poll(config, now, failing: set[str]) -> None:
    with session(config.database) as current:
        record_polls(current, [Failed(n, "http", "fetch: 500 server error") if n in failing
                                 else Fetched(n, []) for n in ("a", "b")], now)


def cycle(config, now) -> None:
    """What a monitor cycle does for health: review, then drain the outbox."""
    report_health(config, now)
    outbox.drain(config.database, config.channels, now, alerts)


def test_one_alert_after_six_hours_of_failure_and_one_on_recovery(config, slack_server):
    for hour in range(0, 8):
        poll(config, NOW + timedelta(hours=hour), {"a"})
        cycle(config, NOW + timedelta(hours=hour))
    assert len(slack_server.payloads) == 1 and "a" in slack_server.payloads[0]["text"]
    poll(config, NOW + timedelta(hours=9), set())
    cycle(config, NOW + timedelta(hours=9))
    cycle(config, NOW + timedelta(hours=10))
    assert len(slack_server.payloads) == 2 and "working again" in slack_server.payloads[1]["text"]


def test_every_source_failing_is_one_network_alert(config, slack_server):
    for hour in range(0, 8):
        poll(config, NOW + timedelta(hours=hour), {"a", "b"})
        cycle(config, NOW + timedelta(hours=hour))
    assert len(slack_server.payloads) == 1 and "Network down?" in slack_server.payloads[0]["text"]


def test_a_failed_health_alert_is_retried_with_backoff_like_any_alert(config, slack_server):
    slack_server.respond(Reply.server_error(500))
    poll(config, NOW, {"a"})
    poll(config, NOW + timedelta(hours=7), {"a"})
    cycle(config, NOW + timedelta(hours=7))
    with session(config.database) as current:
        ((delivery, notice),) = deliveries.listing(current, ["failed"])  # `newswatch alerts list` shows it
    assert notice.key.startswith("source-health:") and delivery.last_error.startswith("slack: 500")
    cycle(config, NOW + timedelta(hours=9))  # past the backoff
    assert len(slack_server.requests) == 2 and "failing" in slack_server.payloads[1]["text"]


def test_a_channel_that_fails_does_not_resend_the_alert_to_the_others(config, slack_server, smtp_server):
    # regression: health alerts bypassed the outbox, so one failing channel re-sent them to all
    config = with_channels(config, "ops", "mail")
    slack_server.respond(Reply.server_error(500))
    poll(config, NOW, {"a"})
    poll(config, NOW + timedelta(hours=7), {"a"})
    for hours in (7, 9, 11):
        cycle(config, NOW + timedelta(hours=hours))
    assert len(smtp_server.messages) == 1
    assert len(slack_server.payloads) == 2 and "failing" in slack_server.payloads[1]["text"]


def test_shards_reviewing_at_once_send_the_alert_once(config, slack_server, monkeypatch):
    # regression: two shards each read "not alerted yet" and each sent the alert
    poll(config, NOW, {"a"})
    poll(config, NOW + timedelta(hours=7), {"a"})
    with session(config.database) as current:
        seen_before_the_other_marked = sources.health_states(current, ["a", "b"])
    report_health(config, NOW + timedelta(hours=7))
    monkeypatch.setattr(notices.sources, "health_states", lambda *_: seen_before_the_other_marked)
    report_health(config, NOW + timedelta(hours=7))
    outbox.drain(config.database, config.channels, NOW + timedelta(hours=7), alerts)
    outbox.drain(config.database, config.channels, NOW + timedelta(hours=7), alerts)
    assert len(slack_server.payloads) == 1


def test_every_health_email_has_its_own_message_id(config, smtp_server):
    # regression: every health e-mail was <story-0.source-health@newswatch>
    config = with_channels(config, "mail")
    poll(config, NOW, {"a"})
    poll(config, NOW + timedelta(hours=7), {"a"})
    cycle(config, NOW + timedelta(hours=7))
    poll(config, NOW + timedelta(hours=8), set())
    cycle(config, NOW + timedelta(hours=8))
    with session(config.database) as current:
        installation = deliveries.installation_id(current)
    ids = [message["Message-ID"] for message in smtp_server.messages]
    assert len(ids) == 2 and len(set(ids)) == 2
    assert all(installation in i and "story-0" not in i for i in ids)


# -- quarantine ------------------------------------------------------------------------------------

FAILURE = ItemFailure("triage", "article", "OverflowError", "date value out of range")


def quarantine(config, names: list[str], at) -> list[int]:
    ids = stored(config, names)
    with session(config.database) as current:
        for article_id in ids:
            for _ in range(QUARANTINE_AFTER):
                articles.record_failure(current, article_id, FAILURE, at)
    return ids


def told(config) -> list[tuple[str, str, list[str]]]:
    with session(config.database) as current:
        return [(n.title, n.text, sorted(d.channel for d in current.exec(select(Delivery).where(
                 Delivery.notice_id == n.id)))) for n in current.exec(select(Notice).where(
                 col(Notice.key).startswith("quarantine:")))]


def test_one_notice_names_the_articles_quarantined_since_the_last_on_every_health_channel(store):
    config = configured(store).model_copy(update={"health": configured(store).health.model_copy(
        update={"channels": ["log", "mail"]})})
    quarantine(config, ["first"], NOW - timedelta(hours=1))
    assert report_quarantined(config, NOW - timedelta(hours=1)) == 1  # an earlier cycle's: told then
    quarantine(config, ["poison", "second"], NOW)
    assert report_quarantined(config, NOW) == 2
    assert report_quarantined(config, NOW) == 0  # a second shard, or the next cycle: nothing new to tell
    (_, (title, text, channels)) = told(config)
    assert title == f"newswatch quarantined 2 articles that failed {QUARANTINE_AFTER} cycles in a row"
    assert "Idlib poison report" in text and "Idlib ceasefire holds" in text and "talks resume" not in text
    assert "triage: unexpected OverflowError (date value out of range)" in text and "errors requeue" in text
    assert channels == ["log", "mail"]


def test_a_requeued_article_quarantined_again_is_told_again(store):
    config = configured(store)
    (article,) = quarantine(config, ["poison"], NOW)
    assert report_quarantined(config, NOW) == 1
    with session(config.database) as current:
        articles.requeue(current, [article])
        for _ in range(QUARANTINE_AFTER):
            articles.record_failure(current, article, FAILURE, NOW + timedelta(hours=1))
    assert report_quarantined(config, NOW + timedelta(hours=1)) == 1
    assert len(told(config)) == 2
