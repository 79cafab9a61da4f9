"""Hostile URLs are refused where they enter, as their item's error, before any DNS query.

Each used to raise out of the fetch batch (port 99999: OverflowError inside an ExceptionGroup;
xn--a: idna's InvalidCodepoint) or to reach the resolver (a 64-character label). The resolver is
replaced here by one that records what it is asked and answers only for 127.0.0.1, so these tests
never send DNS traffic anywhere.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from connectors import fetch_feeds_sync, fetch_pages_sync
from connectors.errors import FetchError
from connectors.targets import check_target
from newswatch.config.schema import FetchSettings
from newswatch.models import Failed, SourceRequest
from tests.support.bad_server import RawServer

FAST = FetchSettings(timeout="2s", allow_private_networks=True)
_LOCAL = {"127.0.0.1", b"127.0.0.1"}

HOSTILE = [
    ("port-past-65535", "http://127.0.0.1:99999/x", "fetch: invalid URL (port 99999 is not in 1..65535"),
    ("port-0", "http://127.0.0.1:0/x", "fetch: invalid URL (port 0 is not in 1..65535"),
    ("bad-punycode", "http://xn--a.invalid/", "fetch: invalid URL (host label 'xn--a' is not valid punycode"),
    ("label-over-63", f"http://{'a' * 64}.com/", "fetch: invalid URL (host label 'aaaa"),
    ("name-of-248", f"http://{'a' * 60}.{'b' * 60}.{'c' * 60}.{'d' * 60}.com/", None),  # only unresolvable
    ("name-over-253", f"http://{('a' * 60 + '.') * 5}com/",
     "fetch: invalid URL (host name of 308 characters, over 253"),
    ("javascript", "javascript:alert(1)", "fetch: refusing javascript URL"),
    ("credentials", "http://user:secret@127.0.0.1:1/",
     "fetch: invalid URL (credentials in the URL: http://…@127.0.0.1)"),
    ("10000-chars", "http://127.0.0.1:1/" + "a" * 10_000, "fetch: invalid URL (10,019 characters, over 8,000"),
    ("ipv6-unclosed", "http://[::1/", "fetch: invalid URL (Invalid port"),
    ("ipv6-two-gaps", "http://[1::2::3]/", "fetch: invalid URL (Invalid IPv6 address"),
    ("ipv6-zone", "http://[fe80::1%25eth0]/", "fetch: invalid URL (IPv6 zone identifiers name a local interface"),
    ("space-in-host", "http://a b/", "fetch: invalid URL (host label 'a%20b'"),
    ("empty-label", "http://a..com/", "fetch: invalid URL (host label ''"),
    ("no-host", "http:///x", "fetch: invalid URL (no host"),
    ("dot-invalid", "http://no-such-host.invalid/x", "fetch: cannot resolve host (.invalid names never resolve"),
]


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """The hosts anything asked DNS for; only 127.0.0.1 resolves, nothing leaves the machine."""
    asked: list[object] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):  # noqa: ANN001, ANN202 - socket's signature
        if host in _LOCAL:
            return real(host, *args, **kwargs)
        asked.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield asked


@pytest.mark.parametrize(("url", "message"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_a_hostile_page_url_is_that_pages_error_without_dns(resolver: list[object], url: str, message: str | None):
    [page] = fetch_pages_sync(FAST, [url])
    if message is None:  # a name that is only unresolvable goes to DNS, as it should
        assert page.error is not None and page.error.startswith("fetch: cannot resolve host")
        return
    assert page.error is not None and page.error.startswith(message), page.error
    assert resolver == []


def test_hostile_feed_urls_fail_their_sources_and_not_the_batch(resolver: list[object]) -> None:
    with RawServer() as server:
        requests = [SourceRequest(name, url) for name, url, message in HOSTILE if message]
        requests.append(SourceRequest("good", server.url("/feed.xml")))
        results = fetch_feeds_sync(FAST, requests)
    assert [type(r).__name__ for r in results] == ["Failed"] * (len(requests) - 1) + ["Fetched"]
    assert {r.kind for r in results[:-1]} == {"http", "blocked", "network"}
    assert resolver == []


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("http://127.0.0.1:99999/feed.xml", "fetch: invalid URL (port 99999 is not in 1..65535"),
        # httpx reads the Location's host itself, before our check: the error table catches it
        ("http://xn--a.invalid/feed.xml", "fetch: invalid URL (Codepoint U+0080 at position 1"),
        (f"http://{'a' * 64}.example/", "fetch: invalid URL (host label"),
    ],
    ids=["port", "punycode", "long-label"],
)
def test_a_redirect_to_a_hostile_url_fails_its_source(resolver: list[object], location: str, message: str) -> None:
    with RawServer() as server:
        server.redirect_to("/away", location)
        result = fetch_feeds_sync(FAST, [SourceRequest("src", server.url("/away"))])[0]
    assert isinstance(result, Failed) and result.kind == "http" and result.message.startswith(message), result
    assert resolver == []


@pytest.mark.parametrize(
    "url",
    ["http://example.com/feed", "https://example.com./a?b=c#d", "http://ex_ample.com/", "http://[::1]:8080/",
     "http://bücher.de/", "https://xn--bcher-kva.de/", f"http://{'a' * 63}.com/", "http://127.0.0.1:65535/"],
    ids=["plain", "root-dot", "underscore", "ipv6", "idn", "punycode", "label-63", "port-65535"],
)
def test_ordinary_urls_pass(url: str) -> None:
    assert check_target(url).scheme in ("http", "https")


def test_a_refused_url_is_quoted_short() -> None:
    with pytest.raises(FetchError) as info:
        check_target("http://127.0.0.1:99999/" + "a" * 5000)
    assert len(info.value.message) < 300 and info.value.message.endswith("…)")
