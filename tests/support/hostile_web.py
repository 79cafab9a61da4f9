"""A hostile web: a raw-socket HTTP server on 127.0.0.1 and a catalogue of pathological
behaviours for it, mixed with good feeds whose article pages each carry a unique canary word.

The server (`HostileServer`) speaks HTTP/1.1 by hand, one thread per connection, keep-alive by
default, so a responder can write anything: lying Content-Length with extra bytes left on a
kept-alive connection, broken chunking, resets, drips and stalls. Every wait is bounded
(`_MAX_WAIT`, and all waits end when the server stops), so a hostile answer never outlives its
test. Only 127.0.0.1 is ever contacted; hostile host names are ones that fail before any DNS
query (invalid IDNA such as `xn--a.invalid`, `http://[x/`) or are local (127.x, `[::1]`).

The catalogue (`CATALOGUE`, keyed by a stable id used in hypothesis draws and failure messages)
has three levels:
- `source`: the answer to a feed request (`feed-*`): statuses, headers, framing, encodings,
  bodies (billion laughs, 3,000 items, JSON Feed with `\\ud800`, ...);
- `item`: one entry placed in a good feed (`item-*`): hostile links and absurd dates;
- `page`: the answer to an article page request (`page-*`): the same response pathologies as
  feeds, and page bodies of their own.
A behaviour that `keeps` content still delivers it intact (absurd but valid headers, a correct
Content-Length with bytes smuggled after it, ...): its feed carries canary items, or its page a
canary, which must alert like any other. Every other behaviour carries no canary.

`World` builds one scenario on a server: `build_world(server, good_feeds, canaries_per_feed,
behaviour_ids)`; `World.verdict(alerts)` checks the invariant's canary part.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from functools import cache


__all__ = ["CATALOGUE", "CANARY_QUERY", "Behaviour", "HostileServer", "World", "build_world", "canary_words"]

CANARY_QUERY = "hwcanary*"  # matches every canary word and every decoy
_CANARY = re.compile(r"hwcanary[a-z]+")
_MAX_WAIT = 8.0  # the longest any hostile answer keeps a connection busy (the test's fetch timeout is 3 s)
_LETTERS = "abcdefghijklmnopqrstuvwxyz"

Responder = Callable[["Conn"], bool]  # writes the answer; True keeps the connection alive


# -- the server ------------------------------------------------------------------------------------

@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]


class Conn:
    """One request on one connection, as a responder sees it."""

    def __init__(self, server: HostileServer, sock: socket.socket, request: Request) -> None:
        self.server, self.sock, self.request = server, sock, request

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def wait(self, seconds: float) -> bool:
        """Sleep; False once the server is stopping (the responder should give up)."""
        return not self.server.stopping.wait(seconds)

    def reset(self) -> bool:
        """Abort the connection with a TCP RST."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return False


class HostileServer:
    """The server as a context manager: `route(responder)` gives a fresh path, `url(path)` its URL."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.routes: dict[str, Responder] = {}
        self.requests: list[str] = []
        self._counter = itertools.count()
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(512)
        self._listener.settimeout(0.1)
        self._thread = threading.Thread(target=self._accept, name="hostile-accept", daemon=True)
        self.closed_port = _closed_port()

    @property
    def port(self) -> int:
        return self._listener.getsockname()[1]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, responder: Responder, prefix: str = "/x") -> str:
        """Serve `responder` at a new path; the path."""
        path = f"{prefix}/{next(self._counter)}"
        self.routes[path] = responder
        return path

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        self._thread.join(timeout=5)
        self._listener.close()
        with self._lock:
            for sock in list(self._open):
                _close(sock)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self._open.add(sock)
            threading.Thread(target=self._serve, args=(sock,), name="hostile-conn", daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(_MAX_WAIT)
        buffer = b""
        try:
            while not self.stopping.is_set():
                while b"\r\n\r\n" not in buffer:
                    chunk = sock.recv(65536)
                    if not chunk or len(buffer) > 1 << 20:
                        return
                    buffer += chunk
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                request = _parse_request(head)
                length = int(request.headers.get("content-length", "0") or 0)
                while len(buffer) < length:
                    buffer += sock.recv(65536) or b"\0" * length
                buffer = buffer[length:]
                path = request.target.split("?")[0]
                self.requests.append(path)
                responder = self.routes.get(path, _not_found)
                if not responder(Conn(self, sock, request)):
                    return
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(sock)
            _close(sock)


def _parse_request(head: bytes) -> Request:
    lines = head.decode("latin-1").split("\r\n")
    method, target, *_ = (lines[0].split(" ") + ["", ""])[:3]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Request(method, target, headers)


def _close(sock: socket.socket) -> None:
    try:
        sock.close()
    except OSError:
        pass


def _closed_port() -> int:
    """A local port that nothing listens on (bound then released)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


# -- well-formed answers -----------------------------------------------------------------------------

def _head(status: int | str, headers: list[tuple[str, str | bytes]], reason: str = "") -> bytes:
    line = f"HTTP/1.1 {status} {reason or _REASONS.get(status, 'Whatever')}\r\n".encode()
    out = [line]
    for name, value in headers:
        out.append(name.encode() + b": " + (value if isinstance(value, bytes) else value.encode("latin-1")) + b"\r\n")
    return b"".join(out) + b"\r\n"


_REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 304: "Not Modified", 404: "Not Found",
            410: "Gone", 429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


