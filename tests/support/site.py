"""A local web site whose pages a test sets and changes while it runs: path → (status, type, body).

`Site()` serves on 127.0.0.1 (a free port) from a daemon thread, as a context manager. A route's
body may hold `{base}`, replaced by the site's base URL. 200 answers carry an ETag (a hash of the
body), and an If-None-Match that names it is answered 304. Unknown paths are 404. Every request
is recorded in `.requests` as (path, status).
"""

from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["Site"]


class Site:
    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, str, bytes]] = {}
        self.requests: list[tuple[str, int]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def set(self, path: str, body: bytes | str, content_type: str = "text/html; charset=utf-8",
            status: int = 200) -> None:
        body = body.encode() if isinstance(body, str) else body
        self.routes[path] = (status, content_type, body.replace(b"{base}", self.base_url.encode()))

    def __enter__(self) -> Site:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            status, content_type, body = site.routes.get(self.path, (404, "text/plain", b"not found"))
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if status == 200 and self.headers.get("If-None-Match") == etag:
                status, body = 304, b""
            site.requests.append((self.path, status))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            if status == 200:
                self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler
