"""The email channel (YAML `type: email`): one multipart/alternative message per alert or digest.

Transport: SMTP_SSL when `tls` (port 465), else plain SMTP upgraded with STARTTLS when
`starttls`; both verify the server certificate against the system store (SSL_CERT_FILE points
elsewhere); login only when `username` is set.

Headers: Subject, From, To, Date, Message-ID, List-Id `<watchlist.newswatch>` (RFC 2919),
Auto-Submitted: auto-generated (RFC 3834). Threading: a story's first alert for a watchlist has
the Message-ID `<story-ID.WATCHLIST@newswatch>`; a follow-up (revision n > 0) gets
`<story-ID.WATCHLIST.rN@newswatch>` with In-Reply-To and References naming the first, so mail
clients thread a story; a digest has its own `<digest-HASH.WATCHLIST@newswatch>` from its story
ids. The ids are deterministic, so a retried send carries the same id and clients deduplicate.

Outcomes: an SMTP 4xx reply, a refused/reset/closed connection or a timeout is "retry"; a 5xx
reply, a rejected certificate, a server without STARTTLS/AUTH, or a bad From/To is "permanent".
When only some recipients are refused the message counts as sent (retrying would duplicate it
for the others) and the refusal is logged. The password never appears in a message.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime

from alerts import render
from alerts.errors import ChannelError, redact
from newswatch.config.schema import EmailChannel
from newswatch.models import Alert

__all__ = ["build_message", "send"]

log = logging.getLogger("newswatch.alerts")


def send(name: str, channel: EmailChannel, alerts: list[Alert], digest: bool = False) -> None:
    """Render and send one message; raise ChannelError when the server did not take it."""
    revision = 0 if digest else alerts[0].revision
    content = render.email(alerts, digest, revision=revision)
    _transmit(channel, build_message(channel, content, datetime.now(timezone.utc)))


def build_message(channel: EmailChannel, content: render.EmailContent,
                  now: datetime) -> EmailMessage:
    """The MIME message: headers plus text and HTML alternatives."""
    message = EmailMessage()
    try:
        message["From"] = channel.from_
        message["To"] = ", ".join(channel.to)
    except ValueError as exc:  # CR/LF or an unparsable address in the config
        raise ChannelError("permanent",
                           f"email: bad From/To address in the config ({exc})") from None
    message["Subject"] = content.subject  # already one line: render folds CR/LF
    message["Date"] = format_datetime(now)
    message["Message-ID"] = content.message_id
    if content.in_reply_to:
        message["In-Reply-To"] = content.in_reply_to
        message["References"] = content.in_reply_to
    message["List-Id"] = content.list_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(content.text)
    message.add_alternative(content.html, subtype="html")
    return message


def _transmit(channel: EmailChannel, message: EmailMessage) -> None:
    secrets = [channel.password.get_secret_value()] if channel.password else []
    where = f"{channel.smtp_host}:{channel.smtp_port}"
    try:
        client = _connect(channel)
        try:
            if channel.starttls:
                client.starttls(context=ssl.create_default_context())
            if channel.username:
                client.login(channel.username, secrets[0] if secrets else "")
            refused = client.send_message(message)
        finally:
            _close(client)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({code for code, _ in exc.recipients.values()})
        first = next(iter(exc.recipients.values()))
        text = (f"email: {first[0]} {_reply(first[1])} "
                f"(all {len(exc.recipients)} recipients refused)")
        kind = "retry" if any(400 <= c < 500 for c in codes) else "permanent"
        raise ChannelError(kind, redact(text, secrets)) from None
    except smtplib.SMTPResponseException as exc:
        kind = "retry" if 400 <= exc.smtp_code < 500 else "permanent"
        text = f"email: {exc.smtp_code} {_reply(exc.smtp_error)}"
        raise ChannelError(kind, redact(text, secrets)) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise ChannelError("permanent", f"email: {where} does not offer what the config asks "
                                        f"for ({exc})") from None
    except smtplib.SMTPServerDisconnected:
        raise ChannelError("retry", f"email: {where} closed the connection") from None
    except ssl.SSLCertVerificationError as exc:
        raise ChannelError("permanent", f"email: {where} TLS certificate rejected "
                                        f"({exc.verify_message})") from None
    except smtplib.SMTPException as exc:  # e.g. "No suitable authentication method found."
        raise ChannelError("permanent", redact(f"email: {where}: {exc}", secrets)) from None
    except TimeoutError:
        raise ChannelError("retry", f"email: {where} timed out after "
                                    f"{channel.timeout.total_seconds():g}s") from None
    except OSError as exc:  # refused, reset, DNS, other TLS failures
        text = f"email: cannot reach {where} ({exc.strerror or exc})"
        raise ChannelError("retry", redact(text, secrets)) from None
    if refused:
        log.warning("email channel: %d of %d recipients refused: %s", len(refused),
                    len(channel.to), ", ".join(f"{k} {v[0]}" for k, v in refused.items()))


def _connect(channel: EmailChannel) -> smtplib.SMTP:
    timeout = channel.timeout.total_seconds()
    if channel.tls:
        return smtplib.SMTP_SSL(channel.smtp_host, channel.smtp_port, timeout=timeout,
                                context=ssl.create_default_context())
    return smtplib.SMTP(channel.smtp_host, channel.smtp_port, timeout=timeout)


def _close(client: smtplib.SMTP) -> None:
    """QUIT politely; a failure here must not turn a sent message into an error."""
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _reply(text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(text.split())[:200]
