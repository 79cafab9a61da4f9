"""Subscriptions into the sources YAML: names, duplicates, and a file's existing text kept byte for
byte; and the configured sources back out, through OPML and in again unchanged."""

from __future__ import annotations

import os
import shutil
import stat
from datetime import UTC, datetime

import pytest
import yaml

from connectors.opml import parse_opml, write_opml
from newswatch import config
from newswatch.config.importing import (
    MergeError,
    Subscription,
    merged_text,
    plan_import,
    source_name,
    subscriptions,
    write_atomic,
)
from newswatch.config.schema import SourceConfig
from tests.conftest import ROOT
from tests.connectors.test_opml import REAL

ENV = {"SLACK_WEBHOOK_URL": "https://hooks.example/T/B/secret", "SMTP_HOST": "smtp.example.org"}


@pytest.mark.parametrize(("title", "url", "name"), [
    ("Daring Fireball", "http://x/", "daring-fireball"),
    ("iMore", "http://x/", "iMore"),  # already a valid name: kept as written
    ("ranchero.com", "http://x/", "ranchero.com"),
    ("Ellen's Blog", "http://x/", "ellens-blog"),
    ("don’t panic", "http://x/", "dont-panic"),
    ("chat & code", "http://x/", "chat-code"),
    ("Swift Programming — Medium", "http://x/", "swift-programming-medium"),
    ("Learn Swift ↯", "http://x/", "learn-swift"),
    ("Çağ Haber: Son Dakika!", "http://x/", "cag-haber-son-dakika"),
    ("  -- Dashes . and dots --  ", "http://x/", "dashes-and-dots"),
    ("", "https://www.example.org/feed/", "example.org"),
    ("", "https://medium.com/feed/@tessr", "medium.com-tessr"),
    ("", "http://feeds.feedburner.com/BadYewex", "feeds.feedburner.com-badyewex"),
    ("Новости", "https://lenta.ru/rss/news", "lenta.ru-news"),
    ("إدلب", "https://example.com/", "example.com"),
    ("x" * 250, "http://x/", "x" * 60),
    ("word " * 30, "http://x/", "-".join(["word"] * 12)),
], ids=["words", "valid-kept", "dotted", "apostrophe", "curly-apostrophe", "ampersand", "dash", "symbol",
        "turkish", "punctuation", "no-title-host", "no-title-path", "feedburner", "cyrillic", "arabic",
        "long-word", "long-title"])
def test_names_from_titles(title, url, name):
    assert source_name(title, url) == name
    assert SourceConfig(name=name, url="https://a.example/")  # valid for the config's name rule


def test_names_are_unique_case_aside():
    taken = {"daring-fireball", "daring-fireball-2", "imore"}
    assert source_name("Daring Fireball", "http://x/", taken) == "daring-fireball-3"
    assert source_name("iMore", "http://x/", taken) == "iMore-2"


def test_duplicates_by_canonical_url_are_skipped_and_said():
    existing = [SourceConfig(name="duvar", url="https://www.duvarenglish.com/rss")]
    feeds = [
        Subscription(url="https://WWW.duvarenglish.com:443/rss#top", title="Duvar again", line=3),
        Subscription(url="https://a.example/feed?utm_source=reader", title="A", line=4),
        Subscription(url="https://a.example/feed", title="A copy", line=5),
        Subscription(url="http://b.example", title="Duvar", line=6),
        Subscription(url="http://b.example/", title="B slash", line=7),
        Subscription(url="https://b.example/", title="B https", line=8),  # another scheme: another feed
    ]
    plan = plan_import(feeds, existing)
    assert [(a.name, a.subscription.line) for a in plan.added] == [("A", 4), ("Duvar-2", 6), ("b-https", 8)]
    assert [(s.subscription.line, s.reason) for s in plan.skipped] == [
        (3, "already a source: duvar"), (5, "the same feed as A (line 4)"), (7, "the same feed as Duvar-2 (line 6)")]


def test_entries_carry_language_category_and_disabled():
    plan = plan_import([Subscription(url="https://a.example/", title="A feed", language="tr",
                                     category=("News", "Turkey"), enabled=False)], [])
    assert plan.added[0].entry() == {"name": "a-feed", "url": "https://a.example/", "language": "tr",
                                     "category": "News/Turkey", "enabled": False}


NEW = [{"name": "new-one", "url": "https://new.example/rss"}, {"name": "two", "url": "https://two.example/?a=1&b=2"}]

MIDDLE = """\
# my config
database: sqlite:///x.db   # the store

sources:
  - {name: duvar, url: "https://duvar.example/rss", language: en}   # trailing comment
  # - {name: old, url: "https://old.example/rss"}   (commented out)

channels:
  screen: {type: console}
"""
BLOCK = """\
sources:
- name: duvar
  url: https://duvar.example/rss
  language: en
# the end
"""


