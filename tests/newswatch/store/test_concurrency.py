"""Two worker processes triaging copies of the same stories at the same moment, on PostgreSQL:
one story and one alert per event, by database constraints and locks, not by luck."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from newswatch import ingest
from newswatch.config.schema import SourceConfig
from newswatch.ingest import add_entries
from newswatch.models import Extracted, FeedEntry, PageText
from newswatch.store import db, session, sources
from tests.conftest import ROOT
from tests.support.texts import distinct_text
from tests.support.updates import FIRST, UPDATE

pytestmark = pytest.mark.postgres

NOW = datetime(2020, 2, 24, 12, tzinfo=UTC)
EVENTS = 12

TRIAGE = """
import sys
from datetime import datetime
from newswatch import config
from newswatch.triage import triage
loaded = config.load(sys.argv[1])
sys.stdin.readline()  # start together
triage(loaded, datetime.fromisoformat(sys.argv[2]), batch=2)
"""


def story_text(event: int, outlet: int) -> str:
    """A text of its own per event, with the edits syndication makes per outlet."""
    edits = {0: "", 1: " Reporting by staff; editing by the desk.", 2: " Subscribe to our newsletter."}
    return distinct_text(event, "talks ceasefire") + edits[outlet]


def _empty(url: str) -> None:
    with db.engine(url).begin() as connection:
        connection.execute(sa.text("TRUNCATE deliveries, matches, story_keys, article_keys, articles, "
                                   "stories, sources, cycles RESTART IDENTITY CASCADE"))


def _triage_together(config, now: datetime, workers: int = 2) -> None:
    """`workers` processes triaging the store at the same moment; each must exit cleanly."""
    started = [subprocess.Popen([sys.executable, "-c", TRIAGE, str(config), now.isoformat()], cwd=ROOT,
                                stdin=subprocess.PIPE, text=True) for _ in range(workers)]
    for worker in started:
        worker.stdin.write("go\n")
        worker.stdin.flush()
    assert [worker.wait(timeout=120) for worker in started] == [0] * workers


def _config(tmp_path, database: str, outlets: list[SourceConfig], name: str, query: str, more: str = ""):
    """A config file: `outlets`, one watchlist alerting a jsonl channel, and `more` YAML lines."""
    config = tmp_path / "newswatch.yaml"
    listed = ", ".join(f"{{name: {s.name}, url: '{s.url}'" + (f", language: {s.language}" if s.language else "") + "}"
                       for s in outlets)
    config.write_text(textwrap.dedent(f"""\
        database: "{database}"
        sources: [{listed}]
        channels: {{log: {{type: jsonl, path: "{tmp_path}/alerts.jsonl"}}}}
        watchlists: [{{name: {name}, query: '{query}', channels: [log]}}]
        """) + more + "\n", encoding="utf-8")
    return config


@pytest.fixture
def workload(pg_database, tmp_path):
    """EVENTS events, each carried by 3 outlets with syndication edits, all extracted and waiting."""
    _empty(pg_database)
    outlets = [SourceConfig(name=f"outlet{n}", url=f"https://outlet{n}.example/rss") for n in range(3)]
    with session(pg_database) as current:
        sources.sync(current, outlets)
        ids = sources.ids_by_name(current)
        for event in range(EVENTS):  # copies of one event get adjacent ids: the workers collide
            for outlet in range(3):
                entry = FeedEntry(f"outlet{outlet}", f"https://outlet{outlet}.example/{event}", None,
                                  f"Talks on crisis {event} continue", "")
                (new,) = add_entries(current, ids[f"outlet{outlet}"], [entry], NOW)
                ingest.attach_text(current, [PageText(new, Extracted(text=story_text(event, outlet)))])
    return pg_database, _config(tmp_path, pg_database, outlets, "talks", "talks AND ceasefire")


def test_two_workers_make_one_story_and_one_alert_per_event(workload):
    url, config = workload
    _triage_together(config, NOW)
    with db.engine(url).connect() as connection:
        count = lambda sql: connection.execute(sa.text(sql)).scalar_one()  # noqa: E731
        assert count("SELECT count(*) FROM articles WHERE stage = 'done'") == 3 * EVENTS
        assert count("SELECT count(*) FROM stories") == EVENTS
        assert count("SELECT count(DISTINCT story_id) FROM articles") == EVENTS
        assert count("SELECT count(*) FROM matches") == EVENTS
        assert count("SELECT count(*) FROM deliveries") == EVENTS
        assert count("SELECT max(article_count) FROM stories") == 3


@pytest.fixture
def updates(pg_database, tmp_path):
    """A story alerted hours ago, and four outlets' reports of a significant update, waiting."""
    _empty(pg_database)
    outlets = [SourceConfig(name=f"outlet{n}", url=f"https://outlet{n}.example/rss", language="en") for n in range(5)]
    config = _config(tmp_path, pg_database, outlets, "idlib", "Idlib",
                     "stories: {follow_up: {enabled: true, after: 0s, max: 3}}")
    with session(pg_database) as current:
        sources.sync(current, outlets)
        ids = sources.ids_by_name(current)

    def waiting(outlet: int, article: tuple[str, str], at: datetime) -> None:
        with session(pg_database) as current:
            entry = FeedEntry(f"outlet{outlet}", f"https://outlet{outlet}.example/{outlet}", None, article[0], "",
                              published=at)
            (new,) = add_entries(current, ids[f"outlet{outlet}"], [entry], at)
            ingest.attach_text(current, [PageText(new, Extracted(text=article[1], language="en"))])

    waiting(0, FIRST, NOW - timedelta(hours=10))
    _triage_together(config, NOW - timedelta(hours=10), workers=1)
    for outlet in range(1, 5):
        waiting(outlet, (UPDATE[0], f"{UPDATE[1]}\nReporting by desk {outlet}."), NOW)
    return pg_database, config


def test_two_workers_send_one_follow_up_of_one_update(updates):
    url, config = updates
    _triage_together(config, NOW)
    with db.engine(url).connect() as connection:
        rows = connection.execute(sa.text("SELECT story_id, revision FROM matches ORDER BY revision")).all()
        stories = connection.execute(sa.text("SELECT count(DISTINCT story_id) FROM articles")).scalar_one()
        deliveries = connection.execute(sa.text("SELECT count(*) FROM deliveries")).scalar_one()
    assert stories == 1 and [revision for _, revision in rows] == [0, 1] and deliveries == 2
