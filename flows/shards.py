"""Split sources between deployments: deployment k of n polls only the sources of shard k.

Rules: a source's shard is a stable hash of its name (CRC-32, the same in every process and
Python version, unlike `hash()`), modulo the number of shards; a source keeps its shard while its
name stays. One shard (the default) is everything. Pure: no I/O.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import TypeVar

__all__ = ["in_shard", "shard_of"]

T = TypeVar("T")


def shard_of(name: str, shards: int) -> int:
    """The shard, in 0..shards-1, of the source called `name`."""
    if shards < 1:
        raise ValueError(f"shards must be at least 1, not {shards}")
    return zlib.crc32(name.encode("utf-8")) % shards


def in_shard(sources: Iterable[T], shard: int, shards: int) -> list[T]:
    """The sources (anything with a `.name`) that belong to shard `shard` of `shards`."""
    if not 0 <= shard < shards:
        raise ValueError(f"shard must be in 0..{shards - 1}, not {shard}")
    return [s for s in sources if shard_of(s.name, shards) == shard]
