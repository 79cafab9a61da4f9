"""Configuration: valid files load; every kind of mistake names the file, the line and the key."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from newswatch import config
from newswatch.config import ConfigError
from tests.conftest import ROOT

VALID = """\
database: ${NEWSWATCH_DATABASE_URL:-sqlite:///data/newswatch.db}
schedule: {every: 10m}
fetch: {timeout: 20s, max_bytes: 5MB, user_agent: "newswatch/0.1 (+https://x)", allow_private_networks: false}
sources:
  - {name: duvar-english, url: "https://example.org/rss", language: en}
channels:
  desk-slack: {type: slack, webhook_url: "${SLACK_WEBHOOK_URL}"}
  analysts:   {type: email, smtp_host: "${SMTP_HOST}", smtp_port: 587, starttls: true,
               username: "${SMTP_USER:-}", password: "${SMTP_PASSWORD:-}",
               from: newswatch@example.org, to: [desk@example.org]}
  log:        {type: jsonl, path: data/alerts.jsonl}
  screen:     {type: console}
watchlists:
  - {name: idlib, query: 'Idlib OR "Sochi agreement"', channels: [desk-slack, analysts, log]}
"""
ENV = {"SLACK_WEBHOOK_URL": "https://hooks.example/T/B/secret", "SMTP_HOST": "smtp.example.org"}


def write(tmp_path: Path, text: str, name: str = "newswatch.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_the_issue_schema_loads_with_its_types(tmp_path):
    loaded = config.load(write(tmp_path, VALID), env=ENV)
    assert loaded.database == "sqlite:///data/newswatch.db"
    assert loaded.schedule.every == timedelta(minutes=10)
    assert loaded.fetch.max_bytes == 5_000_000 and loaded.fetch.timeout == timedelta(seconds=20)
    assert loaded.channels["desk-slack"].webhook_url.get_secret_value() == ENV["SLACK_WEBHOOK_URL"]
    assert loaded.channels["analysts"].username is None  # ${SMTP_USER:-} → no auth
    assert loaded.channels["analysts"].from_ == "newswatch@example.org"


def test_secrets_do_not_show_when_the_config_is_printed(tmp_path):
    loaded = config.load(write(tmp_path, VALID), env=ENV)
    assert "secret" not in repr(loaded) and "secret" not in str(loaded.model_dump())


def test_environment_default_and_override(tmp_path):
    path = write(tmp_path, VALID)
    assert config.load(path, env={**ENV, "NEWSWATCH_DATABASE_URL": "postgresql://db/x"}).database == "postgresql://db/x"


@pytest.mark.parametrize("text, expected", [
    pytest.param(VALID.replace("channels: [desk-slack, analysts, log]", "channels: [desk-slak]"),
                 ":14: watchlists[0].channels[0]: unknown channel 'desk-slak'", id="unknown-channel"),
    pytest.param(VALID.replace("schedule: {every: 10m}", "schedule: {evry: 10m}"),
                 ":2: schedule.evry: unknown key", id="unknown-key"),
    pytest.param(VALID.replace("smtp_port: 587", "smtp_port: many"),
                 ":8: channels.analysts.smtp_port:", id="wrong-type"),
    pytest.param(VALID.replace("timeout: 20s", "timeout: soon"),
                 ":3: fetch.timeout: 'soon' is not a duration", id="bad-duration"),
    pytest.param(VALID + "  - {name: idlib, query: x, channels: [log]}\n",
                 ":15: watchlists[1].name: duplicate name 'idlib'", id="duplicate-name"),
    pytest.param(VALID.replace("type: slack", "type: slak"),
                 ":7: channels.desk-slack", id="unknown-channel-type"),
    pytest.param(VALID.replace("${SLACK_WEBHOOK_URL}", "${NOT_SET_ANYWHERE}"),
                 ":7: channels.desk-slack.webhook_url: environment variable NOT_SET_ANYWHERE is not set",
                 id="unset-variable"),
    pytest.param(VALID.replace("language: en}", "language: en"),
                 ":6: not valid YAML", id="yaml-syntax"),
    pytest.param(VALID.replace("schedule: {every: 10m}", "schedule: {every: 10m}\nschedule: {every: 5m}"),
                 ":3: schedule: duplicate key", id="duplicate-key"),
    pytest.param(VALID.replace('url: "https://example.org/rss"', 'url: "ftp://example.org/rss"'),
                 ":5: sources[0].url:", id="not-http"),
    pytest.param(VALID.replace("name: duvar-english", "name: " + "d" * 201),
                 ":5: sources[0].name: String should have at most 200 characters", id="name-too-long"),
])
def test_mistakes_name_file_line_and_key(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        config.load(path, env=ENV)
    assert any(str(p).startswith(str(path)) and expected in str(p) for p in caught.value.problems), \
        caught.value.problems


def test_a_folder_merges_its_yaml_files_and_keeps_each_files_lines(tmp_path):
    write(tmp_path, "sources:\n  - {name: a, url: 'https://a.example/rss'}\n", "1-sources.yaml")
    write(tmp_path, "channels:\n  log: {type: jsonl, path: x.jsonl}\n", "2-channels.yaml")
    write(tmp_path, "sources:\n  - {name: b, url: 'https://b.example/rss'}\nwatchlists:\n"
                    "  - {name: w, query: x, channels: [log, nope]}\n", "3-more.yaml")
    with pytest.raises(ConfigError) as caught:
        config.load(tmp_path, env={})
    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path / '3-more.yaml'}:4: watchlists[0].channels[1]: unknown channel 'nope' (known: log)"]
    (tmp_path / "3-more.yaml").write_text("sources:\n  - {name: b, url: 'https://b.example/rss'}\n")
    assert [s.name for s in config.load(tmp_path, env={}).sources] == ["a", "b"]


def test_the_same_mapping_key_in_two_files_is_an_error(tmp_path):
    write(tmp_path, "channels:\n  log: {type: console}\n", "a.yaml")
    write(tmp_path, "channels:\n  log: {type: console}\n", "b.yaml")
    with pytest.raises(ConfigError, match=r"b.yaml:2: channels.log: defined twice"):
        config.load(tmp_path, env={})


def test_a_missing_location_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="no such file or folder"):
        config.load(tmp_path / "nope.yaml")


@pytest.mark.parametrize("path", [ROOT / "config", ROOT / "seeds" / "demo.yaml"], ids=["config", "demo"])
def test_shipped_configs_validate(path):
    env = {**ENV, "SMTP_HOST": "smtp.example.org", "NEWSWATCH_REPLAY_URL": "http://127.0.0.1:1"}
    loaded = config.load(path, env=env)
    assert loaded.sources and loaded.watchlists
