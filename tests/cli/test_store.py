"""The store commands over a populated store: sources, stats, errors and errors requeue."""

from __future__ import annotations

from typer.testing import CliRunner

from cli import app
from newswatch.ingest import add_entries
from newswatch.models import FeedEntry
from newswatch.store import articles, session, sources
from newswatch.store.tables import Article, utcnow

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
        cycles.record(current, utcnow(), utcnow(), CycleSummary(sources=2, unexpected=7, quarantined=4))
    shown = invoke("--config", str(config), "stats").output
    assert shown.index("unexpected") < shown.index("quarantined")
    assert row(shown, "2", column=2)[-2:] == ["7", "4"]


def row(table: str, first: str, column: int = 0) -> list[str]:
    """The cells of the table row whose cell `column` is `first`."""
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in table.splitlines() if line.startswith("│")]
    (found,) = [cells for cells in rows if cells[column] == first]
    return found
