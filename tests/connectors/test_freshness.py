"""The poll-no-sooner hint (connectors.freshness.ttl_seconds): RSS <ttl>, max-age, Expires."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from connectors.freshness import ttl_seconds

NOW = datetime(2024, 1, 2, 10, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("headers", "feed_ttl", "expected"),
    [
        ({}, None, None),
        ({}, "60", 3600),
        ({}, " 15 ", 900),
        ({}, "0", None),
        ({}, "soon", None),
        ({"cache-control": "public, max-age=600"}, None, 600),
        ({"cache-control": 'max-age="300"'}, None, 300),
        ({"cache-control": "max-age=600"}, "30", 1800),  # the longest hint wins
        ({"cache-control": "max-age=7200"}, "30", 7200),
        ({"cache-control": "no-cache, max-age=600"}, None, None),
        ({"cache-control": "s-maxage=900"}, None, None),  # shared caches only
        ({"expires": "Tue, 02 Jan 2024 10:30:00 GMT"}, None, 1800),
        ({"expires": "Tue, 02 Jan 2024 10:30:00 GMT", "date": "Tue, 02 Jan 2024 10:20:00 GMT"}, None, 600),
        ({"expires": "Tue, 02 Jan 2024 09:00:00 GMT"}, None, None),
        ({"expires": "0"}, None, None),
        ({"expires": "Tue, 02 Jan 2024 12:00:00 GMT", "cache-control": "max-age=60"}, None, 60),
        # past a week is a week: numbers the scheduler adds to dates must not overflow
        ({"cache-control": "max-age=100000000000000000000"}, None, 604800),
        ({"cache-control": "max-age=" + "9" * 5000}, None, 604800),  # int() refuses over 4,300 digits
        ({}, "9" * 5000, 604800),
        ({}, "\u00b2", None),
        ({"expires": "Fri, 31 Dec 9999 23:59:59 GMT"}, None, 604800),
        ({"expires": "Fri, 31 Dec 9999 23:59:59 -2359", "date": "Mon, 01 Jan 0001 00:00:00 +2359"}, None, 604800),
        ({"expires": "1 Jan 9999999999999999999 00:00:00 GMT"}, None, None),  # OverflowError in the parser
    ],
    ids=["none", "ttl", "ttl-blanks", "ttl-zero", "ttl-garbage", "max-age", "max-age-quoted", "ttl-longer",
         "max-age-longer", "no-cache", "s-maxage", "expires", "expires-server-date", "expired",
         "expires-garbage", "max-age-beats-expires", "max-age-10e20", "max-age-5000-digits", "ttl-5000-digits",
         "ttl-superscript", "expires-9999", "expires-9999-from-year-1", "expires-year-overflow"],
)
def test_ttl_seconds(headers: dict[str, str], feed_ttl: str | None, expected: int | None) -> None:
    assert ttl_seconds(headers, feed_ttl, NOW) == expected
