"""NEAR pairs each occurrence with its nearest partner: the bisection agrees with a plain scan."""

from __future__ import annotations

import random

import pytest

from newswatch.matching.nodes import Occurrence, _Nearest


def scanned(one: Occurrence, others: list[Occurrence]) -> tuple[int, int] | None:
    """The definition: fewest words between, overlapping spans never, the first listed on a tie."""
    def gap(other: Occurrence) -> int | None:
        if one.last < other.first:
            return other.first - one.last - 1
        if other.last < one.first:
            return one.first - other.last - 1
        return None
    found = [(gap(o), j) for j, o in enumerate(others) if o.field == one.field and gap(o) is not None]
    return min(found, default=None)


def spans(rng: random.Random, count: int) -> list[Occurrence]:
    out = []
    for _ in range(count):
        first = rng.randrange(40)
        out.append(Occurrence(rng.choice(["title", "text"]), first, first + rng.choice([0, 0, 0, 1, 2, 5]), []))
    return out


@pytest.mark.parametrize("seed", range(200))
def test_nearest_by_bisection_is_the_nearest_by_scanning(seed):
    rng = random.Random(seed)
    ones, others = spans(rng, rng.randrange(1, 12)), spans(rng, rng.randrange(0, 12))
    nearest = _Nearest(others)
    assert [nearest.to(one) for one in ones] == [scanned(one, others) for one in ones]
