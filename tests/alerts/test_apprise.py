"""The apprise channel through Apprise's json:// plugin, against the local recording endpoint."""

from __future__ import annotations

import pytest

from alerts import ChannelError, send
from newswatch.config.schema import AppriseChannel
from tests.alerts.samples import ALERTS, DIGEST
from tests.support.slack_server import Reply


def _url(server, path: str = "notify-t0ken") -> str:
    return f"json://127.0.0.1:{server.port}/{path}"


def test_sends_title_and_markdown_body(slack_server):
    send("push", AppriseChannel(type="apprise", urls=[_url(slack_server)]), [ALERTS["escaping"]])
    (request,) = slack_server.requests
    assert request.path == "/notify-t0ken"
    body = request.json
    assert body["title"].startswith("Acme & Sons' <b>record</b>")
    assert "**Acme**" in body["message"] and "(https://news.example.com/" in body["message"]


def test_digest_is_one_notification_per_url(slack_server):
    urls = [_url(slack_server, "one"), _url(slack_server, "two")]
    send("push", AppriseChannel(type="apprise", urls=urls), DIGEST, digest=True)
    assert [r.path for r in slack_server.requests] == ["/one", "/two"]
    assert {r.json["title"] for r in slack_server.requests} == {"3 stories for acme"}


def test_failure_is_retry_and_names_the_url_by_position(slack_server):
    slack_server.respond(Reply.ok(), Reply.server_error())
    urls = [_url(slack_server, "one"), _url(slack_server, "two-s3cret")]
    with pytest.raises(ChannelError) as caught:
        send("push", AppriseChannel(type="apprise", urls=urls), [ALERTS["arabic"]])
    error = caught.value
    assert error.kind == "retry"
    assert str(error) == ("apprise: 1 of 2 URLs failed: #2 (JSON) "
                          "(Apprise does not report why; see its log)")


def test_unknown_url_is_permanent_and_not_shown():
    channel = AppriseChannel(type="apprise", urls=["nosuchservice://t0ken@host"])
    with pytest.raises(ChannelError) as caught:
        send("push", channel, [ALERTS["arabic"]])
    assert caught.value.kind == "permanent" and "t0ken" not in str(caught.value)
