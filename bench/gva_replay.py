"""Benchmark: a dated stream of real local news replayed through the real pipeline, cycle by cycle.

The reports of `../shared/data/gva-stream-dev/articles.jsonl` (US gun-violence incidents, 2013–2015,
each labelled with the Gun Violence Archive incidents it reports; read at run time, never copied)
are served on 127.0.0.1 by `cli.replay` (in a process of its own, see `web_server`): one RSS
feed per outlet, one HTML page per report, generated into a temporary folder. Before each cycle (a month by default) the feeds hold
the reports published before the cycle's end, the last 50 of each outlet; then one monitor cycle
runs as `newswatch run --once` runs it (`flows.monitor.monitor`, in this process), on a fresh
SQLite store (or a fresh database on `--postgres URL`), with one watchlist for gun-violence
reports delivering to a jsonl file, and the stories settings at the product's defaults (48 h).
Only outlets with a report so far are sources (839 in all), and an empty cycle is skipped.

The clock: the monitor flow reads it in one place, `flows.monitor.utcnow` (every stage gets
`now` from the flow), so the replay sets it there to the cycle's start plus the wall time spent in the
cycle. Story decisions use the reports' own publication times (the feed's pubDate), so they see
the real gaps between reports; the clock decides which story keys are pruned (those of reports
older than twice the window before now): at the cycle's start, that is what a watch running in
real time had pruned by the cycle's first report. Nothing else compares publication with now
(watchlist and source `max_age` are off), and delivery is due at once.

Afterwards, from the alerts file and the store, it counts per year and overall: reports, reports
the watchlist matches (the product's matcher on the text the pipeline stored), incidents matched;
hidden incidents (matched, but no alert names any of their reports: each is listed, with the story
that absorbed it, on stdout only); repeated alerts (an alert for an incident alerted less than
48 h before, by publication times); alerts, stories, cycle failures and wall time.

    .venv/bin/python bench/gva_replay.py                      # the whole stream, monthly cycles
    .venv/bin/python bench/gva_replay.py --quick              # the first 6 months (< 1 min)
    .venv/bin/python bench/gva_replay.py --months 2015-01..2015-03 --cycle day
    .venv/bin/python bench/gva_replay.py --postgres postgresql://postgres@127.0.0.1:5432/nw_gva

Exit status: 1 when an alert was lost (a matching report whose story has no alert, a report never
stored, a delivery not sent) or a cycle failed; not a judgement on the targets.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REPO = Path(__file__).resolve().parent.parent
DATA = Path("../shared/data/gva-stream-dev/articles.jsonl")  # relative to the repository
QUERY = "shot OR shoot* OR gunman OR gunmen OR gunfire OR gunshot* OR wounded OR killed OR homicide"
FEED_ITEMS = 50  # a feed holds its outlet's last 50 reports, like a real feed
WINDOW = timedelta(hours=48)  # the product's default stories.window, and the "repeated" span
QUICK = "2013-01..2013-06"


@dataclass(frozen=True)
class Report:
    doc_id: str
    incidents: tuple[str, ...]
    published: datetime
    outlet: str
    title: str
    text: str

    @property
    def source(self) -> str:
        return re.sub(r"[^A-Za-z0-9_.-]", "-", self.outlet)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="articles.jsonl (relative to the repository)")
    parser.add_argument("--cycle", choices=["month", "week", "day"], default="month")
    parser.add_argument("--months", metavar="A..B", help="only reports of these months, e.g. 2014-01..2014-06")
    parser.add_argument("--limit", type=int, help="only the first N reports (in time order)")
    parser.add_argument("--quick", action="store_true", help=f"the smoke run: --months {QUICK}")
    parser.add_argument("--postgres", metavar="URL", help="this database (dropped and created) instead of SQLite")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (store, alerts, pages)")
    args = parser.parse_args(argv)
    reports = load(REPO / args.data, QUICK if args.quick else args.months, args.limit)
    scratch = Path(tempfile.mkdtemp(prefix="gva-replay-"))
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from flows.runtime import prefect_defaults

    prefect_defaults(scratch)  # before prefect is imported: its home in the scratch folder
    started = time.monotonic()
    database = fresh_database(args.postgres, scratch)
    print(f"{len(reports)} reports {reports[0].published:%Y-%m-%d} .. {reports[-1].published:%Y-%m-%d}, "
          f"{args.cycle} cycles, store {database.split(':')[0]}, scratch {scratch}", flush=True)
    failures = replay(reports, args.cycle, database, scratch)
    seconds = time.monotonic() - started
    lost = report(reports, scratch, failures, seconds)
    if not args.keep:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
    return 1 if lost or failures else 0


def load(path: Path, months: str | None, limit: int | None) -> list[Report]:
    """The reports in time order, of `months` (A..B, inclusive) and the first `limit` only."""
    reports = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            reports.append(Report(row["doc_id"], tuple(str(i) for i in row["incidents"]),
                                  datetime.fromisoformat(row["published"]),
                                  row["outlet"], row["title"], row["text"]))
    reports.sort(key=lambda r: (r.published, r.doc_id))
    if months:
        first, _, last = months.partition("..")
        reports = [r for r in reports if first <= f"{r.published:%Y-%m}" <= (last or first)]
    return reports[:limit] if limit else reports


# -- the replay --------------------------------------------------------------------------------

def replay(reports: list[Report], cycle: str, database: str, scratch: Path) -> list[str]:
    """Run one monitor cycle per period that has reports; the cycles' failures."""
    from flows import monitor as monitor_module
    from flows.processes import warm
    from flows.runtime import foreground_run

    web = scratch / "web"
    write_pages(reports, web / "pages")
    failures: list[str] = []
    warm()
    with web_server(web) as base_url, foreground_run():
        config = scratch / "newswatch.yaml"
        periods = list(cycles(reports, cycle))
        for number, (start, end) in enumerate(periods, 1):
            arrived = [r for r in reports if r.published < end]
            write_feeds(arrived, web / "feeds", base_url)
            write_config(config, database, base_url, scratch, sorted({r.source for r in arrived}))
            with clock(monitor_module, start):
                state = monitor_module.monitor(str(config), return_state=True)
            summary = state.result(raise_on_failure=False) if state.is_completed() else None
            label = f"{start:%Y-%m-%d}" + (f"..{end - timedelta(days=1):%m-%d}" if cycle != "day" else "")
            if summary is None:
                failures.append(f"{label}: {state.message}")
            elif summary["unexpected"] or summary["failed"] or summary["delivery_failures"]:
                failures.append(f"{label}: {summary}")
            if cycle != "day" or number % 30 == 0 or number == len(periods):
                new = sum(start <= r.published < end for r in reports)
                print(f"cycle {number}/{len(periods)} {label}: {new} reports; " + (
                    " ".join(f"{k}={summary[k]}" for k in ("sources", "new_articles", "matches", "sent",
                                                          "unexpected", "seconds"))
                    if summary else f"FAILED {state.message}"), flush=True)
    return failures


