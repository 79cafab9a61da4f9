"""`newswatch alerts list|retry|test` over the outbox: failures listed and retried (a follow-up
told from a first alert, notices listed like alerts, dead ones only with --dead, digests kept on
time), and a test message to every channel type."""

from __future__ import annotations

import textwrap

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from cli import app
from newswatch.models import Hit
from newswatch.store import db, deliveries, matches, session
from newswatch.store.tables import Article, utcnow
from tests.newswatch.outbox.test_drain import add_stories, statuses
from tests.support.slack_server import Reply

runner = CliRunner()


def invoke(*args: str):
    # wide enough that no table cell folds in the middle of a phrase the test looks for
    return runner.invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "250"})


def test_a_slack_outage_shows_in_alerts_list_and_retry_sends_it_after_recovery(config, slack):
    slack.respond(Reply.server_error(503))
    assert invoke("--config", str(config), "alerts", "retry").exit_code == 1
    listed = invoke("--config", str(config), "alerts", "list")
    assert "failed" in listed.output and "slack: 503" in listed.output
    assert slack.url not in listed.output  # the webhook URL is a secret
    retried = invoke("--config", str(config), "alerts", "retry")
    assert retried.exit_code == 0 and "sent=1" in retried.output
    assert len(slack.payloads) == 2 and "0 deliveries" in invoke("--config", str(config), "alerts", "list").output


def test_alerts_list_tells_a_follow_up_from_a_first_alert(config, tmp_path):
    url = f"sqlite:///{tmp_path}/store.db"
    with session(url) as current:
        article = current.exec(select(Article)).first()
        follow_up = matches.add(current, article.story_id, article.id, "idlib", Hit(["Idlib"], [], "more"), utcnow(),
                                revision=1)
        deliveries.enqueue(current, follow_up, "desk", utcnow(), False, utcnow())
    listed = invoke("--config", str(config), "alerts", "list").output
    assert f"{article.story_id} (update 1)" in listed and "2 deliveries" in listed


def test_a_revoked_webhook_is_dead_and_only_retried_with_dead(config, slack):
    slack.respond(Reply.error(404, "no_service"))
    invoke("--config", str(config), "alerts", "retry")
    assert "dead" in invoke("--config", str(config), "alerts", "list").output
    assert "sent=0" in invoke("--config", str(config), "alerts", "retry").output
    assert "sent=1" in invoke("--config", str(config), "alerts", "retry", "--dead").output


def test_alerts_test_sends_to_the_channel_and_reports_failures(config, slack):
    assert invoke("--config", str(config), "alerts", "test", "desk").exit_code == 0
    assert "test alert" in str(slack.payloads[-1])
    slack.respond(Reply.error(403, "invalid_token"))
    failed = invoke("--config", str(config), "alerts", "test", "desk")
    assert failed.exit_code == 1 and "invalid_token" in failed.output
    assert invoke("--config", str(config), "alerts", "test", "nope").exit_code == 2


def test_alerts_test_works_for_every_channel_type(tmp_path, slack, smtp_server):
    smtp = smtp_server
    path = tmp_path / "all.yaml"
    path.write_text(textwrap.dedent(f"""\
        database: sqlite:///{tmp_path}/all.db
        channels:
          console: {{type: console}}
          jsonl: {{type: jsonl, path: "{tmp_path}/alerts.jsonl"}}
          slack: {{type: slack, webhook_url: "{slack.url}"}}
          email: {{type: email, smtp_host: 127.0.0.1, smtp_port: {smtp.port}, starttls: false,
                   from: nw@example.org, to: [desk@example.org]}}
          webhook: {{type: webhook, url: "{slack.base_url}/hook"}}
          atom: {{type: atom, directory: "{tmp_path}/atom"}}
          apprise: {{type: apprise, urls: ["json://127.0.0.1:{slack.port}/apprise"]}}
        """), encoding="utf-8")
    for channel in ("console", "jsonl", "slack", "email", "webhook", "atom", "apprise"):
        result = invoke("--config", str(path), "alerts", "test", channel)
        assert result.exit_code == 0, (channel, result.output)
    assert len(smtp.messages) == 1
    assert (tmp_path / "alerts.jsonl").read_text().count("\n") == 1
    assert (tmp_path / "atom" / "newswatch-test.atom").exists()
    assert sorted(r.path for r in slack.requests) == sorted([slack.url.removeprefix(slack.base_url), "/hook",
                                                             "/apprise"])


@pytest.fixture
def built_in_templates_after():
    """The template folder is process-wide: put the built-in one back for the tests after this."""
    from alerts import set_template_dir

    yield
    set_template_dir(None)


def test_templates_from_the_config_replace_the_built_in_ones(tmp_path, smtp_server, built_in_templates_after):
    smtp = smtp_server
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "email.txt").write_text("Our own template: {{ alerts[0].title }}\n")
    path = tmp_path / "mail.yaml"
    path.write_text(textwrap.dedent(f"""\
        database: sqlite:///{tmp_path}/mail.db
        templates: "{tmp_path}/templates"
        channels:
          email: {{type: email, smtp_host: 127.0.0.1, smtp_port: {smtp.port}, starttls: false,
                   from: nw@example.org, to: [desk@example.org]}}
        """), encoding="utf-8")
    assert invoke("--config", str(path), "alerts", "test", "email").exit_code == 0
    (message,) = smtp.messages
    assert "Our own template: newswatch test alert" in message.get_body(("plain",)).get_content()


@pytest.fixture
def digest_config(tmp_path, slack_server):
    """A watchlist with a daily digest, on an empty store."""
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


def test_a_failed_notice_shows_in_alerts_list_and_retry_sends_it(digest_config, slack_server, tmp_path):
    with session(f"sqlite:///{tmp_path}/store.db") as current:
        deliveries.enqueue_notice(current, "quarantine:7", "3 articles quarantined", "See newswatch errors.",
                                  ["desk"], utcnow())
    slack_server.respond(Reply.server_error(503))
    assert invoke("--config", str(digest_config), "alerts", "retry").exit_code == 1
    listed = invoke("--config", str(digest_config), "alerts", "list").output
    assert "quarantine" in listed and "notice: 3 articles quarantined" in listed and "slack: 503" in listed
    assert "sent=1" in invoke("--config", str(digest_config), "alerts", "retry").output
    assert "3 articles quarantined" in slack_server.payloads[-1]["text"]


def test_alerts_retry_sends_a_digest_before_its_time_only_with_digests(digest_config, slack_server):
    from newswatch import config as configuration

    loaded = configuration.load(digest_config)
    add_stories(loaded, 2, utcnow())
    assert "sent=0" in invoke("--config", str(digest_config), "alerts", "retry").output
    assert slack_server.payloads == [] and statuses(loaded) == {"desk": ["pending", "pending"]}
    assert "sent=2" in invoke("--config", str(digest_config), "alerts", "retry", "--digests").output
    assert len(slack_server.payloads) == 1 and "2 stories" in str(slack_server.payloads[0])
