"""A later article of a story is an update when it is no copy and names what the alerts did not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from newswatch.config.schema import StorySettings
from newswatch.stories.similarity import fingerprint
from newswatch.stories.updates import may_tell, new_names
from tests.support.updates import COPY, FIRST, UPDATE

first, copy, update = (fingerprint(*article, "en") for article in (FIRST, COPY, UPDATE))


def test_a_copy_of_an_alerted_article_tells_nothing_new():
    assert new_names(copy, [first]) == []


def test_a_later_report_names_the_people_and_places_the_alert_did_not():
    names = new_names(update, [first])
    assert {"pedersen", "griffiths", "sochi"} <= set(names)
    assert "ariha" not in names and "idlib" not in names  # the alert named those


def test_what_any_alerted_article_mentions_is_not_new():
    assert new_names(update, [first, update]) == []
    assert set(new_names(first, [update])) < set(new_names(first, []))


def test_which_rules_may_tell_a_later_article():
    """Follow-ups are off by default; an evidence join may be told up to `max` times; a follow-up
    waits `after` since the last alert."""
    now = datetime(2020, 2, 25, tzinfo=UTC)
    default = StorySettings()
    assert may_tell(default, "same_event") == (False, True)
    assert may_tell(default, "key") == (False, False)
    assert may_tell(default, "same_event", default.evidence_joins.max + 1, now, now) == (False, False)
    follow = StorySettings.model_validate({"follow_up": {"enabled": True, "after": "1h"}})
    assert may_tell(follow, "key", 1, now - timedelta(minutes=30), now) == (False, False)
    assert may_tell(follow, "key", 1, now - timedelta(hours=2), now) == (True, False)
