"""One message per story per channel (issue 19, point 4): a story several watchlists alerted at
once arrives on a channel as one message naming every watchlist with its terms, through outages,
while the outbox keeps one row per (story, watchlist, channel), each sent exactly once; digests
list each story once. On SQLite and PostgreSQL, through a local Slack endpoint and a local SMTP
server."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

import alerts
from newswatch import outbox
from newswatch.config.schema import SourceConfig
from newswatch.ingest import add_entries, attach_text
from newswatch.models import Extracted, FeedEntry, Hit, PageText
from newswatch.store import deliveries, matches, session, sources
from newswatch.store.tables import Delivery, Match
from newswatch.triage import triage
from tests.support.desk import desk_config
from tests.support.slack_server import Reply
from tests.support.texts import distinct_text

NOW = datetime(2020, 2, 24, 10, 17, tzinfo=UTC)


def load(tmp_path, database: str, slack, smtp, delivery: str = "{}"):
    return desk_config(tmp_path, slack, smtp, [
        f"{{name: idlib, query: Idlib, channels: [desk, mail], delivery: {delivery}}}",
        f'{{name: erdogan-putin, query: "Erdogan AND Putin", channels: [desk, mail], delivery: {delivery}}}',
        f"{{name: kremlin, query: Kremlin, channels: [desk], delivery: {delivery}}}"], database)


def add_stories(config, about: list[str], now: datetime, start: int = 0) -> None:
    """One story per text of `about`, extracted and triaged (matched, the outbox written)."""
    with session(config.database) as current:
        sources.sync(current, [SourceConfig(name="wire", url="https://wire.example/rss")])
        source_id = sources.ids_by_name(current)["wire"]
        numbers = range(start, start + len(about))
        entries = [FeedEntry("wire", f"https://wire.example/{n}", None, f"Report {n}", "") for n in numbers]
        ids = add_entries(current, source_id, entries, now)
        attach_text(current, [PageText(i, Extracted(text=distinct_text(n, phrase)))
                                       for n, phrase, i in zip(numbers, about, ids, strict=True)])
    triage(config, now)


def deliver(config, now: datetime) -> list[outbox.ChannelOutcome]:
    return outbox.drain(config.database, config.channels, now, alerts)


def rows(config) -> Counter:
    """How many outbox rows each (story, watchlist, channel, status) has."""
    with session(config.database) as current:
        found = current.exec(select(Match.story_id, Match.watchlist, Delivery.channel, Delivery.status)
                             .join(Match, Match.id == Delivery.match_id)).all()
    return Counter(tuple(row) for row in found)


def slack_titles(slack) -> list[str]:
    return [p["text"].rsplit(" (", 1)[0] for p in slack.payloads]


BOTH = "Erdogan and Putin met in Moscow over Idlib"
ALL_THREE = "Erdogan and Putin met at the Kremlin over Idlib"


def test_one_story_of_two_watchlists_is_one_message_naming_both(tmp_path, database, slack_server, smtp_server):
    config = load(tmp_path, database, slack_server, smtp_server)
    add_stories(config, [BOTH, "news from Idlib province"], NOW)
    deliver(config, NOW)
    assert sorted(slack_titles(slack_server)) == ["Report 0", "Report 1"]
    assert sorted(m["Subject"] for m in smtp_server.messages) == [
        "[newswatch] idlib, erdogan-putin: Report 0", "[newswatch] idlib: Report 1"]
    grouped = next(p for p in slack_server.payloads if p["text"].startswith("Report 0"))
    elements = [e["text"] for e in grouped["blocks"][1]["elements"]]
    assert "watchlist: idlib · matched: Idlib" in elements
    assert "watchlist: erdogan-putin · matched: Erdogan, Putin" in elements
    mail = next(m for m in smtp_server.messages if "Report 0" in m["Subject"])
    text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "\nWatchlist idlib · matched: Idlib\nWatchlist erdogan-putin · matched: Erdogan, Putin\n" in text
    assert set(rows(config).values()) == {1} and {k[3] for k in rows(config)} == {"sent"}
    assert len(rows(config)) == 6  # story 1: 2 watchlists × 2 channels; story 2: idlib × 2 channels


def test_through_outages_one_message_per_story_per_channel_and_each_row_sent_once(
        tmp_path, database, slack_server, smtp_server):
    config = load(tmp_path, database, slack_server, smtp_server)
    add_stories(config, [ALL_THREE, BOTH, "Idlib alone"], NOW)
    slack_server.respond(Reply.server_error(503))
    smtp_server.stop()
    outcomes = {o.channel: o for o in deliver(config, NOW)}
    assert outcomes["desk"].failed == 3 and outcomes["mail"].failed == 2  # story 0's three rows, two mailed
    assert len(slack_server.requests) == 1 and smtp_server.messages == []
    slack_server.respond(Reply.rate_limited(60))
    deliver(config, NOW + timedelta(minutes=30))  # story 0 again, as one message, refused again
    assert len(slack_server.requests) == 2
    assert slack_server.requests[0].json == slack_server.requests[1].json
    smtp_server.start()
    for hours in (2, 3, 4):  # past every backoff
        deliver(config, NOW + timedelta(hours=hours))
    sent = slack_server.payloads[2:]
    assert sorted(p["text"].rsplit(" (", 1)[0] for p in sent) == ["Report 0", "Report 1", "Report 2"]
    assert sorted(m["Subject"] for m in smtp_server.messages) == [
        "[newswatch] idlib, erdogan-putin: Report 0", "[newswatch] idlib, erdogan-putin: Report 1",
        "[newswatch] idlib: Report 2"]
    found = rows(config)
    assert set(found.values()) == {1} and {k[3] for k in found} == {"sent"}
    assert Counter((story, channel) for story, _, channel, _ in found) == {
        (1, "desk"): 3, (1, "mail"): 2, (2, "desk"): 2, (2, "mail"): 2, (3, "desk"): 1, (3, "mail"): 1}
    with session(config.database) as current:
        attempts = {d.attempts for d in current.exec(select(Delivery).where(Delivery.channel == "desk"))}
    assert max(attempts) >= 3  # story 0's rows were tried together, each attempt counted on each row


def test_a_row_already_sent_is_never_sent_again_when_another_watchlists_row_fails(
        tmp_path, database, slack_server, smtp_server):
    config = load(tmp_path, database, slack_server, smtp_server)
    add_stories(config, ["news from Idlib province"], NOW)
    deliver(config, NOW)
    assert slack_titles(slack_server) == ["Report 0"]
    with session(config.database) as current:  # later, a second watchlist alerts the same story
        first = current.exec(select(Match)).first()
        later = matches.add(current, first.story_id, first.article_id, "kremlin", Hit(["Kremlin"], [], "x"), NOW)
        deliveries.enqueue(current, later, "desk", NOW, False, NOW)
    slack_server.respond(Reply.server_error(500))
    deliver(config, NOW + timedelta(minutes=1))
    deliver(config, NOW + timedelta(hours=2))
    names = [[e["text"] for e in p["blocks"][1]["elements"][1:]] for p in slack_server.payloads]
    assert names == [["watchlist: idlib", "matched: Idlib"], ["watchlist: kremlin", "matched: Kremlin"],
                     ["watchlist: kremlin", "matched: Kremlin"]]
    assert {k[3] for k in rows(config)} == {"sent"} and set(rows(config).values()) == {1}


def test_a_digest_lists_each_story_once_with_all_its_watchlists(tmp_path, database, slack_server, smtp_server):
    config = load(tmp_path, database, slack_server, smtp_server, delivery="{digest: hourly}")
    add_stories(config, [ALL_THREE, "Idlib alone", "Kremlin alone"], NOW)
    deliver(config, NOW)
    assert slack_server.payloads == [] and smtp_server.messages == []
    deliver(config, NOW.replace(hour=11, minute=0))
    (payload,) = slack_server.payloads
    (mail,) = smtp_server.messages
    assert payload["blocks"][0]["text"]["text"] == "3 stories for idlib, erdogan-putin, kremlin"
    stories = [b["text"]["text"] for b in payload["blocks"][1:]]
    assert len(stories) == 3
    assert "watchlists: idlib (matched: Idlib); erdogan-putin (matched: Erdogan, Putin); kremlin (matched: Kremlin)" \
        in stories[0]
    assert mail["Subject"] == "[newswatch] idlib, erdogan-putin: 2 stories"
    assert {k[3] for k in rows(config)} == {"sent"} and set(rows(config).values()) == {1}


def test_a_claim_at_its_limit_takes_the_storys_other_rows_too(tmp_path, database, slack_server, smtp_server):
    config = load(tmp_path, database, slack_server, smtp_server)
    add_stories(config, [ALL_THREE, "Idlib alone"], NOW)
    with session(config.database) as current:
        claimed = deliveries.claim(current, "desk", NOW, limit=1)
        stories = current.exec(select(Match.story_id).join(Delivery, Delivery.match_id == Match.id)
                               .where(Delivery.id.in_([c.delivery_id for c in claimed]))).all()
    assert len(claimed) == 3 and set(stories) == {1}


@pytest.mark.parametrize("watchlists", [1, 2])
def test_combine_names_each_watchlist_once_and_keeps_notices_apart(watchlists):
    from newswatch.models import Alert
    from newswatch.outbox.assembly import combine

    def alert(name, story=7, terms=("x",), delivery=1):
        return Alert(name, story, "T", "https://e.example/", "wire", None, list(terms), "s", delivery_id=delivery)

    said = [alert(f"w{n}", terms=(f"t{n}",), delivery=n) for n in range(watchlists)]
    said += [alert("source-health", story=0, delivery=10), alert("source-health", story=0, delivery=11)]
    combined = combine(said)
    assert len(combined) == 3
    assert combined[0].named() == [(f"w{n}", [f"t{n}"]) for n in range(watchlists)]
    assert combined[0].delivery_id == 0 and [a.delivery_id for a in combined[1:]] == [10, 11]
