"""The `newswatch` command: parse arguments, load the config, call a flow or the store.

Exit codes (a contract): 0 success, 2 bad config or usage, 1 failure. The config is loaded and
checked before anything runs. Prefect is imported only inside the commands that run flows.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from newswatch import config as configuration
from newswatch.config import Config, ConfigError
from newswatch.config.units import format_duration, parse_duration

if TYPE_CHECKING:  # the store is imported inside the commands that use it
    from newswatch.store.stories import StoryReports

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Monitor news sources, match watch topics, alert once per story.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
alerts_app = typer.Typer(no_args_is_help=True, help="The alert outbox.")
errors_app = typer.Typer(help="Items whose work failed unexpectedly, and quarantined ones.", invoke_without_command=True)
app.add_typer(db_app, name="db")
app.add_typer(alerts_app, name="alerts")
app.add_typer(errors_app, name="errors")
err = Console(stderr=True, highlight=False)
out = Console(highlight=False)

DEMO_PORT = 8377  # fixed, so a second demo run sees the same URLs and alerts nothing new


class State:
    config_path: Path = Path("config")


# accepted before the command (`newswatch --config x check`) and after it (`newswatch check --config x`)
ConfigOption = typer.Option(None, "--config", "-c", help="A YAML file or a folder of *.yaml files.")


def _use(config: Path | None) -> None:
    if config is not None:
        State.config_path = config


def _load(path: Path | None = None) -> Config:
    location = path or State.config_path
    try:
        return configuration.load(location)
    except ConfigError as error:
        for problem in error.problems:
            err.print(f"[red]error[/red] {problem}", markup=True, soft_wrap=True)
        raise typer.Exit(2) from None


@app.callback()
def main_options(config: Path = typer.Option(Path("config"), "--config", "-c",
                                             help="A YAML file or a folder of *.yaml files.")) -> None:
    State.config_path = config


@app.command()
def check(config: Path | None = ConfigOption) -> None:
    """Validate the configuration and say what it defines."""
    _use(config)
    loaded = _load()
    for warning in configuration.warnings(loaded):
        err.print(f"[yellow]warning[/yellow] {warning}", soft_wrap=True)
    out.print(f"ok: {len(loaded.sources)} sources, {len(loaded.watchlists)} watchlists, "
              f"{len(loaded.channels)} channels")


@app.command()
def run(once: bool = typer.Option(False, "--once", help="Run one cycle and exit."),
        config: Path | None = ConfigOption) -> None:
    """Run one monitoring cycle (ephemeral Prefect, or the server at PREFECT_API_URL)."""
    _use(config)
    if not once:
        err.print("run needs --once; use `newswatch serve` to run on the schedule")
        raise typer.Exit(2)
    if _expects_pages(_load()):
        from flows.processes import warm

        warm()  # the workers' imports then run beside Prefect's start-up
    summary = _run_cycle(State.config_path)
    _Teardown.code = 1 if summary is None else 0
    raise typer.Exit(_Teardown.code)


def _expects_pages(config: Config) -> bool:
    """Whether a cycle is sure to read enough pages to start worker processes before it knows
    a feed changed: it has sources and it is the first cycle.

    Any later cycle may find every feed unchanged (all 304), and then the fork server's imports
    (~1.2 s of CPU) are paid for nothing, beside its own start-up and at its exit: a cycle after a
    busy one, unchanged, took 0.9-1.8 s longer at 200 feeds (issue 18, point 7). Later cycles
    start it at their first changed feed (flows/monitor.py, `_CyclePool.for_feed`)."""
    if not config.sources:
        return False
    from sqlalchemy.exc import SQLAlchemyError

    from newswatch.store import cycles, reading

    try:
        with reading(config.database) as current:
            last = cycles.recent(current, 1)
    except (SQLAlchemyError, OSError):  # a new store (the first cycle), or one the cycle will report on
        return True
    return not last


class _Teardown:
    """`run --once` leaves without tearing the interpreter down once its cycle has ended.

    Freeing the ~170,000 objects of Prefect, SQLAlchemy and the rest cost 0.3-0.9 s at every
    exit, a fifth of a run with nothing to do (bench/README.md, "## Fetching at scale", issue 18).
    `skip` is the last exit handler (`main` registers it before any other is: Prefect and the
    store are imported inside the commands), so everything else still runs first: Prefect's log and event flushes (at thread shutdown), its
    exit handlers, logging's, multiprocessing's; then the output is flushed and the process ends
    with the cycle's exit code. Only from `main`: a `run` called in-process (tests) never arms it.
    """

    code: int | None = None

    @classmethod
    def skip(cls) -> None:
        if cls.code is None:  # not a finished `run --once`: the ordinary exit
            return
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # closed or gone: nothing left to write to
                pass
        os._exit(cls.code)


def _run_cycle(config_path: Path) -> dict | None:
    from flows.runtime import foreground_run, prefect_defaults

    # on a terminal: live progress bars instead of Prefect's per-task log lines; in a service or
    # CI: no bars, only the summary line
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    prefect_defaults()
    from flows.monitor import monitor

    with _live_progress(), foreground_run():
        state = monitor(str(config_path.resolve()), return_state=True)
    if not state.is_completed():
        err.print(f"[red]cycle failed[/red]: {state.message}")
        return None
    summary = state.result()
    out.print(" ".join(f"{k}={v}" for k, v in summary.items()))
    return summary


@app.command()
def serve(config: Path | None = ConfigOption) -> None:
    """Run the monitor flow on the configured schedule until stopped (SIGTERM or Ctrl-C)."""
    _use(config)
    loaded = _load()
    from contextlib import ExitStack

    from flows.runtime import local_server, prefect_defaults, unwind_on_sigterm

    prefect_defaults()
    unwind_on_sigterm()  # until the runner takes SIGTERM over: the local server is still stopped
    with ExitStack() as stack:
        if not os.environ.get("PREFECT_API_URL"):
            # serve schedules nothing on an ephemeral server, so start a real one, and before
            # importing prefect, which reads PREFECT_API_URL once
            api = stack.enter_context(local_server())
            os.environ["PREFECT_API_URL"] = api
            err.print(f"started a local Prefect server at {api.removesuffix('/api')}")
        from flows.serve import serve_monitor

        serve_monitor(State.config_path.resolve(), loaded.schedule)


@app.command()
def worker(pool: str = typer.Option("newswatch", help="The work pool of the deployments (prefect.yaml)."),
           limit: int = typer.Option(1, min=1, help="Flow runs this worker runs at once."),
           name: str | None = typer.Option(None, help="The worker's name in the Prefect UI."),
           healthcheck: bool = typer.Option(False, "--healthcheck",
                                            help="Answer GET /health on PREFECT_WORKER_WEBSERVER_PORT.")) -> None:
    """Run a Prefect worker for the scale-out deployments; needs PREFECT_API_URL (docs/deploy.md)."""
    if not os.environ.get("PREFECT_API_URL"):
        err.print("worker: set PREFECT_API_URL to the Prefect server that holds the deployments")
        raise typer.Exit(2)
    from flows.runtime import prefect_defaults

    prefect_defaults()  # inherited by every flow run the worker starts
    command = [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool, "--type", "process",
               "--limit", str(limit), *(["--name", name] if name else []),
               *(["--with-healthcheck"] if healthcheck else [])]
    sys.stdout.flush()
    os.execv(sys.executable, command)  # the same process: SIGTERM reaches the worker itself


@app.command()
def match(files: list[Path] = typer.Argument(..., help="HTML or text files."),
          config: Path | None = ConfigOption) -> None:
    """Print, per file, the watchlists it matches, as one JSON line."""
    _use(config)
    from newswatch.documents import read_document
    from newswatch.triage import build_index

    index = build_index(_load())
    failed = False
    for file in files:
        try:
            document = read_document(file)
        except OSError as error:
            err.print(f"match: cannot read {file}: {error.strerror}")
            failed = True
            continue
        matches = [{"watchlist": name, "terms": hit.terms, "snippet": hit.snippet,
                    "highlights": hit.highlights, "hits": [h.__dict__ for h in hit.hits]}
                   for name, hit in index.match(document)]
        print(json.dumps({"file": str(file), "matches": matches}, ensure_ascii=False), flush=True)
    raise typer.Exit(1 if failed else 0)


@app.command()
def relate(files: list[Path] = typer.Argument(..., help="HTML or text files, in pairs: A B [C D ...]."),
           hours: float = typer.Option(0.0, "--hours", help="How many hours apart the two reports are."),
           language: str | None = typer.Option(None, "--language", help="The reports' language, where they "
                                                                          "do not say it."),
           config: Path | None = ConfigOption) -> None:
    """Print, per pair, what the story stage decides for two reports that far apart, as one JSON line."""
    _use(config)
    from dataclasses import replace

    from newswatch.documents import read_document
    from newswatch.stories.pair import decide

    if len(files) % 2:
        err.print("relate: give the files in pairs (A B [C D ...])")
        raise typer.Exit(2)
    window = _story_window() / 3600
    failed = False
    for a, b in zip(files[::2], files[1::2], strict=True):
        try:
            first, second = (read_document(path) for path in (a, b))
        except OSError as error:
            err.print(f"relate: cannot read {error.filename}: {error.strerror}")
            failed = True
            continue
        if language:
            first, second = (replace(d, language=d.language or language) for d in (first, second))
        found = decide(first, second, hours, window)
        print(json.dumps({"a": str(a), "b": str(b), "relation": found.relation, "score": found.score,
                          "evidence": found.evidence}, ensure_ascii=False), flush=True)
    raise typer.Exit(1 if failed else 0)


def _story_window() -> float:
    """The configuration's story window in seconds; the default one where it does not load (relate
    needs no sources or secrets), said on stderr."""
    from newswatch.config.schema import StorySettings

    try:
        return configuration.load(State.config_path).stories.window.total_seconds()
    except ConfigError as error:
        default = StorySettings().window
        err.print(f"relate: {State.config_path} does not load ({len(error.problems)} problems): "
                  f"the default story window, {default.total_seconds() / 3600:.0f} h")
        return default.total_seconds()


@app.command()
def demo(port: int = typer.Option(DEMO_PORT, help="Port of the local server replaying seeds/."),
         seeds: Path = typer.Option(Path("seeds"), help="The seeds folder to replay."),
         reset: bool = typer.Option(False, help="Forget earlier demo runs first.")) -> None:
    """Run one cycle on seeds/, replayed from a local HTTP server: offline and real."""
    import shutil

    from newswatch.replay import ReplayServer

    if reset:
        shutil.rmtree("data/demo", ignore_errors=True)
    with ReplayServer(seeds, port=port) as server:
        os.environ["NEWSWATCH_REPLAY_URL"] = server.base_url
        config_path = seeds / "demo.yaml"
        _load(config_path)
        err.print(f"replaying {seeds}/ at {server.base_url}")
        summary = _run_cycle(config_path)
    if summary is None:
        raise typer.Exit(1)
    if summary["sent"] == 0:
        out.print("no new alerts (run `newswatch demo --reset` to start over)")


@db_app.command("upgrade")
def db_upgrade(config: Path | None = ConfigOption) -> None:
    """Apply the database migrations."""
    _use(config)
    from newswatch.store import upgrade

    loaded = _load()
    upgrade(loaded.database)
    out.print("database is up to date")


@app.command()
def backtest(watchlist: str = typer.Argument(None, help="A watchlist name (or use --query)."),
             query: str = typer.Option(None, "--query", "-q", help="A query to try instead."),
             since: str = typer.Option("7d", help="How far back: 30m, 12h, 7d ..."),
             config: Path | None = ConfigOption) -> None:
    """Run a watchlist or a query over stored articles and show what it would have matched."""
    _use(config)
    from newswatch.config.units import parse_duration
    from newswatch.matching import QuerySyntaxError, WatchIndex, WatchSpec
    from newswatch.models import Document
    from newswatch.store import articles, session, upgrade
    from newswatch.store.tables import utcnow

    loaded = _load()
    if (watchlist is None) == (query is None):
        err.print("backtest takes a watchlist name or --query, not both")
        raise typer.Exit(2)
    if watchlist is not None:
        if watchlist not in {w.name for w in loaded.watchlists}:
            err.print(f"backtest: no watchlist named {watchlist!r}")
            raise typer.Exit(2)
        chosen = loaded.watchlist(watchlist)
        spec = WatchSpec(chosen.name, chosen.query, chosen.exclude, chosen.languages, chosen.sources)
    else:
        spec = WatchSpec("query", query)
    try:
        index = WatchIndex([spec], loaded.aliases)
        window = parse_duration(since)
    except (QuerySyntaxError, ValueError) as error:
        err.print(f"backtest: {error.explain() if isinstance(error, QuerySyntaxError) else error}")
        raise typer.Exit(2) from None
    upgrade(loaded.database)
    with session(loaded.database) as current:
        stored = articles.since(current, utcnow() - window)
    found = 0
    for article, source in stored:
        document = Document(article.title, article.text or "", article.language, source)
        for _, hit in index.match(document):
            found += 1
            out.print(f"[bold]{article.title}[/bold]  ({source}, {article.published_at or 'no date'})")
            out.print(f"  {article.url}\n  matched: {', '.join(hit.terms)}\n  {hit.snippet}\n")
    out.print(f"{found} of {len(stored)} stored articles since {since} match")


@app.command("sources")
def sources_command(config: Path | None = ConfigOption) -> None:
    """Show each source's health: last success, failures, last error, next poll."""
    _use(config)
    from newswatch.store import session, sources, upgrade

    loaded = _load()
    upgrade(loaded.database)
    table = _table("source", "last success (UTC)", "failures", "unexpected", "last error", "next poll (UTC)")
    with session(loaded.database) as current:
        for row in sources.states(current):
            state = "gone (410)" if row.gone else (_when(row.next_check_at) or "next cycle")
            table.add_row(row.name, _when(row.last_success_at) or "never", str(row.consecutive_failures),
                          str(row.unexpected_errors), row.last_error or "", state)
    out.print(table)


