"""A local HTTP server that misbehaves on purpose: one route per way a source can go wrong.

Runs a ThreadingHTTPServer on 127.0.0.1 (a free port) in a daemon thread. HTTP/1.0, so every
response closes its connection and an endless body needs no chunking. Handler threads do not
block shutdown (a slow-drip handler stops at its next failed write).

Routes (ROUTES maps each path to its handler method):
    /feed.xml               a good RSS 2.0 feed with ETag, Cache-Control max-age=600 and <ttl>30
    /moved                  301 → /feed.xml
    /hold                   /feed.xml after 0.2 s, counting requests in flight (max_in_flight)
    /missing /gone /error   404, 410, 500
    /rate-limited           429, Retry-After: 120
    /rate-limited-date      429, Retry-After as an HTTP date 90 s after the Date header
    /slow-drip              200, then one byte per second (trips the fetch deadline)
    /stall                  200 headers, then silence (trips the read timeout)
    /endless, /endless.html 200, an endless body (trips the size cap)
    /too-big                200 with Content-Length: 10 GB (refused before reading)
    /gzip-bomb              gzip of 1 GiB of zeros, compressed while streaming, never held whole
    /loop/a, /loop/b        redirect to each other
    /chain/N                redirects N times, then to /feed.xml
    /to-private             302 → http://127.0.0.1:PORT/feed.xml (see test_http for how this
                            is tested while the server itself is on 127.0.0.1)
    /to-ftp                 302 → ftp://…
    /no-location            302 without a Location header
    /paper.pdf              application/pdf
    /article.html           a good article page (text/html; charset=utf-8)
    /latin1-as-utf8.html    Latin-1 bytes declared UTF-8; /utf8-as-latin1.html the reverse
    /latin1-as-utf8.xml     the same for a feed, and /utf8-as-latin1.xml
    /malformed.xml          a feed that is not well-formed but still has items (bozo)
    /not-a-feed.html        an HTML page where a feed was expected
    /garbage.xml            random bytes

RawServer, below it, is HTTP/1.1 with kept-alive connections and answers written byte for byte
(RAW_ROUTES): what http.server cannot say. A Content-Length shorter than the body (the rest left
on the connection, or a whole smuggled response), longer than the body, a reset mid-body, broken
chunks, bad gzip/deflate, brotli, garbage status lines, a NUL in a header, a 200 KB header line,
ETag and Last-Modified in Latin-1 and UTF-8 bytes, Retry-After: 99999999999999, caching hints
past any date. It records (connection number, path) per request, so a test sees reuse.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
import zlib
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cli.replay import ServedInThread

__all__ = ["ARTICLE", "FEED", "RAW_ROUTES", "BadServer", "RawServer"]

FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Good feed</title><link>http://example.com/</link>
<language>en-GB</language><ttl>30</ttl>
<item><title>First story</title><link>/news/1</link><guid>news-1</guid>
<description>&lt;p&gt;Storm &amp;amp; rain&lt;/p&gt;</description>
<pubDate>Tue, 02 Jan 2024 10:00:00 +0100</pubDate></item>
<item><title>Second story</title><link>http://example.com/news/2</link></item>
</channel></rss>"""

ARTICLE = """<!DOCTYPE html><html lang="fr"><head><title>Le café</title></head><body><article>
<h1>Le café de la gare</h1>
<p>Le café de la gare a rouvert ses portes après trois années de travaux et de débats
municipaux. Les habitués étaient nombreux à fêter l'événement, malgré la pluie.</p>
<p>Selon la propriétaire, la façade d'époque a été restaurée à l'identique, et le comptoir en
zinc a retrouvé sa place d'origine, à côté de l'horloge qui donne toujours l'heure exacte.</p>
</article></body></html>"""

