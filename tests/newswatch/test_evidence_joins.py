"""A report joined to an alerted story on same-event evidence alone, about something the story's
alerts never named, is told to the watchlist as an update of the story (issue 17, point 4):
a false join must not be silent; a second report of the alerted event, or a copy, stays quiet."""

from __future__ import annotations

from datetime import timedelta

import pytest

from newswatch.config.schema import Config
from newswatch.store import session
from newswatch.store.tables import Article
from tests.newswatch.test_triage import NOW, alerts, arrive, configured, story_of
from tests.support.updates import COPY, FIRST, UPDATE

# Another strike, in another town, with other victims, written like the first report: the story
# stage joins it to the Ariha story as the same event (checked by `joined`, so a change of the
# scorer fails loudly here instead of leaving the rule untested).
OTHER = ("Airstrikes on Saraqeb market in Syria's Idlib kill 9", """\
Nine civilians, among them a nurse, Amina Haddad, and two children, were killed on Tuesday when Syrian government airstrikes struck a busy market in Saraqeb, in Idlib province, rescuers said.
Volunteers of the White Helmets civil defence group dug survivors out of the rubble of market shops in Saraqeb after the morning strikes.
Russian jets took part in the raids, according to the Syrian Observatory for Human Rights, the Britain-based monitor, which named another victim, Yusuf Karim, a teacher.
Saraqeb, close to the M4 highway between Aleppo and Latakia, is on the front line of the last rebel-held enclave in northwest Syria.""")

# A third one, in Kafranbel, written another way: for `max`.
THIRD = ("Airstrikes kill 7 at Kafranbel market in Syria's Idlib, rescuers say", """\
Syrian government airstrikes on a crowded market in Kafranbel, in Idlib province, killed at least seven civilians on Tuesday, among them a nurse, Huda Sabbagh, rescuers said.
White Helmets volunteers pulled survivors from the rubble of shops in Kafranbel after two morning strikes, the civil defence group said.
Russian jets joined the raids, said the Syrian Observatory for Human Rights, a Britain-based war monitor, which named a second victim, Omar Zaydan, a teacher.
Kafranbel is near the M4 highway linking Aleppo and Latakia, the front line of the last rebel-held enclave in northwest Syria.""")


def joined(config: Config, article_id: int) -> str:
    with session(config.database) as current:
        return current.get(Article, article_id).joined_by


def evidence(database: str, **settings) -> Config:
    """`configured`, with these `stories.evidence_joins` settings."""
    config = configured(database)
    return config.model_copy(update={"stories": config.stories.model_copy(update={
        "evidence_joins": config.stories.evidence_joins.model_copy(update=settings)})})


def test_another_event_joined_on_evidence_is_told_as_an_update_by_default(database):
    config = configured(database)
    first = arrive(config, "duvar", FIRST, NOW)
    other = arrive(config, "anadolu", OTHER, NOW + timedelta(hours=1))
    story = story_of(config, first)
    assert story_of(config, other) == story and joined(config, other) == "same_event"
    assert alerts(config) == [(story, 0, first), (story, 1, other)]


def test_a_second_report_of_the_alerted_event_is_not_told(database):
    config = configured(database)
    first = arrive(config, "duvar", FIRST, NOW)
    update = arrive(config, "anadolu", UPDATE, NOW + timedelta(hours=1))  # new names, same place
    assert joined(config, update) == "same_event"
    assert alerts(config) == [(story_of(config, first), 0, first)]


def test_a_copy_is_not_told(database):
    config = configured(database)
    first = arrive(config, "duvar", FIRST, NOW)
    copy = arrive(config, "tass", COPY, NOW + timedelta(hours=1))
    assert joined(config, copy) == "duplicate"
    assert alerts(config) == [(story_of(config, first), 0, first)]


def test_nothing_is_told_when_asked_not_to(database):
    config = evidence(database, tell=False)
    first = arrive(config, "duvar", FIRST, NOW)
    other = arrive(config, "anadolu", OTHER, NOW + timedelta(hours=1))
    assert joined(config, other) == "same_event"
    assert alerts(config) == [(story_of(config, first), 0, first)]


def test_enough_new_names_are_needed(database):
    config = evidence(database, new_names=8)
    first = arrive(config, "duvar", FIRST, NOW)
    arrive(config, "anadolu", OTHER, NOW + timedelta(hours=1))
    assert alerts(config) == [(story_of(config, first), 0, first)]


@pytest.mark.parametrize(("most", "told"), [(1, [0, 1]), (2, [0, 1, 2])], ids=["max=1", "max=2"])
def test_at_most_max_updates_a_story_and_each_report_once(database, most, told):
    config = evidence(database, max=most)
    first = arrive(config, "duvar", FIRST, NOW)
    arrive(config, "anadolu", OTHER, NOW + timedelta(hours=1))
    copy = arrive(config, "duvar", (OTHER[0], OTHER[1] + "\nReporting by Khalil Ashawi"), NOW + timedelta(hours=2))
    third = arrive(config, "tass", THIRD, NOW + timedelta(hours=2, minutes=30))
    story = story_of(config, first)
    assert joined(config, copy) == "duplicate" and story_of(config, copy) == story
    assert story_of(config, third) == story and joined(config, third) == "same_event"
    assert [revision for _, revision, _ in alerts(config)] == told


def test_with_follow_ups_one_revision_numbers_after_the_other(database):
    config = configured(database, enabled=True, after="6h", max=3)
    first = arrive(config, "duvar", FIRST, NOW)
    other = arrive(config, "anadolu", OTHER, NOW + timedelta(hours=1))  # too soon for a follow-up
    update = arrive(config, "tass", (UPDATE[0], UPDATE[1] + "\nThe UN Security Council will meet."),
                    NOW + timedelta(hours=9))  # a follow-up, after the evidence join's update
    story = story_of(config, first)
    assert joined(config, update) == "same_event"
    assert alerts(config) == [(story, 0, first), (story, 1, other), (story, 2, update)]


def test_a_report_both_rules_tell_of_is_one_update(database):
    config = configured(database, enabled=True, after="6h", max=3)
    first = arrive(config, "duvar", FIRST, NOW)
    other = arrive(config, "anadolu", OTHER, NOW + timedelta(hours=7))
    story = story_of(config, first)
    assert story_of(config, other) == story and joined(config, other) == "same_event"
    assert alerts(config) == [(story, 0, first), (story, 1, other)]
