"""The replay server: files by path, ETag/Last-Modified and 304s, content types, placeholders."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cli.replay import ReplayServer
from connectors import fetch_feeds_sync
from newswatch.config.schema import FetchSettings
from newswatch.models import Fetched, NotModified, SourceRequest

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Replay</title><link>http://replay.invalid/</link>
<item><title>One</title><link>http://replay.invalid/pages/one.html</link></item>
<item><title>Two</title><link>http://replay.invalid/pages/two.html</link></item>
{more}</channel></rss>
"""
ATOM = """<?xml version="1.0"?>
<!-- a comment before the root -->
<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>urn:a</id><updated>2024-01-01T00:00:00Z</updated>
</feed>
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    files = {
        "feeds/news.xml": RSS.format(more=""),
        "feeds/atom.xml": ATOM,
        "feeds/rdf.xml": '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>',
        "feeds/items.json": '{"version": "https://jsonfeed.org/version/1.1", "items": []}',
        "pages/one.html": "<html><body><a href='http://replay.invalid/pages/two.html'>two</a></body></html>",
        "notes.txt": "see http://replay.invalid/notes.txt",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "paper.pdf").write_bytes(b"%PDF-1.4 http://replay.invalid")
    (tmp_path / "blob.bin").write_bytes(b"\x00http://replay.invalid")
    (tmp_path.parent / "secret.txt").write_text("outside the root")
    return tmp_path


@pytest.fixture
def server(root: Path) -> Iterator[ReplayServer]:
    with ReplayServer(root) as replay:
        yield replay


def get(server: ReplayServer, path: str, method: str = "GET", **headers: str) -> httpx.Response:
    with httpx.Client(trust_env=False) as client:
        return client.request(method, server.base_url + path, headers=headers)


def test_base_url_is_loopback_with_a_free_port(server: ReplayServer) -> None:
    assert server.base_url.startswith("http://127.0.0.1:") and not server.base_url.endswith(":0")


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/feeds/news.xml", "application/rss+xml"),
        ("/feeds/atom.xml", "application/atom+xml"),
        ("/feeds/rdf.xml", "application/rss+xml"),
        ("/feeds/items.json", "application/feed+json"),
        ("/pages/one.html", "text/html; charset=utf-8"),
        ("/notes.txt", "text/plain; charset=utf-8"),
        ("/paper.pdf", "application/pdf"),
        ("/blob.bin", "application/octet-stream"),
    ],
    ids=["rss", "atom-sniffed", "rdf", "json-feed", "html", "text", "pdf", "unknown"],
)
def test_content_type_from_extension(server: ReplayServer, path: str, content_type: str) -> None:
    response = get(server, path)
    assert (response.status_code, response.headers["content-type"]) == (200, content_type)


@pytest.mark.parametrize(
    ("path", "replaced"),
    [("/feeds/news.xml", True), ("/pages/one.html", True), ("/notes.txt", True), ("/paper.pdf", False),
     ("/blob.bin", False)],
    ids=["xml", "html", "text", "pdf", "binary"],
)
def test_placeholder_becomes_base_url_in_text_bodies(server: ReplayServer, path: str, replaced: bool) -> None:
    body = get(server, path).content
    assert (server.base_url.encode() in body) == replaced
    assert (b"http://replay.invalid" in body) != replaced


@pytest.mark.parametrize(
    "path", ["/missing.xml", "/../secret.txt", "/%2e%2e/secret.txt", "/feeds", "/feeds/"],
    ids=["missing", "dot-dot", "encoded-dot-dot", "directory", "directory-slash"],
)
def test_not_found(server: ReplayServer, path: str) -> None:
    assert get(server, path).status_code == 404


def test_conditional_get_answers_304(server: ReplayServer) -> None:
    first = get(server, "/feeds/news.xml")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert first.status_code == 200 and etag.startswith('"')
    assert get(server, "/feeds/news.xml", **{"If-None-Match": etag}).status_code == 304
    assert get(server, "/feeds/news.xml", **{"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert get(server, "/feeds/news.xml", **{"If-Modified-Since": modified}).status_code == 304
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert get(server, "/feeds/news.xml", **{"If-Modified-Since": old}).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
    both = {"If-None-Match": '"stale"', "If-Modified-Since": modified}
    assert get(server, "/feeds/news.xml", **both).status_code == 200
    assert server.requests[:3] == [
        ("GET", "/feeds/news.xml", 200), ("GET", "/feeds/news.xml", 304), ("GET", "/feeds/news.xml", 304),
    ]


def test_head_sends_headers_only(server: ReplayServer) -> None:
    response = get(server, "/feeds/news.xml", method="HEAD")
    assert response.status_code == 200 and response.content == b""
    assert int(response.headers["content-length"]) == len(get(server, "/feeds/news.xml").content)


def test_fetch_feeds_200_then_304_then_a_new_item(server: ReplayServer, root: Path) -> None:
    settings = FetchSettings(allow_private_networks=True)
    request = SourceRequest("replay", server.base_url + "/feeds/news.xml")
    [first] = fetch_feeds_sync(settings, [request])
    assert isinstance(first, Fetched) and len(first.entries) == 2
    assert first.entries[0].url == server.base_url + "/pages/one.html"
    again = SourceRequest(request.name, request.url, first.etag, first.last_modified)
    assert fetch_feeds_sync(settings, [again]) == [NotModified("replay")]
    feed = root / "feeds" / "news.xml"
    feed.write_text(RSS.format(more="<item><title>Three</title><link>http://replay.invalid/3</link></item>"))
    os.utime(feed, (feed.stat().st_atime, feed.stat().st_mtime + 5))  # a later Last-Modified too
    [third] = fetch_feeds_sync(settings, [again])
    assert isinstance(third, Fetched) and [e.title for e in third.entries] == ["One", "Two", "Three"]
    assert third.etag != first.etag
    assert [status for _, _, status in server.requests] == [200, 304, 200]


def test_command_line(root: Path) -> None:
    command = [sys.executable, "-m", "cli.replay", str(root), "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        base_url = line.split(" at ")[1].split()[0]
        with httpx.Client(trust_env=False) as client:
            assert client.get(base_url + "/notes.txt").text == f"see {base_url}/notes.txt"
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
