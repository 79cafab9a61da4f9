"""Chaos: `newswatch run --once` killed with SIGKILL at seeded points of every stage, then run
again; PostgreSQL restarted in the middle of a cycle. Nothing stops the watch.

The invariant (README, "Delivery guarantees"): every alert arrives, none twice, except the one
message in flight at a kill, which may arrive twice.

How the kills happen, without a hook in product code: the local servers pull the trigger
(tests/support/chaos.py). The feed server kills the run's process group on its k-th feed
request, the page server on its k-th page request, the Slack endpoint on the k-th message it
receives (that message is the one in flight). Inside a transaction, the test holds a PostgreSQL
lock on one table when the run's last feed (ingest) or last page (triage) is requested, and kills
the run once one of its statements waits for that lock.

One scenario, each run continuing the work of the killed one: three waves of articles appear in
ten feeds (30, 20, then 10 pages; each page a unique canary, half of them also about a river), and
each wave meets kills in fetch, extract, triage and deliver, drawn from the seed
(NEWSWATCH_CHAOS_SEED). Each restart comes a lease later: the test ends the dead run's delivery
leases (deliveries.LEASE, 5 minutes) before starting the next run, as the clock would.

The runs use one Prefect server of the module (SQLite, so restarting PostgreSQL leaves it alone):
~3 s a run, where an ephemeral server would cost ~13 s. The PostgreSQL restarted is a cluster of
the test's own (tests/support/private_pg.py): the machine's server, which the rest of the suite
uses meanwhile, is never restarted.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import textwrap
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from flows.runtime import free_port, wait_healthy
from newswatch.store.deliveries import LEASE
from newswatch.store.tables import Delivery, utcnow
from tests.conftest import fresh_pg_database
from tests.deploy.conftest import NEWSWATCH, PREFECT, Proc, Site, prefect_env
from tests.support.chaos import ChaosSite, ChaosSlack, KillSwitch, Shot, group_alive, hold_then_kill, restart_postgres
from tests.support.private_pg import PrivateCluster, private_cluster
from tests.support.texts import distinct_text

pytestmark = [pytest.mark.slow, pytest.mark.prefect, pytest.mark.timeout(600)]

SEED = int(os.environ.get("NEWSWATCH_CHAOS_SEED", "20261207"))
FEEDS = 10
WAVES = ((0, 1, 2), (3, 4), (5,))  # the items each wave adds to every feed
RUN_TIMEOUT = 120  # seconds: a run that neither ends nor dies by then is stuck
CANARY = re.compile(r"zq\d+x\d+canary")
WATCHLIST = re.compile(r"watchlist: (\w+)")
# tables a triage transaction writes, in about that order: the kill lands at that statement
TRIAGE_TABLES = ("articles", "article_keys", "stories", "story_keys", "matches", "deliveries")
# which server's requests count for each kind of point
TRIGGERS = {"feed": "feed", "ingest": "feed", "page": "page", "triage": "page", "slack": "slack",
            "restart@page": "page", "restart@triage": "page", "restart@slack": "slack"}


# -- the module's Prefect server ----------------------------------------------------------------

@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("chaos-prefect")
    port = free_port()
    server = Proc([*PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)], home / "server.log",
                  prefect_env(home))
    try:
        api = f"http://127.0.0.1:{port}/api"
        if failure := wait_healthy(api, server.popen, timeout=120):
            raise AssertionError(f"prefect server {failure}:\n{server.text()[-3000:]}")
        yield api
    finally:
        server.stop(signals=(signal.SIGTERM, signal.SIGKILL), wait=20)


# -- content --------------------------------------------------------------------------------------

def canary(feed: int, item: int) -> str:
    return f"zq{feed}x{item}canary"


def about_river(feed: int, item: int) -> bool:
    return (feed + item) % 2 == 0


def publish(site: Site, items: tuple[int, ...]) -> None:
    """Write each feed with `items` (newest first) and their pages."""
    for feed in range(FEEDS):
        entries = []
        for item in sorted(items, reverse=True):
            subject = f"the {canary(feed, item)} report" + (", filed near the river" if about_river(feed, item) else "")
            title = f"Bulletin {feed}-{item} on {canary(feed, item)}"
            text = distinct_text(SEED * 100 + feed * 10 + item, subject, words=220)
            entries.append((title, site.page(f"p/{feed}/{item}.html", title, text)))
        site.feed(f"f/{feed}.xml", entries)


def expected(items: list[int]) -> set[tuple[str, str]]:
    """(canary, watchlist) of every alert the published items owe."""
    owed = set()
    for feed in range(FEEDS):
        for item in items:
            owed.add((canary(feed, item), "canaries"))
            if about_river(feed, item):
                owed.add((canary(feed, item), "rivers"))
    return owed


def write_config(tmp_path: Path, database: str, feeds: list[str], slack_url: str) -> Path:
    sources = "\n".join(f'  - {{name: feed{n}, url: "{url}", language: en}}' for n, url in enumerate(feeds))
    path = tmp_path / "newswatch.yaml"
    path.write_text(textwrap.dedent(f"""\
        database: "{database}"
        fetch: {{timeout: 20s, allow_private_networks: true}}
        channels:
          desk: {{type: slack, webhook_url: "{slack_url}"}}
        watchlists:
          - {{name: canaries, query: 'zq*', channels: [desk]}}
          - {{name: rivers, query: 'river', channels: [desk]}}
        sources:
        """) + sources + "\n", encoding="utf-8")
    return path


def messages(slack: ChaosSlack, start: int = 0) -> list[tuple[tuple[str, str], ...]]:
    """The (canary, watchlist) keys of each message from `start` on: one story a message (instant
    delivery), naming every watchlist that alerted it at once (issue 19)."""
    found = []
    for request in slack.requests[start:]:
        text = json.dumps(request.json)
        canaries, watchlists = set(CANARY.findall(text)), set(WATCHLIST.findall(text))
        assert len(canaries) == 1 and watchlists, f"not one story in a message: {text[:500]}"
        found.append(tuple((next(iter(canaries)), watchlist) for watchlist in sorted(watchlists)))
    return found


def received(slack: ChaosSlack, start: int = 0) -> list[tuple[str, str]]:
    """(canary, watchlist) of each alert received from `start` on."""
    return [key for keys in messages(slack, start) for key in keys]


# -- the store, seen from the test ---------------------------------------------------------------

@contextmanager
def connect(url: str) -> Iterator[sa.Connection]:
    """A connection of the test's own, no pool: it outlives no PostgreSQL restart."""
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


