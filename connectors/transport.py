"""The HTTP transport under the fetcher's client: httpcore's connection pool, as httpx's own
transport uses it, on a network backend whose connections answer httpcore's "is this idle
connection readable?" in one system call.

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

httpx takes neither a network backend nor a connection pool, so the transport is ours, on httpx's
public contract (`httpx.AsyncBaseTransport`): a request is handed to `_Pool` in httpcore's terms, as
httpx's own transport does, and the answer comes back in httpx's. httpcore's errors become httpx's,
the most specific one, its message kept, the original chained (what `connectors.errors` classifies):

    httpcore.ConnectTimeout → httpx.ConnectTimeout   httpcore.ConnectError → httpx.ConnectError
    httpcore.ReadTimeout    → httpx.ReadTimeout      httpcore.ReadError    → httpx.ReadError
    httpcore.WriteTimeout   → httpx.WriteTimeout     httpcore.WriteError   → httpx.WriteError
    httpcore.PoolTimeout    → httpx.PoolTimeout      httpcore.NetworkError → httpx.NetworkError
    httpcore.TimeoutException → httpx.TimeoutException
    httpcore.RemoteProtocolError → httpx.RemoteProtocolError
    httpcore.LocalProtocolError  → httpx.LocalProtocolError
    httpcore.ProtocolError → httpx.ProtocolError     httpcore.ProxyError → httpx.ProxyError
    httpcore.UnsupportedProtocol → httpx.UnsupportedProtocol
    anything else: raised as it is
"""

from __future__ import annotations

import select
import socket
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import httpcore
import httpx

__all__ = ["transport"]


def transport(ssl_context: ssl.SSLContext, limits: httpx.Limits, http2: bool) -> httpx.AsyncBaseTransport:
    """A transport with these settings, its connection pool on `_Backend`."""
    return _Transport(_Pool(ssl_context, limits, http2))


class _Transport(httpx.AsyncBaseTransport):
    """httpx's transport contract over a httpcore pool, as `httpx.AsyncHTTPTransport` maps it."""

    def __init__(self, pool: httpcore.AsyncConnectionPool) -> None:
        self._pool = pool

    async def __aenter__(self) -> _Transport:
        await self._pool.__aenter__()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None = None, exc_value: BaseException | None = None,
                        traceback: TracebackType | None = None) -> None:
        with _httpx_errors():
            await self._pool.__aexit__(exc_type, exc_value, traceback)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        url = httpcore.URL(scheme=request.url.raw_scheme, host=request.url.raw_host, port=request.url.port,
                           target=request.url.raw_path)
        asked = httpcore.Request(method=request.method, url=url, headers=request.headers.raw, content=request.stream,
                                 extensions=request.extensions)
        with _httpx_errors():
            answer = await self._pool.handle_async_request(asked)
        assert isinstance(answer.stream, AsyncIterable)
        return httpx.Response(status_code=answer.status, headers=answer.headers, stream=_Body(answer.stream),
                              extensions=answer.extensions)

    async def aclose(self) -> None:
        await self._pool.aclose()


class _Body(httpx.AsyncByteStream):
    """A response body read from httpcore, its errors raised as httpx's."""

    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors():
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        if hasattr(self._stream, "aclose"):
            await self._stream.aclose()


# httpcore's errors → httpx's (the table in the module docstring)
_ERRORS: dict[type[Exception], type[httpx.HTTPError]] = {
    httpcore.TimeoutException: httpx.TimeoutException, httpcore.ConnectTimeout: httpx.ConnectTimeout,
    httpcore.ReadTimeout: httpx.ReadTimeout, httpcore.WriteTimeout: httpx.WriteTimeout,
    httpcore.PoolTimeout: httpx.PoolTimeout, httpcore.NetworkError: httpx.NetworkError,
    httpcore.ConnectError: httpx.ConnectError, httpcore.ReadError: httpx.ReadError,
    httpcore.WriteError: httpx.WriteError, httpcore.ProxyError: httpx.ProxyError,
    httpcore.UnsupportedProtocol: httpx.UnsupportedProtocol, httpcore.ProtocolError: httpx.ProtocolError,
    httpcore.LocalProtocolError: httpx.LocalProtocolError, httpcore.RemoteProtocolError: httpx.RemoteProtocolError,
}


@contextmanager
def _httpx_errors() -> Iterator[None]:
    """httpcore's error raised as httpx's most specific one, with its message."""
    try:
        yield
    except Exception as exc:
        mapped = next((_ERRORS[kind] for kind in type(exc).__mro__ if kind in _ERRORS), None)
        if mapped is None:
            raise
        raise mapped(str(exc)) from exc


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
