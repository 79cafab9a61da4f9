"""`newswatch alerts list|retry` over the outbox: notices listed like alerts, digests kept on time."""

from __future__ import annotations

import textwrap

import pytest
from typer.testing import CliRunner

from newswatch.cli import app
from newswatch.store import db, deliveries, session
from newswatch.store.tables import utcnow
from tests.alerts.test_deliver import add_stories, statuses
from tests.support.slack_server import Reply

runner = CliRunner()


@pytest.fixture
def config(tmp_path, slack_server):
    path = tmp_path / "newswatch.yaml"
    path.write_text(textwrap.dedent(f"""\
        database: sqlite:///{tmp_path}/store.db
        sources: [{{name: wire, url: "https://wire.example/rss"}}]
        channels:
          desk: {{type: slack, webhook_url: "{slack_server.url}"}}
        watchlists:
          - {{name: idlib, query: Idlib, channels: [desk], delivery: {{digest: daily, at: "23:59"}}}}
        """), encoding="utf-8")
    db.upgrade(f"sqlite:///{tmp_path}/store.db")
    return path


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "250"})


def test_a_failed_notice_shows_in_alerts_list_and_retry_sends_it(config, slack_server, tmp_path):
    with session(f"sqlite:///{tmp_path}/store.db") as current:
        deliveries.enqueue_notice(current, "quarantine:7", "3 articles quarantined", "See newswatch errors.",
                                  ["desk"], utcnow())
    slack_server.respond(Reply.server_error(503))
    assert invoke("--config", str(config), "alerts", "retry").exit_code == 1
    listed = invoke("--config", str(config), "alerts", "list").output
    assert "quarantine" in listed and "notice: 3 articles quarantined" in listed and "slack: 503" in listed
    assert "sent=1" in invoke("--config", str(config), "alerts", "retry").output
    assert "3 articles quarantined" in slack_server.payloads[-1]["text"]


def test_alerts_retry_sends_a_digest_before_its_time_only_with_digests(config, slack_server):
    from newswatch import config as configuration

    loaded = configuration.load(config)
    add_stories(loaded, 2, utcnow())
    assert "sent=0" in invoke("--config", str(config), "alerts", "retry").output
    assert slack_server.payloads == [] and statuses(loaded) == {"desk": ["pending", "pending"]}
    assert "sent=2" in invoke("--config", str(config), "alerts", "retry", "--digests").output
    assert len(slack_server.payloads) == 1 and "2 stories" in str(slack_server.payloads[0])