@app.command()
def stats(limit: int = typer.Option(20, help="How many recent cycles."),
          config: Path | None = ConfigOption) -> None:
    """Per-cycle figures from the store, newest first."""
    _use(config)
    from newswatch.store import cycles, session, upgrade

    loaded = _load()
    upgrade(loaded.database)
    table = _table("started", "seconds", "polled", "not modified", "failed", "new", "matches", "sent",
                  "delivery failures", "unexpected", "quarantined")
    with session(loaded.database) as current:
        for row in cycles.recent(current, limit):
            seconds = (row.finished_at - row.started_at).total_seconds() if row.finished_at else 0
            table.add_row(_when(row.started_at), f"{seconds:.1f}", *(str(v) for v in (
                row.sources_polled, row.not_modified, row.failed, row.new_articles, row.matches,
                row.sent, row.delivery_failures, row.unexpected, row.quarantined)))
    out.print(table)


@app.command("stories")
def stories_command(since: timedelta = typer.Option("2d", parser=parse_duration, metavar="DURATION",
                                                    help="Stories with a report published or fetched this recently: "
                                                         "30m, 12h, 2d ..."),
                    watchlist: str | None = typer.Option(None, "--watchlist",
                                                         help="Only the stories this watchlist was alerted of."),
                    as_json: bool = typer.Option(False, "--json", help="One JSON object per story per line."),
                    config: Path | None = ConfigOption) -> None:
    """Stories updated lately, newest first: their reports and why each joined its story."""
    _use(config)
    from newswatch.store import reading, stories, upgrade
    from newswatch.store.tables import utcnow

    loaded = _load()
    upgrade(loaded.database)
    with reading(loaded.database) as current:
        # a watchlist no longer configured still has its alerts in the store
        known = {w.name for w in loaded.watchlists} | stories.alerted_watchlists(current)
        if watchlist is not None and watchlist not in known:
            err.print(f"stories: no watchlist named {watchlist!r} (known: {', '.join(sorted(known)) or 'none'})")
            raise typer.Exit(2)
        found = stories.updated_since(current, utcnow() - since, watchlist)
    if not found:
        # with --json, stdout stays JSON lines only
        (err if as_json else out).print(f"no stories since {format_duration(since)}"
                                        + (f" alerted to {watchlist}" if watchlist else ""))
        return
    for story in found:
        if as_json:
            print(json.dumps(_story_json(story), ensure_ascii=False), flush=True)
        else:
            _print_story(story)
    if not as_json:
        out.print(f"{len(found)} {'story' if len(found) == 1 else 'stories'} since {format_duration(since)}")


