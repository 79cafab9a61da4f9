"""Read a response body with a hard size cap, decompressing it ourselves so a bomb cannot hurt.

Rules:
- The cap (`fetch.max_bytes`) counts DECODED bytes and is enforced while streaming: reading stops
  at the first byte over it (FetchError "too_large"); a Content-Length over the cap fails before
  any body is read.
- gzip and deflate are decoded here, from small raw chunks, with zlib's `max_length` so one
  network chunk can never inflate past `_PIECE` bytes in memory (httpx's own decoder inflates a
  whole chunk at once: 64 KB of a bomb is 64 MB). We therefore send `Accept-Encoding: gzip,
  deflate` (ACCEPT_ENCODING) and refuse any other content-coding.
- Past `_RATIO_FLOOR` decoded bytes, a body that expands over `_MAX_RATIO` times its compressed
  size is refused as a decompression bomb (real feeds and pages compress 3-15x).
- A body that is itself a gzip file (a sitemap.xml.gz served as application/gzip, no
  Content-Encoding) is inflated by `gunzip` under the same cap and bomb guard; a corrupt one is
  FetchError("parse").
"""

from __future__ import annotations

import zlib

import httpx

from connectors.errors import FetchError

__all__ = ["ACCEPT_ENCODING", "GZIP_MAGIC", "gunzip", "looks_like_html", "read_body"]

ACCEPT_ENCODING = "gzip, deflate"
GZIP_MAGIC = b"\x1f\x8b"
_RAW_CHUNK = 16_384
_PIECE = 262_144
_MAX_RATIO = 100
_RATIO_FLOOR = 1_000_000


async def read_body(response: httpx.Response, max_bytes: int) -> bytes:
    """The decoded body of a streamed `response`, or FetchError("too_large"/"http")."""
    decoder = _decoder(response.headers.get("content-encoding", ""))
    length = response.headers.get("content-length", "")
    if decoder is None and length.isdigit() and int(length) > max_bytes:
        raise _too_large(f"Content-Length {int(length):,} is over the {max_bytes:,}-byte limit")
    parts: list[bytes] = []
    size = raw = 0
    async for chunk in response.aiter_raw(_RAW_CHUNK):
        raw += len(chunk)
        for piece in decoder(chunk) if decoder else (chunk,):
            size = _checked(size + len(piece), raw, max_bytes, decoder is not None)
            parts.append(piece)
    return b"".join(parts)


def looks_like_html(body: bytes) -> bool:
    """Whether a body without a Content-Type is an HTML page, by its first bytes."""
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


def gunzip(data: bytes, max_bytes: int) -> bytes:
    """The content of a gzip file, under the same cap and bomb guard as a gzip'd body."""
    inflater = _Inflater(gzip=True)
    parts: list[bytes] = []
    size = 0
    try:
        for start in range(0, len(data), _RAW_CHUNK):
            for piece in inflater(data[start:start + _RAW_CHUNK]):
                size = _checked(size + len(piece), start + _RAW_CHUNK, max_bytes, True)
                parts.append(piece)
    except zlib.error as exc:
        raise FetchError("parse", f"parse: a corrupt gzip file ({exc})") from None
    return b"".join(parts)


def _checked(size: int, raw: int, max_bytes: int, decoded: bool) -> int:
    """`size` decoded bytes so far, or FetchError("too_large") past the cap or the bomb ratio."""
    if size > max_bytes:
        raise _too_large(f"body is over the {max_bytes:,}-byte limit")
    if decoded and size > _RATIO_FLOOR and size > _MAX_RATIO * raw:
        raise _too_large(f"body expands over {_MAX_RATIO}x when decompressed (a bomb?)")
    return size


def _decoder(encoding: str):  # noqa: ANN202 - a generator function or None
    codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return None
    if len(codings) > 1 or codings[0] not in ("gzip", "x-gzip", "deflate"):
        raise FetchError("http", f"fetch: unsupported content-encoding {encoding!r}")
    return _Inflater(gzip=codings[0] != "deflate")


class _Inflater:
    """Incremental gzip/deflate decoding that yields pieces of at most _PIECE bytes."""

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._first = True
        self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS)

    def __call__(self, data: bytes):  # noqa: ANN204 - yields bytes
        while data:
            try:
                piece = self._zlib.decompress(data, _PIECE)
            except zlib.error:
                if self._gzip or not self._first:
                    raise
                # "deflate" is often sent raw, without the zlib header (as httpx also allows).
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                piece = self._zlib.decompress(data, _PIECE)
            self._first = False
            data = self._zlib.unconsumed_tail
            if self._gzip and self._zlib.eof and self._zlib.unused_data.startswith(b"\x1f\x8b"):
                data = self._zlib.unused_data + data  # concatenated gzip members (RFC 1952 2.2)
                self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
            if piece:
                yield piece
            elif not data:
                return


def _too_large(why: str) -> FetchError:
    return FetchError("too_large", f"fetch: too large: {why}")
