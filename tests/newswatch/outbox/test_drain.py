"""The outbox drained (newswatch.outbox.drain): digests on time, adaptive volume, outages and recovery.

Articles go in as the extraction stage leaves them; `triage` matches them and writes the outbox;
`deliver` drains it through the `alerts` package to a local Slack endpoint and a local SMTP server.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

import alerts
from newswatch import ingest, outbox
from newswatch.config import DEFAULTS
from newswatch.config.schema import SourceConfig
from newswatch.ingest import add_entries
from newswatch.models import Extracted, FeedEntry, Hit, PageText
from newswatch.store import deliveries, matches, session, sources
from newswatch.store.tables import Delivery, Match
from newswatch.triage import triage
from tests.support.desk import desk_config
from tests.support.slack_server import Reply
from tests.support.texts import distinct_text

NOW = datetime(2020, 2, 24, 10, 17, tzinfo=UTC)


def load(tmp_path, slack, smtp, delivery: str = "{}", routes: str = "[desk, mail]", database: str | None = None):
    return desk_config(tmp_path, slack, smtp, [f"{{name: idlib, query: Idlib, channels: {routes}, delivery: {delivery}}}"],
                       database)


def add_stories(config, count: int, now: datetime, start: int = 0) -> None:
    """`count` different Idlib stories, extracted and ready for triage."""
    with session(config.database) as current:
        sources.sync(current, [SourceConfig(name="wire", url="https://wire.example/rss")])
        source_id = sources.ids_by_name(current)["wire"]
        entries = [FeedEntry("wire", f"https://wire.example/{n}", None, f"Idlib report {n}", "") for n in
                   range(start, start + count)]
        ids = add_entries(current, source_id, entries, now)
        ingest.attach_text(current, [PageText(i, Extracted(text=distinct_text(n, "news from Idlib province")))
                                       for n, i in zip(range(start, start + count), ids, strict=True)])
    triage(config, now)


def deliver(database: str, channels, now: datetime, templates: str | None = None) -> list[outbox.ChannelOutcome]:
    """Drain the outbox through the alert channels, as the monitor's deliver stage does."""
    return outbox.drain(database, channels, now, alerts, templates)


def statuses(config) -> dict[str, list[str]]:
    with session(config.database) as current:
        found: dict[str, list[str]] = {}
        for delivery in current.exec(select(Delivery).order_by(Delivery.id)):
            found.setdefault(delivery.channel, []).append(delivery.status)
    return found


def test_instant_alerts_go_out_one_message_each(tmp_path, slack, smtp):
    config = load(tmp_path, slack, smtp)
    add_stories(config, 3, NOW)
    deliver(config.database, config.channels, NOW)
    assert len(slack.payloads) == 3 and len(smtp.messages) == 3
    assert statuses(config) == {"desk": ["sent"] * 3, "mail": ["sent"] * 3}


def test_an_hourly_digest_waits_for_the_hour_and_arrives_as_one_message(tmp_path, slack, smtp):
    config = load(tmp_path, slack, smtp, delivery="{digest: hourly}")
    add_stories(config, 4, NOW)
    deliver(config.database, config.channels, NOW)
    assert slack.payloads == [] and smtp.messages == []
    deliver(config.database, config.channels, NOW.replace(minute=59))
    assert slack.payloads == []
    deliver(config.database, config.channels, NOW.replace(hour=11, minute=0))
    assert len(slack.payloads) == 1 and len(smtp.messages) == 1
    assert "4 stories" in str(slack.payloads[0]) and "4 stories" in smtp.messages[0]["Subject"]
    assert statuses(config) == {"desk": ["sent"] * 4, "mail": ["sent"] * 4}


def test_a_daily_digest_per_channel_in_its_time_zone(tmp_path, slack, smtp):
    routes = '[desk, {channel: mail, digest: daily, at: "07:30", timezone: Europe/Istanbul}]'
    config = load(tmp_path, slack, smtp, routes=routes)
    add_stories(config, 2, NOW)
    deliver(config.database, config.channels, NOW)
    assert len(slack.payloads) == 2 and smtp.messages == []
    next_morning = datetime(2020, 2, 25, 4, 30, tzinfo=UTC)  # 07:30 in Istanbul
    deliver(config.database, config.channels, next_morning - timedelta(minutes=1))
    assert smtp.messages == []
    deliver(config.database, config.channels, next_morning)
    assert len(smtp.messages) == 1 and "2 stories" in smtp.messages[0]["Subject"]