def _story_json(story: StoryReports) -> dict:
    """A story as `newswatch stories --json` prints it (a contract: README)."""
    return {"story": story.id, "title": story.title, "created": story.created.isoformat(),
            "updated": story.updated.isoformat(),
            "watchlists": [{"watchlist": a.watchlist, "article": a.article_id} for a in story.alerts],
            "reports": [{"article": r.article_id, "source": r.source, "title": r.title, "url": r.url,
                         "published": r.published.isoformat() if r.published else None,
                         "joined_by": r.joined_by, "why": r.reason} for r in story.reports]}


def _print_story(story: StoryReports) -> None:
    """The story's title and id, then each report indented, its reason on a line of its own."""
    from rich.markup import escape

    alerted = ", ".join(f"{a.watchlist} by article {a.article_id}" + (f" (update {a.revision})" if a.revision else "")
                        for a in story.alerts)
    out.print(f"[bold]{escape(story.title)}[/bold]  (story {story.id}, updated {_when(story.updated)} UTC; "
              f"alerted: {escape(alerted) or 'none'})", soft_wrap=True)
    for report in story.reports:
        why = f"{report.joined_by}: {report.reason}" if report.joined_by else "(joined before reasons were recorded)"
        out.print(f"  {escape(report.source)}  {_when(report.published) or 'no date'}  "
                  f"[bold]{escape(report.title)}[/bold]\n    {escape(report.url)}\n    {escape(why)}", soft_wrap=True)
    out.print()


