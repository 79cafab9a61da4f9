"""`newswatch relate A B [C D ...]`: the story stage's decision for pairs of local files, one JSON
line a pair (a contract: other checks read it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newswatch.cli import app
from tests.newswatch.test_triage import QUAKE, RATE_CUT
from tests.support.updates import COPY, FIRST, UPDATE

runner = CliRunner()


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