def cycles(reports: list[Report], cycle: str):
    """(start, end) of each period holding at least one report, in order."""
    seen = []
    for r in reports:
        day = r.published.replace(hour=0, minute=0, second=0, microsecond=0)
        if cycle == "month":
            start = day.replace(day=1)
            end = (start + timedelta(days=32)).replace(day=1)
        elif cycle == "week":
            start = day - timedelta(days=day.weekday())
            end = start + timedelta(days=7)
        else:
            start, end = day, day + timedelta(days=1)
        if not seen or seen[-1] != (start, end):
            seen.append((start, end))
    return seen


@contextmanager
def web_server(root: Path):
    """`cli.replay` serving `root` from a process of its own; yields its base URL.

    Not in this process: there its threads competed for the GIL with the cycle's, and with the
    listen backlog of http.server (5) a burst of 16 new connections (one client per batch of 50
    feeds, all on 127.0.0.1) left some unaccepted until the 30 s timeout, under load: 41 feeds of
    the 2015 cycles failed so in the first full run. Its backlog is raised to 128 here."""
    import subprocess

    from flows.runtime import free_port

    port = free_port()
    script = ("import sys; from cli import replay; replay._Server.request_queue_size = 128; "
              "replay.main(sys.argv[1:])")
    server = subprocess.Popen([sys.executable, "-c", script, str(root), "--port", str(port)], cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    try:
        server.stdout.readline()  # "replaying … at …": listening
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@contextmanager
def clock(monitor_module, start: datetime):
    """The product's clock (`flows.monitor.utcnow`) at `start`, advancing with the wall clock."""
    began = time.monotonic()
    with mock.patch.object(monitor_module, "utcnow", lambda: start + timedelta(seconds=time.monotonic() - began)):
        yield


def write_pages(reports: list[Report], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for r in reports:
        title, when = html.escape(r.title), r.published.isoformat()
        paragraphs = "".join(f"<p>{html.escape(p.strip())}</p>\n" for p in r.text.split("\n") if p.strip())
        (folder / f"{r.doc_id}.html").write_text(
            f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta property="article:published_time" content="{when}"></head><body><article>'
            f'<h1>{title}</h1><p class="byline"><time datetime="{when}">{r.published:%B %d, %Y}</time></p>\n'
            f"{paragraphs}</article></body></html>", encoding="utf-8")


def write_feeds(arrived: list[Report], folder: Path, base: str) -> None:
    """One RSS feed per outlet: its last FEED_ITEMS reports, newest first; unchanged files untouched."""
    folder.mkdir(parents=True, exist_ok=True)
    by_source: dict[str, list[Report]] = defaultdict(list)
    for r in arrived:
        by_source[r.source].append(r)
    for source, items in by_source.items():
        body = "".join(
            f"<item><title>{html.escape(r.title)}</title><link>{base}/pages/{r.doc_id}.html</link>"
            f'<guid isPermaLink="false">{r.doc_id}</guid><pubDate>{format_datetime(r.published, usegmt=True)}'
            f"</pubDate><description>{html.escape(_summary(r.text))}</description></item>\n"
            for r in reversed(items[-FEED_ITEMS:]))
        document = (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{source}</title>'
                    f"<link>{base}/</link><description>local news</description>\n{body}</channel></rss>\n")
        path = folder / f"{source}.xml"
        if not path.exists() or path.read_text(encoding="utf-8") != document:
            path.write_text(document, encoding="utf-8")


def _summary(text: str, limit: int = 240) -> str:
    words = " ".join(text.split())
    return words if len(words) <= limit else words[:limit].rsplit(" ", 1)[0] + " …"


def write_config(path: Path, database: str, base: str, scratch: Path, sources: list[str]) -> None:
    listed = "".join(f'  - {{name: "{s}", url: "{base}/feeds/{s}.xml", language: en}}\n' for s in sources)
    path.write_text(
        f"database: {json.dumps(database)}\n"
        "fetch: {timeout: 30s, allow_private_networks: true, per_host: 16}  # every outlet is on 127.0.0.1\n"
        f"sources:\n{listed}"
        f"channels:\n  log: {{type: jsonl, path: {json.dumps(str(scratch / 'alerts.jsonl'))}}}\n"
        f"watchlists:\n  - {{name: gun-violence, query: {json.dumps(QUERY)}, channels: [log]}}\n",
        encoding="utf-8")


def fresh_database(postgres: str | None, scratch: Path) -> str:
    """A SQLite file in `scratch`, or the database named in `postgres`, dropped and created."""
    if not postgres:
        return f"sqlite:///{scratch}/store.db"
    import sqlalchemy as sa

    from newswatch.store import db

    url = sa.engine.make_url(db.normalise_url(postgres))
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    return postgres


# -- the figures -------------------------------------------------------------------------------

@dataclass
class Stored:
    """What the store says about one report."""

    story_id: int | None
    matches: bool
    from_summary: bool
    published: datetime | None
    joined_by: str | None  # how it joined its story, where the store records it
    join_reason: str | None
    document: object  # the Document the pipeline matched, for the story stage's decision on a pair


def read_store(config_path: Path) -> tuple[dict[str, Stored], int, list[str]]:
    """Per doc_id what the store holds, the number of stories, and deliveries not sent."""
    from sqlmodel import select

    from newswatch import config as configuration
    from newswatch.matching import watch_index
    from newswatch.models import Document
    from newswatch.store import read_only
    from newswatch.store.tables import Article, Delivery, Source, Story

    loaded = configuration.load(str(config_path))
    index, database = watch_index(loaded.watchlists, loaded.aliases), loaded.database
    found: dict[str, Stored] = {}
    with read_only(database) as current:
        for article, source in current.exec(select(Article, Source.name).join(Source)):
            document = Document(article.title, article.text or "", article.language, source)
            found[article.url.rsplit("/", 1)[-1].removesuffix(".html")] = Stored(
                article.story_id, bool(index.match(document)), article.from_summary, article.published_at,
                getattr(article, "joined_by", None), getattr(article, "join_reason", None), document)
        stories = len(current.exec(select(Story.id)).all())
        unsent = [f"{d.id}: {d.status} {d.last_error}" for d in current.exec(select(Delivery))
                  if d.status != "sent"]
    return found, stories, unsent


def report(reports: list[Report], scratch: Path, failures: list[str], seconds: float) -> int:
    """Print the figures and the hidden incidents; how many alerts were lost."""
    by_doc = {r.doc_id: r for r in reports}
    stored, stories, unsent = read_store(scratch / "newswatch.yaml")
    alerts = [json.loads(line) for line in (scratch / "alerts.jsonl").read_text(encoding="utf-8").splitlines()] \
        if (scratch / "alerts.jsonl").exists() else []
    alerted = [by_doc[a["url"].rsplit("/", 1)[-1].removesuffix(".html")] for a in alerts]
    # an update (revision > 0: a follow-up, or a report told in the story's thread) names its report too
    alert_of_story = {a["story_id"]: (a, r) for a, r in zip(alerts, alerted, strict=True) if not a.get("revision")}
    updates = {r.doc_id for a, r in zip(alerts, alerted, strict=True) if a.get("revision")}
    matching = [r for r in reports if r.doc_id in stored and stored[r.doc_id].matches]
    lost = [r for r in matching if stored[r.doc_id].story_id not in alert_of_story]
    unread = [r for r in reports if r.doc_id not in stored]
    shifted = [r for r in reports if r.doc_id in stored and stored[r.doc_id].published != r.published]
    first_year = {}  # incident → the year of its first report
    for r in reports:
        for incident in r.incidents:
            first_year.setdefault(incident, r.published.year)
    matched = {i for r in matching for i in r.incidents}
    told = {i for r in alerted for i in r.incidents}
    hidden = sorted(matched - told, key=lambda i: min(r.published for r in matching if i in r.incidents))
    repeated, again, pairs = _repeats(alerted)

    years = sorted({r.published.year for r in reports})
    rows = [("reports", lambda y: sum(r.published.year == y for r in reports)),
            ("reports matching", lambda y: sum(r.published.year == y for r in matching)),
            ("incidents matched", lambda y: sum(first_year[i] == y for i in matched)),
            ("alerts", lambda y: sum(r.published.year == y for r in alerted)),
            ("hidden incidents", lambda y: sum(first_year[i] == y for i in hidden)),
            ("repeated alerts (< 48 h)", lambda y: sum(r.published.year == y for r in repeated)),
            ("incidents alerted again < 48 h", lambda y: sum(first_year[i] == y for i in again))]
    print("\n| figure | " + " | ".join(map(str, years)) + " | all |")
    print("| --- |" + " --- |" * (len(years) + 1))
    for name, count in rows:
        per_year = [count(y) for y in years]
        print(f"| {name} | " + " | ".join(f"{n:,}" for n in per_year) + f" | {sum(per_year):,} |")
    for name, count in rows[4:]:
        shares = [_share(count(y), sum(first_year[i] == y for i in matched)) for y in years]
        print(f"| {name}, share of incidents matched | " + " | ".join(shares)
              + f" | {_share(sum(count(y) for y in years), len(matched))} |")
    print(f"\nstories {stories:,}, alerts {len(alerts):,} ({len(updates)} of them updates, "
          f"{sum(r.doc_id in updates for r in repeated)} of the repeated; deliveries not sent: {len(unsent)}), "
          f"cycle failures {len(failures)}, wall time {seconds:.0f} s")
    print(f"targets: hidden {_share(len(hidden), len(matched))} (≤ 0.1 %), "
          f"repeated {_share(len(repeated), len(matched))} (≤ 15 %)")
    print(f"reports not stored {len(unread)}, read from the feed summary {sum(s.from_summary for s in stored.values())}, "
          f"publication time not the feed's {len(shifted)}; joined by: "
          + ", ".join(f"{k} {v}" for k, v in Counter(s.joined_by for s in stored.values()).most_common()))
    _explain_repeats(pairs, stored)
    _list_hidden(hidden, matching, stored, alert_of_story)
    for line in failures + unsent + [f"lost: {r.doc_id} {r.published:%Y-%m-%d} story {stored[r.doc_id].story_id}"
                                     for r in lost] + [f"not stored: {r.doc_id}" for r in unread]:
        print("  " + line[:300])
    return len(lost) + len(unread) + len(unsent)


def _repeats(alerted: list[Report]) -> tuple[list[Report], set[str], list[tuple[Report, Report]]]:
    """Alerts naming an incident already alerted less than WINDOW before; incidents alerted twice
    within it; (earlier alert, repeat) pairs."""
    last: dict[str, Report] = {}
    repeated, again, pairs = [], set(), []
    for r in sorted(alerted, key=lambda r: r.published):
        close = [i for i in r.incidents if i in last and r.published - last[i].published < WINDOW]
        if close:
            repeated.append(r)
            again.update(close)
            pairs.append((last[close[0]], r))
        for i in r.incidents:
            last[i] = r
    return repeated, again, pairs


def _explain_repeats(pairs: list[tuple[Report, Report]], stored: dict[str, Stored]) -> None:
    """Why repeats were not joined: hours apart, and the story stage's decision for the pair now."""
    from newswatch.stories.pair import decide

    if not pairs:
        return
    spans, decisions = Counter(), Counter()
    for first, repeat in pairs:
        hours = (repeat.published - first.published).total_seconds() / 3600
        spans[f"{int(hours // 12) * 12}–{int(hours // 12) * 12 + 12} h"] += 1
        decision = decide(stored[first.doc_id].document, stored[repeat.doc_id].document, hours,
                          WINDOW.total_seconds() / 3600)
        decisions[decision.relation if decision.relation != "unrelated" else
                  f"unrelated (score {'< 0.5' if decision.score < 0.5 else '≥ 0.5'})"] += 1
    print("repeated alerts, hours after the incident's earlier alert: "
          + ", ".join(f"{k} {v}" for k, v in sorted(spans.items(), key=lambda kv: int(kv[0].split("–")[0]))))
    print("  the story stage's decision for (earlier alert, repeat) as a pair: "
          + ", ".join(f"{k} {v}" for k, v in decisions.most_common()))


def _list_hidden(hidden, matching, stored, alert_of_story) -> None:
    """Each hidden incident, its reports and the alerted story that absorbed each (stdout only)."""
    if hidden:
        print(f"\nhidden incidents ({len(hidden)}): incident, report, how it joined → the alert that absorbed it")
    for incident in hidden:
        for r in (r for r in matching if incident in r.incidents):
            s = stored[r.doc_id]
            alert, first = alert_of_story.get(s.story_id, ({"title": "(no alert)"}, None))
            gap = f"{(r.published - first.published).total_seconds() / 3600:+.0f} h" if first else ""
            print(f"  {incident} {r.published:%Y-%m-%d %H:%M} {r.outlet}: {r.title[:70]!r} joined by "
                  f"{s.joined_by} ({(s.join_reason or '')[:80]}) → {alert['title'][:70]!r} "
                  f"[{', '.join(first.incidents) if first else ''}] {gap}")


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


if __name__ == "__main__":
    sys.exit(main())