def end_leases(url: str) -> int:
    """What LEASE later looks like: the dead run's claims (status 'sending') are due again."""
    table = Delivery.__table__  # its column types write the time as the store reads it, on SQLite too
    with connect(url) as connection:
        return connection.execute(sa.update(table).where(table.c.status == "sending")
                                  .values(next_attempt_at=utcnow() - LEASE)).rowcount


def scalar(url: str, query: str) -> int:
    """A count; 0 before the first run has created the tables."""
    try:
        with connect(url) as connection:
            return connection.execute(sa.text(query)).scalar() or 0
    except sa.exc.ProgrammingError:
        return 0


def store_state(url: str) -> str:
    """A one-line account of the store, for failure messages."""
    with connect(url) as connection:
        stages = dict(connection.execute(sa.text("SELECT stage, count(*) FROM articles GROUP BY stage")).all())
        outbox = dict(connection.execute(sa.text("SELECT status, count(*) FROM deliveries GROUP BY status")).all())
        tagged = connection.execute(sa.text("SELECT count(*) FROM sources WHERE etag IS NOT NULL")).scalar()
    return f"articles by stage {stages}, deliveries by status {outbox}, sources with an ETag {tagged}"


# -- kill points ---------------------------------------------------------------------------------

@dataclass
class Point:
    """A seeded kill point; `where` (0..1) picks the request among those the run will make."""

    stage: str  # feed, ingest, page, triage, slack; restart@page|triage|slack (PostgreSQL, no kill)
    where: float
    table: str | None = None
    # filled in by the run
    count: int = 0
    shot: Shot | None = None
    inflight: tuple[tuple[str, str], ...] = ()  # the keys of the message in flight at the kill
    seconds: float = 0.0
    messages: int = 0  # received by the Slack endpoint during the run
    note: str = ""  # how a run ended that was not killed


    def label(self) -> str:
        table = f" on {self.table}" if self.table else ""
        fired = ("NOT FIRED (the run ended first)" if self.shot is None else self.shot.note
                 if self.stage.startswith("restart") else f"killed{' ' + self.shot.note if self.shot.note else ''}")
        return (f"{self.stage}{table} #{self.count}: {fired} ({self.messages} messages, {self.seconds:.1f}s)"
                + (f"; {self.note}" if self.note else ""))


