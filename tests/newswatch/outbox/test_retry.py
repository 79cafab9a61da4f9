"""The retry policy: full-jitter exponential backoff, Retry-After honoured, dead when done."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from newswatch.outbox.retry import BASE_SECONDS, CAP_SECONDS, next_attempt

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=timezone.utc)


class Fixed:
    """An rng whose random() always returns `value`."""

    def __init__(self, value: float):
        self.value = value

    def random(self) -> float:
        return self.value


@pytest.mark.parametrize(("kind", "attempts", "retry_after", "rng", "expected"), [
    ("permanent", 1, None, Fixed(0.5), None),
    ("permanent", 1, 30, Fixed(0.5), None),
    ("retry", 8, None, Fixed(0.5), None),
    ("retry", 9, None, Fixed(0.5), None),
    ("retry", 1, None, Fixed(1.0), BASE_SECONDS),
    ("retry", 2, None, Fixed(1.0), 2 * BASE_SECONDS),
    ("retry", 3, None, Fixed(0.5), 2 * BASE_SECONDS),
    ("retry", 7, None, Fixed(1.0), min(CAP_SECONDS, BASE_SECONDS * 64)),
    ("retry", 1, None, Fixed(0.0), 0.0),
    ("retry", 1, 90, Fixed(1.0), 90.0),
    ("retry", 3, 10, Fixed(1.0), 4 * BASE_SECONDS),
    ("retry", 1, 7200, Fixed(0.1), 7200.0),
    ("retry", 1, 1e14, Fixed(0.1), 7 * 86400.0),
    ("retry", 1, float("inf"), Fixed(0.1), 7 * 86400.0),
], ids=["permanent", "permanent-ignores-retry-after", "max-attempts", "past-max",
        "first-ceiling", "doubles", "jitter-half", "capped", "jitter-zero",
        "retry-after-wins", "backoff-wins", "retry-after-beyond-cap", "absurd-retry-after-waits-a-week",
        "infinite-retry-after-waits-a-week"])
def test_next_attempt(kind, attempts, retry_after, rng, expected):
    result = next_attempt(kind, attempts, NOW, retry_after, rng=rng)
    assert result == (None if expected is None else NOW + timedelta(seconds=expected))


def _delays(seed: int) -> list[float]:
    rng = random.Random(seed)
    return [(next_attempt("retry", n, NOW, None, rng=rng) - NOW).total_seconds() for n in range(1, 8)]


def test_seeded_rng_is_reproducible_and_within_bounds():
    assert _delays(1) == _delays(1) != _delays(2)
    for seed in range(20):
        for attempts, delay in enumerate(_delays(seed), 1):
            assert 0 <= delay <= min(CAP_SECONDS, BASE_SECONDS * 2 ** (attempts - 1))


def test_never_before_retry_after_whatever_the_seed():
    for seed in range(50):
        when = next_attempt("retry", 2, NOW, 45.5, rng=random.Random(seed))
        assert when >= NOW + timedelta(seconds=45.5)


def test_custom_max_attempts_and_huge_attempt_counts():
    assert next_attempt("retry", 3, NOW, None, max_attempts=3) is None
    when = next_attempt("retry", 5000, NOW, None, max_attempts=10_000, rng=Fixed(1.0))
    assert when == NOW + timedelta(seconds=CAP_SECONDS)


def test_unknown_kind_is_a_bug():
    with pytest.raises(ValueError):
        next_attempt("maybe", 1, NOW, None)