def answer(status: int, body: bytes = b"", content_type: str | bytes = "text/plain",
           headers: list[tuple[str, str | bytes]] = (), keep: bool = True) -> Responder:
    """A correct response (Content-Length set), the connection kept alive unless `keep` is false."""
    def respond(c: Conn) -> bool:
        sent = [("Content-Type", content_type), ("Content-Length", str(len(body))), *headers]
        if not keep:
            sent.append(("Connection", "close"))
        c.send(_head(status, sent) + body)
        return keep
    return respond


def _not_found(c: Conn) -> bool:
    return answer(404, b"no such thing")(c)


def _document(c: Conn, body: bytes, content_type: str, etag: str) -> bool:
    """A good feed or page, with its ETag honoured (304 to a matching If-None-Match)."""
    if c.request.headers.get("if-none-match") == etag:
        c.send(_head(304, [("ETag", etag)]))
        return True
    return answer(200, body, content_type, [("ETag", etag), ("Cache-Control", "max-age=60")])(c)


# -- response pathologies: each turns the content it should have served into a hostile answer ------

@dataclass(frozen=True)
class Content:
    """What a correct answer would have carried."""

    body: bytes
    content_type: str
    world: World


def _status(code: int, *headers: tuple[str, str]) -> Callable[[Content], Responder]:
    return lambda content: answer(code, b"<html><body>nope</body></html>", "text/html", list(headers))


def _with_headers(*headers: tuple[str, str | bytes], content_type: str | bytes | None = None):
    return lambda content: answer(200, content.body, content_type or content.content_type, list(headers))


def _raw(data: bytes, then: str = "close") -> Callable[[Content], Responder]:
    def make(content: Content) -> Responder:
        def respond(c: Conn) -> bool:
            c.send(data)
            if then == "reset":
                return c.reset()
            if then == "stall":
                c.wait(_MAX_WAIT)
            return False
        return respond
    return make


def _smuggle(content: Content) -> Responder:
    """A correct Content-Length, then a whole second response on the kept-alive connection: a
    client that reuses the connection reads a decoy page (with a decoy canary) for its next URL."""
    decoy = content.world.decoy_page()
    extra = _head(200, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(decoy)))]) + decoy

    def respond(c: Conn) -> bool:
        c.send(_head(200, [("Content-Type", content.content_type), ("Content-Length", str(len(content.body)))])
               + content.body + extra)
        return True
    return respond


def _late_smuggle(content: Content) -> Responder:
    """As `_smuggle`, but the extra response comes 50 ms later, after the client checked the
    connection was idle."""
    decoy = content.world.decoy_page()
    extra = _head(200, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(decoy)))]) + decoy

    def respond(c: Conn) -> bool:
        c.send(_head(200, [("Content-Type", content.content_type), ("Content-Length", str(len(content.body)))])
               + content.body)
        c.wait(0.05)
        c.send(extra)
        return True
    return respond


def _length_lies(extra: int, then: str) -> Callable[[Content], Responder]:
    def make(content: Content) -> Responder:
        def respond(c: Conn) -> bool:
            c.send(_head(200, [("Content-Type", content.content_type),
                               ("Content-Length", str(len(content.body) + extra))]) + content.body)
            if then == "stall":
                c.wait(_MAX_WAIT)
            return False
        return respond
    return make


def _chunked(chunks: Callable[[bytes], bytes], *headers: tuple[str, str], then: str = "close"):
    def make(content: Content) -> Responder:
        def respond(c: Conn) -> bool:
            c.send(_head(200, [("Content-Type", content.content_type), ("Transfer-Encoding", "chunked"),
                               *headers]) + chunks(content.body))
            if then == "stall":
                c.wait(_MAX_WAIT)
            return then == "keep"
        return respond
    return make


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _encoded(encoding: str, body: Callable[[Content], bytes]):
    def make(content: Content) -> Responder:
        return answer(200, body(content), content.content_type, [("Content-Encoding", encoding)])
    return make


@cache
def _bomb(megabytes: int = 64) -> bytes:
    """gzip of `megabytes` MB of zeros (~64 KB), made once."""
    gzip = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    return b"".join(gzip.compress(zeros) for _ in range(megabytes)) + gzip.flush()


def _gzip(data: bytes) -> bytes:
    gzip = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return gzip.compress(data) + gzip.flush()


def _drip(content: Content) -> Responder:
    def respond(c: Conn) -> bool:
        c.send(_head(200, [("Content-Type", content.content_type), ("Content-Length", str(len(content.body)))]))
        started = time.monotonic()
        for byte in content.body:
            if time.monotonic() - started > _MAX_WAIT or not c.wait(0.2):
                break
            c.send(bytes([byte]))
        return False
    return respond


def _stall_before(content: Content) -> Responder:
    def respond(c: Conn) -> bool:
        c.wait(_MAX_WAIT)
        return False
    return respond


def _endless(content: Content) -> Responder:
    def respond(c: Conn) -> bool:
        c.send(_head(200, [("Content-Type", content.content_type), ("Transfer-Encoding", "chunked")]))
        chunk = _chunk(content.body[:2000] * 32)
        started = time.monotonic()
        while time.monotonic() - started < _MAX_WAIT and not c.server.stopping.is_set():
            c.send(chunk)
        return False
    return respond


def _interim(content: Content) -> Responder:
    """Fifty 103 Early Hints before the real answer."""
    hints = _head(103, [("Link", "</style.css>; rel=preload")], "Early Hints") * 50
    real = answer(200, content.body, content.content_type)

    def respond(c: Conn) -> bool:
        c.send(hints)
        return real(c)
    return respond


def _redirect(location: Callable[[World], str]) -> Callable[[Content], Responder]:
    return lambda content: answer(302, b"", "text/plain", [("Location", location(content.world))])


