"""Triage on SQLite and PostgreSQL: one alert per story and watchlist, and, when asked for, a
follow-up when the story gains a significant update."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from newswatch import ingest
from newswatch.config.schema import Config
from newswatch.ingest import add_entries
from newswatch.matching import watch_index
from newswatch.models import Extracted, FeedEntry, PageText
from newswatch.store import articles, session, sources
from newswatch.store.tables import Article, ArticleKey, Delivery, Match
from newswatch.stories import text_hash
from newswatch.stories.similarity import fingerprint
from newswatch.triage import forget_old_keys, settle, triage
from tests.support.updates import COPY, FIRST, UPDATE

NOW = datetime(2020, 2, 25, 8, 0, tzinfo=UTC)


def configured(database: str, window: str = "48h", **follow_up) -> Config:
    return Config.model_validate({
        "database": database,
        "sources": [{"name": name, "url": f"https://{name}.example/rss", "language": "en"}
                    for name in ("duvar", "anadolu", "tass")],
        "channels": {"log": {"type": "jsonl", "path": "alerts.jsonl"}, "mail": {"type": "console"}},
        "watchlists": [{"name": "idlib", "query": "Idlib", "channels": ["log", "mail"]}],
        "stories": {"window": window, "follow_up": follow_up},
    })


def arrive(config: Config, source: str, article: tuple[str, str], at: datetime,
           fingerprint: bytes | None = None) -> int:
    """An article of `source` read (with this stored fingerprint, if given) and triaged at `at`; its id."""
    title, text = article
    with session(config.database) as current:
        sources.sync(current, config.sources)
        source_id = sources.ids_by_name(current)[source]
        entry = FeedEntry(source=source, url=f"https://{source}.example/{at:%H%M}", guid=None, title=title,
                          summary="", published=at)
        (article_id,) = add_entries(current, source_id, [entry], at)
        ingest.attach_text(current, [PageText(article_id, Extracted(text=text, language="en"), None, fingerprint,
                                                 text_hash(text) if fingerprint else None)])
    settle(config, watch_index(config.watchlists, config.aliases), [article_id], at)
    return article_id


def alerts(config: Config) -> list[tuple[int, int, int]]:
    """(story, revision, article) of every match, and each has a delivery per channel."""
    with session(config.database) as current:
        rows = current.exec(select(Match).order_by(Match.id)).all()
        for row in rows:
            assert len(current.exec(select(Delivery).where(Delivery.match_id == row.id)).all()) == 2
        return [(row.story_id, row.revision, row.article_id) for row in rows]


def story_of(config: Config, article_id: int) -> int:
    with session(config.database) as current:
        return current.get(Article, article_id).story_id


@pytest.mark.parametrize(("window", "joins"), [("48h", False), ("96h", True)])
def test_reports_of_one_event_join_within_the_configured_window(database, window, joins):
    config = configured(database, window=window)
    first = arrive(config, "duvar", FIRST, NOW)
    later = arrive(config, "anadolu", UPDATE, NOW + timedelta(hours=55))
    assert (story_of(config, later) == story_of(config, first)) is joins


def test_a_fingerprint_of_an_older_version_is_made_again(database):
    config = configured(database)
    old = bytearray(fingerprint(*FIRST, "en").to_bytes())
    old[0] = 1  # version 1: another shingle hash
    first = arrive(config, "duvar", FIRST, NOW, fingerprint=bytes(old))
    with session(config.database) as current:
        assert current.get(Article, first).fingerprint == fingerprint(*FIRST, "en").to_bytes()
    copy = arrive(config, "tass", COPY, NOW + timedelta(hours=1))
    assert story_of(config, copy) == story_of(config, first)


def test_later_articles_of_a_story_do_not_alert_again_by_default(database):
    config = configured(database)
    first = arrive(config, "duvar", FIRST, NOW)
    update = arrive(config, "anadolu", UPDATE, NOW + timedelta(hours=8))
    assert story_of(config, update) == story_of(config, first)
    assert alerts(config) == [(story_of(config, first), 0, first)]


def test_a_significant_update_follows_up_once_copies_and_early_news_do_not(database):
    config = configured(database, enabled=True, after="6h", max=1)
    first = arrive(config, "duvar", FIRST, NOW)
    story = story_of(config, first)
    arrive(config, "anadolu", UPDATE, NOW + timedelta(hours=2))  # news, but too soon after the alert
    arrive(config, "tass", COPY, NOW + timedelta(hours=7))  # later, but a copy of what was alerted
    assert alerts(config) == [(story, 0, first)]
    update = arrive(config, "anadolu", (UPDATE[0], UPDATE[1] + "\nThe UN Security Council will meet."),
                    NOW + timedelta(hours=9))
    assert story_of(config, update) == story
    assert alerts(config) == [(story, 0, first), (story, 1, update)]
    arrive(config, "tass", (UPDATE[0], UPDATE[1].replace("Sochi", "Astana") + " Hakan Fidan flew to Moscow."),
           NOW + timedelta(hours=20))  # max=1: no second follow-up
    assert len(alerts(config)) == 2


def test_a_follow_up_needs_enough_new_names(database):
    config = configured(database, enabled=True, after="1h", new_names=10)
    first = arrive(config, "duvar", FIRST, NOW)
    arrive(config, "anadolu", UPDATE, NOW + timedelta(hours=9))
    assert alerts(config) == [(story_of(config, first), 0, first)]


def test_fuzzy_keys_are_forgotten_after_twice_the_window(database):
    config = configured(database)
    old = arrive(config, "duvar", FIRST, NOW - timedelta(hours=97))
    recent = arrive(config, "anadolu", UPDATE, NOW - timedelta(hours=95))
    assert forget_old_keys(config, NOW) > 0
    with session(config.database) as current:
        kept = {key.article_id for key in current.exec(select(ArticleKey)).all()}
    assert kept == {recent} and old not in kept


LIVE_BLOG = [  # one link for every update, as a live blog's feed has it
    ("u1", "Turkish soldiers killed in Idlib",
     "Two Turkish soldiers were killed by an air strike near Saraqib in Idlib."),
    ("u2", "Lavrov on the Moscow talks", "Lavrov said the Moscow talks on Idlib will go on next week with Ankara."),
    ("u3", "Grain prices", "Wheat futures fell in Chicago on Tuesday as the harvest outlook improved."),
]


def live_blog(*updates: tuple[str, str, str]) -> list[FeedEntry]:
    return [FeedEntry("duvar", "https://duvar.example/live?utm_source=rss", guid, title, summary, NOW)
            for guid, title, summary in updates]


def test_items_sharing_one_link_are_each_an_article_read_from_the_feed_and_alerted(database):
    config = configured(database)
    with session(config.database) as current:
        sources.sync(current, config.sources)
        source_id = sources.ids_by_name(current)["duvar"]
        first = add_entries(current, source_id, live_blog(*LIVE_BLOG[:2]), NOW)
        assert articles.pending(current, "fetched", 10) == []  # no page: the shared one is not theirs
    triage(config, NOW)
    with session(config.database) as current:
        again = add_entries(current, source_id, live_blog(*LIVE_BLOG), NOW + timedelta(minutes=10))
        stored = current.exec(select(Article).order_by(Article.id)).all()
    assert len(first) == 2 and len(again) == 1
    assert [a.url for a in stored] == [f"https://duvar.example/live#{guid}" for guid, _, _ in LIVE_BLOG]
    assert all(a.from_summary and a.text == summary for a, (_, _, summary) in zip(stored, LIVE_BLOG, strict=True))
    assert [article for _, _, article in alerts(config)] == first
    assert story_of(config, first[0]) != story_of(config, first[1])


QUAKE = ("Earthquake shakes Idlib province overnight",
         "A magnitude 5.1 earthquake shook Idlib province overnight, damaging homes in Harem and Salqin; "
         "rescuers searched collapsed buildings in the morning and the White Helmets counted eleven injured. " * 3)
RATE_CUT = ("Central bank cuts its main rate as Idlib refugees weigh on the economy",
            "The central bank lowered its benchmark rate by 50 basis points to 10.25 percent on Thursday, citing "
            "slowing growth and the cost of sheltering refugees from Idlib; the lira fell against the dollar. " * 3)


def declaring(config: Config, url: str, article: tuple[str, str], at: datetime, canonical: str | None = None) -> int:
    """An article at `url` whose page declares `canonical`, triaged at `at`; its id."""
    title, text = article
    with session(config.database) as current:
        sources.sync(current, config.sources)
        entry = FeedEntry("duvar", url, None, title, "", published=at)
        (article_id,) = add_entries(current, sources.ids_by_name(current)["duvar"], [entry], at)
        ingest.attach_text(current, [PageText(article_id, Extracted(text=text, language="en", canonical_url=canonical),
                                                None, None, text_hash(text))])
    settle(config, watch_index(config.watchlists, config.aliases), [article_id], at)
    return article_id


def test_a_site_whose_pages_all_declare_its_home_page_canonical_does_not_join_them(database):
    """Issue "One alert per story, never at the price of an event": a CMS fault made one story of a site."""
    config = configured(database)
    first = declaring(config, "https://duvar.example/0225", QUAKE, NOW, "https://duvar.example/")
    later = declaring(config, "https://duvar.example/0322", RATE_CUT, NOW + timedelta(days=26), "https://duvar.example/")
    assert story_of(config, first) != story_of(config, later)
    assert len(alerts(config)) == 2  # each event alerts


def test_a_declared_canonical_article_address_joins_only_a_like_text(database):
    """A CMS declaring one article's address for others (a plausible article address, so the
    address check passes) must not fold a different event into that article's story."""
    config = configured(database)
    declared = "https://duvar.example/2020/02/25/earthquake-shakes-idlib-province"
    first = declaring(config, declared, QUAKE, NOW)
    other = declaring(config, "https://duvar.example/2020/02/26/rate-cut", RATE_CUT, NOW + timedelta(hours=20),
                      declared)
    amp = declaring(config, "https://duvar.example/amp/quake", (QUAKE[0], QUAKE[1] + " Updated."),
                    NOW + timedelta(hours=30), declared)
    assert story_of(config, other) != story_of(config, first)
    assert story_of(config, amp) == story_of(config, first)
    with session(config.database) as current:
        assert current.get(Article, other).joined_by == "new"
        joined = current.get(Article, amp)
        assert joined.joined_by == "key" and f"url:{declared}" in joined.join_reason
        assert f"article {first}" in joined.join_reason
    assert [article for _, _, article in alerts(config)] == [first, other]


def test_the_same_text_is_one_story_within_the_window_and_a_new_one_after_it(database):
    """A text key expires with the story window: a notice repeated word for word a month later is
    news again, while a copy within the window joins by the key."""
    config = configured(database)
    notice = ("Idlib crossing hours", "The Idlib border crossing is open from 8 a.m. to 4 p.m. for aid convoys; "
              "drivers bring their papers, the cargo list and the permit stamped by the office in Reyhanli. " * 3)
    first = declaring(config, "https://duvar.example/notice-1", notice, NOW, None)
    copy = declaring(config, "https://duvar.example/notice-2", notice, NOW + timedelta(hours=40), None)
    again = declaring(config, "https://duvar.example/notice-3", notice, NOW + timedelta(days=30), None)
    copy_later = declaring(config, "https://duvar.example/notice-4", notice, NOW + timedelta(days=30, hours=5), None)
    assert story_of(config, copy) == story_of(config, first)
    assert story_of(config, again) != story_of(config, first)
    assert story_of(config, copy_later) == story_of(config, again)
    with session(config.database) as current:
        assert current.get(Article, copy).join_reason == f"shares text:{text_hash(notice[1])}"
    assert [article for _, _, article in alerts(config)] == [first, again]
