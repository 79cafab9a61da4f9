"""Claims and leases in the outbox, on SQLite and PostgreSQL: a delivery is held by one sender at
a time, for as long as its send runs, and `alerts retry` leaves scheduled digests alone."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from newswatch.store import deliveries, session
from tests.newswatch.outbox.test_drain import NOW, add_stories, deliver, load, statuses
from tests.support.slack_server import Reply

SECOND = timedelta(seconds=1)


def test_a_lease_runs_from_its_claim_and_a_sender_that_lost_it_marks_nothing(database, tmp_path, slack_server,
                                                                             smtp_server):
    config = load(tmp_path, slack_server, smtp_server, routes="[desk]", database=database)
    add_stories(config, 1, NOW)
    later = NOW + timedelta(minutes=30)  # a claim taken half an hour into a long drain
    with session(database) as current:
        (mine,) = deliveries.claim(current, "desk", later)
    ids = [mine.delivery_id]
    with session(database) as current:
        assert deliveries.claim(current, "desk", later + deliveries.LEASE - SECOND) == []
        assert deliveries.renew(current, ids, mine.token, later + deliveries.LEASE - SECOND) == set(ids)
        assert deliveries.claim(current, "desk", later + deliveries.LEASE + SECOND) == []  # renewed
    with session(database) as current:
        (theirs,) = deliveries.claim(current, "desk", later + 3 * deliveries.LEASE)  # lapsed: taken over
    assert theirs.token != mine.token and theirs.attempts == 2
    with session(database) as current:
        assert deliveries.renew(current, ids, mine.token, later) == set()
        assert deliveries.mark_sent(current, ids, later, mine.token) == 0
        assert deliveries.mark_failed(current, ids, "slack: 500", None, mine.token) == 0
        assert deliveries.unclaim(current, ids, later, mine.token) == 0
    assert statuses(config) == {"desk": ["sending"]}
    with session(database) as current:
        assert deliveries.mark_sent(current, ids, later, theirs.token) == 1
    assert statuses(config) == {"desk": ["sent"]}


def test_a_send_longer_than_the_lease_is_never_sent_again_by_another_drainer(database, tmp_path, slack_server,
                                                                             smtp_server, monkeypatch):
    # regression: every lease ran from the stage's start, and nothing renewed it while sending
    monkeypatch.setattr(deliveries, "LEASE", SECOND)
    config = load(tmp_path, slack_server, smtp_server, routes="[desk]", database=database)
    add_stories(config, 3, NOW)
    slack_server.respond(Reply.slow(3))  # the first send outlasts the lease three times over
    began, outcomes = time.monotonic(), []
    first = threading.Thread(target=lambda: outcomes.extend(deliver(config.database, config.channels, NOW)))
    first.start()
    deadline = began + 10
    while not slack_server.requests and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(1.5)  # past the lease the batch was claimed with, the first send still running
    second = deliver(config.database, config.channels, NOW + timedelta(seconds=time.monotonic() - began))
    first.join(timeout=30)
    texts = [payload["text"] for payload in slack_server.payloads]
    assert sum(o.sent for o in second) == 0 and sum(o.sent for o in outcomes) == 3
    assert len(texts) == 3 and len(set(texts)) == 3
    assert statuses(config) == {"desk": ["sent"] * 3}


def test_retry_leaves_digests_not_yet_due_alone_unless_asked(database, tmp_path, slack_server, smtp_server):
    # regression: `newswatch alerts retry` sent the next hour's digest at once
    config = load(tmp_path, slack_server, smtp_server, routes="[desk, {channel: mail, digest: hourly}]",
                  database=database)
    add_stories(config, 2, NOW)
    slack_server.respond(Reply.server_error(500))
    deliver(config.database, config.channels, NOW)
    assert statuses(config) == {"desk": ["failed", "pending"], "mail": ["pending", "pending"]}
    with session(database) as current:
        assert deliveries.release_for_retry(current, NOW) == 2
    deliver(config.database, config.channels, NOW)
    assert statuses(config) == {"desk": ["sent", "sent"], "mail": ["pending", "pending"]}
    assert smtp_server.messages == []
    with session(database) as current:
        assert deliveries.release_for_retry(current, NOW, include_digests=True) == 2
    deliver(config.database, config.channels, NOW)
    assert len(smtp_server.messages) == 1 and "2 stories" in smtp_server.messages[0]["Subject"]