_MALFORMED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Broken & proud</title>
<item><title>Still readable</title><link>http://example.com/still</link></item>
<item><title>Unclosed <b>tag</title><link>http://example.com/unclosed</link></item>
</channel>"""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = self.path.split("?")[0]
        self.server.owner.requests.append(path)
        route = ROUTES.get(path) or (_chain if path.startswith("/chain/") else _missing)
        try:
            route(self)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should

    def reply(self, status: int, body: bytes = b"", content_type: str = "text/plain",
              **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, status: int, location: str) -> None:
        self.reply(status, Location=location)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def _feed(h: _Handler) -> None:
    h.reply(200, FEED, "application/rss+xml", ETag='"v1"', Cache_Control="max-age=600",
            Last_Modified="Tue, 02 Jan 2024 10:00:00 GMT")


def _missing(h: _Handler) -> None:
    h.reply(404, b"no such thing")


def _slow_drip(h: _Handler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/rss+xml")
    h.send_header("Content-Length", "1000")
    h.end_headers()
    for _ in range(1000):
        h.wfile.write(b"<")
        h.wfile.flush()
        time.sleep(1)


def _stall(h: _Handler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/rss+xml")
    h.end_headers()
    h.wfile.flush()
    time.sleep(10)


def _endless(content_type: str):  # noqa: ANN202 - a route
    def route(h: _Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.end_headers()
        chunk = b"<item><title>more</title></item>" * 2000
        while True:
            h.wfile.write(chunk)
    return route


def _too_big(h: _Handler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/rss+xml")
    h.send_header("Content-Length", str(10**10))
    h.end_headers()
    h.wfile.write(b"<rss>")


def _gzip_bomb(h: _Handler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/rss+xml")
    h.send_header("Content-Encoding", "gzip")
    h.end_headers()
    gzip = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    for _ in range(1025):  # 1 GiB and a bit, about 1 MB compressed
        if out := gzip.compress(zeros):
            h.wfile.write(out)
    h.wfile.write(gzip.flush())


def _hold(h: _Handler) -> None:
    owner = h.server.owner
    with owner.lock:
        owner.in_flight += 1
        owner.max_in_flight = max(owner.max_in_flight, owner.in_flight)
    time.sleep(0.2)
    with owner.lock:
        owner.in_flight -= 1
    _feed(h)


def _chain(h: _Handler) -> None:
    left = int(h.path.rsplit("/", 1)[1])
    h.redirect(302, f"/chain/{left - 1}" if left > 1 else "/feed.xml")


def _rate_limited_date(h: _Handler) -> None:
    now = time.time()
    h.reply(429, b"slow down", Retry_After=formatdate(now + 90, usegmt=True))


def _to_private(h: _Handler) -> None:
    h.redirect(302, f"http://127.0.0.1:{h.server.server_address[1]}/feed.xml")


def _mislabelled_feed(body_charset: str, declared: str):  # noqa: ANN202 - a route
    body = FEED.replace(b' encoding="utf-8"', b"").replace(b"First story", "Café crème".encode(body_charset))
    return lambda h: h.reply(200, body, f"application/rss+xml; charset={declared}")


ROUTES = {
    "/feed.xml": _feed,
    "/moved": lambda h: h.redirect(301, "/feed.xml"),
    "/hold": _hold,
    "/missing": _missing,
    "/gone": lambda h: h.reply(410, b"gone for good"),
    "/error": lambda h: h.reply(500, b"oops"),
    "/rate-limited": lambda h: h.reply(429, b"slow down", Retry_After="120"),
    "/rate-limited-date": _rate_limited_date,
    "/slow-drip": _slow_drip,
    "/stall": _stall,
    "/endless": _endless("application/rss+xml"),
    "/endless.html": _endless("text/html"),
    "/too-big": _too_big,
    "/gzip-bomb": _gzip_bomb,
    "/loop/a": lambda h: h.redirect(302, "/loop/b"),
    "/loop/b": lambda h: h.redirect(302, "/loop/a"),
    "/to-private": _to_private,
    "/to-ftp": lambda h: h.redirect(302, "ftp://example.com/feed.xml"),
    "/no-location": lambda h: h.reply(302, b""),
    "/paper.pdf": lambda h: h.reply(200, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
    "/article.html": lambda h: h.reply(200, ARTICLE.encode(), "text/html; charset=utf-8"),
    "/latin1-as-utf8.html": lambda h: h.reply(200, ARTICLE.encode("latin-1"), "text/html; charset=utf-8"),
    "/utf8-as-latin1.html": lambda h: h.reply(200, ARTICLE.encode(), "text/html; charset=iso-8859-1"),
    "/latin1-as-utf8.xml": _mislabelled_feed("latin-1", "utf-8"),
    "/utf8-as-latin1.xml": _mislabelled_feed("utf-8", "iso-8859-1"),
    "/malformed.xml": lambda h: h.reply(200, _MALFORMED, "application/rss+xml"),
    "/not-a-feed.html": lambda h: h.reply(200, ARTICLE.encode(), "text/html; charset=utf-8"),
    "/garbage.xml": lambda h: h.reply(200, random.Random(7).randbytes(4096), "application/xml"),
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    owner: BadServer


class BadServer(ServedInThread):
    """The misbehaving server as a context manager; `url(path)` builds a URL on it."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self.in_flight = self.max_in_flight = 0
        httpd = _Server((host, 0), _Handler)
        httpd.owner = self
        super().__init__(httpd)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        """`path` on this server, addressed through `host` (e.g. "localhost")."""
        return f"http://{host}:{self.port}{path}"


