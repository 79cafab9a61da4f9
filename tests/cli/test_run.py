"""The CLI contract for the commands that run cycles: check, usage errors (exit 2), the demo end to
end (exit 0, and nothing new the second time), and when `run` starts its workers early."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from cli import app
from cli.run import _expects_pages
from flows.runtime import free_port
from flows.summary import CycleSummary
from newswatch import config as configuration
from newswatch.store import cycles, session, upgrade
from tests.cli.conftest import WATCH_CONFIG
from tests.conftest import SEEDS
from tests.support.site import Site

runner = CliRunner()

@pytest.fixture
def config(watch_config):
    """Two watchlists on an empty store (the run commands' own config)."""
    return watch_config


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_check_accepts_a_good_config_before_or_after_the_command(config):
    assert invoke("--config", str(config), "check").exit_code == 0
    assert invoke("check", "--config", str(config)).exit_code == 0


def test_check_names_the_line_of_a_typo(config):
    config.write_text(config.read_text().replace("channels: [log]}", "chanels: [log]}", 1))
    result = invoke("--config", str(config), "check")
    assert result.exit_code == 2
    assert f"{config}:9: watchlists[0].chanels: unknown key" in result.output


def test_check_shows_a_caret_under_a_query_error(config):
    config.write_text(config.read_text().replace("'@idlib OR \"Sochi agreement\"'", "'Idlib AND (Sochi'"))
    result = invoke("--config", str(config), "check")
    assert result.exit_code == 2 and "watchlist 'idlib'" in result.output and "^" in result.output


@pytest.mark.parametrize("args", [["run"], ["nonsense"], ["match"]], ids=["run-without-once", "unknown", "no-files"])
def test_usage_errors_exit_2(config, args):
    assert invoke("--config", str(config), *args).exit_code == 2


def demo(cwd, port: str) -> subprocess.CompletedProcess:
    """`newswatch demo` as a user runs it, in its own process, on the session's Prefect server."""
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "COLUMNS": "100"}
    return subprocess.run([sys.executable, "-m", "cli", "demo", "--seeds", str(SEEDS), "--port", port],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=180)


@pytest.mark.prefect
@pytest.mark.slow
def test_the_demo_prints_the_idlib_alerts_and_a_second_run_prints_none(prefect_server, tmp_path):
    port = str(free_port())
    first = demo(tmp_path, port)
    assert first.returncode == 0, first.stderr
    assert "Lavrov" in first.stdout and "إدلب" in first.stdout
    alerts = [json.loads(line) for line in (tmp_path / "data/demo/alerts.jsonl").read_text().splitlines()]
    assert {w["name"] for a in alerts for w in a["watchlists"]} == {"idlib", "erdogan-putin"}
    assert len({a["story_id"] for a in alerts}) == len(alerts)  # one message a story, naming its watchlists
    second = demo(tmp_path, port)
    assert second.returncode == 0 and "Lavrov" not in second.stdout and "no new alerts" in second.stdout
    assert len((tmp_path / "data/demo/alerts.jsonl").read_text().splitlines()) == len(alerts)


@pytest.mark.parametrize(("last_new_articles", "expected"), [(None, True), (0, False), (7, False), (8, False)],
                         ids=["first-cycle", "nothing-new", "few-new", "many-new"])
def test_run_starts_the_workers_early_only_for_a_first_cycle(config, last_new_articles, expected):
    """A later cycle may find every feed unchanged: it starts them at its first changed feed."""
    loaded = configuration.load(config)
    upgrade(loaded.database)
    if last_new_articles is not None:
        with session(loaded.database) as current:
            now = datetime.now(UTC)
            cycles.record(current, now, now, CycleSummary(new_articles=last_new_articles))
    assert _expects_pages(loaded) is expected


def test_run_starts_the_workers_early_for_a_new_store_and_never_without_sources(tmp_path):
    path = tmp_path / "newswatch.yaml"
    path.write_text(WATCH_CONFIG.format(tmp=tmp_path / "new"), encoding="utf-8")
    assert _expects_pages(configuration.load(path)) is True  # no store yet: a first cycle
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    path.write_text(WATCH_CONFIG.format(tmp=tmp_path / "a-file"), encoding="utf-8")
    assert _expects_pages(configuration.load(path)) is True  # no store can be made: the cycle says why
    path.write_text(f"database: sqlite:///{tmp_path}/store.db\n", encoding="utf-8")
    assert _expects_pages(configuration.load(path)) is False


