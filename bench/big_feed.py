"""Benchmark: one feed of 100,000 entries, end to end through the product's own code.

A local HTTP server on 127.0.0.1 serves an RSS 2.0 document of `--entries` items (unique links
and GUIDs); `connectors.fetch_feeds_sync` fetches and parses it (with `fetch.max_bytes` raised to
fit: the default 5 MB refuses it as too large, which is that source's error), and
`newswatch.ingest.ingest` stores it, on SQLite and, with `--postgres URL`, on a fresh database
of that server. A second ingest of the same result must store nothing. Prints the seconds of each
step and exits 1 if anything was lost or stored twice.

    .venv/bin/python bench/big_feed.py
    .venv/bin/python bench/big_feed.py --postgres postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors import fetch_feeds_sync  # noqa: E402
from newswatch.config.schema import Config, FetchSettings  # noqa: E402
from newswatch.ingest import ingest, plan  # noqa: E402
from newswatch.models import Fetched, SourceRequest  # noqa: E402
from newswatch.store import db  # noqa: E402


def document(entries: int) -> bytes:
    items = "".join(f"<item><title>Report {n} from the wire</title><link>http://news.example/{n}</link>"
                    f"<guid>wire-{n}</guid><description>Summary of report {n}.</description>"
                    f"<pubDate>Mon, 07 Dec 2026 08:00:00 GMT</pubDate></item>" for n in range(entries))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Wire</title>'
            f"<link>http://news.example/</link>{items}</channel></rss>").encode()


def serve(body: bytes) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def store_it(database: str, fetched: Fetched, entries: int) -> bool:
    config = Config.model_validate({"database": database,
                                    "sources": [{"name": "wire", "url": "http://127.0.0.1/feed.xml"}]})
    db.upgrade(database)
    now = datetime.now(UTC)
    plan(config, now)
    started = time.perf_counter()
    first = ingest(config, [fetched], now)
    stored = time.perf_counter() - started
    again = ingest(config, [fetched], now)
    print(f"  {database.split(':')[0]:<10} ingest {stored:6.1f} s: {first.new_articles:,} new, "
          f"errors {first.errors or 0}, unexpected {first.unexpected}; again: {again.new_articles} new")
    return first.new_articles == entries and not first.unexpected and again.new_articles == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server: a fresh database on it")
    args = parser.parse_args(argv)
    body = document(args.entries)
    server = serve(body)
    url = f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    settings = FetchSettings(timeout="600s", max_bytes=len(body) + 1, allow_private_networks=True)
    started = time.perf_counter()
    (fetched,) = fetch_feeds_sync(settings, [SourceRequest("wire", url)])
    print(f"{args.entries:,} entries, {len(body) / 1e6:.1f} MB: fetched and parsed in "
          f"{time.perf_counter() - started:.1f} s: {type(fetched).__name__}, "
          f"{len(getattr(fetched, 'entries', []))} entries")
    server.shutdown()
    ok = isinstance(fetched, Fetched) and len(fetched.entries) == args.entries
    with tempfile.TemporaryDirectory() as folder:
        ok &= store_it(f"sqlite:///{folder}/store.db", fetched, args.entries)
    if args.postgres:
        name = f"nw_big_feed_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            url = sa.engine.make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
            ok &= store_it(url, fetched, args.entries)
        finally:
            db.engine.cache_clear()
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
