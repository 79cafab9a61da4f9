"""The store on SQLite and PostgreSQL: uniqueness, story keys, the outbox, source health."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from newswatch import ingest, polling
from newswatch.config.schema import SourceConfig
from newswatch.ingest import add_entries, record_polls
from newswatch.models import Extracted, Failed, FeedEntry, Fetched, Hit, NotModified, PageText
from newswatch.store import articles, deliveries, matches, read_only, session, sources
from newswatch.store.ledger import Ledger, Pending
from newswatch.store.tables import Article, Delivery, Source, Story, StoryKey
from tests.support.stories import assign

NOW = datetime(2020, 2, 24, 12, 0, tzinfo=UTC)
HIT = Hit(terms=["Idlib"], hits=[], snippet="talks on Idlib", highlights=[(9, 14)])


def entry(url: str, guid: str | None = None, title: str = "Lavrov on Idlib") -> FeedEntry:
    return FeedEntry(source="duvar", url=url, guid=guid, title=title, summary="Short summary.")


def alert(current, story_id: int, article_id: int, channels: list[str]) -> int | None:
    """A match and its deliveries, as triage writes them."""
    match_id = matches.add(current, story_id, article_id, "idlib", HIT, NOW)
    if match_id is not None:
        for channel in channels:
            deliveries.enqueue(current, match_id, channel, NOW, False, NOW)
    return match_id


def one_pending_slack_alert(database: str) -> None:
    source_id = seeded(database)
    with session(database) as current:
        (article_id,) = add_entries(current, source_id, [entry("https://d.example/a")], NOW)
        story_id, _ = assign(current, current.get(Article, article_id), ["url:a"], NOW)
        alert(current, story_id, article_id, ["slack"])


def seeded(database: str) -> int:
    with session(database) as current:
        sources.sync(current, [SourceConfig(name="duvar", url="https://duvar.example/rss")])
        return sources.ids_by_name(current)["duvar"]


def test_only_new_entries_get_in_whatever_the_tracking_parameters(database):
    source_id = seeded(database)
    with session(database) as current:
        first = add_entries(current, source_id, [entry("https://d.example/a?utm_source=rss", "g1"),
                                                      entry("https://d.example/b", "g2")], NOW)
    with session(database) as current:
        again = add_entries(current, source_id, [
            entry("https://d.example/a#top"),  # same URL after canonicalisation
            entry("https://d.example/b-renamed", "g2"),  # same GUID, new URL
            entry("https://d.example/c", "g3")], NOW)
    assert len(first) == 2 and len(again) == 1


def test_links_that_are_no_valid_urls_are_kept_as_written_beside_the_others(database):
    source_id = seeded(database)
    with session(database) as current:
        ids = add_entries(current, source_id, [entry("http://d.example:abc/a"), entry("http://[::1]:8080/b"),
                                                    entry("https://d.example/c")], NOW)
        ingest.attach_text(current, [PageText(ids[-1], Extracted(text="About Idlib.",
                                                                    canonical_url="http://[::1/c"))])
    with session(database) as current:
        stored = {a.url: a.canonical_url for a in current.exec(select(Article))}
    assert stored == {"http://d.example:abc/a": None, "http://[::1]:8080/b": None,
                      "https://d.example/c": "http://[::1/c"}


def test_a_page_that_fails_falls_back_to_the_summary_and_says_so(database):
    source_id = seeded(database)
    with session(database) as current:
        ok, bad = add_entries(current, source_id, [entry("https://d.example/a"), entry("https://d.example/b")], NOW)
        ingest.attach_text(current, [
            PageText(ok, Extracted(text="Full text about Idlib.", canonical_url="https://d.example/a?utm_medium=x")),
            PageText(bad, None, "fetch: 404 not found")])
    with session(database) as current:
        good, fallback = current.get(Article, ok), current.get(Article, bad)
    assert (good.text, good.from_summary, good.canonical_url, good.stage) == (
        "Full text about Idlib.", False, "https://d.example/a", "extracted")
    assert (fallback.text, fallback.from_summary, fallback.page_error) == ("Short summary.", True, "fetch: 404 not found")


def test_articles_sharing_a_key_share_a_story(database):
    source_id = seeded(database)
    with session(database) as current:
        ids = add_entries(current, source_id, [entry(f"https://d.example/{n}") for n in "abc"], NOW)
        rows = [current.get(Article, i) for i in ids]
        first = assign(current, rows[0], ["url:a", "text:1"], NOW)
        second = assign(current, rows[1], ["url:b", "text:1"], NOW)
        third = assign(current, rows[2], ["url:c"], NOW)
        fourth_keys = assign(current, rows[1], ["url:b"], NOW)  # keys learned from the join
    assert first == (first[0], True) and second == (first[0], False)
    assert third[1] is True and third[0] != first[0]
    assert fourth_keys == (first[0], False)


def test_a_story_matches_a_watchlist_once_and_enqueues_one_delivery_per_channel(database):
    source_id = seeded(database)
    with session(database) as current:
        (article_id,) = add_entries(current, source_id, [entry("https://d.example/a")], NOW)
        story_id, _ = assign(current, current.get(Article, article_id), ["url:a"], NOW)
        first = alert(current, story_id, article_id, ["slack", "log", "slack"])
        again = alert(current, story_id, article_id, ["slack", "log"])
        channels = sorted(d.channel for d in current.exec(select(Delivery)))
    assert first is not None and again is None
    assert channels == ["log", "slack"]


def test_deliveries_are_claimed_once_and_leased(database):
    one_pending_slack_alert(database)
    with session(database) as current:
        (claimed,) = deliveries.claim(current, "slack", NOW)
    with session(database) as current:
        assert deliveries.claim(current, "slack", NOW) == []  # in flight
        assert len(deliveries.claim(current, "slack", NOW + deliveries.LEASE + timedelta(seconds=1))) == 1
    assert (claimed.attempts, claimed.digest, bool(claimed.token)) == (1, False, True)


def test_two_workers_claiming_at_once_take_each_delivery_once(database):
    one_pending_slack_alert(database)
    theirs: list = []

    def other_worker() -> None:
        with session(database) as current:
            theirs.append(deliveries.claim(current, "slack", NOW))

    with session(database) as current:
        mine = deliveries.claim(current, "slack", NOW)
        other = threading.Thread(target=other_worker)
        other.start()
        time.sleep(0.5)
        assert other.is_alive()  # waiting for this transaction (PostgreSQL: the row; SQLite: the write lock)
    other.join(timeout=30)
    assert len(mine) == 1 and theirs == [[]]


def test_failed_then_dead_then_retried(database):
    one_pending_slack_alert(database)
    with session(database) as current:
        (claimed,) = deliveries.claim(current, "slack", NOW)
        deliveries.mark_failed(current, [claimed.delivery_id], "slack: 500", NOW + timedelta(minutes=1))
    with session(database) as current:
        assert deliveries.claim(current, "slack", NOW) == []
        (again,) = deliveries.claim(current, "slack", NOW + timedelta(minutes=1))
        assert again.attempts == 2
        deliveries.mark_failed(current, [again.delivery_id], "slack: 404 no_service", None)
    with session(database) as current:
        assert deliveries.release_for_retry(current, NOW) == 0
        assert deliveries.release_for_retry(current, NOW, include_dead=True) == 1
        (last,) = deliveries.claim(current, "slack", NOW)
        deliveries.mark_sent(current, [last.delivery_id], NOW)
        assert [d.status for d, _ in deliveries.listing(current, ["sent"])] == ["sent"]


def test_source_health_backs_off_and_recovers(database):
    seeded(database)
    names = ["duvar"]
    failure = Failed("duvar", "http", "fetch: 500 server error", status=500)
    with session(database) as current:
        assert [r.name for r in sources.due(current, NOW, names)] == ["duvar"]
        record_polls(current, [failure], NOW)
        record_polls(current, [failure], NOW)
        row = current.exec(select(Source)).one()
        assert (row.consecutive_failures, row.last_error) == (2, "fetch: 500 server error")
        assert row.next_check_at == NOW + timedelta(minutes=2)
        assert sources.due(current, NOW, names) == []
        later = NOW + timedelta(minutes=3)
        record_polls(current, [Fetched("duvar", [], etag='"v1"', last_modified="Mon, 24 Feb 2020")], later)
        row = current.exec(select(Source)).one()
        assert (row.consecutive_failures, row.last_error, row.etag, row.last_success_at) == (0, None, '"v1"', later)
        assert sources.due(current, later, names)[0].etag == '"v1"'
        record_polls(current, [NotModified("duvar")], later)
        record_polls(current, [Failed("duvar", "gone", "fetch: 410 gone", status=410)], later)
        assert sources.due(current, later + timedelta(days=30), names) == []


def test_a_caching_hint_beyond_any_date_waits_the_longest_poll_interval(database):
    seeded(database)
    with session(database) as current:
        record_polls(current, [Fetched("duvar", [], ttl_seconds=10**20)], NOW)
        assert current.exec(select(Source)).one().next_check_at == NOW + polling.MAX_TTL


def test_a_changed_url_starts_the_source_afresh(database):
    seeded(database)
    with session(database) as current:
        record_polls(current, [Failed("duvar", "gone", "fetch: 410 gone")], NOW)
        sources.sync(current, [SourceConfig(name="duvar", url="https://duvar.example/new-rss")])
        (due,) = sources.due(current, NOW, ["duvar"])
    assert due.url == "https://duvar.example/new-rss" and due.etag is None


def test_a_story_started_on_a_key_another_worker_claimed_gives_way_to_that_story(database):
    # what a second worker meets when the first claimed a key after its ledger read the owners
    source_id = seeded(database)
    with session(database) as current:
        first, second = (current.get(Article, i) for i in
                         add_entries(current, source_id, [entry(f"https://d.example/{n}") for n in "ab"], NOW))
        mine = Pending(second, ["url:b", "text:1"], [], NOW)
        late = Ledger(current, [mine], timedelta(hours=48))
        theirs_id, _ = assign(current, first, ["url:a", "text:1"], NOW)
        late.settle(mine, late.owner(mine.keys), None)
        assert late.write(NOW) == {second.id: (theirs_id, False)} and second.story_id == theirs_id
        assert current.exec(select(StoryKey.story_id).where(StoryKey.key == "url:b")).one() == theirs_id
        assert current.exec(select(Story.id)).all() == [theirs_id]
        assert current.get(Story, theirs_id).article_count == 2


def test_a_reading_session_does_not_wait_for_a_writer_and_keeps_what_it_read(database):
    source_id = seeded(database)
    with session(database) as writer:  # holds the write lock until the block ends
        add_entries(writer, source_id, [entry("https://d.example/a")], NOW)
        writer.flush()
        started = time.monotonic()
        with read_only(database) as reader:
            found = articles.pending(reader, "fetched", 10)
        assert time.monotonic() - started < 5  # SQLite's busy timeout is 30 s
    assert found == [] and sources.ids_by_name(writer) == {"duvar": source_id}
    with read_only(database) as reader:
        (article,) = articles.pending(reader, "fetched", 10)
    assert article.url == "https://d.example/a"  # usable after the session closed


def test_a_sqlite_connection_writes_ahead_and_caches_64_mib(tmp_path):
    from newswatch.store import engine

    with engine(f"sqlite:///{tmp_path}/store.db").connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -65536  # KiB
