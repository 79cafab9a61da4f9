"""What the web sends is clamped or refused where it enters; the one Retry-After parser of both edges."""

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


RETRY_AFTER = [
    ("seconds", "120", None, 120.0), ("spaces", " 30 ", None, 30.0), ("zero", " 0 ", None, 0.0),
    # a Latin-1 "\xb2" header reads "²": "²".isdigit(), but float("²") raises
    ("superscript-two", "²", None, None),
    ("negative", "-5", None, None), ("garbage", "soon", None, None), ("empty", "", None, None),
    ("absent", None, None, None),
    ("huge", "99999999999999", None, MAX_WAIT.total_seconds()),  # was OverflowError formatting the message
    ("5000-digits", "9" * 5000, None, MAX_WAIT.total_seconds()),
    ("date", "Mon, 07 Dec 2026 00:01:30 GMT", None, 90.0),
    ("server-date", "Mon, 07 Dec 2026 00:01:30 GMT", "Mon, 07 Dec 2026 00:01:00 GMT", 30.0),  # its clock counts
    ("past-date", "Sun, 06 Dec 2026 23:00:00 GMT", None, 0.0),
    ("year-9999", "Fri, 31 Dec 9999 23:59:59 GMT", None, MAX_WAIT.total_seconds()),
    ("year-99999", "Fri, 31 Dec 99999 23:59:59 GMT", None, None),
    ("year-overflow", "1 Jan 9999999999999999999 00:00:00 GMT", None, None),  # OverflowError in the parser
]


@pytest.mark.parametrize(("value", "server_date", "seconds"), [r[1:] for r in RETRY_AFTER],
                         ids=[r[0] for r in RETRY_AFTER])
def test_one_retry_after_for_every_edge(value, server_date, seconds):
    assert retry_after(value, NOW, server_date) == seconds


@pytest.mark.parametrize(("value", "expected"), [
    ("Mon, 07 Dec 2026 00:00:00 GMT", NOW), ("Monday, 07-Dec-26 00:00:00 GMT", NOW),
    ("Mon Dec  7 00:00:00 2026", NOW), ("not a date", None), ("Mon, 07 Dec 99999999999999999999 00:00:00 GMT", None),
])
def test_an_http_date_in_any_of_its_forms(value, expected):
    assert http_date(value) == expected
