"""The webhook channel against the local recording endpoint."""

from __future__ import annotations

import pytest

from alerts import ChannelError, send
from newswatch.config.schema import WebhookChannel
from tests.alerts.samples import ALERTS, DIGEST
from tests.support.slack_server import Reply

TOKEN = "s3cr3t-t0ken-value"


def _channel(server, **overrides) -> WebhookChannel:
    fields = {"type": "webhook", "url": f"{server.base_url}/hooks/{TOKEN}",
              "headers": {"Authorization": f"Bearer {TOKEN}", "X-Source": "newswatch"}}
    return WebhookChannel(**{**fields, **overrides})


def test_posts_the_record_with_headers(slack_server):
    send("hook", _channel(slack_server), [ALERTS["turkish"]])
    (request,) = slack_server.requests
    assert request.path == f"/hooks/{TOKEN}"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["x-source"] == "newswatch"
    body = request.json
    assert body["story_id"] == 202 and body["title"].startswith("İstanbul'da")
    assert body["published"] == "2026-04-23T15:49:00+03:00"
    assert body["highlights"] == [[29, 37], [52, 60]] and body["sent_at"]


def test_digest_document(slack_server):
    send("hook", _channel(slack_server), DIGEST, digest=True)
    body = slack_server.payloads[0]
    assert body["watchlist"] == "acme"
    assert [a["story_id"] for a in body["alerts"]] == [101, 102, 103]


@pytest.mark.parametrize(("reply", "kind", "retry_after"), [
    (Reply(202, ""), None, None),
    (Reply(204, ""), None, None),
    (Reply.rate_limited(7), "retry", 7.0),
    (Reply.server_error(502, "bad gateway"), "retry", None),
    (Reply(408, "request timeout"), "retry", None),
    (Reply(401, "unauthorized"), "permanent", None),
    (Reply(404, "not found"), "permanent", None),
    (Reply(301, ""), "permanent", None),
], ids=["202", "204", "429", "502", "408", "401", "404", "redirect"])
def test_outcomes(slack_server, reply, kind, retry_after):
    slack_server.respond(reply)
    if kind is None:
        send("hook", _channel(slack_server), [ALERTS["arabic"]])
        return
    with pytest.raises(ChannelError) as caught:
        send("hook", _channel(slack_server), [ALERTS["arabic"]])
    error = caught.value
    assert (error.kind, error.retry_after_seconds) == (kind, retry_after)
    assert str(error).startswith(f"webhook: {reply.status}")
    assert TOKEN not in str(error)


def test_secrets_echoed_by_the_server_are_redacted(slack_server):
    slack_server.respond(Reply(400, f"bad header Authorization: Bearer {TOKEN}"))
    with pytest.raises(ChannelError) as caught:
        send("hook", _channel(slack_server), [ALERTS["arabic"]])
    assert TOKEN not in str(caught.value) and "***" in str(caught.value)
