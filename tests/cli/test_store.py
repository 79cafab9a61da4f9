"""The store commands over a populated store: sources, stats, errors and errors requeue."""

from __future__ import annotations

from typer.testing import CliRunner

from cli import app
from connectors import fetch_feeds_sync
from newswatch import config as configuration
from newswatch.ingest import add_entries, ingest, plan
from newswatch.models import FeedEntry
from newswatch.store import articles, session, sources, upgrade
from newswatch.store.tables import Article, utcnow
from tests.support.site import Site

runner = CliRunner()


def invoke(*args: str):
    # wide enough that no table cell folds in the middle of a phrase the test looks for
    return runner.invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "250"})


def test_sources_shows_health(config):
    output = invoke("--config", str(config), "sources").output
    assert "broken" in output and "fetch: 404 not found" in output and "never" in output


def test_stats_lists_cycles(config):
    assert invoke("--config", str(config), "stats").exit_code == 0


def test_errors_lists_quarantined_articles_and_requeue_gives_them_back(config, tmp_path):
    from newswatch.contain import ItemFailure

    url = f"sqlite:///{tmp_path}/store.db"
    now = utcnow()
    failure = ItemFailure("triage", "article", "OverflowError", "date value out of range")
    with session(url) as current:
        source_id = sources.ids_by_name(current)["duvar"]
        (poison,) = add_entries(current, source_id, [FeedEntry(
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
    from flows.summary import CycleSummary
    from newswatch.store import cycles

    with session(f"sqlite:///{tmp_path}/store.db") as current:
        cycles.record(current, utcnow(), utcnow(), CycleSummary(sources_polled=2, unexpected=7, quarantined=4))
    shown = invoke("--config", str(config), "stats").output
    assert shown.index("unexpected") < shown.index("quarantined")
    assert row(shown, "2", column=2)[-2:] == ["7", "4"]


def row(table: str, first: str, column: int = 0) -> list[str]:
    """The cells of the table row whose cell `column` is `first`."""
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in table.splitlines() if line.startswith("│")]
    (found,) = [cells for cells in rows if cells[column] == first]
    return found


def test_a_discovered_feed_is_recorded_shown_polled_and_found_again_when_it_goes(tmp_path):
    rss = ('<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>{0} story</title>'
           '<link>{{base}}/{0}/1</link></item></channel></rss>')
    with Site() as site:
        site.set("/", '<html><head><link rel="alternate" type="application/rss+xml" href="/old.xml"></head></html>')
        site.set("/old.xml", rss.format("old"), "application/rss+xml")
        path = tmp_path / "newswatch.yaml"
        path.write_text(f"database: sqlite:///{tmp_path}/store.db\nfetch: {{allow_private_networks: true}}\n"
                        f"sources:\n  - {{name: home, url: \"{site.url('/')}\"}}\n", encoding="utf-8")
        config = configuration.load(path)
        upgrade(config.database)

        def cycle(now):
            requests = plan(config, now)
            counts = ingest(config, fetch_feeds_sync(config.fetch, requests), now)
            return requests, counts

        (first,), counts = cycle(utcnow())
        assert (first.feed_url, counts.new_articles) == (None, 1)
        assert row(invoke("--config", str(path), "sources").output, "home")[6] == site.url("/old.xml")

        (second,), counts = cycle(utcnow())
        assert (second.feed_url, counts.not_modified) == (site.url("/old.xml"), 1)
        assert site.requests[-1] == ("/old.xml", 304)

        del site.routes["/old.xml"]  # the feed moves; the page says where
        site.set("/", '<html><head><link rel="alternate" type="application/rss+xml" href="/new.xml"></head></html>')
        site.set("/new.xml", rss.format("new"), "application/rss+xml")
        (third,), counts = cycle(utcnow())
        assert counts.failed == 1
        shown = row(invoke("--config", str(path), "sources").output, "home")
        assert shown[4].startswith("fetch: 404 not found (the feed the page advertises") and shown[5:] == [
            "next cycle", ""]

        (fourth,), counts = cycle(utcnow())
        assert (fourth.feed_url, counts.new_articles, counts.failed) == (None, 1, 0)
        assert row(invoke("--config", str(path), "sources").output, "home")[6] == site.url("/new.xml")
