"""The scale-out topology of docker-compose.yml, as real processes: a Prefect server on PostgreSQL,
the deployments of prefect.yaml (four shards) on a process work pool, two `newswatch worker`s
and the store on PostgreSQL. Several feeds carry copies of the same articles (the same URL, and
syndicated copies at other URLs), spread over the shards, so concurrent flow runs on both workers
meet the same articles: each is stored once, each event is one story, each alert is sent once.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from flows.shards import shard_of
from newswatch.store import db
from tests.conftest import ROOT
from tests.deploy.conftest import (BIN, NEWSWATCH, PrefectServer, Proc, Site, SlowFiles, descendants,
                                   fresh_pg_database, running)
from tests.support.slack_server import SlackServer

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.prefect]

SHARDS = 4
HOLD = 10.0  # seconds each feed takes to answer in the first round
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}

# event → (title, text): four the watchlist matches, two it does not; each names its own places, so
# no two are the same event (story clustering joins reports that share names within hours)
EVENTS = {
    "ceasefire": ("Ceasefire in Idlib takes hold after Moscow summit",
                  "A ceasefire agreed in Moscow between Turkey and Russia took hold across Idlib at midnight.\n\n"
                  "Residents of Saraqib said the shelling stopped for the first time in weeks, although drones "
                  "were still heard over the M4 motorway.\n\n"
                  "Joint patrols are due to begin next Sunday along a six-kilometre security corridor."),
    "airport": ("Aleppo airport reopens to civilian flights",
               "The first passenger flight in eight years landed at Aleppo International Airport on Wednesday.\n\n"
               "Airport staff said two airlines would run weekly services to Beirut and Sharjah from next month, "
               "once the repaired radar passes its inspection.\n\n"
               "Traders in the old souq hope the flights will bring back buyers for olive oil soap."),
    "portfire": ("Fire destroys warehouses at Latakia port",
                  "A fire swept through grain warehouses at the port of Latakia overnight, the port authority said.\n\n"
                  "Firefighters needed eleven hours to contain the blaze, which started in a store of vegetable oil.\n\n"
                  "Shipping agents expect delays for container vessels waiting at anchor off the coast."),
    "dam": ("Engineers shore up cracked dam near Hama",
               "Engineers poured concrete into cracks found in the Mhardeh dam on the Orontes river near Hama.\n\n"
               "Farmers downstream were told to move livestock away from the river banks as a precaution.\n\n"
               "The irrigation ministry said the reservoir would be lowered by two metres over the week."),
    "harbour": ("Harbour reopens after winter storms",
                "The fishing harbour reopened on Monday after three weeks of winter storms kept boats in port.\n\n"
                "The harbour master said the breakwater had held, but two piers need repairs.\n\n"
                "Fish prices at the morning market fell for the first time this year."),
    "football": ("Late goal lifts the home side to the top of the league",
                 "A header in the last minute gave the home side a two-one win and first place in the league.\n\n"
                 "The visitors had led at half time after a penalty awarded by the video referee.\n\n"
                 "The coach praised the crowd, the largest at the stadium for a decade."),
}
MATCHING = {"ceasefire", "airport", "portfire", "dam"}

# page path → (event, canonical page path or None); copies of one event at two URLs are one story
PAGES = {
    "pages/ankara-post/ceasefire.html": ("ceasefire", None),
    "pages/beirut-wire/airport.html": ("airport", None),
    "pages/damascus-daily/airport-copy.html": ("airport", "pages/beirut-wire/airport.html"),
    "pages/syria-monitor/port-fire.html": ("portfire", None),
    "pages/moscow-bureau/dam.html": ("dam", None),
    "pages/idlib-desk/dam.html": ("dam", None),  # a syndicated copy with no canonical link
    "pages/beirut-wire/harbour.html": ("harbour", None),
    "pages/damascus-daily/football.html": ("football", None),
}
# feed (its source name) → its items' page paths; the same URL in several feeds and shards
FEEDS = {
    "idlib-desk": ["pages/ankara-post/ceasefire.html", "pages/idlib-desk/dam.html"],
    "beirut-wire": ["pages/beirut-wire/airport.html", "pages/beirut-wire/harbour.html"],
    "moscow-bureau": ["pages/moscow-bureau/dam.html", "pages/ankara-post/ceasefire.html",
                      "pages/beirut-wire/harbour.html"],
    "syria-monitor": ["pages/syria-monitor/port-fire.html", "pages/beirut-wire/airport.html"],
    "ankara-post": ["pages/ankara-post/ceasefire.html", "pages/damascus-daily/football.html"],
    "damascus-daily": ["pages/damascus-daily/airport-copy.html", "pages/syria-monitor/port-fire.html",
                       "pages/damascus-daily/football.html"],
}


def test_the_corpus_spreads_copies_over_every_shard():
    assert {shard_of(name, SHARDS) for name in FEEDS} == set(range(SHARDS))
    for page in PAGES:
        carriers = {shard_of(name, SHARDS) for name, pages in FEEDS.items() if page in pages}
        if sum(page in pages for pages in FEEDS.values()) > 1:
            assert len(carriers) > 1, f"{page}: its copies sit in one shard"


def write_corpus(site: Site) -> None:
    for path, (event, canonical) in PAGES.items():
        title, text = EVENTS[event]
        site.page(path, title, text, canonical=f"{site.base}/{canonical}" if canonical else None)
    for name, pages in FEEDS.items():
        site.feed(f"feeds/{name}.xml", [(EVENTS[PAGES[p][0]][0], f"{site.base}/{p}") for p in pages])


def write_config(tmp_path: Path, feeds: str, store: str, slack: SlackServer) -> Path:
    sources = "\n".join(f'  - {{name: {name}, url: "{feeds}/feeds/{name}.xml", language: en}}'
                        for name in FEEDS)
    path = tmp_path / "newswatch.yaml"
    path.write_text(textwrap.dedent("""\
        database: {store}
        schedule: {{every: 10m}}
        fetch: {{timeout: 20s, allow_private_networks: true}}
        sources:
        {sources}
        channels:
          desk: {{type: slack, webhook_url: "{slack}"}}
          log: {{type: jsonl, path: "{log}"}}
        watchlists:
          - {{name: idlib, query: 'Idlib OR Aleppo OR Latakia OR Hama', channels: [desk, log]}}
        """).format(store=store, sources=sources, slack=slack.url, log=tmp_path / "alerts.jsonl"),
        encoding="utf-8")
    return path


def deploy(server: PrefectServer, tmp_path: Path) -> None:
    """What the compose `deploy` service runs, from the repository (prefect.yaml as it is)."""
    env = server.env(PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    done = subprocess.run(["sh", str(ROOT / "docker" / "deploy.sh")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def start_runs(server: PrefectServer, config: Path) -> list[str]:
    """One flow run of every shard deployment, now, on this test's config."""
    ids = []
    for shard in range(SHARDS):
        deployment = server.get(f"/deployments/name/monitor/shard-{shard}")
        assert deployment["parameters"] == {"config_path": "config", "shard": shard, "shards": SHARDS}
        run = server.post(f"/deployments/{deployment['id']}/create_flow_run",
                          {"parameters": {"config_path": str(config)}})
        assert run["parameters"]["shard"] == shard  # the deployment's parameters still apply
        ids.append(run["id"])
    return ids


