"""The slack channel against a local endpoint that answers like Slack."""

from __future__ import annotations

import pytest

from alerts import ChannelError, send
from newswatch.config.schema import SlackChannel
from tests.alerts.samples import ALERTS, DIGEST
from tests.support.slack_server import Reply, SlackServer

SECRET = "XXXXXXXXXXXXXXXXXXXXXXXX"  # the token part of tests.support.slack_server's webhook URL


def _channel(server: SlackServer, timeout: str = "5s") -> SlackChannel:
    return SlackChannel(type="slack", webhook_url=server.url, timeout=timeout)


def test_sends_the_rendered_payload(slack_server):
    send("desk", _channel(slack_server), [ALERTS["escaping"]])
    (request,) = slack_server.requests
    assert request.method == "POST" and request.headers["content-type"] == "application/json"
    payload = request.json
    assert payload["blocks"][0]["text"]["text"].startswith("*<https://news.example.com/")
    assert payload["text"].endswith("(Reuters)")


def test_digest_is_one_message(slack_server):
    send("desk", _channel(slack_server), DIGEST, digest=True)
    (payload,) = slack_server.payloads
    assert payload["blocks"][0]["text"]["text"] == "3 stories for acme"


@pytest.mark.parametrize(("reply", "kind", "message", "retry_after"), [
    (Reply.rate_limited(30), "retry", "slack: 429, retry after 30s", 30.0),
    (Reply(429, "rate_limited"), "retry", "slack: 429 rate limited", None),
    (Reply.server_error(500, "internal_error"), "retry", "slack: 500 internal_error", None),
    (Reply(503, "", {"Retry-After": "120"}), "retry", "slack: 503 server error", 120.0),
    (Reply.rate_limited("99999999999999"), "retry", "slack: 429, retry after 604800s", 604800.0),
    (Reply.rate_limited("Fri, 31 Dec 9999 23:59:59 GMT"), "retry", "slack: 429, retry after 604800s",
     604800.0),
    (Reply.no_service(), "permanent",
     "slack: 404 no_service (webhook URL revoked?)", None),
    (Reply.invalid_token(), "permanent",
     "slack: 403 invalid_token (webhook URL revoked or mistyped?)", None),
    (Reply.error(404, "channel_not_found"), "permanent",
     "slack: 404 channel_not_found (channel deleted, or the app removed from it?)", None),
    (Reply.error(410, "channel_is_archived"), "permanent",
     "slack: 410 channel_is_archived (channel archived)", None),
    (Reply.error(400, "invalid_payload"), "permanent",
     "slack: 400 invalid_payload (Slack rejected the message: a newswatch bug, please report it)",
     None),
], ids=["429", "429-no-header", "500", "503-retry-after", "429-absurd-seconds", "429-year-9999", "404-no_service", "403-invalid_token",
        "404-channel_not_found", "410-archived", "400-invalid_payload"])
def test_outcomes(slack_server, reply, kind, message, retry_after):
    slack_server.respond(reply)
    with pytest.raises(ChannelError) as caught:
        send("desk", _channel(slack_server), [ALERTS["turkish"]])
    error = caught.value
    assert (error.kind, str(error), error.retry_after_seconds) == (kind, message, retry_after)
    assert SECRET not in str(error)


def test_retry_after_as_http_date(slack_server):
    later = {"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}
    slack_server.respond(Reply(429, "rate_limited", later))
    with pytest.raises(ChannelError) as caught:
        send("desk", _channel(slack_server), [ALERTS["turkish"]])
    assert caught.value.kind == "retry" and caught.value.retry_after_seconds > 86400


def test_recovers_after_a_retry(slack_server):
    slack_server.respond(Reply.server_error(), Reply.ok())
    with pytest.raises(ChannelError):
        send("desk", _channel(slack_server), [ALERTS["arabic"]])
    send("desk", _channel(slack_server), [ALERTS["arabic"]])
    assert len(slack_server.requests) == 2


def test_timeout_is_retry(slack_server):
    slack_server.respond(Reply.slow(5))
    with pytest.raises(ChannelError) as caught:
        send("desk", _channel(slack_server, timeout="200ms"), [ALERTS["arabic"]])
    assert (caught.value.kind, str(caught.value)) == ("retry", "slack: timed out after 0.2s")


def test_connection_refused_is_retry():
    with SlackServer() as server:
        channel = _channel(server)
    with pytest.raises(ChannelError) as caught:
        send("desk", channel, [ALERTS["arabic"]])
    assert caught.value.kind == "retry" and str(caught.value).startswith("slack: connection failed")
    assert SECRET not in str(caught.value) and "127.0.0.1" not in str(caught.value)


@pytest.mark.parametrize("url", ["not a url", f"ftp://hooks.example/services/{SECRET}"],
                         ids=["garbage", "wrong-scheme"])
def test_bad_url_is_permanent_and_not_shown(url):
    with pytest.raises(ChannelError) as caught:
        send("desk", SlackChannel(type="slack", webhook_url=url), [ALERTS["arabic"]])
    assert caught.value.kind == "permanent" and url not in str(caught.value)
    assert SECRET not in str(caught.value)


def test_an_echoed_secret_is_redacted(slack_server):
    slack_server.respond(Reply.error(400, f"bad request to {slack_server.url}"))
    with pytest.raises(ChannelError) as caught:
        send("desk", _channel(slack_server), [ALERTS["arabic"]])
    assert SECRET not in str(caught.value) and "***" in str(caught.value)