def test_adaptive_sends_the_first_three_of_an_hour_then_a_digest(tmp_path, slack, smtp):
    config = load(tmp_path, slack, smtp, delivery="{digest: adaptive}", routes="[desk]")
    for n in range(5):
        add_stories(config, 1, NOW + timedelta(minutes=n), start=n)
        deliver(config.database, config.channels, NOW + timedelta(minutes=n))
    assert len(slack.payloads) == 3
    deliver(config.database, config.channels, NOW.replace(hour=11, minute=0))
    assert len(slack.payloads) == 4 and "2 stories" in str(slack.payloads[-1])


def test_quiet_hours_hold_alerts_for_a_digest_at_their_end(tmp_path, slack, smtp):
    config = load(tmp_path, slack, smtp, delivery='{quiet_hours: "10:00-12:00"}', routes="[desk]")
    add_stories(config, 2, NOW)
    deliver(config.database, config.channels, NOW + timedelta(hours=1))
    assert slack.payloads == []
    deliver(config.database, config.channels, NOW.replace(hour=12, minute=0))
    assert len(slack.payloads) == 1 and "2 stories" in str(slack.payloads[0])


def test_slack_and_smtp_outages_end_with_every_alert_delivered_once(tmp_path, slack, smtp):
    config = load(tmp_path, slack, smtp)
    add_stories(config, 3, NOW)
    slack.respond(Reply.rate_limited(120))
    smtp.stop()  # the relay is down
    deliver(config.database, config.channels, NOW)
    assert statuses(config) == {"desk": ["failed", "pending", "pending"], "mail": ["failed", "pending", "pending"]}
    deliver(config.database, config.channels, NOW + timedelta(seconds=60))  # Retry-After not reached
    assert len(slack.requests) == 1
    smtp.start()
    later = NOW + timedelta(hours=2)  # past every backoff
    deliver(config.database, config.channels, later)
    assert statuses(config) == {"desk": ["sent"] * 3, "mail": ["sent"] * 3}
    titles = [p["text"] for p in slack.payloads[1:]]
    assert len(titles) == 3 and len(set(titles)) == 3 and len(smtp.messages) == 3
    deliver(config.database, config.channels, later + timedelta(hours=1))
    assert len(slack.payloads) == 4 and len(smtp.messages) == 3


def test_smtp_5xx_is_permanent_and_does_not_stop_the_other_alerts(tmp_path, slack, smtp):
    config = load(tmp_path, slack, smtp, routes="[mail]")
    add_stories(config, 3, NOW)
    smtp.fail_next(1, "550 5.1.1 mailbox unavailable")
    deliver(config.database, config.channels, NOW)
    assert statuses(config) == {"mail": ["dead", "sent", "sent"]} and len(smtp.messages) == 2


DELIVER_IN_A_PROCESS = """
import sys
from datetime import datetime
import alerts
from newswatch import config, outbox
loaded = config.load(sys.argv[1])
outbox.drain(loaded.database, loaded.channels, datetime.fromisoformat(sys.argv[2]), alerts)
"""


def test_a_delivery_process_killed_midway_loses_nothing_and_resends_at_most_the_one_in_flight(
        tmp_path, slack, smtp):
    import subprocess
    import sys
    import time

    from newswatch.store.deliveries import LEASE

    config = load(tmp_path, slack, smtp, routes="[desk]")
    add_stories(config, 5, NOW)
    slack.respond(Reply.ok(), Reply.ok(), Reply.slow(30))  # the third send hangs: kill it there
    process = subprocess.Popen([sys.executable, "-c", DELIVER_IN_A_PROCESS, str(tmp_path / "newswatch.yaml"),
                                NOW.isoformat()])
    deadline = time.monotonic() + 30
    while len(slack.requests) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.kill()
    process.wait()
    assert len(slack.requests) == 3
    assert statuses(config)["desk"] == ["sent", "sent", "sending", "sending", "sending"]  # leased batch

    deliver(config.database, config.channels, NOW)  # the one in flight is leased: not resent yet
    deliver(config.database, config.channels, NOW + LEASE + timedelta(seconds=1))
    texts = [p["text"] for p in slack.payloads]
    assert statuses(config)["desk"] == ["sent"] * 5
    assert len(set(texts)) == 5
    in_flight = texts[2]
    assert all(texts.count(t) == 1 for t in texts if t != in_flight) and texts.count(in_flight) <= 2


FAILS_FOR_REPORT_1 = """{% for a in alerts %}{{ a.title }}{% endfor %}
{% if "report 1" in alerts[0].title %}{{ the_user_forgot_this.field }}{% endif %}
"""