@pytest.mark.parametrize(("text", "added_at"), [
    (MIDDLE, MIDDLE.index("  # - {name: old")),
    (BLOCK, BLOCK.index("# the end")),
    ("database: x\n", len("database: x\n")),
    ("database: x", len("database: x")),
    ("sources:\nchannels: {}\n", len("sources:\n")),
    ("sources: ~   # none yet\nchannels: {}\n", None),
    ("sources: []\n", None),
    ("sources: [{name: a, url: 'https://a.example/'},]\n", None),
    ("sources:\r\n  - {name: a, url: 'https://a.example/'}\r\n", None),
    ("# only a comment\n", len("# only a comment\n")),
], ids=["middle-with-comments", "block-style", "no-sources-key", "no-final-newline", "empty-value", "null",
        "empty-flow", "flow-trailing-comma", "crlf", "comments-only"])
def test_new_entries_are_appended_and_the_rest_kept_byte_for_byte(text, added_at):
    merged = merged_text(text, NEW)
    data = yaml.safe_load(merged)
    old = (yaml.safe_load(text) or {}).get("sources") or []
    assert data["sources"] == old + NEW
    if added_at is not None:
        assert merged.startswith(text[:added_at]) and merged.endswith(text[added_at:])
    if "\r\n" in text:
        assert "\n" not in merged.replace("\r\n", "")


def test_block_lists_get_block_entries_and_flow_lists_flow_ones():
    assert "\n- name: new-one\n  url: https://new.example/rss\n" in merged_text(BLOCK, NEW)
    assert "  - {name: new-one, url: 'https://new.example/rss'}\n" in merged_text(MIDDLE, NEW)


def test_a_new_file_gets_a_header_and_a_list():
    merged = merged_text(None, NEW)
    assert merged.startswith("# Sources") and yaml.safe_load(merged) == {"sources": NEW}


def test_dollar_braces_in_a_value_stay_literal_through_the_loader(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text(merged_text(None, [{"name": "odd", "url": "https://a.example/${HOME}/rss"}]))
    assert config.load(path, env={}).sources[0].url == "https://a.example/${HOME}/rss"


@pytest.mark.parametrize(("text", "message"), [
    ("- a\n- b\n", "the top level is not a mapping"),
    ("sources: {a: 1}\n", "`sources` is not a list"),
    ("sources: [\n", "not valid YAML"),
    ("a: 1\n---\nb: 2\n", "not valid YAML"),
], ids=["list", "mapping", "broken", "two-documents"])
def test_files_that_cannot_take_entries_are_refused(text, message):
    with pytest.raises(MergeError, match=message):
        merged_text(text, NEW)


def test_write_atomic_replaces_whole_and_keeps_the_mode(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("old\n")
    os.chmod(path, 0o640)
    write_atomic(path, "new\n")
    assert path.read_text() == "new\n" and stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["sources.yaml"]  # no temporary file left


def test_a_real_list_merged_into_the_example_config_loads(tmp_path):
    if not (REAL / "Subs.opml").is_file():
        pytest.fail(f"the real OPML files are missing: expected Subs.opml in {REAL}")
    folder = tmp_path / "config"
    shutil.copytree(ROOT / "config", folder)
    before = (folder / "newswatch.yaml").read_bytes()
    existing = config.load(folder, env=ENV).sources
    plan = plan_import(parse_opml((REAL / "Subs.opml").read_bytes()).feeds, existing)
    assert len(plan.added) == 206 and len(plan.skipped) == 1  # Katie Floyd twice, once with a slash
    write_atomic(folder / "sources.yaml", merged_text(None, [a.entry() for a in plan.added]))
    loaded = config.load(folder, env=ENV)
    assert len(loaded.sources) == len(existing) + 206
    assert loaded.source("ios-unit-testing").category == "Programming"
    assert (folder / "newswatch.yaml").read_bytes() == before


def test_configured_sources_go_out_and_come_back_the_same():
    sources = [
        SourceConfig(name="duvar-english", url="https://www.duvarenglish.com/rss", language="en"),
        SourceConfig(name="BBC.Middle_East", url="https://feeds.bbci.co.uk/news/world/middle_east/rss.xml?a=1&b=2"),
        SourceConfig(name="off", url="https://off.example/feed", enabled=False, category="News/Turkey"),
        SourceConfig(name="tr", url="https://tr.example/feed", language="tr", category="News"),
    ]
    data = write_opml(subscriptions(sources), "newswatch sources", datetime(2026, 1, 1, tzinfo=UTC))
    plan = plan_import(parse_opml(data).feeds, [])
    assert plan.skipped == []
    back = sorted((SourceConfig(**a.entry()) for a in plan.added), key=lambda s: s.name)
    assert back == sorted(sources, key=lambda s: s.name)


def test_a_deep_category_path_is_cut_to_the_schema_cap():
    deep = tuple(f"folder-{i}" for i in range(100))
    entry = plan_import([Subscription(url="https://a.example/", title="a", category=deep)], []).added[0].entry()
    assert len(entry["category"]) == 500 and SourceConfig(**entry).category.startswith("folder-0/folder-1/")