RESOLVED = """\
database: sqlite:///{tmp}/store.db
fetch: {{allow_private_networks: true, timeout: 2s}}
sources:
  - {{name: plain, url: "{base}/feed.xml"}}
  - {{name: home, url: "{base}/"}}
  - {{name: news, url: "{base}/sitemap.xml", type: sitemap}}
  - {{name: detected, url: "{base}/news.xml"}}
  - {{name: disabled, url: "{base}/disabled", enabled: false}}
"""
SITEMAP = ('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:n="http://www.google.com/schemas/'
           'sitemap-news/0.9"><url><loc>{base}/a</loc><n:news><n:title>A</n:title>'
           '<n:publication_date>2024-05-02</n:publication_date></n:news></url></urlset>')


def test_check_resolve_says_what_each_sources_url_is(tmp_path):
    with Site() as site:
        site.set("/feed.xml", '<rss version="2.0"><channel><item><title>One</title></item></channel></rss>',
                 "application/rss+xml")
        site.set("/", '<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml"></head></html>')
        site.set("/sitemap.xml", '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                 '<sitemap><loc>{base}/news.xml</loc></sitemap><sitemap><loc>{base}/none.xml</loc></sitemap>'
                 "</sitemapindex>", "application/xml")
        site.set("/news.xml", SITEMAP, "application/xml")
        path = tmp_path / "newswatch.yaml"
        path.write_text(RESOLVED.format(tmp=tmp_path, base=site.base_url), encoding="utf-8")
        result = invoke("--config", str(path), "check", "--resolve")
        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[1:] == [
            "plain: feed as is (1 entries)",
            f"home: feed discovered at {site.url('/feed.xml')} (1 entries)",
            "news: sitemap as is (1 articles)",
            f"news:   sitemap {site.url('/none.xml')}: fetch: 404 not found",
            "detected: sitemap as is (1 articles)"]

        site.set("/", "<html><head><title>no feed here</title></head></html>")
        result = invoke("--config", str(path), "check", "--resolve")
        assert result.exit_code == 1
        assert 'home: error: parse: no feed advertised on the page (no <link rel="alternate"> to RSS, Atom or ' \
               "JSON Feed)" in result.output
        assert all(path != "/disabled" for path, _ in site.requests)


DEMO_RUNS = 20


def quiet_demos(cwd, runs: int) -> list[subprocess.CompletedProcess]:
    """`runs` demos in `cwd` without a Prefect server (each its own temporary one, as a new user
    has), every other one from a fresh store, so that full and unchanged cycles both end."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    env.update(COLUMNS="100", PREFECT_HOME=str(cwd / "prefect"))
    cwd.mkdir()
    port = str(free_port())  # one a folder: its feeds' addresses stay the same from run to run
    return [subprocess.run([sys.executable, "-m", "cli", "demo", "--seeds", str(SEEDS), "--port", port,
                            *(["--reset"] if run % 2 == 0 else [])],
                           cwd=cwd, env=env, capture_output=True, text=True, timeout=300) for run in range(runs)]


@pytest.mark.slow
@pytest.mark.timeout(900)  # 20 processes, each with its own Prefect server: CPU, shared with the other tests
def test_the_demo_prints_only_its_own_output_twenty_times_in_a_row(tmp_path):
    """Issue 19: about one demo in four ended with ~150 lines of Prefect tracebacks ("Error flushing
    1 events", CancelledError) from its temporary server's shutdown, after a cycle that succeeded.
    Two at a time, in two folders of their own: the two cores."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        streams = pool.map(quiet_demos, [tmp_path / "a", tmp_path / "b"], [DEMO_RUNS // 2] * 2)
        runs = [run for stream in streams for run in stream]
    assert len(runs) == DEMO_RUNS
    for run in runs:
        output = run.stdout + run.stderr
        assert run.returncode == 0, output
        assert "Traceback" not in output and "ERROR" not in output, output
        assert "delivery_failures=0" in output  # the cycle's own summary line
