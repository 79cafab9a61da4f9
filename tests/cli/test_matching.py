"""Watchlists tried without a cycle: `match` prints one JSON line per file (a contract) and exits 1
when a file cannot be read; `backtest` runs a watchlist or a query over the stored articles."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cli import app
from tests.conftest import SEEDS

runner = CliRunner()

def invoke(*args: str):
    # wide enough that no table cell folds in the middle of a phrase the test looks for
    return runner.invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "250"})


def test_match_prints_one_json_line_per_file(watch_config, tmp_path):
    text = tmp_path / "note.txt"
    text.write_text("Erdoğan and Putin meet\n\nTalks on İdlib and the Sochi-agreement went on.", encoding="utf-8")
    result = invoke("--config", str(watch_config), "match", str(SEEDS / "pages/duvar/lavrov-idlib-talks.html"),
                    str(SEEDS / "pages/duvar/central-bank-cuts-policy-rate.html"), str(text))
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"].rsplit("/", 1)[-1] for line in lines] == [
        "lavrov-idlib-talks.html", "central-bank-cuts-policy-rate.html", "note.txt"]
    seed = {m["watchlist"]: m for m in lines[0]["matches"]}
    assert set(seed) == {"idlib"} and "Idlib" in seed["idlib"]["terms"] and seed["idlib"]["snippet"]
    assert lines[1]["matches"] == []
    assert {m["watchlist"] for m in lines[2]["matches"]} == {"idlib", "leaders"}


def test_match_of_a_missing_file_fails_with_1(watch_config, tmp_path):
    assert invoke("--config", str(watch_config), "match", str(tmp_path / "nope.html")).exit_code == 1


def test_backtest_runs_a_watchlist_or_a_query_over_stored_articles(config):
    found = invoke("--config", str(config), "backtest", "idlib")
    assert found.exit_code == 0 and "Lavrov on Idlib" in found.output and "1 of 1" in found.output
    assert "0 of 1" in invoke("--config", str(config), "backtest", "--query", "Ankara").output
    assert invoke("--config", str(config), "backtest", "--query", '"unclosed').exit_code == 2
    assert invoke("--config", str(config), "backtest", "nope").exit_code == 2