def plan(rng: random.Random) -> list[list[Point]]:
    """The points of each wave, in pipeline order (each stage's work exists only after the last)."""
    def points(stage: str, n: int, tables: tuple[str, ...] = ()) -> list[Point]:
        return [Point(stage, rng.random(), rng.choice(tables) if tables else None) for _ in range(n)]

    return [
        points("feed", 3) + points("page", 3) + points("triage", 3, TRIAGE_TABLES) + points("slack", 3),
        points("feed", 2) + points("page", 3) + points("triage", 3, TRIAGE_TABLES) + points("slack", 3),
        # the feeds' new ETags and their entries must commit together, or the wave is lost (304)
        points("feed", 1) + [Point("ingest", 1.0, "articles")],
    ]


@dataclass
class Chaos:
    tmp_path: Path
    api: str
    url: str
    config: Path
    switch: KillSwitch
    slack: ChaosSlack
    published: list[int] = field(default_factory=list)
    runs: int = 0
    cluster: PrivateCluster | None = None  # the PostgreSQL the restart points restart

    def run(self, point: Point | None = None) -> Proc:
        """One `run --once`, killed at `point` (if it comes); returns the ended process."""
        self.runs += 1
        env = prefect_env(self.tmp_path / "prefect-client", PREFECT_API_URL=self.api)
        process = Proc([NEWSWATCH, "run", "--once", "--config", str(self.config)],
                       self.tmp_path / f"run-{self.runs:02d}.log", env, cwd=self.tmp_path)
        self.switch.target(process.pid)
        before = len(self.slack.requests)
        if point is not None:
            point.count = self._count(point)
            trigger = TRIGGERS[point.stage]
            restart = restart_postgres(self.switch, self.cluster.restart) if point.stage.startswith("restart") else None
            action = hold_then_kill(self.switch, self.url, point.table, then=restart) if point.table else restart
            self.switch.arm(trigger, point.count, then=action)
        started = time.monotonic()
        try:
            process.popen.wait(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.stop()
            raise AssertionError(f"run {self.runs} stuck for {RUN_TIMEOUT}s:\n{process.text()[-3000:]}")
        self.switch.disarm()
        if point is not None:
            point.seconds = time.monotonic() - started
            point.messages = len(self.slack.requests) - before
            point.shot = self.switch.fired
            if point.shot is not None:
                assert point.shot.done.wait(30), "the kill did not happen"
                late = messages(self.slack, before)[: max(point.shot.slack_received - before, 0)]
                point.inflight = late[-1] if late else ()  # the last message received before the kill
        deadline = time.monotonic() + 15
        while group_alive(process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not group_alive(process.pid), f"run {self.runs}: processes of its group outlived it"
        process.stop()  # closes its log
        code = process.popen.returncode
        if point is not None and point.stage.startswith("restart") and point.shot is not None:
            # the cycle completes, or fails saying so: no hang, no crash
            assert code == 0 or (code == 1 and "cycle failed" in process.text()), \
                f"run {self.runs}: exit {code} after {point.label()}:\n{process.text()[-3000:]}"
            point.note = f"exit {code}: " + (process.text().strip().splitlines() or [""])[-1][:200]
        elif point is None or point.shot is None:
            assert code == 0, f"run {self.runs} failed:\n{process.text()[-3000:]}"
        end_leases(self.url)  # the next run starts a lease later
        return process

    def finish(self) -> None:
        """Runs without kills until one sends nothing and nothing is left to send (three at most)."""
        for _ in range(3):
            before = len(self.slack.requests)
            self.run()
            if len(self.slack.requests) == before and not scalar(
                    self.url, "SELECT count(*) FROM deliveries WHERE status <> 'sent'"):
                return

    def _count(self, point: Point) -> int:
        """Which request of its kind the point is, among those this run will make."""
        if TRIGGERS[point.stage] == "feed":
            available = FEEDS
        elif TRIGGERS[point.stage] == "page":
            settled = scalar(self.url, "SELECT count(*) FROM articles WHERE stage <> 'fetched'")
            available = FEEDS * len(self.published) - settled
        else:
            # messages, one a story (each canary's page its own story), whatever its watchlists
            sent = scalar(self.url, "SELECT count(DISTINCT m.story_id) FROM deliveries d JOIN matches m "
                                    "ON m.id = d.match_id WHERE d.status = 'sent'")
            available = len({canary for canary, _ in expected(self.published)}) - sent
        if point.stage in ("ingest", "triage", "restart@triage"):
            return max(available, 1)  # the last request: all the stage's input is on its way
        return 1 + min(int(point.where * max(available, 1)), max(available, 1) - 1)


def check_invariant(chaos: Chaos, points: list[Point]) -> None:
    """Every alert arrived; none twice, except a kill's message in flight, at most once more each."""
    owed = expected(chaos.published)
    counts = Counter(received(chaos.slack))
    inflight = Counter(key for p in points for key in p.inflight)
    missing = sorted(owed - set(counts))
    unknown = sorted(set(counts) - owed)
    doubled = {key: n for key, n in counts.items() if n > 1 + inflight.get(key, 0)}
    allowed = {key: n for key, n in counts.items() if 1 < n <= 1 + inflight.get(key, 0)}
    report = "\n".join(p.label() for p in points)
    assert not missing and not unknown and not doubled, (
        f"seed {SEED}: {len(missing)} alerts never arrived {missing[:12]}, {len(doubled)} arrived twice "
        f"without being in flight at a kill {doubled}, unknown {unknown[:5]}; in flight at kills and doubled: "
        f"{allowed}\nstore: {store_state(chaos.url)}\npoints:\n{report}")
    assert sum(counts.values()) - len(counts) <= sum(max(len(p.inflight), 1) for p in points if p.shot), (
        "more duplicates than kills' messages in flight")


# -- the scenario --------------------------------------------------------------------------------

def test_kills_across_fetch_extract_triage_and_deliver_lose_and_double_nothing(tmp_path, prefect_api):
    rng = random.Random(SEED)
    switch = KillSwitch()
    root = tmp_path / "site"
    root.mkdir()
    with fresh_pg_database("newswatch_chaos") as url, ChaosSite(root, switch, page_delay=0.01) as server, \
            ChaosSlack(switch) as slack:
        database = url.render_as_string(hide_password=False)
        site = Site(root, server.base_url)
        publish(site, ())
        config = write_config(tmp_path, database, [f"{server.base_url}/f/{n}.xml" for n in range(FEEDS)], slack.url)
        chaos = Chaos(tmp_path, prefect_api, database, config, switch, slack)
        points: list[Point] = []
        started = time.monotonic()
        for wave, kills in zip(WAVES, plan(rng), strict=True):
            chaos.published.extend(wave)
            publish(site, tuple(chaos.published))
            for point in kills:
                chaos.run(point)
                points.append(point)
                print(f"wave {wave}: {point.label()}")
        chaos.finish()  # restarts without kills until nothing is left to send
        print(f"seed {SEED}: {sum(1 for p in points if p.shot)} kills, {chaos.runs} runs, "
              f"{len(slack.requests)} messages in {time.monotonic() - started:.0f}s")
        by_stage = Counter(p.stage for p in points if p.shot)
        print(f"kills by stage: {dict(by_stage)}")
        check_invariant(chaos, points)
        assert sum(by_stage.values()) >= 20, f"only {sum(by_stage.values())} points fired: {by_stage}"
        assert all(by_stage[stage] >= 3 for stage in ("feed", "page", "triage", "slack")), by_stage


# -- PostgreSQL restarted in the middle of a cycle -----------------------------------------------

@contextmanager
def own_pg_database(cluster: PrivateCluster, name: str) -> Iterator[str]:
    """A database on `cluster`, made with a connection that outlives no restart (no pool)."""
    admin = sa.create_engine(cluster.url(), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield cluster.url(name)
    admin.dispose()


def test_postgresql_restarted_mid_cycle_fails_the_cycle_cleanly_and_the_next_delivers_everything_once(
        tmp_path, prefect_api):
    """Restarted while the pages download, inside triage's transaction (waiting to write matches),
    then while alerts go out: each cycle completes or fails saying so, and the next runs deliver every alert, the one in flight at the restart at most twice."""
    rng = random.Random(SEED + 1)
    switch = KillSwitch()
    root = tmp_path / "site"
    root.mkdir()
    with private_cluster() as cluster, own_pg_database(cluster, "newswatch_chaos_pg") as database, \
            ChaosSite(root, switch) as server, ChaosSlack(switch) as slack:
        site = Site(root, server.base_url)
        config = write_config(tmp_path, database, [f"{server.base_url}/f/{n}.xml" for n in range(FEEDS)], slack.url)
        chaos = Chaos(tmp_path, prefect_api, database, config, switch, slack, cluster=cluster)
        points = [Point("restart@page", rng.random()), Point("restart@triage", 1.0, "matches"),
                  Point("restart@slack", rng.random())]
        for wave, point in zip(((0, 1), (2,), (3,)), points, strict=True):  # a wave each: work for each
            chaos.published.extend(wave)
            publish(site, tuple(chaos.published))
            chaos.run(point)
            print(point.label())
            assert point.shot is not None and "restarted" in point.shot.note, point.label()
        chaos.finish()
        check_invariant(chaos, points)


def test_kills_on_sqlite_lose_and_double_nothing(tmp_path, prefect_api):
    """The same kills by the servers (fetch, extract, deliver) on the embedded store."""
    rng = random.Random(SEED + 2)
    switch = KillSwitch()
    root = tmp_path / "site"
    root.mkdir()
    with ChaosSite(root, switch, page_delay=0.01) as server, ChaosSlack(switch) as slack:
        database = f"sqlite:///{tmp_path}/store.db"
        site = Site(root, server.base_url)
        config = write_config(tmp_path, database, [f"{server.base_url}/f/{n}.xml" for n in range(FEEDS)], slack.url)
        chaos = Chaos(tmp_path, prefect_api, database, config, switch, slack, published=[0, 1])
        publish(site, (0, 1))
        points = [Point(stage, rng.random()) for stage in ("feed", "feed", "page", "page", "slack", "slack", "slack")]
        for point in points:
            chaos.run(point)
            print(f"sqlite: {point.label()}")
        chaos.finish()
        check_invariant(chaos, points)
        assert all(p.shot for p in points), "\n".join(p.label() for p in points)