def wait_finished(server: PrefectServer, ids: list[str], timeout: float) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = server.post("/flow_runs/filter", {"flow_runs": {"id": {"any_": ids}}})
        if len(runs) == len(ids) and all(r["state_type"] in TERMINAL for r in runs):
            return runs
        time.sleep(1.0)
    raise AssertionError(f"flow runs not finished within {timeout:.0f}s: "
                         f"{[(r['name'], r['state_name']) for r in runs]}")


def overlapping(a: dict, b: dict) -> bool:
    start, end = (lambda r: datetime.fromisoformat(r["start_time"])), (lambda r: datetime.fromisoformat(r["end_time"]))
    return start(a) < end(b) and start(b) < end(a)


def test_two_workers_share_the_shards_and_nothing_is_stored_or_sent_twice(prefect_pg_server, site, tmp_path):
    server = prefect_pg_server
    write_corpus(site)
    workers: list[Proc] = []
    # feeds answer after HOLD seconds, so the first round's cycles overlap however their starts spread
    with fresh_pg_database("newswatch_store") as url, SlackServer() as slack, SlowFiles(site.root, HOLD) as feeds:
        store = url.render_as_string(hide_password=False)
        db.upgrade(store)  # the compose `migrate` step
        config = write_config(tmp_path, feeds.base_url, store, slack)
        try:
            deploy(server, tmp_path)
            for name in ("w1", "w2"):
                workers.append(Proc([NEWSWATCH, "worker", "--limit", "2", "--name", name], tmp_path / f"{name}.log",
                                    server.env(PREFECT_WORKER_QUERY_SECONDS="2")))
            for worker in workers:
                worker.wait_for("started!", timeout=60)

            first = wait_finished(server, start_runs(server, config), timeout=120)
            assert {r["state_type"] for r in first} == {"COMPLETED"}, [(r["name"], r["state_message"]) for r in first]
            # both workers offer to take a run; the one that begins it ran it
            ran = {r["id"]: [w.args[-1] for w in workers if f"Beginning flow run '{r['name']}'" in w.text()]
                   for r in first}
            assert all(len(names) == 1 for names in ran.values()), ran
            assert {names[0] for names in ran.values()} == {"w1", "w2"}, f"a worker ran nothing: {ran}"
            runs = {r["id"]: r for r in first}
            assert any(overlapping(runs[a], runs[b]) for a in ran for b in ran if ran[a] != ran[b]), \
                "the two workers never ran flow runs at the same time"

            feeds.delay = 0
            second = wait_finished(server, start_runs(server, config), timeout=120)  # nothing new
            assert {r["state_type"] for r in second} == {"COMPLETED"}

            engine = sa.create_engine(db.normalise_url(store))
            with engine.connect() as connection:
                stored = connection.execute(sa.text("select url, story_id from articles")).all()
                deliveries = connection.execute(sa.text("select channel, status from deliveries")).all()
            engine.dispose()
        finally:
            stopped = {}
            for worker in workers:
                left = descendants(worker.pid)
                stopped[worker.args[-1]] = worker.stop(wait=10)
                assert not [pid for pid in left | {worker.pid} if running(pid)], f"{worker.args[-1]} left processes"
            print(f"workers stopped with: {stopped}")

    # every article once; one story per event
    assert sorted(u for u, _ in stored) == sorted(f"{site.base}/{p}" for p in PAGES)
    story_of = {u.removeprefix(f"{site.base}/"): s for u, s in stored}
    stories = {event: {story_of[p] for p, (e, _) in PAGES.items() if e == event} for event in EVENTS}
    assert all(len(s) == 1 for s in stories.values()), f"an event split into stories: {stories}"
    assert len(set().union(*stories.values())) == len(EVENTS), "two events merged into one story"

    # each page read once, by the shard that polls its article's source, though every shard sees it pending
    assert Counter(path for _, path, _ in site.requests if path.startswith("/pages/")) == {f"/{p}": 1 for p in PAGES}

    # each alert once, on both channels
    assert Counter(deliveries) == {("desk", "sent"): len(MATCHING), ("log", "sent"): len(MATCHING)}
    jsonl = [json.loads(line) for line in (tmp_path / "alerts.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(a["story_id"] for a in jsonl) == sorted(stories[e].copy().pop() for e in MATCHING)
    posted = Counter(e for p in slack.payloads for e in EVENTS if EVENTS[e][0] in json.dumps(p, ensure_ascii=False))
    assert posted == Counter(MATCHING) and len(slack.payloads) == len(MATCHING)
