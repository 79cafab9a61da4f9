from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newswatch.config.schema import Delivery
from newswatch.outbox.cadence import plan

NOW = datetime(2020, 2, 24, 10, 17, 30, tzinfo=UTC)  # 13:17:30 in Istanbul (UTC+3)


def at(hour: int, minute: int = 0, day: int = 24) -> datetime:
    return datetime(2020, 2, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize("settings, recent, expected", [
    (Delivery(), 0, (NOW, False)),
    (Delivery(digest="hourly"), 0, (at(11), True)),
    (Delivery(digest="daily", at="08:00"), 0, (at(8, day=25), True)),
    (Delivery(digest="daily", at="18:30", timezone="Europe/Istanbul"), 0, (at(15, 30), True)),
    (Delivery(digest="daily", at="13:00", timezone="Europe/Istanbul"), 0, (at(10, day=25), True)),
    (Delivery(digest="adaptive"), 2, (NOW, False)),
    (Delivery(digest="adaptive"), 3, (at(11), True)),
    (Delivery(digest="adaptive", adaptive_limit=5), 4, (NOW, False)),
    (Delivery(quiet_hours="09:00-12:00"), 0, (at(12), True)),
    (Delivery(quiet_hours="12:00-09:00"), 0, (NOW, False)),
    (Delivery(quiet_hours="22:00-07:00", timezone="Europe/Istanbul"), 0, (NOW, False)),
    (Delivery(quiet_hours="13:00-14:00", timezone="Europe/Istanbul"), 0, (at(11), True)),
    (Delivery(digest="hourly", quiet_hours="10:30-12:15"), 0, (at(12, 15), True)),
], ids=["instant", "hourly", "daily-utc", "daily-later-today-istanbul", "daily-tomorrow-istanbul",
        "adaptive-under", "adaptive-over", "adaptive-limit", "quiet-holds", "quiet-elsewhere",
        "quiet-overnight-outside", "quiet-istanbul", "hourly-digest-in-quiet"])
def test_plan(settings, recent, expected):
    assert plan(settings, NOW, recent) == expected


def test_overnight_quiet_hours_end_the_next_morning():
    late = datetime(2020, 2, 24, 23, 10, tzinfo=UTC)
    assert plan(Delivery(quiet_hours="22:00-07:00"), late, 0) == (at(7, day=25), True)
