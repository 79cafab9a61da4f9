"""What the web sends is clamped or refused where it enters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newswatch.bounds import MAX_WAIT, http_date, plausible_date, plausible_validator, plausible_wait, retry_after

NOW = datetime(2026, 12, 7, tzinfo=UTC)


@pytest.mark.parametrize(("seconds", "expected"), [
    (None, None), (float("nan"), None), (-5, 0.0), (30, 30.0),
    (99999999999999, MAX_WAIT.total_seconds()), (float("inf"), MAX_WAIT.total_seconds()),
    (10**400, MAX_WAIT.total_seconds()), (-10**400, 0.0),
])
def test_a_wait_is_clamped(seconds, expected):
    assert plausible_wait(seconds) == expected


@pytest.mark.parametrize(("when", "kept"), [
    (datetime(1, 1, 1, tzinfo=UTC), False),
    (datetime(1899, 12, 31, tzinfo=UTC), False),
    (datetime(1995, 5, 1, tzinfo=UTC), True),
    (NOW + timedelta(days=30), True),
    (NOW + timedelta(days=800), False),
    (datetime(9999, 12, 31, 23, 59, tzinfo=UTC), False),
])
def test_a_date_outside_the_plausible_range_is_none(when, kept):
    assert plausible_date(when, NOW) == (when if kept else None)


def test_a_date_is_judged_near_the_end_of_the_calendar_without_overflow():
    assert plausible_date(datetime(9999, 1, 1, tzinfo=UTC), datetime(9998, 6, 1, tzinfo=UTC)) is None


@pytest.mark.parametrize(("value", "kept"), [
    ('"abc-123"', True), ('W/"xyz"', True), ("Tue, 02 Jan 2024 10:00:00 GMT", True),
    ('"café"', False), ('"a\x00b"', False), ('"a\nb"', False), ("x" * 1001, False), ("", False), (None, False),
])
def test_a_validator_that_no_header_can_carry_is_dropped(value, kept):
    assert plausible_validator(value) == (value if kept else None)


@pytest.mark.parametrize(("value", "server_date", "seconds"), [
    ("120", None, 120.0), (" 30 ", None, 30.0), ("²", None, None), ("soon", None, None), ("", None, None),
    (None, None, None), ("99999999999999", None, MAX_WAIT.total_seconds()),
    ("Mon, 07 Dec 2026 00:01:30 GMT", None, 90.0),
    ("Mon, 07 Dec 2026 00:01:30 GMT", "Mon, 07 Dec 2026 00:01:00 GMT", 30.0),  # the server's clock counts
    ("Sun, 06 Dec 2026 23:00:00 GMT", None, 0.0), ("Fri, 31 Dec 99999 23:59:59 GMT", None, None),
])
def test_one_retry_after_for_every_edge(value, server_date, seconds):
    assert retry_after(value, NOW, server_date) == seconds


@pytest.mark.parametrize(("value", "expected"), [
    ("Mon, 07 Dec 2026 00:00:00 GMT", NOW), ("Monday, 07-Dec-26 00:00:00 GMT", NOW),
    ("Mon Dec  7 00:00:00 2026", NOW), ("not a date", None), ("Mon, 07 Dec 99999999999999999999 00:00:00 GMT", None),
])
def test_an_http_date_in_any_of_its_forms(value, expected):
    assert http_date(value) == expected