def _loop(content: Content) -> Responder:
    server = content.world.server
    first, second = f"/loop/{next(server._counter)}", f"/loop/{next(server._counter)}"
    server.routes[first] = answer(302, headers=[("Location", second)])
    server.routes[second] = answer(301, headers=[("Location", first)])
    return answer(302, headers=[("Location", first)])


def _chain_to(final: Callable[[Content], str], hops: int):
    def make(content: Content) -> Responder:
        server, target = content.world.server, final(content)
        for _ in range(hops - 1):
            target = server.route(answer(307, headers=[("Location", target)]), "/hop")
        return answer(301, headers=[("Location", target)])
    return make


def _good_copy(content: Content) -> str:
    """The content itself, correctly served at a path of its own."""
    return content.world.server.route(answer(200, content.body, content.content_type), "/real")


# id suffix → (pathology, keeps: the content still arrives intact)
RESPONSES: dict[str, tuple[Callable[[Content], Responder], bool]] = {
    "404": (_status(404), False),
    "410": (_status(410), False),
    "429-retry-after-absurd": (_status(429, ("Retry-After", "99999999999999")), False),
    "500": (_status(500), False),
    "503-retry-after-negative": (_status(503, ("Retry-After", "-5")), False),
    "503-retry-after-year-9999": (_status(503, ("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT")), False),
    "999": (_status(999), False),
    "etag-non-ascii": (_with_headers(("ETag", b'"\xff\xfe\xe9t\xe9"')), True),
    "header-huge": (_with_headers(("X-Huge", "a" * 200_000)), False),
    "header-nul": (_with_headers(("X-Evil", b"a\x00b")), False),
    "max-age-huge": (_with_headers(("Cache-Control", f"max-age={10**20}")), True),
    "expires-absurd": (_with_headers(("Expires", "Sat, 01 Jan 99999 00:00:00 GMT")), True),
    "last-modified-year-0": (_with_headers(("Last-Modified", "Mon, 01 Jan 0000 00:00:00 GMT")), True),
    "bad-charset": (lambda c: answer(200, c.body, c.content_type.split(";")[0] + "; charset=x-no-such-charset"), True),
    "content-type-garbage": (lambda c: answer(200, c.body, ';;;="charset=;'), True),
    "content-type-non-ascii": (lambda c: answer(200, c.body, b"text/\xe9\xff; charset=\xff"), True),
    "cl-short-smuggle": (_smuggle, True),
    "cl-short-late-smuggle": (_late_smuggle, True),
    "cl-long-close": (_length_lies(5000, "close"), False),
    "cl-long-stall": (_length_lies(5000, "stall"), False),
    "cl-negative": (lambda c: _raw(_head(200, [("Content-Type", c.content_type), ("Content-Length", "-1")])
                                   + c.body)(c),
                    False),
    "cl-huge": (lambda c: _raw(_head(200, [("Content-Type", c.content_type), ("Content-Length", str(10**15))])
                               + c.body, "stall")(c), False),
    "cl-twice-different": (lambda c: _raw(_head(200, [("Content-Type", c.content_type), ("Content-Length", "10"),
                                                      ("Content-Length", str(len(c.body)))]) + c.body)(c), False),
    "chunked-bad-size": (_chunked(lambda body: b"zz\r\n" + body + b"\r\n0\r\n\r\n"), False),
    "chunked-truncated": (_chunked(lambda body: _chunk(body[: len(body) // 2])), False),
    "chunked-and-cl": (lambda c: _chunked(lambda body: _chunk(body) + b"0\r\n\r\n", ("Content-Length", "7"),
                                          then="keep")(c), False),
    "gzip-garbage": (_encoded("gzip", lambda c: random.Random(1).randbytes(4096)), False),
    "deflate-garbage": (_encoded("deflate", lambda c: random.Random(2).randbytes(4096)), False),
    "gzip-truncated": (_encoded("gzip", lambda c: _gzip(c.body)[:-40]), False),
    "gzip-bomb": (_encoded("gzip", lambda c: _bomb()), False),
    "gzip-nested-bomb": (_encoded("gzip, gzip", lambda c: _gzip(_bomb())), False),
    "unknown-encoding": (_encoded("br", lambda c: random.Random(3).randbytes(2048)), False),
    "reset": (_raw(b"", "reset"), False),
    "close-no-reply": (_raw(b""), False),
    "mid-body-reset": (lambda c: _raw(_head(200, [("Content-Type", c.content_type),
                                                   ("Content-Length", str(len(c.body)))]) + c.body[: len(c.body) // 2],
                                      "reset")(c), False),
    "slow-drip": (_drip, False),
    "stall-before-headers": (_stall_before, False),
    "stall-after-headers": (lambda c: _raw(_head(200, [("Content-Type", c.content_type),
                                                        ("Content-Length", str(len(c.body)))]), "stall")(c), False),
    "endless": (_endless, False),
    "garbage-status-line": (_raw(b"HTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\nok"), False),
    "http09": (lambda c: _raw(c.body)(c), False),
    "binary-garbage-response": (_raw(random.Random(4).randbytes(8192)), False),
    "interim-flood": (_interim, True),
    "304-unasked": (lambda c: answer(304, b""), False),
    "empty-200": (lambda c: answer(200, b"", c.content_type), False),
    "redirect-loop": (_loop, False),
    "redirect-chain-closed-port": (_chain_to(lambda c: f"http://127.0.0.1:{c.world.server.closed_port}/gone", 3),
                                   False),
    "redirect-chain-ok": (_chain_to(_good_copy, 4), True),
    "redirect-bad-ipv6": (_redirect(lambda w: "http://[x/"), False),
    "redirect-huge-location": (_redirect(lambda w: "/" + "q" * 10_000), False),
    "redirect-javascript": (_redirect(lambda w: "javascript:alert(1)"), False),
    "redirect-idna-invalid": (_redirect(lambda w: "http://xn--a.invalid/feed"), False),
    "redirect-long-label": (_redirect(lambda w: f"http://{'a' * 64}.xn--a.invalid/"), False),
    "redirect-port-huge": (_redirect(lambda w: "http://127.0.0.1:99999/feed"), False),
    "redirect-credentials-closed": (_redirect(lambda w: f"http://u:p@127.0.0.1:{w.server.closed_port}/"), False),
    "redirect-non-ascii-location": (lambda c: answer(302, b"", "text/plain", [("Location", b"/\xff\xfe\x00x")]), False),
}


# -- bodies --------------------------------------------------------------------------------------

def _rss(items: list[str], extra_channel: str = "",
         declaration: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    return (f'{declaration}\n<rss version="2.0"><channel><title>Hostile web</title>'
            f"<link>http://127.0.0.1/</link><language>en</language>{extra_channel}\n"
            + "\n".join(items) + "\n</channel></rss>").encode("utf-8", "surrogatepass")


def _item(title: str, link: str, guid: str, date: str | None = None, description: str = "A short summary.") -> str:
    date = date if date is not None else formatdate(time.time() - 3600, usegmt=True)
    return (f"<item><title>{_x(title)}</title><link>{_x(link)}</link><guid isPermaLink=\"false\">{_x(guid)}</guid>"
            f"<pubDate>{_x(date)}</pubDate><description>{_x(description)}</description></item>")


def _x(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _html(title: str, text: str) -> bytes:
    paragraphs = "".join(f"<p>{_x(p)}.</p>\n" for p in text.split(". ") if p)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_x(title)}</title></head>'
            f"<body><article><h1>{_x(title)}</h1>\n{paragraphs}</article></body></html>").encode()


# -- the world -------------------------------------------------------------------------------------

@dataclass
class Source:
    name: str
    url: str
    behaviours: list[str] = field(default_factory=list)


class World:
    """One scenario on a server: the sources to configure, the canaries to expect."""

    def __init__(self, server: HostileServer, seed: int = 0) -> None:
        self.server = server
        self.sources: list[Source] = []
        self.canaries: dict[str, str] = {}  # canary word → the name of its source
        self.canary_urls: dict[str, str] = {}  # canary word → its page's URL (as the feed links it)
        self._last_word: str | None = None
        self.decoys: set[str] = set()
        self._seed = seed * 100_000
        self._numbers = itertools.count(1)
        self._current: Source | None = None

    def _n(self) -> int:
        return next(self._numbers)

    def word(self, prefix: str = "hwcanary") -> str:
        n, letters = self._seed + self._n(), ""
        while True:
            n, rest = divmod(n, 26)
            letters += _LETTERS[rest]
            if not n:
                return prefix + letters

    def text(self, about: str = "") -> tuple[str, str]:
        """A title and an article text of their own, with `about` inside: words of random letters,
        so no two pages share a vocabulary and story clustering must keep each its own story."""
        rng = random.Random(self._seed + self._n())
        words = ["".join(rng.choices(_LETTERS, k=rng.randint(4, 10))) for _ in range(128)]
        for position in range(3, len(words), 11):  # like news, names of its own
            words[position] = words[position].capitalize()
        sentences = [" ".join(words[i:i + 16]).capitalize() for i in range(8, len(words), 16)]
        sentences.insert(len(sentences) // 2, f"It concerns {about}" if about else "It concerns nobody")
        return " ".join(words[:8]).capitalize(), ". ".join(sentences) + "."

    def page(self, canary: bool) -> tuple[bytes, str | None]:
        """An article page; with a canary word, recorded as expected for the current source."""
        word = self.word() if canary else None
        title, text = self.text(word or "")
        if word:
            self.canaries[word] = self._current.name if self._current else "?"
        self._last_word = word
        return _html(title, text), word

    def decoy_page(self) -> bytes:
        word = self.word("hwcanaryzzdecoy")
        self.decoys.add(word)
        title, text = self.text(word)
        return _html(title, text)

    def page_url(self, canary: bool = True) -> str:
        body, word = self.page(canary)
        url = self.server.url(self.server.route(lambda c, body=body, etag=f'"p{self._n()}"':
                                                _document(c, body, "text/html; charset=utf-8", etag), "/page"))
        if word:
            self.canary_urls[word] = url
        return url

    def canary_item(self, date: str | None = None) -> str:
        """An RSS item whose page carries a new canary word (the title and summary do not)."""
        title, _ = self.text()
        return _item(title, self.page_url(), f"guid-{self._n()}", date)

    def neutral_item(self, link: str | None = None, **fields) -> str:
        title, _ = self.text()
        link = self.page_url(canary=False) if link is None else link
        return _item(fields.pop("title", title), link, f"guid-{self._n()}", **fields)

    def good_feed(self, canaries: int) -> bytes:
        return _rss([self.canary_item() for _ in range(canaries)])

    def add_source(self, name: str, behaviours: list[str]) -> Source:
        source = Source(name, "", behaviours)
        self.sources.append(source)
        self._current = source
        return source

    def verdict(self, alerts: list[dict], behaviours: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
        """{'lost': [...], 'doubled': [...], 'spurious': [...]}: canary words, each with its source
        (and the behaviours that source holds, when `behaviours` maps source names to them)."""
        def where(source: str) -> str:
            held = (behaviours or {}).get(source)
            return f"{source}: {', '.join(held)}" if held else source

        seen: dict[str, int] = {}
        for alert in alerts:
            for word in set(_CANARY.findall(json.dumps(alert, ensure_ascii=False).lower())):
                seen[word] = seen.get(word, 0) + 1
        return {
            "lost": [f"{w} ({where(s)})" for w, s in self.canaries.items() if seen.get(w, 0) == 0],
            "doubled": [f"{w} x{seen[w]} ({where(s)})" for w, s in self.canaries.items() if seen.get(w, 0) > 1],
            "spurious": sorted(w for w in seen if w not in self.canaries),
        }


def canary_words(alerts: list[dict]) -> list[str]:
    return [w for a in alerts for w in set(_CANARY.findall(json.dumps(a, ensure_ascii=False).lower()))]


# -- the catalogue ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Behaviour:
    id: str
    level: str  # "source" | "item" | "page"
    keeps: bool  # a correct client still gets the content: it carries canaries
    build: Callable[[World], object]  # source: a Responder; item: an RSS item; page: a Responder


def _feed_response(pathology: Callable[[Content], Responder], keeps: bool) -> Callable[[World], Responder]:
    def build(world: World) -> Responder:
        body = world.good_feed(2) if keeps else _rss([world.neutral_item()])
        return pathology(Content(body, "application/rss+xml; charset=utf-8", world))
    return build


def _page_response(pathology: Callable[[Content], Responder], keeps: bool) -> Callable[[World], Responder]:
    def build(world: World) -> Responder:
        body, _ = world.page(canary=keeps)
        return pathology(Content(body, "text/html; charset=utf-8", world))
    return build


def _feed_body(body: Callable[[World], bytes], content_type: str = "application/rss+xml"):
    return lambda world: answer(200, body(world), content_type)


def _page_body(body: Callable[[World], bytes], content_type: str = "text/html; charset=utf-8"):
    return lambda world: answer(200, body(world), content_type)


def _billion_laughs(root: str) -> bytes:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
    return (f'<?xml version="1.0"?>\n<!DOCTYPE {root} [{entities}]>\n'
            + (f"<rss version=\"2.0\"><channel><title>&lol9;</title><item><title>&lol9;</title>"
               f"<link>http://127.0.0.1:1/lol</link><description>&lol9;</description></item></channel></rss>"
               if root == "rss" else
               '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>&lol9;</title></head>'
               "<body><p>&lol9;</p></body></html>")).encode()


def _xxe() -> bytes:
    return (b'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
            b'<rss version="2.0"><channel><title>x</title><item><title>&xxe;</title>'
            b"<link>http://127.0.0.1:1/xxe</link><description>&xxe;</description></item></channel></rss>")


def _jsonfeed(world: World, items: list[dict]) -> bytes:
    good = []
    for _ in range(2):
        title, _ = world.text()
        good.append({"id": f"j{world._n()}", "url": world.page_url(), "title": title,
                     "date_published": "2026-01-01T00:00:00Z"})
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "hostile json",
                       "items": items + good}).encode()


def _surrogate_json(world: World) -> bytes:
    raw = _jsonfeed(world, [{"id": "s1", "url": world.page_url(canary=False), "title": "A\\ud800B",
                             "content_text": "x\\udfffy", "authors": [{"name": "\\ud83d"}]}])
    return raw.replace(b"A\\\\ud800B", b"A\\ud800B").replace(b"x\\\\udfffy", b"x\\udfffy").replace(
        b"\\\\ud83d", b"\\ud83d")


def _wrong_types_json(world: World) -> bytes:
    return _jsonfeed(world, [{"id": 5, "url": 7, "title": {"a": 1}}, {"id": None, "url": ["x"], "date_published": 99},
                             {"url": world.page_url(canary=False), "title": None, "tags": "notalist",
                              "date_published": "0000-00-00T00:00:00Z", "authors": "bob"}, "not an item", None])


def _deep_json(world: World) -> bytes:
    return b'{"version": "https://jsonfeed.org/version/1.1", "items": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"


def _deep_xml(world: World) -> bytes:
    return (b'<?xml version="1.0"?><rss version="2.0"><channel><title>deep</title><item><title>'
            + b"<a>" * 100_000 + b"deep" + b"</a>" * 100_000 + b"</title></item></channel></rss>")


def _three_thousand(world: World) -> bytes:
    """3,000 items sharing one link (each an article read from the feed), and one canary item."""
    shared = world.page_url(canary=False)
    items = [_item(f"Bulletin number {i} of the hostile wire", shared, f"bulletin-{world._seed}-{i}",
                   description=f"Bulletin {i}: " + world.text()[1][:200])
             for i in range(3000)]
    return _rss([world.canary_item(), *items])


def _nul_feed(world: World) -> bytes:
    return _rss([world.canary_item(), world.neutral_item(title="Nul\0in\0title"),
                 world.canary_item()]).replace(b"A short summary.", b"A short\0summary.")


def _surrogate_feed(world: World) -> bytes:
    return _rss([world.canary_item(), world.neutral_item(title="Lone &#xD800; surrogate"),
                 world.canary_item()]).replace(b"&amp;#xD800;", b"&#xD800;") \
        .replace(b"A short summary.", b"Raw \xed\xa0\x80 surrogate and &#xDFFF; ref.")


def _latin1_feed(world: World) -> bytes:
    return _rss([world.canary_item(), world.neutral_item(title="Caf\u00e9 cr\u00e8me"), world.canary_item()]) \
        .replace("Caf\u00e9 cr\u00e8me".encode(), "Caf\u00e9 cr\u00e8me".encode("latin-1"))


def _atom_dates(world: World) -> bytes:
    entries = []
    for date in ("0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "99999-01-01T00:00:00Z"):
        title, _ = world.text()
        entries.append(f'<entry><title>{_x(title)}</title><link href="{_x(world.page_url())}"/>'
                       f"<id>urn:hw:{world._n()}</id><updated>{date}</updated><published>{date}</published></entry>")
    return ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>dates</title>'
            "<id>urn:hw:dates</id><updated>0000-01-01T00:00:00Z</updated>" + "".join(entries) + "</feed>").encode()


def _giant_item(world: World) -> bytes:
    return _rss([world.neutral_item(description="giant " * 700_000)])


def _nul_page(world: World) -> bytes:
    body, _ = world.page(canary=True)
    return body.replace(b". ", b".\0 ").replace(b"<p>", b"<p>\0")


def _surrogate_page(world: World) -> bytes:
    body, _ = world.page(canary=True)
    return body.replace(b"<p>", b"<p>&#xD800; \xed\xa0\x80 &#55296; ", 3)


def _latin1_page(world: World) -> bytes:
    body, _ = world.page(canary=True)
    return body.replace(b"</h1>", "</h1><p>Caf\u00e9 cr\u00e8me, d\u00e9j\u00e0 vu.</p>".encode("latin-1"))


def _deep_page(world: World) -> bytes:
    body, _ = world.page(canary=False)
    return body.replace(b"<article>", b"<article>" + b"<div>" * 100_000).replace(b"</article>",
                                                                                 b"</div>" * 100_000 + b"</article>")


def _giant_page(world: World) -> bytes:
    body, _ = world.page(canary=False)
    return body.replace(b"</article>", b"<p>" + b"giant words again " * 250_000 + b"</p></article>")


def _utf16_page(world: World) -> bytes:
    body, _ = world.page(canary=False)
    return body.decode().encode("utf-16-le")


def _item_behaviours() -> dict[str, tuple[Callable[[World], str], bool]]:
    def link(value: Callable[[World], str]):
        return lambda world: world.neutral_item(link=value(world)), False

    def dated(date: str):
        return lambda world: world.canary_item(date=date), True

    def on_server(world: World, path: str) -> str:
        body, _ = world.page(canary=False)
        world.server.routes[path] = answer(200, body, "text/html; charset=utf-8")
        return world.server.url(path)

    return {
        "item-link-bad-ipv6": link(lambda w: "http://[x/"),
        "item-link-long-label": link(lambda w: f"http://{'b' * 64}.xn--a.invalid/page"),
        "item-link-idna-invalid": link(lambda w: "http://xn--a.invalid/"),
        "item-link-port-huge": link(lambda w: "http://127.0.0.1:99999/page"),
        "item-link-10k": link(lambda w: on_server(w, "/long/" + "".join(
            random.Random(w._n()).choices(_LETTERS, k=10_000)))),
        "item-link-javascript": link(lambda w: "javascript:alert(document.cookie)"),
        "item-link-credentials": link(lambda w: on_server(w, f"/cred/{w._n()}").replace("http://", "http://u:p@")),
        "item-link-data-uri": link(lambda w: "data:text/html,<p>hwcanaryzzdata</p>"),
        "item-link-file": link(lambda w: "file:///etc/passwd"),
        "item-link-control-chars": link(lambda w: w.server.url(f"/ctl/{w._n()}\t\n x y")),
        "item-link-empty": link(lambda w: ""),
        "item-link-closed-port": link(lambda w: f"http://127.0.0.1:{w.server.closed_port}/page"),
        "item-link-ipv6-loopback-closed": link(lambda w: "http://[::1]:1/page"),
        "item-link-non-ascii-path": link(lambda w: on_server(w, f"/caf%C3%A9/{w._n()}").replace("%C3%A9",
                                                                                              "\u00e9\ud7ff")),
        "item-guid-huge": (lambda w: _item("Huge guid", w.page_url(canary=False), "g" * 100_000), False),
        "item-title-giant": (lambda w: w.neutral_item(title="Giant title " * 80_000), False),
        "item-date-year-0": dated("Sat, 01 Jan 0000 00:00:00 GMT"),
        "item-date-year-1": dated("Mon, 01 Jan 0001 00:00:00 GMT"),
        "item-date-year-9999": dated("Fri, 31 Dec 9999 23:59:59 GMT"),
        "item-date-overflow": dated("Fri, 31 Dec 99999999999 23:59:59 +9999"),
        "item-date-garbage": dated("the day after tomorrow, or never"),
    }


def _catalogue() -> dict[str, Behaviour]:
    behaviours: list[Behaviour] = []
    for suffix, (pathology, keeps) in RESPONSES.items():
        behaviours.append(Behaviour(f"feed-{suffix}", "source", keeps, _feed_response(pathology, keeps)))
        behaviours.append(Behaviour(f"page-{suffix}", "page", keeps, _page_response(pathology, keeps)))
    behaviours += [
        Behaviour("feed-billion-laughs", "source", False, _feed_body(lambda w: _billion_laughs("rss"))),
        Behaviour("feed-xxe-file", "source", False, _feed_body(lambda w: _xxe())),
        Behaviour("feed-xml-deep-nesting", "source", False, _feed_body(_deep_xml)),
        Behaviour("feed-giant-item", "source", False, _feed_body(_giant_item)),
        Behaviour("feed-3000-items", "source", True, _feed_body(_three_thousand)),
        Behaviour("feed-nul-bytes", "source", True, _feed_body(_nul_feed)),
        Behaviour("feed-lone-surrogates", "source", True, _feed_body(_surrogate_feed)),
        Behaviour("feed-latin1-declared-utf8", "source", True, _feed_body(_latin1_feed)),
        Behaviour("feed-utf16-declared-utf8", "source", False,
                  _feed_body(lambda w: _rss([w.neutral_item()]).decode().encode("utf-16-le"),
                             "application/rss+xml; charset=utf-8")),
        Behaviour("feed-atom-extreme-dates", "source", True, _feed_body(_atom_dates, "application/atom+xml")),
        Behaviour("feed-jsonfeed-lone-surrogates", "source", True,
                  _feed_body(_surrogate_json, "application/feed+json")),
        Behaviour("feed-jsonfeed-wrong-types", "source", True, _feed_body(_wrong_types_json, "application/feed+json")),
        Behaviour("feed-jsonfeed-deep-nesting", "source", False, _feed_body(_deep_json, "application/feed+json")),
        Behaviour("feed-html-not-feed", "source", False, _feed_body(lambda w: w.page(False)[0], "text/html")),
        Behaviour("feed-binary-garbage", "source", False,
                  _feed_body(lambda w: random.Random(5).randbytes(8192), "application/rss+xml")),
        Behaviour("page-billion-laughs", "page", False,
                  _page_body(lambda w: _billion_laughs("html"), "application/xhtml+xml")),
        Behaviour("page-nul-bytes", "page", True, _page_body(_nul_page)),
        Behaviour("page-lone-surrogates", "page", True, _page_body(_surrogate_page)),
        Behaviour("page-latin1-declared-utf8", "page", True, _page_body(_latin1_page)),
        Behaviour("page-utf16-declared-utf8", "page", False, _page_body(_utf16_page)),
        Behaviour("page-deep-nesting", "page", False, _page_body(_deep_page)),
        Behaviour("page-giant", "page", False, _page_body(_giant_page)),
        Behaviour("page-pdf", "page", False, _page_body(lambda w: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "application/pdf")),
        Behaviour("page-no-content-type-binary", "page", False,
                  lambda w: _raw(_head(200, [("Content-Length", "4096")]) + random.Random(6).randbytes(4096))(
                      Content(b"", "", w))),
    ]
    behaviours += [Behaviour(id_, "item", keeps, build) for id_, (build, keeps) in _item_behaviours().items()]
    return {b.id: b for b in behaviours}


CATALOGUE: dict[str, Behaviour] = _catalogue()


def build_world(server: HostileServer, good_feeds: int, canaries_per_feed: int, behaviour_ids: list[str],
                seed: int = 0) -> World:
    """Good feeds with canary pages; each `source` behaviour a source of its own; each `item` and
    `page` behaviour an entry of a good feed (in turn), so good and hostile answers share the host
    and its kept-alive connections."""
    world = World(server, seed)
    goods = [(world.add_source(f"good-{i}", []), [world.canary_item() for _ in range(canaries_per_feed)])
             for i in range(good_feeds)]
    for i, behaviour_id in enumerate(behaviour_ids):
        behaviour = CATALOGUE[behaviour_id]
        if behaviour.level == "source":
            source = world.add_source(f"bad-{i}-{behaviour_id}"[:200], [behaviour_id])
            source.url = server.url(server.route(behaviour.build(world), "/feed"))
            continue
        source, items = goods[i % good_feeds]
        world._current = source
        source.behaviours.append(behaviour_id)
        if behaviour.level == "item":
            items.append(behaviour.build(world))
        else:  # the page carries the canary when it keeps its content; the item never does
            world._last_word = None
            link = server.url(server.route(behaviour.build(world), "/page"))
            if behaviour.keeps and world._last_word:
                world.canary_urls[world._last_word] = link
            items.append(world.neutral_item(link=link))
    for source, items in goods:
        body, etag = _rss(items), f'"f{world._n()}"'
        source.url = server.url(server.route(
            lambda c, body=body, etag=etag: _document(c, body, "application/rss+xml; charset=utf-8", etag), "/feed"))
    return world


# -- running a world: two monitor cycles and the invariant -------------------------------------------

@dataclass
class Outcome:
    """What two cycles on a world did, against the invariant."""

    behaviours: list[str]
    errors: list[str] = field(default_factory=list)  # "cycle N: <the exception's last line>"
    lost: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    spurious: list[str] = field(default_factory=list)
    second: list[str] = field(default_factory=list)  # what later cycles alerted (canary words, or titles)
    dns: list[str] = field(default_factory=list)  # names a lookup was refused for (never sent)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not (self.errors or self.lost or self.doubled or self.spurious or self.second)

    def describe(self) -> str:
        lines = [f"behaviours in play: {', '.join(self.behaviours)}"]
        lines += [f"cycle failed: {e}" for e in self.errors]
        lines += [f"canary lost: {c}" for c in self.lost] + [f"canary doubled: {c}" for c in self.doubled]
        lines += [f"spurious alert (decoy or unknown canary): {w}" for w in self.spurious]
        if self.second:
            lines.append(f"second cycle sent {len(self.second)} alert(s): {', '.join(self.second)}")
        return "\n".join(lines)


def write_config(world: World, directory, database: str | None = None, timeout: str = "3s"):
    """The world's newswatch.yaml in `directory`: its sources, a jsonl channel, the canary watchlist.
    The timeout is 3 s, not 2: with the suite on both cores, a good feed behind four redirects
    once took longer than 2 s and was alerted a cycle late."""
    from pathlib import Path

    directory = Path(directory)
    sources = "\n".join(f'  - {{name: "{s.name}", url: {json.dumps(s.url)}}}' for s in world.sources)
    path = directory / "newswatch.yaml"
    path.write_text(
        f"database: {database or f'sqlite:///{directory}/store.db'}\n"
        f"fetch: {{timeout: {timeout}, allow_private_networks: true, per_host: 8}}\n"
        f"sources:\n{sources}\n"
        f"channels:\n  log: {{type: jsonl, path: \"{directory}/alerts.jsonl\"}}\n"
        f"watchlists:\n  - {{name: canaries, query: '{CANARY_QUERY}', channels: [log]}}\n", encoding="utf-8")
    return path


def _alerts(path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run_world(world: World, directory, database: str | None = None, cycles: int = 2) -> Outcome:
    """`cycles` monitor cycles (in this process: the caller provides Prefect), every source made
    due again before each later one, DNS refused for any non-local name."""
    import traceback

    from flows.monitor import monitor
    from newswatch.store import session
    from newswatch.store.tables import Source as SourceRow
    from sqlmodel import select

    started = time.monotonic()
    outcome = Outcome([b for s in world.sources for b in s.behaviours])
    config = write_config(world, directory, database)
    alerts_path = config.parent / "alerts.jsonl"
    database = database or f"sqlite:///{config.parent}/store.db"
    first: list[dict] = []
    with local_names_only(outcome.dns):
        for cycle in range(1, cycles + 1):
            if cycle > 1:
                try:
                    with session(database) as current:
                        for row in current.exec(select(SourceRow)):
                            row.next_check_at = None
                except Exception as error:  # noqa: BLE001 - reported like a failed cycle
                    outcome.errors.append(f"cycle {cycle} (making sources due): {_last_line(error)}")
            try:
                monitor(str(config))
            except BaseException as error:  # noqa: BLE001 - a failed cycle is the finding
                if isinstance(error, KeyboardInterrupt):
                    raise
                frames = traceback.extract_tb(error.__traceback__)
                where = next((f"{f.filename.rsplit('/main/', 1)[-1]}:{f.lineno}" for f in reversed(frames)
                              if "/site-packages/" not in f.filename), "?")
                outcome.errors.append(f"cycle {cycle}: {_last_line(error)} (at {where})")
            if cycle == 1:  # the invariant's canary part, and the store's state when it broke
                first = _alerts(alerts_path)
                verdict = world.verdict(first, {s.name: s.behaviours for s in world.sources})
                diagnoses = {lost.split()[0]: _diagnose(world, database, lost.split()[0]) for lost in verdict["lost"]}
    every = _alerts(alerts_path)
    outcome.doubled, outcome.spurious = verdict["doubled"], verdict["spurious"]
    outcome.second = [", ".join(canary_words([a])) or str(a.get("title"))[:60] for a in every[len(first):]]
    late = set(canary_words(every[len(first):]))
    outcome.lost = [f"{lost}{' LATE (the second cycle alerted it)' if lost.split()[0] in late else ''} "
                    f"[after cycle 1: {diagnoses[lost.split()[0]]}]" for lost in verdict["lost"]]
    outcome.seconds = round(time.monotonic() - started, 1)
    return outcome


def _diagnose(world: World, database: str, word: str) -> str:
    """What the store holds for a lost canary's article: why it did not alert."""
    from sqlmodel import select

    from newswatch.store import read_only
    from newswatch.store.tables import Article

    url = world.canary_urls.get(word)
    try:
        with read_only(database) as current:
            article = current.exec(select(Article).where(Article.url == url)).first() if url else None
            if article is None:
                return f"no article stored for {url}"
            mates = current.exec(select(Article.url).where(Article.story_id == article.story_id,
                                                           Article.id != article.id)).all() if article.story_id else []
    except Exception as error:  # noqa: BLE001 - a diagnosis must not hide the finding
        return f"store unreadable: {_last_line(error)}"
    text = article.text or ""
    others = [w for w, u in world.canary_urls.items() if u in mates]
    return (f"article {article.id} stage={article.stage} from_summary={article.from_summary} "
            f"page_error={(article.page_error or '-')[:120]!r} text {'has' if word in text.lower() else 'lacks'} "
            f"the canary{_instead(word, text)}; story {article.story_id}"
            + (f" shared with canaries {', '.join(others)}" if others else f", {len(mates)} other article(s)"))


def _instead(word: str, text: str) -> str:
    others = sorted(set(_CANARY.findall(text.lower())) - {word})
    return f" (it carries {', '.join(others)}: another response's body)" if others else ""


def _last_line(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}".strip().splitlines()
    return (text[0] if text else type(error).__name__)[:300]


class local_names_only:  # noqa: N801 - used as a context manager, like contextlib's
    """socket.getaddrinfo refuses (and records) every name but localhost and literal addresses, so
    no hostile name can reach a DNS server, whatever the code under test does with it."""

    def __init__(self, refused: list[str]) -> None:
        self.refused = refused

    def __enter__(self) -> local_names_only:
        import ipaddress

        self._original = original = socket.getaddrinfo
        refused = self.refused

        def guarded(host, *args, **kwargs):
            name = host.decode("ascii", "replace") if isinstance(host, bytes) else host
            if name is not None and name.lower().rstrip(".") != "localhost":
                try:
                    ipaddress.ip_address(name.split("%")[0])
                except ValueError:
                    refused.append(name[:100])
                    raise socket.gaierror(socket.EAI_NONAME, f"hostile web: no DNS for {name[:60]!r}") from None
            return original(host, *args, **kwargs)

        socket.getaddrinfo = guarded
        return self

    def __exit__(self, *exc_info: object) -> None:
        socket.getaddrinfo = self._original
