from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newswatch.health import alerts_for, review
from newswatch.models import SourceState

NOW = datetime(2020, 2, 24, 12, tzinfo=UTC)
SIX_HOURS = timedelta(hours=6)


def state(name: str, failures: int = 0, hours: float = 0, alerted: bool = False) -> SourceState:
    since = NOW - timedelta(hours=hours) if failures else None
    return SourceState(name, f"https://{name}.example/rss", failures, since, "fetch: 500" if failures else None,
                       alerted)


@pytest.mark.parametrize("states, failing, recovered, down", [
    ([state("a"), state("b", 3, 2)], [], [], False),
    ([state("a"), state("b", 9, 7)], ["b"], [], False),
    ([state("a"), state("b", 9, 7, alerted=True)], [], [], False),
    ([state("a", alerted=True), state("b")], [], ["a"], False),
    ([state("a", 9, 7), state("b", 9, 8)], ["a", "b"], [], True),
    ([state("a", 1, 0.1), state("b", 1, 0.1)], [], [], True),
], ids=["short-failure", "long-failure", "already-alerted", "recovered", "network-down", "all-failing-briefly"])
def test_review(states, failing, recovered, down):
    report = review(states, NOW, SIX_HOURS)
    assert [s.name for s in report.failing] == failing
    assert [s.name for s in report.recovered] == recovered
    assert report.network_down is down


def test_one_message_for_failures_and_one_for_recoveries():
    report = review([state("a", 9, 7), state("b", 9, 8), state("c", alerted=True), state("d")], NOW, SIX_HOURS)
    messages = alerts_for(report, NOW)
    assert len(messages) == 2
    assert "a, b" in messages[0].title and "fetch: 500" in messages[0].snippet
    assert "c" in messages[1].title


def test_network_down_is_one_message_naming_it():
    (message,) = alerts_for(review([state("a", 9, 7), state("b", 9, 8)], NOW, SIX_HOURS), NOW)
    assert message.title.startswith("Network down?")