@errors_app.callback()
def errors_list(context: typer.Context, config: Path | None = ConfigOption) -> None:
    """Articles whose work failed unexpectedly: quarantined ones first, then those failing now."""
    if context.invoked_subcommand is not None:
        return
    _use(config)
    from newswatch.store import articles, session, upgrade

    loaded = _load()
    upgrade(loaded.database)
    table = _table("article", "source", "stage", "failures", "last failure", "failed at (UTC)", "url")
    with session(loaded.database) as current:
        rows = articles.failing(current)
        for article, source in rows:
            table.add_row(str(article.id), source, article.stage, str(article.failures), article.last_failure or "",
                          _when(article.failed_at), article.url)
    out.print(table)
    quarantined = sum(article.stage == "quarantined" for article, _ in rows)
    out.print(f"{quarantined} quarantined, {len(rows) - quarantined} failing; "
              "`newswatch errors requeue` tries the quarantined ones again")


@errors_app.command("requeue")
def errors_requeue(ids: list[int] = typer.Argument(None, help="Article ids (default: every quarantined article)."),
                   config: Path | None = ConfigOption) -> None:
    """Give quarantined articles another chance on the next cycle."""
    _use(config)
    from newswatch.store import articles, session, upgrade

    loaded = _load()
    upgrade(loaded.database)
    with session(loaded.database) as current:
        count = articles.requeue(current, ids or None)
    out.print(f"{count} articles requeued")


