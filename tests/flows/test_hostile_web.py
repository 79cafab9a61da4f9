"""Nothing stops the watch: real monitor cycles against a hostile web (tests/support/hostile_web.py).

Good feeds whose article pages each carry a unique canary word share one local server (and its
kept-alive connections) with answers hypothesis draws from the catalogue of pathological
behaviours. The invariant, whatever the draw: every cycle completes, every canary alerts exactly
once on the jsonl channel, nothing else alerts, and a second cycle (every source polled again)
sends nothing. A failure names the behaviours in play and what broke.
"""

from __future__ import annotations

import random
import tempfile

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from tests.support.hostile_web import CATALOGUE, HostileServer, build_world, run_world

pytestmark = [pytest.mark.prefect, pytest.mark.slow]

IDS = sorted(CATALOGUE)
# The whole catalogue as five explicit examples (a fixed shuffle, so each mixes the three levels),
# then hypothesis's own draws: every behaviour runs in CI, and new mixes are tried too.
_SHUFFLED = random.Random(2026).sample(IDS, len(IDS))
SLICES = [_SHUFFLED[i::5] for i in range(5)]


def test_the_catalogue_has_forty_behaviours_at_each_level_that_matters():
    levels = {level: [b for b in CATALOGUE.values() if b.level == level] for level in ("source", "item", "page")}
    assert len(levels["source"]) >= 40 and len(levels["page"]) >= 40 and levels["item"]
    assert all(b.id.startswith({"source": "feed-", "item": "item-", "page": "page-"}[b.level])
               for b in CATALOGUE.values())


def _check(tmp_path, good_feeds: int, canaries: int, behaviours: list[str], seed: int) -> None:
    with HostileServer() as server:
        world = build_world(server, good_feeds, canaries, behaviours, seed)
        outcome = run_world(world, tempfile.mkdtemp(dir=tmp_path))
    if not outcome.ok:  # Hypothesis shows one failure per distinct error: print each example's
        print(outcome.describe(), end="\n\n")
    assert outcome.ok, "the hostile web broke the invariant:\n" + outcome.describe()


def _with_every_behaviour(test):
    for number, behaviours in enumerate(SLICES):
        test = example(good_feeds=3, canaries=2, behaviours=behaviours, seed=number)(test)
    return test


@settings(max_examples=4, deadline=None, derandomize=True, database=None,
          phases=(Phase.explicit, Phase.generate),  # no shrinking: a cycle costs seconds; the message names the draw
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@_with_every_behaviour
@given(good_feeds=st.integers(1, 3), canaries=st.integers(1, 2),
       behaviours=st.lists(st.sampled_from(IDS), min_size=3, max_size=10, unique=True),
       seed=st.integers(2, 10_000))
def test_any_mix_of_hostile_answers_leaves_every_canary_alerted_once(
        prefect_server, tmp_path, good_feeds, canaries, behaviours, seed):
    _check(tmp_path, good_feeds, canaries, behaviours, seed)
