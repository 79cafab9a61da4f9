"""The polling decision: a source's next state from its stored one, a poll's result and `now`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from newswatch.models import Failed, Fetched, NotModified, PollState
from newswatch.polling import MAX_TTL, after_poll

NOW = datetime(2020, 2, 24, 12, tzinfo=UTC)
EARLIER = NOW - timedelta(hours=3)
FRESH = PollState(1, "duvar", '"v0"', "Sun, 23 Feb 2020", EARLIER, EARLIER, None, 0, None, None, None, False, 0)
FAILING = replace(FRESH, consecutive_failures=2, failing_since=EARLIER, last_error="fetch: 500", last_error_kind="http")
HTTP_500 = Failed("duvar", "http", "fetch: 500 server error", status=500)


@pytest.mark.parametrize("before, result, next_check", [
    (FRESH, HTTP_500, NOW + timedelta(minutes=1)),
    (FAILING, HTTP_500, NOW + timedelta(minutes=4)),
    (replace(FAILING, consecutive_failures=40), HTTP_500, NOW + timedelta(hours=12)),
    (FRESH, Failed("duvar", "rate_limited", "fetch: 429", retry_after_seconds=1800), NOW + timedelta(minutes=30)),
    (FRESH, Failed("duvar", "rate_limited", "fetch: 429", retry_after_seconds=10**9), NOW + timedelta(hours=12)),
    (FAILING, NotModified("duvar"), None),
    (FRESH, Fetched("duvar", [], ttl_seconds=600), NOW + timedelta(minutes=10)),
    (FRESH, Fetched("duvar", [], ttl_seconds=10**20), NOW + MAX_TTL),
    (FRESH, Fetched("duvar", [], ttl_seconds=0), None),
], ids=["first-failure", "third-failure", "backoff-cap", "retry-after", "retry-after-cap", "not-modified",
        "ttl", "ttl-beyond-any-date", "no-ttl"])
def test_the_next_poll(before, result, next_check):
    assert after_poll(before, result, NOW).next_check_at == next_check


def test_a_failure_counts_from_its_first_and_keeps_the_validators():
    once = after_poll(FRESH, HTTP_500, NOW)
    twice = after_poll(once, HTTP_500, NOW + timedelta(minutes=1))
    assert (twice.consecutive_failures, twice.failing_since, twice.last_error, twice.last_error_kind) == (
        2, NOW, "fetch: 500 server error", "http")
    assert (twice.etag, twice.last_modified, twice.last_success_at, twice.last_attempt_at) == (
        '"v0"', "Sun, 23 Feb 2020", EARLIER, NOW + timedelta(minutes=1))
    assert (twice.gone, twice.unexpected_errors) == (False, 0)


@pytest.mark.parametrize("result, validators", [
    (NotModified("duvar"), ('"v0"', "Sun, 23 Feb 2020")),
    (Fetched("duvar", [], etag='"v1"', last_modified="Mon, 24 Feb 2020"), ('"v1"', "Mon, 24 Feb 2020")),
    (Fetched("duvar", []), (None, None)),
], ids=["not-modified-keeps-them", "fetched-brings-its-own", "fetched-without-any"])
def test_a_success_clears_the_failures(result, validators):
    after = after_poll(FAILING, result, NOW)
    assert (after.consecutive_failures, after.failing_since, after.last_error) == (0, None, None)
    assert after.last_error_kind is None
    assert (after.last_attempt_at, after.last_success_at, (after.etag, after.last_modified)) == (NOW, NOW, validators)


def test_gone_stops_polling_and_unexpected_failures_add_to_their_running_total():
    gone = after_poll(replace(FRESH, unexpected_errors=4), Failed("duvar", "gone", "fetch: 410 gone", status=410), NOW)
    assert (gone.gone, gone.unexpected_errors) == (True, 4)
    unexpected = after_poll(gone, Failed("duvar", "unexpected", "ingest: unexpected ValueError"), NOW)
    assert (unexpected.gone, unexpected.unexpected_errors, unexpected.consecutive_failures) == (False, 5, 2)


FEED = "https://duvar.example/feed.xml"
DISCOVERED = replace(FRESH, feed_url=FEED)


@pytest.mark.parametrize("before, result, feed_url", [
    (FRESH, Fetched("duvar", [], feed_url=FEED), FEED),
    (DISCOVERED, Fetched("duvar", [], feed_url=FEED), FEED),
    (DISCOVERED, Fetched("duvar", []), None),  # the page became a feed again
    (DISCOVERED, NotModified("duvar"), FEED),
    (DISCOVERED, Failed("duvar", "timeout", "fetch: timed out", feed_url=FEED), FEED),
    (DISCOVERED, Failed("duvar", "parse", "parse: not a feed", feed_url=FEED), FEED),
    (DISCOVERED, Failed("duvar", "http", "fetch: 500", feed_url=FEED), FEED),
], ids=["discovered", "polled", "page-is-a-feed", "not-modified", "timeout", "parse", "500"])
def test_the_discovered_feed_is_kept_until_it_is_found_no_more(before, result, feed_url):
    assert after_poll(before, result, NOW).feed_url == feed_url


@pytest.mark.parametrize("kind", ["not_found", "gone"])
def test_a_discovered_feed_answering_404_or_410_is_forgotten_and_found_again_next_cycle(kind):
    after = after_poll(DISCOVERED, Failed("duvar", kind, "fetch: 410 gone", feed_url=FEED), NOW)
    assert (after.feed_url, after.gone, after.next_check_at, after.etag, after.last_modified) == (
        None, False, None, None, None)
    assert (after.consecutive_failures, after.last_error) == (1, "fetch: 410 gone")
    assert after_poll(FRESH, Failed("duvar", "gone", "fetch: 410 gone"), NOW).gone  # the source's own URL
