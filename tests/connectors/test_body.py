"""Body reading: the decoded-size cap and the decompression guard (connectors.body)."""

from __future__ import annotations

import asyncio
import gzip
import zlib

import httpx
import pytest

from connectors.body import read_body
from connectors.errors import FetchError

TEXT = b"<rss><channel><title>Feed</title>" + b"<item><title>An item</title></item>" * 3000 + b"</channel></rss>"


def _deflate_raw(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


class _Chunks(httpx.AsyncByteStream):
    """A body that arrives in network-sized pieces (content=bytes would be read eagerly)."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    async def __aiter__(self):  # noqa: ANN204
        for start in range(0, len(self.body), 65_536):
            yield self.body[start:start + 65_536]


def read(body: bytes, max_bytes: int, headers: dict[str, str]) -> bytes | str:
    """The body read through a real client stream, or the FetchError's kind and message."""
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, headers=headers, stream=_Chunks(body))
    )

    async def get() -> bytes:
        async with httpx.AsyncClient(transport=transport) as client:
            async with client.stream("GET", "http://feeds.example/") as response:
                return await read_body(response, max_bytes)

    try:
        return asyncio.run(get())
    except FetchError as error:
        return f"{error.kind}: {error.message}"


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (TEXT, {}),
        (gzip.compress(TEXT), {"Content-Encoding": "gzip"}),
        (gzip.compress(TEXT[:5000]) + gzip.compress(TEXT[5000:]), {"Content-Encoding": "gzip"}),
        (zlib.compress(TEXT), {"Content-Encoding": "deflate"}),
        (_deflate_raw(TEXT), {"Content-Encoding": "deflate"}),
        (gzip.compress(TEXT), {"Content-Encoding": "x-gzip"}),
        (TEXT, {"Content-Encoding": "identity"}),
        (gzip.compress(TEXT) + b"\0\0\0\0", {"Content-Encoding": "gzip"}),
    ],
    ids=["plain", "gzip", "gzip-two-members", "deflate-zlib", "deflate-raw", "x-gzip", "identity", "gzip-padding"],
)
def test_decodes(body: bytes, headers: dict[str, str]) -> None:
    assert read(body, 1_000_000, headers) == TEXT


BOMB = gzip.compress(bytes(50_000_000), compresslevel=9)  # 50 MB of zeros in about 50 KB


@pytest.mark.parametrize(
    ("body", "max_bytes", "headers", "outcome"),
    [
        (TEXT, len(TEXT), {}, TEXT),
        (TEXT, len(TEXT) - 1, {}, "too_large: fetch: too large: body is over the"),
        (TEXT, 10, {"Content-Length": str(len(TEXT))}, "too_large: fetch: too large: Content-Length"),
        (gzip.compress(TEXT), len(TEXT) - 1, {"Content-Encoding": "gzip"},
         "too_large: fetch: too large: body is over"),
        (BOMB, 100_000_000, {"Content-Encoding": "gzip"}, "too_large: fetch: too large: body expands over 100x"),
        (BOMB, 1_000_000, {"Content-Encoding": "gzip"}, "too_large: fetch: too large: body is over the 1,000,000"),
        (TEXT, 1_000_000, {"Content-Encoding": "br"}, "http: fetch: unsupported content-encoding 'br'"),
        (TEXT, 1_000_000, {"Content-Encoding": "gzip, gzip"}, "http: fetch: unsupported content-encoding"),
    ],
    ids=["at-cap", "over-cap", "content-length", "decoded-over-cap", "bomb-ratio", "bomb-cap", "brotli",
         "stacked"],
)
def test_limits(body: bytes, max_bytes: int, headers: dict[str, str], outcome: bytes | str) -> None:
    result = read(body, max_bytes, headers)
    if isinstance(outcome, bytes):
        assert result == outcome
    else:
        assert isinstance(result, str) and result.startswith(outcome)


def test_corrupt_gzip_is_a_zlib_error_for_the_table() -> None:
    with pytest.raises(zlib.error):
        read(b"this is not gzip at all", 1_000_000, {"Content-Encoding": "gzip"})
