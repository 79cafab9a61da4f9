"""When to try a failed delivery again: a pure policy of (error kind, attempts, now).

Rules: a "permanent" error is dead at once; otherwise, after `attempts` tries (counting the one
that just failed) a delivery is dead once `attempts >= max_attempts`. Before that the next try is
`now + d`, with `d` drawn uniformly from [0, min(CAP, BASE * 2 ** (attempts - 1))] ("full jitter",
so that many deliveries failing together do not retry together) and never earlier than the
server's Retry-After (of a week at most: newswatch.bounds).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from newswatch.bounds import plausible_wait

__all__ = ["BASE_SECONDS", "CAP_SECONDS", "next_attempt"]

BASE_SECONDS = 30.0
CAP_SECONDS = 3600.0


def next_attempt(kind: str, attempts: int, now: datetime, retry_after_seconds: float | None, *,
                 max_attempts: int = 8, rng=random) -> datetime | None:
    """The time of the next try, or None when the delivery is dead."""
    if kind not in ("retry", "permanent"):
        raise ValueError(f"unknown error kind {kind!r}")
    if kind == "permanent" or attempts >= max_attempts:
        return None
    ceiling = min(CAP_SECONDS, BASE_SECONDS * 2 ** min(max(0, attempts - 1), 32))
    delay = rng.random() * ceiling
    wait = plausible_wait(retry_after_seconds)  # a channel's own number, however absurd, waits a week at most
    if wait is not None:
        delay = max(delay, wait)
    return now + timedelta(seconds=delay)
