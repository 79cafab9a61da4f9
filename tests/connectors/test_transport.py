"""The fetcher's transport, through httpx's public API against local servers: one request per
HTTP/1.1 connection, the pool's limit, httpcore's errors as httpx's, and the cheap readability
check answering for the connection's socket."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterator

import httpx
import pytest

from connectors.transport import _readable, _Stream, transport
from tests.support.bad_server import BadServer, RawServer


@pytest.fixture(scope="module")
def raw() -> Iterator[RawServer]:
    with RawServer() as server:
        yield server


@pytest.fixture(scope="module")
def bad() -> Iterator[BadServer]:
    with BadServer() as server:
        yield server


def client(connections: int = 4, timeout: float = 5.0) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(transport=transport(ssl.create_default_context(), limits, False), timeout=timeout)


def test_each_http11_connection_carries_one_request(raw: RawServer) -> None:
    async def three_in_turn() -> list[int]:
        async with client() as http:
            return [(await http.get(raw.url("/feed.xml"))).status_code for _ in range(3)]

    before = len(raw.requests)
    assert asyncio.run(three_in_turn()) == [200, 200, 200]
    connections = [number for number, _ in raw.requests[before:]]
    assert len(connections) == 3 and len(set(connections)) == 3  # the server keeps alive; we never reuse


def test_no_more_requests_at_once_than_the_pool_allows(bad: BadServer) -> None:
    async def six_at_once() -> list[int]:
        async with client(connections=2) as http:
            answers = await asyncio.gather(*(http.get(bad.url("/hold")) for _ in range(6)))
        return [answer.status_code for answer in answers]

    bad.max_in_flight = 0
    assert asyncio.run(six_at_once()) == [200] * 6
    assert bad.max_in_flight == 2


def test_a_connection_refused_is_httpx_connect_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on once this closes
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]

    async def get() -> None:
        async with client() as http:
            await http.get(f"http://127.0.0.1:{closed}/feed.xml")

    with pytest.raises(httpx.ConnectError) as raised:
        asyncio.run(get())
    assert raised.value.__cause__ is not None  # httpcore's, chained


def test_a_body_that_stalls_is_httpx_read_timeout_and_the_connection_reads_as_not_readable(bad: BadServer) -> None:
    streams, readable = [], []

    async def get() -> None:
        async with client(timeout=0.5) as http, http.stream("GET", bad.url("/stall")) as answer:
            streams.append(answer.extensions["network_stream"])  # httpcore's public extension
            readable.append(streams[0].get_extra_info("is_readable"))
            await answer.aread()

    with pytest.raises(httpx.ReadTimeout):
        asyncio.run(get())
    assert isinstance(streams[0], _Stream)  # the pool connects through our backend
    assert readable == [False]  # headers read, the body not sent yet: nothing waits on the socket


def test_a_socket_reads_as_readable_when_data_waits_or_the_peer_closed():
    mine, theirs = socket.socketpair()
    with mine, theirs:
        assert not _readable(mine)
        theirs.sendall(b"x")
        assert _readable(mine)
        mine.recv(1)
        theirs.close()
        assert _readable(mine)
    assert _readable(None)
