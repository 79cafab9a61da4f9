"""Source-health alerts end to end: store state → one alert on a local Slack endpoint, once."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta

import pytest

from alerts.health import report_health
from newswatch import config as configuration
from newswatch.models import Failed, Fetched
from newswatch.store import session, sources, upgrade
from tests.support.slack_server import Reply

NOW = datetime(2020, 2, 24, 12, tzinfo=UTC)


@pytest.fixture
def slack(slack_server):
    return slack_server


@pytest.fixture
def config(tmp_path, slack):
    path = tmp_path / "newswatch.yaml"
    path.write_text(textwrap.dedent(f"""\
        database: sqlite:///{tmp_path}/store.db
        health: {{channels: [ops], after: 6h}}
        sources:
          - {{name: a, url: "https://a.example/rss"}}
          - {{name: b, url: "https://b.example/rss"}}
        channels:
          ops: {{type: slack, webhook_url: "{slack.url}"}}
        """), encoding="utf-8")
    loaded = configuration.load(path)
    upgrade(loaded.database)
    with session(loaded.database) as current:
        sources.sync(current, loaded.sources)
    return loaded


def poll(config, now, failing: set[str]) -> None:
    with session(config.database) as current:
        sources.record(current, [Failed(n, "http", "fetch: 500 server error") if n in failing
                                 else Fetched(n, []) for n in ("a", "b")], now)


def test_one_alert_after_six_hours_of_failure_and_one_on_recovery(config, slack):
    for hour in range(0, 8):
        poll(config, NOW + timedelta(hours=hour), {"a"})
        report_health(config, NOW + timedelta(hours=hour))
    assert len(slack.payloads) == 1 and "a" in slack.payloads[0]["text"]
    poll(config, NOW + timedelta(hours=9), set())
    report_health(config, NOW + timedelta(hours=9))
    report_health(config, NOW + timedelta(hours=10))
    assert len(slack.payloads) == 2 and "working again" in slack.payloads[1]["text"]


def test_every_source_failing_is_one_network_alert(config, slack):
    for hour in range(0, 8):
        poll(config, NOW + timedelta(hours=hour), {"a", "b"})
        report_health(config, NOW + timedelta(hours=hour))
    assert len(slack.payloads) == 1 and "Network down?" in slack.payloads[0]["text"]


def test_a_failed_health_alert_is_tried_again_next_cycle(config, slack):
    slack.respond(Reply.server_error(500))
    poll(config, NOW, {"a"})
    poll(config, NOW + timedelta(hours=7), {"a"})
    report_health(config, NOW + timedelta(hours=7))
    report_health(config, NOW + timedelta(hours=7, minutes=10))
    assert len(slack.requests) == 2 and "failing" in slack.payloads[1]["text"]
