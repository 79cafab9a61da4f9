"""A local HTTP endpoint that answers like a Slack incoming webhook (and serves any JSON webhook).

    with SlackServer() as slack:                       # 127.0.0.1, a free port, its own thread
        slack.respond(Reply.rate_limited(30), Reply.ok())   # one queued reply per request
        httpx.post(slack.url, json={...})              # slack.url looks like a webhook URL
        slack.payloads[0]                              # the parsed JSON of the first request
        slack.requests[0].headers["content-type"]      # everything else about it

Replies are taken from the queue in order; once it is empty every request gets `default`
(200 "ok", as Slack answers). Every request is recorded before it is answered, whatever the
reply. `Reply.slow(seconds)` holds the answer back to provoke client timeouts; closing the
server releases held replies at once. After `close()` the port refuses connections, which is
how tests simulate an outage. The tests/alerts fixture `slack_server` wraps this class.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Reply", "Request", "SlackServer"]

WEBHOOK_PATH = "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"


@dataclass(frozen=True)
class Reply:
    """One scripted answer."""

    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    @classmethod
    def ok(cls) -> Reply:
        return cls()

    @classmethod
    def rate_limited(cls, retry_after: int | str = 30) -> Reply:
        return cls(429, "rate_limited", {"Retry-After": str(retry_after)})

    @classmethod
    def server_error(cls, status: int = 500, body: str = "internal_error") -> Reply:
        return cls(status, body)

    @classmethod
    def error(cls, status: int, body: str) -> Reply:
        """Any Slack error, e.g. (404, "channel_not_found") or (400, "invalid_payload")."""
        return cls(status, body)

    @classmethod
    def no_service(cls) -> Reply:
        """What Slack answers for a revoked or unknown webhook URL."""
        return cls(404, "no_service")

    @classmethod
    def invalid_token(cls) -> Reply:
        return cls(403, "invalid_token")

    @classmethod
    def slow(cls, seconds: float) -> Reply:
        return cls(delay=seconds)


@dataclass(frozen=True)
class Request:
    """One request as received."""

    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class SlackServer:
    """A thread-based HTTP server that records requests and answers from a script."""

    def __init__(self, default: Reply | None = None):
        self.default = default or Reply.ok()
        self.requests: list[Request] = []
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> SlackServer:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="slack-server",
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop answering; the port then refuses connections."""
        if self._server is None:
            return
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = None

    def __enter__(self) -> SlackServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- addresses ---------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._server is not None, "start the server first"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """An incoming-webhook-like URL; its path is the part tests treat as the secret."""
        return self.base_url + WEBHOOK_PATH

    # -- script and record -------------------------------------------------------------------
    def respond(self, *replies: Reply) -> None:
        """Queue replies for the next requests, in order."""
        with self._lock:
            self._replies.extend(replies)

    @property
    def payloads(self) -> list[Any]:
        """The JSON body of every request so far."""
        return [r.json for r in self.requests]

    def _take(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            return self._replies.popleft() if self._replies else self.default


def _handler_for(owner: SlackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            request = Request(self.command, self.path,
                              {k.lower(): v for k, v in self.headers.items()}, body)
            reply = owner._take(request)
            if reply.delay and owner._closing.wait(reply.delay):
                return  # closing: drop the connection unanswered
            data = reply.body.encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(data)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing to answer

        do_PUT = do_POST

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

    return Handler
