"""The HTTP transport under the fetcher's client: httpx's own, on a network backend whose
connections answer httpcore's "is this idle connection readable?" in one system call.

Why: httpcore asks that of every idle connection in the pool each time a request starts or
ends, and anyio answers it by building every attribute of the socket first (its peer name
among them, one more system call). With a pool of 32 connections and a few thousand pages a
cycle that was a fifth of the downloading process's CPU (bench/README.md, "## Fetching at
scale"). The answer is the same: the socket has data waiting (or is gone).

And a rule of its own: bytes a server sends beyond its response are never read as the next
response. HTTP/1.1 frames a response by the server's own word (Content-Length, chunks): one that
says less than it sends leaves the rest on the connection, and the next request on it reads those
bytes as its answer (a good feed on the same host failed on a garbled status line, or took a
smuggled decoy page for its own). The surplus may come with the body or later, after any check of
the idle connection, so no client can tell it from the next answer. So an HTTP/1.1 connection
carries one request (`_Connection` expires once idle, and the pool closes it); HTTP/2, whose
frames name their stream, keeps its connections. The price is a new connection a request to a
host that speaks only HTTP/1.1 (bench/README.md, "## Hostile web").
"""

from __future__ import annotations

import select
import socket
import ssl
from typing import Any

import httpcore
import httpx

__all__ = ["transport"]


def transport(ssl_context: ssl.SSLContext, limits: httpx.Limits, http2: bool) -> httpx.AsyncHTTPTransport:
    """httpx's transport with these settings, its connection pool on `_Backend`."""
    made = httpx.AsyncHTTPTransport(verify=ssl_context, http2=http2, limits=limits, trust_env=False)
    # httpx takes no network backend, so its pool is made again with one (the same settings)
    made._pool = _Pool(ssl_context, limits, http2)
    return made


class _Pool(httpcore.AsyncConnectionPool):
    """httpcore's pool on `_Backend`, whose connections are `_Connection`s."""

    def __init__(self, ssl_context: ssl.SSLContext, limits: httpx.Limits, http2: bool) -> None:
        backend = _Backend()
        super().__init__(
            ssl_context=ssl_context, max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
            http1=True, http2=http2, network_backend=backend)
        self._settings = {"ssl_context": ssl_context, "keepalive_expiry": limits.keepalive_expiry, "http1": True,
                          "http2": http2, "network_backend": backend}

    def create_connection(self, origin: httpcore.Origin) -> httpcore.AsyncConnectionInterface:
        return _Connection(origin=origin, **self._settings)


class _Connection(httpcore.AsyncHTTPConnection):
    """A connection that expires once idle when it speaks HTTP/1.1: one request each."""

    def has_expired(self) -> bool:
        # info() is httpcore's public description: "'http://host:80', HTTP/1.1, IDLE, Request Count: 1"
        return super().has_expired() or (self.is_idle() and ", HTTP/1.1, " in self.info())


class _Backend(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None, socket_options: Any = None) -> _Stream:
        return _Stream(await self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    async def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> _Stream:
        return _Stream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket: socket.socket | None = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> _Stream:
        return _Stream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return _readable(self._socket)
        return self._inner.get_extra_info(info)


def _readable(sock: socket.socket | None) -> bool:
    """Whether a read would not block: data, or the peer closed (a socket gone counts too)."""
    if sock is None or sock.fileno() < 0:
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))
