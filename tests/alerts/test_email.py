"""The email channel against a real local SMTP server (aiosmtpd): headers, MIME structure,
threading, TLS (STARTTLS and implicit, with a self-signed certificate made per session), login,
and how SMTP failures map to error kinds."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import pytest

from alerts import ChannelError, render, send
from alerts.smtp import build_message
from newswatch.config.schema import EmailChannel
from tests.alerts.samples import ALERTS, DIGEST
from tests.support.smtp_server import SmtpServer

PASSWORD = "hunter2-correct-horse"


def _channel(server: SmtpServer, **overrides) -> EmailChannel:
    fields = {"type": "email", "smtp_host": server.host, "smtp_port": server.port,
              "starttls": False, "from": "newswatch <alerts@example.com>",
              "to": ["desk@example.com", "Ayşe Yılmaz <ayse@example.com>"], "timeout": "5s"}
    return EmailChannel(**{**fields, **overrides})


def _send_one(server: SmtpServer, alert=ALERTS["escaping"], **overrides):
    send("mail", _channel(server, **overrides), [alert])
    return server.messages[-1]


def test_headers(smtp_server):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    message = _send_one(smtp_server)
    assert message["Subject"] == ("[newswatch] acme: Acme & Sons' <b>record</b> Q3: *profits* "
                                  "up_50% | shares > $10 Bcc: attacker@example.com")
    assert message["From"] == "newswatch <alerts@example.com>"
    assert message["To"] == "desk@example.com, Ayşe Yılmaz <ayse@example.com>"
    assert message["Message-ID"] == "<story-101.acme@newswatch>"
    assert message["List-Id"] == "<acme.newswatch>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["In-Reply-To"] is None and message["References"] is None
    assert before <= parsedate_to_datetime(message["Date"]) <= datetime.now(timezone.utc)
    assert smtp_server.envelopes[-1].rcpt_tos == ["desk@example.com", "ayse@example.com"]


def test_no_header_injection(smtp_server):
    _send_one(smtp_server)
    message = smtp_server.messages[-1]
    raw = message.as_bytes()
    headers = raw.split(b"\n\n", 1)[0]
    assert b"\nBcc:" not in headers and message["Bcc"] is None
    assert smtp_server.envelopes[-1].rcpt_tos == ["desk@example.com", "ayse@example.com"]


def test_multipart_structure(smtp_server):
    message = _send_one(smtp_server, ALERTS["turkish"])
    assert message.get_content_type() == "multipart/alternative"
    text, html = message.get_payload()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert text.get_content_charset() == html.get_content_charset() == "utf-8"
    expected = render.email([ALERTS["turkish"]])
    assert text.get_content().replace("\r\n", "\n") == expected.text  # CRLF on the wire
    assert html.get_content().replace("\r\n", "\n") == expected.html
    assert message["Subject"] == "[newswatch] deprem: " + ALERTS["turkish"].title


def test_digest(smtp_server):
    send("mail", _channel(smtp_server), DIGEST, digest=True)
    message = smtp_server.messages[-1]
    assert message["Subject"] == "[newswatch] acme: 3 stories"
    assert message["Message-ID"] == render.digest_message_id(DIGEST)
    assert message["In-Reply-To"] is None


def test_follow_up_threads_under_the_story():
    channel = EmailChannel(type="email", smtp_host="127.0.0.1", **{"from": "a@example.com"},
                           to=["b@example.com"])
    first = build_message(channel, render.email([ALERTS["arabic"]]), datetime.now(timezone.utc))
    later = build_message(channel, render.email([ALERTS["arabic"]], revision=1),
                          datetime.now(timezone.utc))
    assert first["Message-ID"] == "<story-303.energy@newswatch>"
    assert later["Message-ID"] == "<story-303.energy.r1@newswatch>"
    assert later["In-Reply-To"] == later["References"] == first["Message-ID"]


def test_a_follow_up_alert_goes_out_as_a_reply_that_says_it_is_an_update(smtp_server):
    send("mail", _channel(smtp_server), [replace(ALERTS["arabic"], revision=2)])
    message = smtp_server.messages[-1]
    assert message["Message-ID"] == "<story-303.energy.r2@newswatch>"
    assert message["In-Reply-To"] == "<story-303.energy@newswatch>"
    assert message["Subject"].startswith("[newswatch] energy: Update 2: ")


def test_same_story_other_watchlist_is_another_thread():
    other = replace(ALERTS["escaping"], watchlist="competitors")
    assert render.email([other]).message_id != render.email([ALERTS["escaping"]]).message_id


@pytest.mark.parametrize(("reply", "kind", "message"), [
    ("421 4.3.2 Service not available, try again later", "retry",
     "email: 421 4.3.2 Service not available, try again later"),
    ("451 4.7.1 Greylisted", "retry", "email: 451 4.7.1 Greylisted"),
    ("550 5.1.1 Mailbox unavailable", "permanent", "email: 550 5.1.1 Mailbox unavailable"),
    ("554 5.7.1 Rejected as spam", "permanent", "email: 554 5.7.1 Rejected as spam"),
], ids=["421", "451", "550", "554"])
def test_smtp_replies(smtp_server, reply, kind, message):
    smtp_server.fail_next(1, reply)
    with pytest.raises(ChannelError) as caught:
        _send_one(smtp_server)
    assert (caught.value.kind, str(caught.value)) == (kind, message)
    _send_one(smtp_server)  # the next message goes through
    assert len(smtp_server.messages) == 1


def test_server_down_is_retry_then_recovers(smtp_server):
    channel = _channel(smtp_server)
    smtp_server.stop()
    with pytest.raises(ChannelError) as caught:
        send("mail", channel, [ALERTS["arabic"]])
    assert caught.value.kind == "retry"
    where = f"127.0.0.1:{channel.smtp_port}"
    assert str(caught.value) == f"email: cannot reach {where} (Connection refused)"
    smtp_server.start()
    send("mail", channel, [ALERTS["arabic"]])
    assert len(smtp_server.messages) == 1


def test_starttls_and_login(certificate, trust_certificate):
    with SmtpServer(tls=certificate, logins={"newswatch": PASSWORD}) as server:
        message = _send_one(server, starttls=True, username="newswatch", password=PASSWORD)
    assert server.logins == ["newswatch"]
    assert message["Message-ID"] == "<story-101.acme@newswatch>"


def test_implicit_tls(certificate, trust_certificate):
    with SmtpServer(tls=certificate, implicit_tls=True) as server:
        _send_one(server, tls=True)
    assert len(server.messages) == 1


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"starttls": True, "username": "newswatch", "password": "wrong-" + PASSWORD},
     "email: 535 5.7.8 Authentication credentials invalid"),
    ({"starttls": False, "username": "newswatch", "password": PASSWORD},
     "SMTP AUTH extension not supported"),  # offered only after STARTTLS
], ids=["bad-password", "login-without-tls"])
def test_login_failures_never_show_the_password(certificate, trust_certificate, overrides,
                                                expected):
    with SmtpServer(tls=certificate, logins={"newswatch": PASSWORD}) as server:
        with pytest.raises(ChannelError) as caught:
            _send_one(server, **overrides)
    assert caught.value.kind == "permanent" and expected in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_untrusted_certificate_is_permanent(certificate):
    with SmtpServer(tls=certificate) as server:
        with pytest.raises(ChannelError) as caught:
            _send_one(server, starttls=True)
    assert caught.value.kind == "permanent"
    assert "TLS certificate rejected" in str(caught.value)


def test_starttls_not_offered_is_permanent(smtp_server):
    with pytest.raises(ChannelError) as caught:
        _send_one(smtp_server, starttls=True)
    assert caught.value.kind == "permanent" and "STARTTLS" in str(caught.value)


def test_bad_from_address_is_permanent(smtp_server):
    with pytest.raises(ChannelError) as caught:
        _send_one(smtp_server, **{"from": "alerts@example.com\r\nBcc: x@example.com"})
    assert caught.value.kind == "permanent" and str(caught.value).startswith("email: bad From/To")