@alerts_app.command("list")
def alerts_list(status: list[str] = typer.Option(["pending", "failed", "dead"], help="Statuses to show."),
                config: Path | None = ConfigOption) -> None:
    """List deliveries that are pending, failed or dead (or --status sent)."""
    _use(config)
    from newswatch.store import deliveries, session, upgrade

    loaded = _load()
    upgrade(loaded.database)
    table = _table("id", "channel", "status", "attempts", "watchlist", "story", "next attempt", "last error")
    with session(loaded.database) as current:
        rows = deliveries.listing(current, status)
        for delivery, item in rows:
            table.add_row(str(delivery.id), delivery.channel, delivery.status, str(delivery.attempts),
                          *_listed(item), _when(delivery.next_attempt_at), delivery.last_error or "")
    out.print(table)
    out.print(f"{len(rows)} deliveries")


def _story(story_id: int, revision: int) -> str:
    return f"{story_id} (update {revision})" if revision else str(story_id)


def _listed(item) -> tuple[str, str]:
    """(watchlist, story) of a delivery's match; (topic, "notice: title") of a notice's."""
    from newswatch.store.tables import Notice

    if isinstance(item, Notice):
        return item.key.split(":", 1)[0], f"notice: {item.title}"
    return item.watchlist, _story(item.story_id, item.revision)


