"""The story commands. `newswatch stories`: the stories updated lately with their reports and why
each joined (a contract: other checks read its JSON lines), on SQLite and PostgreSQL, over articles
that came in through the real triage. `newswatch relate A B [C D ...]`: the story stage's decision
for pairs of local files, one JSON line a pair (a contract too)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from newswatch import config as configuration
from newswatch.config.schema import Config
from newswatch.store.tables import utcnow
from tests.newswatch.test_triage import QUAKE, RATE_CUT, arrive
from tests.support.updates import COPY, FIRST, UPDATE

runner = CliRunner()

REPORT_FIELDS = {"article", "source", "title", "url", "published", "joined_by", "why"}


@pytest.fixture
def setup(database, tmp_path) -> tuple[Path, Config]:
    """A config file on the store (two watchlists: Idlib, which every report here matches, and
    earthquakes, which only QUAKE does), and the same config loaded, for triage."""
    path = tmp_path / "newswatch.yaml"
    sources = "".join(f'  - {{name: {name}, url: "https://{name}.example/rss", language: en}}\n'
                      for name in ("duvar", "anadolu", "tass"))
    path.write_text(f'database: "{database}"\nsources:\n{sources}channels:\n  screen: {{type: console}}\n'
                    "watchlists:\n  - {name: idlib, query: Idlib, channels: [screen]}\n"
                    "  - {name: quake, query: earthquake, channels: [screen]}\n", encoding="utf-8")
    return path, configuration.load(path)


def stories(path: Path, *args: str):
    # wide, so that no line folds in the middle of something a test looks for
    return runner.invoke(app, ["--config", str(path), "stories", *args], catch_exceptions=False,
                         env={"COLUMNS": "250"})


def lines(path: Path, *args: str) -> list[dict]:
    result = stories(path, "--json", *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_story_shows_each_report_and_why_it_joined(setup):
    path, config = setup
    now = utcnow()
    first = arrive(config, "duvar", FIRST, now - timedelta(hours=3))
    copy = arrive(config, "tass", COPY, now - timedelta(hours=2))
    result = stories(path)
    assert result.exit_code == 0
    text = result.stdout
    assert FIRST[0] in text and COPY[0] in text and "1 story since 2d" in text
    assert f"alerted: idlib by article {first}" in text
    new = text.index("    new: no earlier report shares a key or relates to it")
    joined = text.index(f"    duplicate: a copy of article {first}: minhash jaccard")
    assert text.index("https://duvar.example/") < new < text.index("https://tass.example/") < joined
    (line,) = lines(path)
    assert [r["article"] for r in line["reports"]] == [first, copy]
    assert f"(story {line['story']}, updated" in text


def test_json_lines_carry_every_field_newest_story_first(setup):
    path, config = setup
    now = utcnow()
    first = arrive(config, "duvar", FIRST, now - timedelta(hours=5))
    copy = arrive(config, "tass", COPY, now - timedelta(hours=4))
    quake = arrive(config, "anadolu", QUAKE, now - timedelta(hours=1))
    newest, older = lines(path)
    assert set(newest) == set(older) == {"story", "title", "created", "updated", "watchlists", "reports"}
    assert (newest["title"], older["title"]) == (QUAKE[0], FIRST[0])
    assert datetime.fromisoformat(newest["updated"]) > datetime.fromisoformat(older["updated"])
    assert newest["watchlists"] == [{"watchlist": "idlib", "article": quake}, {"watchlist": "quake", "article": quake}]
    assert older["watchlists"] == [{"watchlist": "idlib", "article": first}]
    for report in (*newest["reports"], *older["reports"]):
        assert set(report) == REPORT_FIELDS
        assert abs(datetime.fromisoformat(report["published"]) - now) < timedelta(hours=6)
    original, duplicate = older["reports"]
    assert (original["article"], original["source"], original["joined_by"]) == (first, "duvar", "new")
    assert (duplicate["article"], duplicate["source"], duplicate["joined_by"]) == (copy, "tass", "duplicate")
    assert duplicate["title"] == COPY[0] and duplicate["url"].startswith("https://tass.example/")
    assert duplicate["why"].startswith(f"a copy of article {first}: ")
    assert [r["joined_by"] for r in newest["reports"]] == ["new"]


def test_watchlist_keeps_only_the_stories_it_was_alerted_of(setup):
    path, config = setup
    now = utcnow()
    arrive(config, "duvar", FIRST, now - timedelta(hours=3))
    arrive(config, "anadolu", QUAKE, now - timedelta(hours=2))
    assert [line["title"] for line in lines(path, "--watchlist", "quake")] == [QUAKE[0]]
    assert [line["title"] for line in lines(path, "--watchlist", "idlib")] == [QUAKE[0], FIRST[0]]
    text = stories(path, "--watchlist", "quake").stdout
    assert QUAKE[0] in text and FIRST[0] not in text


def test_since_leaves_out_older_stories_and_keeps_all_reports_of_a_recent_one(setup):
    path, config = setup
    now = utcnow()
    arrive(config, "anadolu", RATE_CUT, now - timedelta(days=5))
    first = arrive(config, "duvar", FIRST, now - timedelta(hours=30))
    copy = arrive(config, "tass", COPY, now - timedelta(hours=1))
    (recent,) = lines(path, "--since", "12h")  # the story's copy came within 12 h, its first report did not
    assert [r["article"] for r in recent["reports"]] == [first, copy]
    assert [line["title"] for line in lines(path)] == [FIRST[0]]  # the default: 2d
    assert [line["title"] for line in lines(path, "--since", "7d")] == [FIRST[0], RATE_CUT[0]]
    assert RATE_CUT[0] not in stories(path).stdout


def test_no_stories_is_one_line_and_success(setup):
    path, config = setup
    arrive(config, "anadolu", RATE_CUT, utcnow() - timedelta(days=5))
    result = stories(path)
    assert result.exit_code == 0 and result.stdout.strip() == "no stories since 2d"
    quiet = stories(path, "--json", "--watchlist", "quake", "--since", "30d")
    assert quiet.exit_code == 0 and quiet.stdout == ""  # stdout stays JSON lines only
    assert "no stories since 30d alerted to quake" in quiet.stderr


def test_an_unknown_watchlist_or_duration_is_a_usage_error(setup):
    path, config = setup
    arrive(config, "duvar", FIRST, utcnow())
    result = stories(path, "--watchlist", "idlb")
    assert result.exit_code == 2 and result.stdout == ""
    assert "stories: no watchlist named 'idlb' (known: idlib, quake)" in result.stderr
    bad = stories(path, "--since", "two days")
    assert bad.exit_code == 2 and "is not a duration" in bad.stderr


def test_a_configuration_that_does_not_load_is_exit_2(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("watchlists: [{name: x}]\n", encoding="utf-8")
    result = stories(broken)
    assert result.exit_code == 2 and "error" in result.stderr


def test_stories_read_in_several_chunks_each_keep_their_own_reports_and_alerts(setup, monkeypatch):
    """Any number of stories: their ids go in IN lists of bounded size (store._sql.in_lists)."""
    from newswatch.store import stories as store_stories
    from newswatch.store._sql import chunks

    monkeypatch.setattr(store_stories, "in_lists", lambda session, values: chunks(values, 2))
    path, config = setup
    now = utcnow()
    first = arrive(config, "duvar", FIRST, now - timedelta(hours=4))
    copy = arrive(config, "tass", COPY, now - timedelta(hours=3))
    quake = arrive(config, "anadolu", QUAKE, now - timedelta(hours=2))
    rate = arrive(config, "duvar", RATE_CUT, now - timedelta(hours=1))
    found = {line["title"]: ([r["article"] for r in line["reports"]], line["watchlists"]) for line in lines(path)}
    assert found == {RATE_CUT[0]: ([rate], [{"watchlist": "idlib", "article": rate}]),
                     QUAKE[0]: ([quake], [{"watchlist": "idlib", "article": quake},
                                          {"watchlist": "quake", "article": quake}]),
                     FIRST[0]: ([first, copy], [{"watchlist": "idlib", "article": first}])}


@pytest.fixture
def reports(tmp_path) -> dict[str, Path]:
    """Each report as a .txt file (first line the title), and the first as an HTML page too."""
    files = {}
    for name, (title, text) in {"first": FIRST, "copy": COPY, "update": UPDATE, "quake": QUAKE,
                                "rate": RATE_CUT}.items():
        files[name] = tmp_path / f"{name}.txt"
        files[name].write_text(f"{title}\n{text}\n", encoding="utf-8")
    paragraphs = "".join(f"<p>{line}</p>" for line in FIRST[1].splitlines())
    files["page"] = tmp_path / "first.html"
    files["page"].write_text(f"<!DOCTYPE html><html lang='en'><head><title>{FIRST[0]}</title></head><body><article>"
                             f"<h1>{FIRST[0]}</h1>{paragraphs}</article></body></html>", encoding="utf-8")
    return files


def relate(*args: str) -> tuple[int, list[dict]]:
    # a config that does not exist: relate needs none (the default story window)
    result = runner.invoke(app, ["--config", "/nonexistent.yaml", "relate", *args], catch_exceptions=False)
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_each_pair_gets_one_json_line_with_the_stores_decision(reports):
    files = [str(reports[name]) for name in ("first", "copy", "first", "update", "quake", "rate", "page", "first")]
    code, lines = relate(*files)
    assert code == 0
    assert [(line["a"], line["b"]) for line in lines] == list(zip(files[::2], files[1::2], strict=True))
    assert [line["relation"] for line in lines] == ["duplicate", "same_event", "unrelated", "duplicate"]
    for line in lines:
        assert set(line) == {"a", "b", "relation", "score", "evidence"} and 0 <= line["score"] <= 1
    assert {"names", "lead", "words", "copy", "hours_apart", "window_hours", "reason"} <= set(lines[1]["evidence"])
    assert lines[1]["evidence"]["hours_apart"] == 0.0 and lines[1]["evidence"]["window_hours"] == 48.0


def test_the_same_event_far_apart_is_unrelated_as_in_the_store(reports):
    code, (near,) = relate(str(reports["first"]), str(reports["update"]), "--hours", "6")
    code, (far,) = relate(str(reports["first"]), str(reports["update"]), "--hours", "60")
    assert (near["relation"], far["relation"]) == ("same_event", "unrelated")
    assert "> 48 h" in far["evidence"]["reason"]


def test_the_same_text_beyond_the_window_is_unrelated_as_in_the_store(reports):
    """A text key expires with the story window; a copy is compared only within it."""
    code, (near,) = relate(str(reports["first"]), str(reports["first"]), "--hours", "40")
    code, (far,) = relate(str(reports["first"]), str(reports["copy"]), "--hours", "72")
    assert (near["relation"], far["relation"]) == ("duplicate", "unrelated")
    assert "beyond the story window" in far["evidence"]["reason"]


def test_files_not_in_pairs_are_a_usage_error(reports):
    assert relate(str(reports["first"]))[0] == 2


def test_a_file_that_cannot_be_read_fails_its_pair_only(reports, tmp_path):
    code, lines = relate(str(tmp_path / "missing.txt"), str(reports["first"]),
                         str(reports["first"]), str(reports["copy"]))
    assert code == 1 and [line["relation"] for line in lines] == ["duplicate"]
