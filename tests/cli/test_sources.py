"""`newswatch sources import` and `sources export`: the real OPML lists into a copy of the example
configuration, feeds on a local server imported and fetched, export → import giving back the
same sources, and every refusal leaving the files as they were (exit 2)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lxml import etree
from typer.testing import CliRunner

from cli import app
from cli.replay import ReplayServer
from connectors import fetch_feeds_sync
from connectors.opml import parse_opml
from newswatch import config as configuration
from newswatch.config.schema import FetchSettings
from newswatch.models import Fetched, SourceRequest
from tests.conftest import ROOT, SEEDS
from tests.connectors.test_opml import REAL

runner = CliRunner()
ENV = {"SLACK_WEBHOOK_URL": "https://hooks.example/T/B/secret", "SMTP_HOST": "smtp.example.org", "COLUMNS": "250"}


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False, env=ENV)


@pytest.fixture
def real() -> Path:
    if not (REAL / "Subs.opml").is_file() or not (REAL / "SubsNoTitleAttributes.opml").is_file():
        pytest.fail(f"the real OPML files are missing: expected Subs.opml and SubsNoTitleAttributes.opml in {REAL}")
    return REAL


@pytest.fixture
def folder(tmp_path) -> Path:
    """A copy of the example configuration folder (config/newswatch.yaml, two sources)."""
    copy = tmp_path / "config"
    shutil.copytree(ROOT / "config", copy)
    return copy


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("name", ["Subs.opml", "SubsNoTitleAttributes.opml"])
def test_a_real_list_is_imported_into_the_config_folder(real, folder, name):
    before = (folder / "newswatch.yaml").read_bytes()
    result = invoke("--config", folder, "sources", "import", real / name)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[-1] == f"206 added, 1 skipped as duplicates, 0 skipped as malformed; written to {folder / 'sources.yaml'}"
    assert "added  daring-fireball  http://daringfireball.net/feeds/main" in lines
    assert "added  ios-unit-testing  http://iosunittesting.com/feed/  [Programming]" in lines
    assert sum(line.startswith("skipped  ") for line in lines) == 1
    assert any(line.startswith("skipped  line ") and "<http://feed.katiefloyd.com/>: the same feed as katie-floyd"
               in line for line in lines)
    assert (folder / "newswatch.yaml").read_bytes() == before
    loaded = configuration.load(folder, env=ENV)
    assert len(loaded.sources) == 2 + 206 and loaded.source("chat-code").url.startswith("http://corinnekrych")
    assert invoke("--config", folder, "check").exit_code == 0
    again = invoke("sources", "import", real / name, "--config", folder)  # the option after the command too
    assert again.exit_code == 0 and again.output.splitlines()[-1].startswith("0 added, 207 skipped as duplicates")
    assert len(configuration.load(folder, env=ENV).sources) == 2 + 206


def test_dry_run_says_what_it_would_add_and_writes_nothing(real, folder):
    before = files(folder)
    result = invoke("--config", folder, "sources", "import", "--dry-run", real / "Subs.opml")
    assert result.exit_code == 0
    assert "would add  daring-fireball  http://daringfireball.net/feeds/main" in result.output
    assert result.output.splitlines()[-1].endswith("nothing written (dry run)")
    assert files(folder) == before


def test_into_a_config_file_keeps_its_text_and_the_existing_sources(real, folder, tmp_path):
    path = folder / "newswatch.yaml"
    before = path.read_text(encoding="utf-8")
    opml = tmp_path / "mine.opml"
    opml.write_text('<opml version="2.0"><body><outline text="Duvar again" xmlUrl="https://www.duvarenglish.com/rss"/>'
                    '<outline text="News"><outline text="Gazette" xmlUrl="https://gazette.example/feed"/></outline>'
                    '</body></opml>', encoding="utf-8")
    result = invoke("--config", path, "sources", "import", opml)
    assert result.exit_code == 0, result.output
    assert "skipped  line 1: Duvar again <https://www.duvarenglish.com/rss>: already a source: duvar-english" in result.output
    after = path.read_text(encoding="utf-8")
    added = "  - {name: Gazette, url: 'https://gazette.example/feed', category: News}\n"  # a valid name as written
    assert after == before.replace("\n\nchannels:", "\n" + added + "\nchannels:", 1)
    assert configuration.load(path, env=ENV).source("Gazette").category == "News"


def test_into_a_file_outside_the_config(real, folder, tmp_path):
    target = tmp_path / "elsewhere" / "mine.yaml"
    result = invoke("--config", folder, "sources", "import", real / "Subs.opml", "--into", target)
    assert result.exit_code == 0, result.output
    assert len(configuration.load(target, env={}).sources) == 206
    assert not (folder / "sources.yaml").exists()
    again = invoke("--config", folder, "sources", "import", real / "SubsNoTitleAttributes.opml", "--into", target)
    assert again.output.splitlines()[-1].startswith("0 added, 207 skipped")


@pytest.mark.parametrize(("content", "message"), [
    (b'<opml version="2.0"><body><outline text="A" xmlUrl="https://a.example/"></body></opml>',
     "not well-formed XML: line 1"),
    (b"<rss version='2.0'><channel/></rss>", "not an OPML document"),
    (b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     b'<opml><body><outline text="&x;" xmlUrl="https://a.example/"/></body></opml>', "not well-formed XML"),
], ids=["broken", "not-opml", "xxe"])
def test_an_unreadable_list_exits_2_and_writes_nothing(folder, tmp_path, content, message):
    opml = tmp_path / "bad.opml"
    opml.write_bytes(content)
    before = files(folder)
    result = invoke("--config", folder, "sources", "import", opml)
    assert result.exit_code == 2 and message in result.output
    assert files(folder) == before


def test_a_missing_list_or_a_broken_config_exits_2(real, folder, tmp_path):
    assert invoke("--config", folder, "sources", "import", tmp_path / "none.opml").exit_code == 2
    (folder / "newswatch.yaml").write_text("sources: [oops\n", encoding="utf-8")
    before = files(folder)
    result = invoke("--config", folder, "sources", "import", real / "Subs.opml")
    assert result.exit_code == 2 and "not valid YAML" in result.output
    assert files(folder) == before


def test_a_sources_file_that_cannot_take_entries_as_text_exits_2(real, folder):
    # a comment inside a flow list: the new entries would land in the comment, so none are written
    (folder / "sources.yaml").write_text("sources: [{name: a, url: 'https://a.example/'},  # mine\n]\n")
    before = files(folder)
    result = invoke("--config", folder, "sources", "import", real / "Subs.opml")
    assert result.exit_code == 2 and "cannot append to this file's `sources:` list as text" in result.output
    assert files(folder) == before


def test_malformed_outlines_are_listed_as_skipped(folder, tmp_path):
    opml = tmp_path / "mixed.opml"
    opml.write_text('<opml version="2.0"><body>\n<outline text="Good" xmlUrl="https://good.example/rss"/>\n'
                    '<outline text="Bad" xmlUrl="javascript:alert(1)"/>\n<outline text="Empty"/>\n</body></opml>')
    result = invoke("--config", folder, "sources", "import", opml)
    lines = result.output.splitlines()
    assert "skipped  line 3: Bad: xmlUrl 'javascript:alert(1)' is not an http(s) URL" in lines
    assert "skipped  line 4: Empty: no xmlUrl and nothing inside (not a feed, not a folder)" in lines
    assert lines[-1].startswith("1 added, 0 skipped as duplicates, 2 skipped as malformed")


def test_export_prints_opml_and_import_gives_the_same_sources_back(real, folder, tmp_path):
    assert invoke("--config", folder, "sources", "import", real / "Subs.opml").exit_code == 0
    exported = invoke("--config", folder, "sources", "export")
    assert exported.exit_code == 0
    root = etree.fromstring(exported.stdout_bytes)
    assert root.get("version") == "2.0" and root.findtext("head/title") == "newswatch sources"
    assert root.findtext("head/dateCreated")
    assert [o.get("text") for o in root.find("body") if o.get("xmlUrl") is None] == [
        "Programming", "Macintosh", "Weblogs", "Writers"]
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "newswatch.yaml").write_text("database: sqlite:///x.db\n", encoding="utf-8")
    opml = tmp_path / "export.opml"
    assert invoke("--config", folder, "sources", "export", "--output", opml).exit_code == 0
    assert parse_opml(opml.read_bytes()).feeds == parse_opml(exported.stdout_bytes).feeds
    result = invoke("--config", fresh, "sources", "import", opml)
    assert result.exit_code == 0 and result.output.splitlines()[-1].startswith("208 added, 0 skipped")
    assert configuration.load(fresh, env={}).sources == configuration.load(folder, env=ENV).sources


def test_feeds_on_a_local_server_are_imported_and_fetched(folder, tmp_path):
    with ReplayServer(SEEDS) as server:
        feeds = sorted(p.name for p in (SEEDS / "feeds").iterdir())
        outlines = "".join(f'<outline text="Local {name}" type="rss" xmlUrl="{server.base_url}/feeds/{name}"/>'
                           for name in feeds)
        opml = tmp_path / "local.opml"
        opml.write_text(f'<opml version="1.0"><head><title>Local</title></head><body>'
                        f'<outline text="Replay">{outlines}</outline></body></opml>', encoding="utf-8")
        result = invoke("--config", folder, "sources", "import", opml)
        assert result.exit_code == 0, result.output
        imported = [s for s in configuration.load(folder, env=ENV).sources if s.category == "Replay"]
        assert len(imported) == len(feeds)
        fetched = fetch_feeds_sync(FetchSettings(allow_private_networks=True),
                                   [SourceRequest(s.name, s.url) for s in imported])
        assert all(isinstance(r, Fetched) and r.entries for r in fetched), fetched
        exported = invoke("--config", folder, "sources", "export")
        back = [f for f in parse_opml(exported.stdout_bytes).feeds if f.category == ("Replay",)]
        assert [(f.title, f.url) for f in back] == [(s.name, s.url) for s in imported]


def test_sources_alone_still_shows_health(config):
    result = invoke("--config", config, "sources")
    assert result.exit_code == 0 and "broken" in result.output and "fetch: 404 not found" in result.output
    assert invoke("sources", "--config", config).exit_code == 0


def test_a_config_that_no_longer_loads_after_writing_is_put_back(real, folder, monkeypatch):
    from newswatch.config import importing

    monkeypatch.setattr(importing, "source_name", lambda *args: "not a valid name")
    before = files(folder)
    result = invoke("--config", folder, "sources", "import", real / "Subs.opml")
    assert result.exit_code == 1 and "is back as it was" in result.output
    assert files(folder) == before  # sources.yaml, new, is gone again
    (folder / "sources.yaml").write_text("sources: []\n", encoding="utf-8")
    result = invoke("--config", folder, "sources", "import", real / "Subs.opml")
    assert result.exit_code == 1 and (folder / "sources.yaml").read_text() == "sources: []\n"