# ─── Below the HTTP layer: responses written byte for byte, on kept-alive connections ───────────

def _raw_response(status: str, body: bytes, *headers: str, length: int | None = None) -> bytes:
    """An HTTP/1.1 response as bytes; `length` overrides the Content-Length (a lying server)."""
    lines = [f"HTTP/1.1 {status}", *headers, f"Content-Length: {len(body) if length is None else length}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _with_raw_header(response: bytes, *lines: bytes) -> bytes:
    """`response` with header lines in bytes no str could say (Latin-1, UTF-8)."""
    head, body = response.split(b"\r\n\r\n", 1)
    return b"\r\n".join((head, *lines)) + b"\r\n\r\n" + body


_RSS = "Content-Type: application/rss+xml"
_HTML_TYPE = "Content-Type: text/html"
_GOOD_FEED = _raw_response("200 OK", FEED, _RSS)

# Each raw route: the bytes to send, then whether to close the connection (False keeps it alive).
# "reset" closes with SO_LINGER 0, so the client sees a TCP reset instead of an orderly end.
RAW_ROUTES: dict[str, tuple[bytes, bool | str]] = {
    "/feed.xml": (_GOOD_FEED, False),
    # an article page whose Content-Type names no media type (in Latin-1 bytes, or punctuation)
    "/garbled-type.html": (_with_raw_header(_raw_response("200 OK", ARTICLE.encode()),
                                            b"Content-Type: text/\xe9\xff; charset=\xff"), False),
    "/punctuation-type.html": (_raw_response("200 OK", ARTICLE.encode(), 'Content-Type: ;;;="charset=;'), False),
    # Content-Length shorter than the body: the rest stays on the connection, kept alive
    "/short-length.xml": (_raw_response("200 OK", FEED + b"<!-- and then some -->", _RSS, length=len(FEED)), False),
    # the same, the surplus shaped like a whole response of its own
    "/smuggled.xml": (_GOOD_FEED + _raw_response("404 Not Found", b"gotcha"), False),
    "/long-length.xml": (_raw_response("200 OK", FEED, _RSS, length=len(FEED) + 1000), True),
    "/reset.xml": (_raw_response("200 OK", FEED, _RSS, length=len(FEED) * 2)[:-200], "reset"),
    "/bad-chunks.xml": (b"HTTP/1.1 200 OK\r\n" + _RSS.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"zz\r\n<rss>\r\n0\r\n\r\n", True),
    "/bad-gzip.xml": (_raw_response("200 OK", b"\x1f\x8b\x08\x00not gzip at all", _RSS, "Content-Encoding: gzip"),
                      False),
    "/bad-deflate.xml": (_raw_response("200 OK", b"not deflate at all", _RSS, "Content-Encoding: deflate"), False),
    "/brotli.xml": (_raw_response("200 OK", b"\x0b\x02\x80hello\x03", _RSS, "Content-Encoding: br"), False),
    "/garbage-status.xml": (b"HTTP/1.1 two hundred OK\r\nContent-Length: 0\r\n\r\n", True),
    "/no-status.xml": (b"\x00\xff\xfe garbage\r\n\r\n", True),
    "/nul-header.xml": (_raw_response("200 OK", FEED, _RSS, "X-Evil: a\x00b"), True),
    "/huge-header.xml": (_raw_response("200 OK", FEED, _RSS, "X-Huge: " + "a" * 200_000), True),
    "/etag-latin1.xml": (_with_raw_header(_GOOD_FEED, b'ETag: "caf\xe9"', b"Last-Modified: mardi \xe0 10h"), False),
    "/etag-utf8.xml": (_with_raw_header(_GOOD_FEED, b'ETag: "caf\xc3\xa9"'), False),
    "/retry-forever.xml": (_raw_response("429 Too Many Requests", b"", "Retry-After: 99999999999999"), False),
    "/expires-forever.xml": (_raw_response("200 OK", FEED, _RSS, "Cache-Control: max-age=99999999999999999999"),
                             False),
    "/expires-year-9999.xml": (_raw_response("200 OK", FEED, _RSS, "Expires: Fri, 31 Dec 9999 23:59:59 GMT",
                                             "Date: Mon, 01 Jan 0001 00:00:00 GMT"), False),
    "/article.html": (_raw_response("200 OK", ARTICLE.encode(), _HTML_TYPE), False),
}

# Routes whose surplus comes later: the good feed at once, then, LATE seconds on, a whole decoy
# response on the kept-alive connection, after a client checked the connection was idle.
LATE = 0.05
LATE_ROUTES: dict[str, tuple[bytes, bytes]] = {
    "/late-smuggled.xml": (_GOOD_FEED, _raw_response("200 OK", b"<rss><channel><item><title>decoy</title>"
                                                                b"<link>http://decoy.example/</link></item></channel></rss>",
                                                     _RSS)),
}


class RawServer:
    """A keep-alive HTTP/1.1 server on 127.0.0.1 that answers each path with RAW_ROUTES' bytes.

    `connections` counts accepted connections and `requests` lists (connection number, path), so a
    test can tell that two requests shared one connection. `redirect_to(path, url)` adds a 302.
    """

    def __init__(self) -> None:
        self.routes = dict(RAW_ROUTES)
        self.requests: list[tuple[int, str]] = []
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def port(self) -> int:
        return self._listener.getsockname()[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def redirect_to(self, path: str, location: str) -> None:
        self.routes[path] = (_raw_response("302 Found", b"", f"Location: {location}"), False)

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # closed
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn, self.connections), daemon=True).start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        buffer = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    try:
                        data = conn.recv(65_536)
                    except OSError:
                        return
                    if not data:
                        return
                    buffer += data
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                path = head.split(b"\r\n", 1)[0].split(b" ")[1].decode("ascii", "replace").split("?")[0]
                self.requests.append((number, path))
                payload, close = self.routes.get(path, (_raw_response("404 Not Found", b"no"), False))
                payload, later = LATE_ROUTES.get(path, (payload, b""))
                try:
                    conn.sendall(payload)
                    if later:
                        time.sleep(LATE)
                        conn.sendall(later)
                except OSError:
                    return
                if close == "reset":
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                if close:
                    return
