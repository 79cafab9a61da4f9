"""Operator commands over a populated store: alerts list/retry/test, sources, stats, backtest."""

from __future__ import annotations

import textwrap

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from newswatch.cli import app
from newswatch.config.schema import SourceConfig
from newswatch.models import Failed, FeedEntry, Hit
from newswatch.store import articles, db, deliveries, matches, session, sources
from newswatch.store.articles import PageText
from newswatch.store.tables import Article, utcnow
from newswatch.models import Extracted
from tests.support.slack_server import Reply
from tests.support.stories import assign

runner = CliRunner()


@pytest.fixture
def slack(slack_server):
    return slack_server


@pytest.fixture
def config(tmp_path, slack):
    path = tmp_path / "newswatch.yaml"
    path.write_text(textwrap.dedent(f"""\
        database: sqlite:///{tmp_path}/store.db
        sources:
          - {{name: duvar, url: "https://duvar.example/rss"}}
          - {{name: broken, url: "https://broken.example/rss"}}
        channels:
          desk: {{type: slack, webhook_url: "{slack.url}"}}
        watchlists:
          - {{name: idlib, query: 'Idlib NEAR/5 talks', channels: [desk]}}
        """), encoding="utf-8")
    url = f"sqlite:///{tmp_path}/store.db"
    db.upgrade(url)
    now = utcnow()
    with session(url) as current:
        sources.sync(current, [SourceConfig(name="duvar", url="https://duvar.example/rss"),
                               SourceConfig(name="broken", url="https://broken.example/rss")])
        sources.record(current, [Failed("broken", "not_found", "fetch: 404 not found", status=404)], now)
        source_id = sources.ids_by_name(current)["duvar"]
        (article_id,) = articles.add_new(current, source_id, [FeedEntry(
            "duvar", "https://duvar.example/a", "g1", "Lavrov on Idlib", "summary")], now)
        articles.attach_text(current, [PageText(article_id, Extracted(text="New talks on Idlib in Moscow."))])
        story_id, _ = assign(current, current.get(Article, article_id), ["url:a"], now)
        match_id = matches.add(current, story_id, article_id, "idlib", Hit(["Idlib"], [], "talks on Idlib"), now)
        deliveries.enqueue(current, match_id, "desk", now, False, now)
    return path


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


def test_sources_shows_health(config):
    output = invoke("--config", str(config), "sources").output
    assert "broken" in output and "fetch: 404 not found" in output and "never" in output


def test_backtest_runs_a_watchlist_or_a_query_over_stored_articles(config):
    found = invoke("--config", str(config), "backtest", "idlib")
    assert found.exit_code == 0 and "Lavrov on Idlib" in found.output and "1 of 1" in found.output
    assert "0 of 1" in invoke("--config", str(config), "backtest", "--query", "Ankara").output
    assert invoke("--config", str(config), "backtest", "--query", '"unclosed').exit_code == 2
    assert invoke("--config", str(config), "backtest", "nope").exit_code == 2


def test_stats_lists_cycles(config):
    assert invoke("--config", str(config), "stats").exit_code == 0


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


def test_errors_lists_quarantined_articles_and_requeue_gives_them_back(config, tmp_path):
    from newswatch.contain import ItemFailure

    url = f"sqlite:///{tmp_path}/store.db"
    now = utcnow()
    failure = ItemFailure("triage", "article", "OverflowError", "date value out of range")
    with session(url) as current:
        source_id = sources.ids_by_name(current)["duvar"]
        (poison,) = articles.add_new(current, source_id, [FeedEntry(
            "duvar", "https://duvar.example/poison", "g2", "Poison", "summary")], now)
        for _ in range(articles.QUARANTINE_AFTER):
            articles.record_failure(current, poison, failure, now)
    listed = invoke("--config", str(config), "errors")
    assert listed.exit_code == 0
    assert "quarantined" in listed.output and "triage: unexpected OverflowError (date value out of range)" in listed.output
    assert "1 quarantined, 0 failing" in listed.output
    assert "https://duvar.example/poison" in listed.output
    # the source counts its contained errors: source, last success, failures, unexpected, ...
    assert row(invoke("--config", str(config), "sources").output, "duvar")[3] == "3"
    requeued = invoke("--config", str(config), "errors", "requeue", str(poison))
    assert "1 articles requeued" in requeued.output
    with session(url) as current:
        assert (current.get(Article, poison).stage, current.get(Article, poison).failures) == ("fetched", 0)
    assert "0 quarantined, 0 failing" in invoke("--config", str(config), "errors").output


def test_stats_shows_each_cycles_unexpected_failures_and_quarantines(config, tmp_path):
    from flows.monitor import CycleSummary
    from newswatch.store import cycles

    with session(f"sqlite:///{tmp_path}/store.db") as current:
        cycles.record(current, utcnow(), utcnow(), CycleSummary(sources=2, unexpected=7, quarantined=4))
    shown = invoke("--config", str(config), "stats").output
    assert shown.index("unexpected") < shown.index("quarantined")
    assert row(shown, "2", column=2)[-2:] == ["7", "4"]


def row(table: str, first: str, column: int = 0) -> list[str]:
    """The cells of the table row whose cell `column` is `first`."""
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in table.splitlines() if line.startswith("│")]
    (found,) = [cells for cells in rows if cells[column] == first]
    return found
