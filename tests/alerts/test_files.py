"""The file channels: jsonl (append whole lines) and atom (one feed per watchlist)."""

from __future__ import annotations

import json
from dataclasses import replace

import feedparser
import pytest

from alerts import ChannelError, send
from newswatch.config.schema import AtomChannel, JsonlChannel
from tests.alerts.samples import ALERTS, DIGEST

REQUIRED = {"watchlist", "story_id", "title", "url", "source", "published", "terms", "snippet",
            "highlights", "also_reported_by", "sent_at"}


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_jsonl_appends_one_object_per_line(tmp_path):
    path = tmp_path / "deep" / "er" / "alerts.jsonl"
    channel = JsonlChannel(type="jsonl", path=str(path))
    send("log", channel, [ALERTS["escaping"]])
    send("log", channel, DIGEST, digest=True)
    send("log", channel, [ALERTS["arabic"]])
    records = _lines(path)
    assert [r["story_id"] for r in records] == [101, 101, 102, 103, 303]
    assert all(REQUIRED <= set(r) for r in records)
    assert records[0]["title"] == ALERTS["escaping"].title  # data kept as is, CR/LF included
    assert records[-1]["published"] is None and records[-1]["source"] == "الجزيرة"
    assert path.read_text(encoding="utf-8").endswith("\n")


@pytest.mark.parametrize("where", ["parent-is-a-file", "path-is-a-directory"])
def test_jsonl_impossible_path_is_permanent(tmp_path, where):
    (tmp_path / "file.txt").write_text("", encoding="utf-8")
    path = tmp_path / "file.txt" / "alerts.jsonl" if where == "parent-is-a-file" else tmp_path
    with pytest.raises(ChannelError) as caught:
        send("log", JsonlChannel(type="jsonl", path=str(path)), [ALERTS["arabic"]])
    assert caught.value.kind == "permanent" and str(caught.value).startswith("jsonl: cannot append")


def _feed(directory, watchlist):
    parsed = feedparser.parse(str(directory / f"{watchlist}.atom"))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def test_atom_feed_parses_back(tmp_path):
    channel = AtomChannel(type="atom", directory=str(tmp_path / "feeds"))
    for alert in ALERTS.values():
        send("feed", channel, [alert])
    acme = _feed(tmp_path / "feeds", "acme")
    assert [e.id for e in acme.entries] == ["tag:newswatch,2026:story-404-acme",
                                            "tag:newswatch,2026:story-101-acme"]
    first = acme.entries[1]
    assert first.title == ("Acme & Sons' <b>record</b> Q3: *profits* up_50% | shares > $10 "
                           "Bcc: attacker@example.com")
    assert first.link == "https://news.example.com/business/acme-q3?utm_source=rss&id=42"
    assert first.author == "Reuters" and [t.term for t in first.tags] == ["acme", "profit*"]
    assert first.published_parsed[:5] == (2026, 3, 14, 9, 30)
    assert "<b>Acme</b>" in first.content[0].value
    energy = _feed(tmp_path / "feeds", "energy")
    assert energy.feed.title == "newswatch: energy" and energy.entries[0].title.startswith("أوبك+")


def test_atom_keeps_newest_first_and_at_most_max_entries(tmp_path):
    channel = AtomChannel(type="atom", directory=str(tmp_path), max_entries=3)
    for story in range(1, 6):
        send("feed", channel, [replace(ALERTS["turkish"], story_id=story)])
    ids = [e.id.rsplit(":", 1)[1] for e in _feed(tmp_path, "deprem").entries]
    assert ids == ["story-5-deprem", "story-4-deprem", "story-3-deprem"]


def test_atom_resend_moves_the_entry_instead_of_duplicating(tmp_path):
    channel = AtomChannel(type="atom", directory=str(tmp_path))
    send("feed", channel, DIGEST, digest=True)
    send("feed", channel, [DIGEST[2]])
    ids = [e.id for e in _feed(tmp_path, "acme").entries]
    assert ids == [f"tag:newswatch,2026:story-{n}-acme" for n in (103, 101, 102)]
    assert list(tmp_path.iterdir()) == [tmp_path / "acme.atom"]  # no temporary files left


def test_atom_strips_characters_xml_cannot_carry(tmp_path):
    alert = replace(ALERTS["arabic"], title="Control\x00char\x08s", snippet="bad \x01 byte")
    send("feed", AtomChannel(type="atom", directory=str(tmp_path)), [alert])
    assert _feed(tmp_path, "energy").entries[0].title == "Controlchars"


def test_atom_refuses_to_overwrite_a_file_that_is_not_xml(tmp_path):
    (tmp_path / "energy.atom").write_text("not xml", encoding="utf-8")
    with pytest.raises(ChannelError) as caught:
        send("feed", AtomChannel(type="atom", directory=str(tmp_path)), [ALERTS["arabic"]])
    assert caught.value.kind == "permanent" and "move it away" in str(caught.value)
    assert (tmp_path / "energy.atom").read_text(encoding="utf-8") == "not xml"


def test_a_story_of_two_watchlists_goes_into_both_feeds_with_its_outlets_linked(tmp_path):
    alert = replace(ALERTS["escaping"], watchlists=(("acme", ("acme",)), ("markets", ("profit*",))))
    send("feed", AtomChannel(type="atom", directory=str(tmp_path)), [alert])
    for watchlist in ("acme", "markets"):
        (entry,) = _feed(tmp_path, watchlist).entries
        assert entry.id == f"tag:newswatch,2026:story-101-{watchlist}"
        related = [(link.title, link.href) for link in entry.links if link.rel == "related"]
        assert related == [("AP", "https://apnews.example/article/acme?a=1&b=<2>"),
                           ("BBC News", 'https://www.bbc.example/news/business-1|2 "x"')]
        content = entry.content[0].value
        assert "<b>markets</b> · matched: profit*" in content and '<a href="https://apnews.example/' in content


def test_jsonl_records_every_watchlist_and_each_outlets_report(tmp_path):
    path = tmp_path / "alerts.jsonl"
    alert = replace(ALERTS["turkish"], watchlists=(("deprem", ("istanbul", "deprem*")), ("istanbul", ("istanbul",))))
    send("log", JsonlChannel(type="jsonl", path=str(path)), [alert])
    (record,) = _lines(path)
    assert record["watchlist"] == "deprem" and record["terms"] == ["istanbul", "deprem*"]  # the first's, as before
    assert record["watchlists"] == [{"name": "deprem", "terms": ["istanbul", "deprem*"]},
                                    {"name": "istanbul", "terms": ["istanbul"]}]
    assert record["also_reported"] == [{"source": "Sözcü", "url": "https://www.sozcu.example/gundem/istanbul-deprem"}]