@alerts_app.command("retry")
def alerts_retry(dead: bool = typer.Option(False, "--dead", help="Also retry dead deliveries."),
                 digests: bool = typer.Option(False, "--digests", help="Also send digests not yet due."),
                 config: Path | None = ConfigOption) -> None:
    """Send every pending or failed delivery now, without waiting for its backoff (a digest keeps
    its time unless --digests)."""
    _use(config)
    from alerts.deliver import deliver
    from newswatch.store import deliveries, session, upgrade
    from newswatch.store.tables import utcnow

    loaded = _load()
    upgrade(loaded.database)
    with session(loaded.database) as current:
        released = deliveries.release_for_retry(current, utcnow(), include_dead=dead, include_digests=digests)
    outcomes = deliver(loaded.database, loaded.channels, utcnow(), loaded.templates)
    for outcome in outcomes:
        line = f"{outcome.channel}: sent={outcome.sent} failed={outcome.failed} dead={outcome.dead}"
        out.print(line + (f" ({outcome.error})" if outcome.error else ""))
    failed = sum(o.failed + o.dead for o in outcomes)
    out.print(f"retried {released} deliveries")
    raise typer.Exit(1 if failed else 0)


@alerts_app.command("test")
def alerts_test(channel: str = typer.Argument(..., help="A channel name from the config."),
                config: Path | None = ConfigOption) -> None:
    """Send a test message to one channel, to check its set-up."""
    _use(config)
    from alerts import ChannelError, send, set_template_dir
    from newswatch.models import Alert
    from newswatch.store.tables import utcnow

    loaded = _load()
    if channel not in loaded.channels:
        err.print(f"alerts test: no channel named {channel!r} (known: {', '.join(sorted(loaded.channels))})")
        raise typer.Exit(2)
    sample = Alert(watchlist="newswatch-test", story_id=0, title="newswatch test alert: this channel works",
                   url="https://github.com/newswatch/newswatch", source="newswatch", published=utcnow(),
                   terms=["test"], snippet="A test message sent by `newswatch alerts test`.",
                   highlights=[(2, 6)])
    set_template_dir(loaded.templates)
    try:
        send(channel, loaded.channels[channel], [sample])
    except ChannelError as error:
        err.print(f"[red]failed[/red]: {error} ({error.kind})")
        raise typer.Exit(1) from None
    out.print(f"sent a test alert to {channel}")


@contextmanager
def _live_progress():
    """Bars for feeds polled, articles extracted and matches, with failures counted, on a terminal."""
    if not out.is_terminal:
        yield
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from flows import progress

    columns = [TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=err, transient=False) as bars:
        tasks = {stage: bars.add_task(stage, total=None) for stage in ("feeds", "failed", "articles", "matches")}

        def report(stage: str, done: int, total: int | None) -> None:
            bars.update(tasks[stage], advance=done, **({"total": total} if total is not None else {}))

        progress.set_reporter(report)
        try:
            yield
        finally:
            progress.set_reporter(None)


def _table(*headers: str):
    """A table that folds long cells rather than cutting them: its output is for reading."""
    from rich.table import Table

    table = Table()
    for header in headers:
        table.add_column(header, overflow="fold")
    return table


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def main() -> None:
    import atexit

    atexit.register(_Teardown.skip)  # first registered, last run
    try:
        app(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