def test_a_template_that_raises_fails_its_alert_until_dead_and_the_others_still_go(tmp_path, slack, smtp):
    # regression: a Jinja UndefinedError escaped deliver and left the claimed batch `sending`
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "email.txt").write_text(FAILS_FOR_REPORT_1, encoding="utf-8")
    config = load(tmp_path, slack, smtp, routes="[mail]")
    add_stories(config, 3, NOW)
    outcome = {o.channel: o for o in deliver(config.database, config.channels, NOW, str(templates))}["mail"]
    assert (outcome.sent, outcome.failed, outcome.unexpected) == (2, 1, 1)
    assert statuses(config) == {"mail": ["sent", "failed", "sent"]} and len(smtp.messages) == 2
    with session(config.database) as current:
        ((failed, _),) = deliveries.listing(current, ["failed"])
    assert failed.last_error.startswith("deliver: unexpected UndefinedError (") and failed.attempts == 1
    for cycle in range(1, DEFAULTS["delivery_attempts"] + 2):
        deliver(config.database, config.channels, NOW + cycle * timedelta(hours=2), str(templates))
    assert statuses(config) == {"mail": ["sent", "dead", "sent"]} and len(smtp.messages) == 2
    with session(config.database) as current:
        ((dead, _),) = deliveries.listing(current, ["dead"])
    assert dead.attempts == DEFAULTS["delivery_attempts"]


def test_an_absurd_retry_after_waits_a_week_and_the_other_channel_still_delivers(tmp_path, slack, smtp):
    # regression: `Retry-After: 99999999999999` overflowed the retry's date inside deliver
    config = load(tmp_path, slack, smtp)
    add_stories(config, 2, NOW)
    slack.respond(Reply.rate_limited("99999999999999"))
    outcomes = {o.channel: o for o in deliver(config.database, config.channels, NOW)}
    assert (outcomes["desk"].failed, outcomes["mail"].sent) == (1, 2)
    assert statuses(config) == {"desk": ["failed", "pending"], "mail": ["sent", "sent"]}
    with session(config.database) as current:
        waits = {d.next_attempt_at for d, _ in deliveries.listing(current, ["failed", "pending"])}
    (wait,) = waits  # the one that failed, and the one put back to wait as long
    assert NOW + timedelta(days=7) <= wait < NOW + timedelta(days=7, minutes=1)  # the clock moved while sending


def test_message_ids_are_unique_per_installation_and_follow_ups_thread_to_their_story(tmp_path, slack, smtp):
    # regression: story 1's first alert was <story-1.idlib@newswatch> in every store, after every reset
    ids = []
    for store in ("first", "second"):
        (tmp_path / store).mkdir()
        config = load(tmp_path / store, slack, smtp, routes="[mail]")
        add_stories(config, 1, NOW)
        deliver(config.database, config.channels, NOW)
        with session(config.database) as current:
            first = current.exec(select(Match)).one()
            follow_up = matches.add(current, first.story_id, first.article_id, "idlib", Hit(["Idlib"], [], "more"),
                                    NOW, revision=1)
            deliveries.enqueue(current, follow_up, "mail", NOW, False, NOW)
        deliver(config.database, config.channels, NOW)
        root, update = smtp.messages[-2:]
        assert update["In-Reply-To"] == update["References"] == root["Message-ID"] != update["Message-ID"]
        ids.append(root["Message-ID"])
    assert ids[0].startswith("<story-1.idlib@") and ids[1].startswith("<story-1.idlib@") and ids[0] != ids[1]


def test_a_channel_whose_drain_raises_is_its_own_outcome_and_the_others_deliver(tmp_path, slack, smtp, monkeypatch):
    config = load(tmp_path, slack, smtp)
    add_stories(config, 2, NOW)
    claim = deliveries.claim

    def failing_for_mail(current, channel, now, *args, **kwargs):
        if channel == "mail":
            raise RuntimeError("the store failed this channel's claim")
        return claim(current, channel, now, *args, **kwargs)

    monkeypatch.setattr(deliveries, "claim", failing_for_mail)
    outcomes = {o.channel: o for o in deliver(config.database, config.channels, NOW)}
    assert (outcomes["desk"].sent, outcomes["mail"].sent, outcomes["mail"].unexpected) == (2, 0, 1)
    assert outcomes["mail"].error == "deliver: unexpected RuntimeError (the store failed this channel's claim)"
    assert statuses(config) == {"desk": ["sent", "sent"], "mail": ["pending", "pending"]}
