"""The benchmark's web: serve a generated Corpus over HTTP/1.1 on loopback, with latency.

Rules:
- One asyncio process (streams, keep-alive, no framework: the server must cost the 2 cores far
  less than the clients it serves). It listens on one port on each of the corpus's loopback
  addresses (127.1.x.y, one per feed by default) and serves any path of the corpus on any of them.
- Every response waits `latency` seconds first (asyncio.sleep: non-blocking, so 100 requests in
  flight all answer after ~latency), like a distant site.
- GET and HEAD only. If-None-Match (wins when both are sent, RFC 9110 13.2.2) or If-Modified-Since
  equal to or after Last-Modified → 304 with no body. Unknown paths → 404. /__stats answers a JSON
  count of responses by status and of connections opened (`?reset=1` zeroes it), without latency.
- Bounded: at most 100 header lines of 8 KiB, 30 s of idle time and 100,000 requests per
  connection; request bodies are refused (411/413), not read.
- Stops by itself: when its stdin closes (the bench that started it exited or died) or after
  `--max-seconds` (default 2 h), whichever comes first.

    with CorpusServer(Corpus(200, 20), latency=0.05) as web:   # a child process
        web.port, web.stats(reset=True)

or from a shell (prints one JSON line with the port, then serves until stdin closes):
    .venv/bin/python bench/server.py --feeds 200 --items 20 --latency 0.05 < /dev/tty
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from email.utils import parsedate_to_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import Corpus, Resource  # noqa: E402

__all__ = ["CorpusServer", "serve"]

_MAX_HEADERS, _MAX_LINE, _IDLE, _MAX_REQUESTS = 100, 8192, 30.0, 100_000
_REASONS = {200: "OK", 304: "Not Modified", 400: "Bad Request", 404: "Not Found",
            405: "Method Not Allowed", 411: "Length Required", 413: "Content Too Large"}


class CorpusServer:
    """Run bench/server.py in a child process for the duration of a `with` block."""

    def __init__(self, corpus: Corpus, latency: float = 0.05, python: str = sys.executable) -> None:
        self.corpus, self.latency, self.python = corpus, latency, python
        self.port = 0
        self.built_seconds = 0.0
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> CorpusServer:
        command = [self.python, str(Path(__file__).resolve()), "--feeds", str(self.corpus.feeds),
                   "--items", str(self.corpus.items), "--seed", str(self.corpus.seed),
                   "--hosts", str(self.corpus.hosts), "--latency", str(self.latency)]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        ready = json.loads(self._process.stdout.readline() or b"{}")
        if "port" not in ready:
            self.__exit__()
            raise RuntimeError("bench server did not start")
        self.port, self.built_seconds = ready["port"], ready["built_seconds"]
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._process is not None:
            self._process.stdin.close()  # the server's signal to stop
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

    @property
    def pid(self) -> int:
        return self._process.pid if self._process else 0

    def stats(self, reset: bool = False) -> dict[str, int]:
        """Responses by status since the last reset, e.g. {"200": 4200, "304": 0}."""
        import urllib.request

        url = f"http://{self.corpus.host(0)}:{self.port}/__stats" + ("?reset=1" if reset else "")
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())


class _Site:
    def __init__(self, resources: dict[str, Resource], latency: float) -> None:
        self.resources, self.latency, self.counts = resources, latency, Counter()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.counts["connections"] += 1
        try:
            for _ in range(_MAX_REQUESTS):
                request = await asyncio.wait_for(_read_request(reader), _IDLE)
                if request is None:
                    break
                method, target, headers = request
                keep = headers.get("connection", "").lower() != "close"
                status, extra, body = self.respond(method, target, headers)
                if not target.startswith("/__stats"):
                    await asyncio.sleep(self.latency)
                    self.counts[str(status)] += 1
                writer.write(_head(status, extra, len(body), keep) + (b"" if method == "HEAD" else body))
                await writer.drain()
                if not keep:
                    break
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    def respond(self, method: str, target: str, headers: dict[str, str]) -> tuple[int, dict, bytes]:
        path, _, query = target.partition("?")
        if path == "/__stats":
            self.counts["connections"] -= 1  # not this one
            body = json.dumps(dict(self.counts)).encode()
            if "reset=1" in query:
                self.counts.clear()
            return 200, {"Content-Type": "application/json"}, body
        if method not in ("GET", "HEAD"):
            return 405, {"Allow": "GET, HEAD"}, b""
        if "transfer-encoding" in headers:
            return 411, {}, b""
        if headers.get("content-length", "0") != "0":
            return 413, {}, b""
        resource = self.resources.get(path)
        if resource is None:
            return 404, {"Content-Type": "text/plain"}, b"not found\n"
        validators = {"ETag": resource.etag, "Last-Modified": resource.last_modified}
        if _not_modified(headers, resource):
            return 304, validators, b""
        return 200, {"Content-Type": resource.content_type, **validators}, resource.body


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str]] | None:
    line = await reader.readline()
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) != 3 or len(line) > _MAX_LINE:
        raise ValueError("bad request line")
    headers: dict[str, str] = {}
    for _ in range(_MAX_HEADERS):
        raw = await reader.readline()
        if raw in (b"\r\n", b"\n", b""):
            return parts[0], parts[1], headers
        if len(raw) > _MAX_LINE:
            raise ValueError("header line too long")
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    raise ValueError("too many headers")


def _not_modified(headers: dict[str, str], resource: Resource) -> bool:
    if "if-none-match" in headers:
        tags = [t.strip().removeprefix("W/") for t in headers["if-none-match"].split(",")]
        return resource.etag in tags or "*" in tags
    if "if-modified-since" in headers:
        try:
            return parsedate_to_datetime(headers["if-modified-since"]) >= parsedate_to_datetime(resource.last_modified)
        except (TypeError, ValueError):
            return False
    return False


def _head(status: int, headers: dict[str, str], length: int, keep: bool) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS[status]}", f"Content-Length: {length}",
             "Connection: keep-alive" if keep else "Connection: close", "Server: newswatch-bench"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def serve(corpus: Corpus, latency: float, max_seconds: float, port: int = 0) -> None:
    """Build the corpus, listen, print {"port", "built_seconds"}, serve until stdin closes."""
    started = time.perf_counter()
    port = port or _free_port(corpus.host(0))
    site = _Site(corpus.build(port), latency)
    built = time.perf_counter() - started
    servers = [await asyncio.start_server(site.handle, host, port, backlog=1024, reuse_address=True,
                                          limit=64 * 1024) for host in corpus.all_hosts()]
    print(json.dumps({"port": port, "built_seconds": round(built, 2), "hosts": len(servers)}), flush=True)
    loop = asyncio.get_running_loop()
    stdin_closed = loop.run_in_executor(None, sys.stdin.buffer.read)  # returns at EOF
    try:
        await asyncio.wait_for(stdin_closed, max_seconds)
    except asyncio.TimeoutError:
        pass
    finally:
        for server in servers:
            server.close()
        print(json.dumps({"stopped": True, "counts": dict(site.counts)}), file=sys.stderr, flush=True)
        os._exit(0)  # the stdin reader thread may still block; nothing else needs cleaning up


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--hosts", type=int, default=0, help="loopback addresses (0: one per feed)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds before each response")
    parser.add_argument("--max-seconds", type=float, default=7200)
    parser.add_argument("--port", type=int, default=0, help="0: a free one")
    args = parser.parse_args()
    corpus = Corpus(args.feeds, args.items, seed=args.seed, hosts=args.hosts)
    asyncio.run(serve(corpus, args.latency, args.max_seconds, args.port))


if __name__ == "__main__":
    main()
