"""The fetcher's transport: httpx's, with the cheap readability check on its pool's connections."""

from __future__ import annotations

import socket
import ssl

import httpx

from connectors.transport import _Backend, _readable, transport


def test_the_pool_runs_on_our_backend_with_the_limits_asked():
    made = transport(ssl.create_default_context(), httpx.Limits(max_connections=7, max_keepalive_connections=5), True)
    pool = made._pool
    assert isinstance(pool._network_backend, _Backend)
    assert (pool._max_connections, pool._max_keepalive_connections, pool._http2) == (7, 5, True)


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
