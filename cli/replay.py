"""A tiny loopback HTTP server that replays files from a folder: the demo's and the tests' web.

Rules:
- GET and HEAD serve the file at the request path under `root`, read from disk on every request
  (a test can add an item to a feed while the server runs); anything outside `root` is a 404.
- `ETag` is a hash of the body as served and `Last-Modified` the file's mtime; If-None-Match
  (which wins when both are sent, RFC 9110 13.2.2) and If-Modified-Since answer 304.
- Content-Type comes from the extension; .xml is application/atom+xml when its root element is
  <feed>, else application/rss+xml; .json is application/feed+json; .html is
  text/html; charset=utf-8.
- In text bodies the placeholder `http://replay.invalid` becomes the server's base URL, so seed
  files can hold absolute links.
- Every request is recorded in `.requests` as (method, path, status); nothing is logged.

    with ReplayServer(Path("seeds")) as server:
        fetch(server.base_url + "/feeds/world.xml")

or from a shell: `python -m cli.replay seeds --port 8080`.

It sits with the CLI, not in the core: only `newswatch demo` (and the tests) serve files with it.
"""

from __future__ import annotations

import argparse
import hashlib
import mimetypes
import re
import sys
import threading
from datetime import timezone
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self
from urllib.parse import unquote, urlsplit

__all__ = ["PLACEHOLDER", "ReplayServer", "ServedInThread", "main"]

PLACEHOLDER = b"http://replay.invalid"
_TYPES = {
    ".json": "application/feed+json",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".atom": "application/atom+xml",
    ".rss": "application/rss+xml",
    ".rdf": "application/rss+xml",
}
_TEXT = (".xml", ".rss", ".atom", ".rdf", ".json", ".html", ".htm", ".txt")
_ROOT_ELEMENT = re.compile(rb"<([A-Za-z][\w.:-]*)")
_PROLOG = re.compile(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", re.DOTALL)


class ServedInThread:
    """An HTTP server answering from a daemon thread while its `with` block runs (the tests' local
    servers are made the same way)."""

    def __init__(self, httpd: ThreadingHTTPServer) -> None:
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class ReplayServer(ServedInThread):
    """Serve `root` on host:port (port 0 picks a free one) from a daemon thread, as a context manager."""

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = Path(root).resolve()
        self.requests: list[tuple[str, str, int]] = []
        super().__init__(_Server((host, port), _handler(self)))

    @property
    def base_url(self) -> str:
        """The URL of the server's root, without a trailing slash."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}" if ":" not in str(host) else f"http://[{host}]:{port}"

    def respond(self, method: str, target: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body for one request (no I/O beyond reading the file)."""
        path = self._file(unquote(urlsplit(target).path))
        if path is None:
            return 404, {"Content-Type": "text/plain; charset=utf-8"}, b"not found\n"
        body = path.read_bytes()
        if path.suffix.lower() in _TEXT:
            body = body.replace(PLACEHOLDER, self.base_url.encode())
        mtime = int(path.stat().st_mtime)
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        out = {"ETag": etag, "Last-Modified": formatdate(mtime, usegmt=True),
               "Content-Type": _content_type(path, body)}
        if _not_modified(headers, etag, mtime):
            return 304, out, b""
        return 200, out, body

    def _file(self, path: str) -> Path | None:
        candidate = (self.root / path.lstrip("/")).resolve()
        inside = candidate == self.root or self.root in candidate.parents
        return candidate if inside and candidate.is_file() else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # an idle keep-alive client must not hold up shutdown

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that hung up: not news
            super().handle_error(request, client_address)


def _handler(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._reply(send_body=True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._reply(send_body=False)

        def _reply(self, send_body: bool) -> None:
            status, headers, body = server.respond(self.command, self.path, dict(self.headers.items()))
            server.requests.append((self.command, urlsplit(self.path).path, status))
            self.send_response(status, HTTPStatus(status).phrase)
            for name, value in headers.items():
                self.send_header(name, value)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body and status != 304:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler


def _content_type(path: Path, body: bytes) -> str:
    suffix = path.suffix.lower()
    if suffix == ".xml":
        match = _ROOT_ELEMENT.search(_PROLOG.sub(b"", body[:4096]))
        root = match.group(1).split(b":")[-1] if match else b""
        return "application/atom+xml" if root == b"feed" else "application/rss+xml"
    return _TYPES.get(suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _not_modified(headers: dict[str, str], etag: str, mtime: int) -> bool:
    lowered = {k.lower(): v for k, v in headers.items()}
    if "if-none-match" in lowered:
        tags = [t.strip().removeprefix("W/") for t in lowered["if-none-match"].split(",")]
        return "*" in tags or etag in tags
    since = lowered.get("if-modified-since")
    if not since:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return False
    return mtime <= (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()


def main(argv: list[str] | None = None) -> None:
    """Serve a folder until interrupted: python -m cli.replay ROOT [--host H] [--port N]."""
    parser = argparse.ArgumentParser(prog="python -m cli.replay", description=__doc__.split("\n")[0])
    parser.add_argument("root", type=Path, help="folder to serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    server = ReplayServer(args.root, args.host, args.port)
    with server:
        print(f"replaying {server.root} at {server.base_url} (Ctrl-C to stop)", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
