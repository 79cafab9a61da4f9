"""A configuration on a populated store, for the commands that show and act on it: two sources
(one failing with a 404), a Slack channel on the local Slack server, and one article of an Idlib
story matched and waiting in the outbox; and a plain one on an empty store (`watch_config`)."""

from __future__ import annotations

import textwrap

import pytest

from cli import output
from newswatch import ingest
from newswatch.config.schema import SourceConfig
from newswatch.ingest import add_entries, record_polls
from newswatch.models import Extracted, Failed, FeedEntry, Hit, PageText
from newswatch.store import db, deliveries, matches, session, sources
from newswatch.store.tables import Article, utcnow
from tests.support.stories import assign


@pytest.fixture(autouse=True)
def _tables_as_piped(monkeypatch):
    """Tables laid out as a pipe gets them, whatever COLUMNS the test process inherited
    (pytest-xdist's workers get 80)."""
    for console in (output.out, output.err):
        monkeypatch.setattr(console, "width", output.PIPED_WIDTH)


WATCH_CONFIG = """\
database: sqlite:///{tmp}/store.db
sources:
  - {{name: a, url: "https://a.example/rss"}}
channels:
  log: {{type: jsonl, path: "{tmp}/alerts.jsonl"}}
aliases:
  idlib: [Idlib, Idleb]
watchlists:
  - {{name: idlib, query: '@idlib OR "Sochi agreement"', channels: [log]}}
  - {{name: leaders, query: 'title:Erdoğan NEAR/10 Putin', channels: [log]}}
"""


@pytest.fixture
def watch_config(tmp_path):
    """Two watchlists, one of them through an alias, on an empty store: for the commands that
    need no populated one (check, run's usage, match)."""
    path = tmp_path / "newswatch.yaml"
    path.write_text(WATCH_CONFIG.format(tmp=tmp_path), encoding="utf-8")
    return path


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
        record_polls(current, [Failed("broken", "not_found", "fetch: 404 not found", status=404)], now)
        source_id = sources.ids_by_name(current)["duvar"]
        (article_id,) = add_entries(current, source_id, [FeedEntry(
            "duvar", "https://duvar.example/a", "g1", "Lavrov on Idlib", "summary")], now)
        ingest.attach_text(current, [PageText(article_id, Extracted(text="New talks on Idlib in Moscow."))])
        story_id, _ = assign(current, current.get(Article, article_id), ["url:a"], now)
        match_id = matches.add(current, story_id, article_id, "idlib", Hit(["Idlib"], [], "talks on Idlib"), now)
        deliveries.enqueue(current, match_id, "desk", now, False, now)
    return path
