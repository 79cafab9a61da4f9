"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records messages and fails on request.

    with SmtpServer() as smtp:                          # plain SMTP on a free port
        ... send to smtp.host:smtp.port ...
        smtp.messages[0]["Subject"]                     # email.message.EmailMessage objects
        smtp.envelopes[0].rcpt_tos                      # what the client said in MAIL/RCPT

    smtp.fail_next(1, "421 4.3.2 Service not available")   # the next N messages get this reply
    smtp.fail_next(2, "550 5.1.1 Mailbox unavailable")     #   at DATA (4xx or 5xx, any text)
    smtp.stop(); ...; smtp.start()                      # an outage: the port refuses, then the
                                                        #   server comes back on the same port
TLS and login:

    cert, key = make_certificate(tmp_path)              # self-signed, for 127.0.0.1 and localhost
    SmtpServer(tls=(cert, key))                         # offers STARTTLS, and requires it
    SmtpServer(tls=(cert, key), implicit_tls=True)      # TLS from the first byte (port 465 style)
    SmtpServer(tls=(cert, key), logins={"user": "pw"})  # AUTH PLAIN/LOGIN required (after TLS)
    smtp.logins                                         # user names that logged in

A client trusts the certificate when SSL_CERT_FILE points at `cert` (monkeypatch.setenv), since
ssl.create_default_context() reads it. The tests/alerts fixture `smtp_server` wraps this class.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import ssl
import threading
from collections import deque
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

__all__ = ["Envelope", "SmtpServer", "make_certificate"]

# aiosmtpd logs this on every successful AUTH, from its own code; nothing to act on.
logging.getLogger("mail.log").addFilter(
    lambda record: "login_data is deprecated" not in record.getMessage())


@dataclass(frozen=True)
class Envelope:
    mail_from: str
    rcpt_tos: list[str]


class _Controller(Controller):
    """aiosmtpd's Controller, bound to the given port or (port 0) to a free one."""

    def _create_server(self):
        return self._bind()

    async def _bind(self):
        server = await self.loop.create_server(self._factory_invoker, host=self.hostname,
                                               port=self.port, ssl=self.ssl_context)
        self.port = server.sockets[0].getsockname()[1]
        return server


class _Handler:
    def __init__(self, owner: SmtpServer):
        self.owner = owner

    async def handle_DATA(self, server, session, envelope) -> str:
        return self.owner._receive(envelope)


class SmtpServer:
    """Records every accepted message; answers scripted failures first."""

    host = "127.0.0.1"

    def __init__(self, tls: tuple[Path, Path] | None = None, *, implicit_tls: bool = False,
                 logins: dict[str, str] | None = None):
        if logins and not tls:
            raise ValueError("logins need tls: aiosmtpd refuses AUTH in clear text")
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Envelope] = []
        self.logins: list[str] = []
        self.port = 0
        self._tls, self._implicit, self._accounts = tls, implicit_tls, logins or {}
        self._failures: deque[str] = deque()
        self._lock = threading.Lock()
        self._controller: _Controller | None = None

    def start(self) -> SmtpServer:
        """Listen (again) on `port`; the first start picks a free port."""
        context = None
        if self._tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*self._tls)
        options = {"server_hostname": "smtp.test", "ready_timeout": 10.0}
        if context and self._implicit:
            options["ssl_context"] = context
        elif context:
            options.update(tls_context=context, require_starttls=True)
        if self._accounts:
            options.update(authenticator=self._authenticate, auth_required=True)
        self._controller = _Controller(_Handler(self), hostname=self.host, port=self.port,
                                       **options)
        self._controller.start()
        self.port = self._controller.port
        return self

    def stop(self) -> None:
        """Stop listening; connections are refused until `start()`."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def fail_next(self, count: int, reply: str) -> None:
        """Answer the next `count` messages with `reply` (e.g. "421 …" or "550 …") at DATA."""
        with self._lock:
            self._failures.extend([reply] * count)

    def _receive(self, envelope) -> str:
        with self._lock:
            if self._failures:
                return self._failures.popleft()
            message = message_from_bytes(envelope.original_content, policy=policy.default)
            self.messages.append(message)
            self.envelopes.append(Envelope(envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 2.0.0 OK queued"

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            user, password = auth_data.login.decode(), auth_data.password.decode()
            if self._accounts.get(user) == password:
                self.logins.append(user)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate and key for 127.0.0.1 and localhost, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "newswatch test SMTP")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = Path(directory) / "smtp-cert.pem", Path(directory) / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path
