"""The commands that run the monitor flow: `check` (what a run would run on), `run --once`,
`serve`, `worker` and `demo` (one cycle on seeds/, replayed by `cli/replay.py`).

Prefect and the flows are imported inside the commands: `check` and the store commands never pay
for them.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path

import typer

from cli.options import ConfigOption, State, load, use
from cli.output import err, out
from newswatch import config as configuration
from newswatch.config import Config

__all__ = ["Teardown", "check", "demo", "run", "serve", "worker"]

DEMO_PORT = 8377  # fixed, so a second demo run sees the same URLs and alerts nothing new


def check(resolve: bool = typer.Option(False, "--resolve", help="Fetch each source's URL and say what it is."),
          config: Path | None = ConfigOption) -> None:
    """Validate the configuration and say what it defines (with --resolve, what each source's URL answers)."""
    use(config)
    loaded = load()
    for warning in configuration.warnings(loaded):
        err.print(f"[yellow]warning[/yellow] {warning}", soft_wrap=True)
    out.print(f"ok: {len(loaded.sources)} sources, {len(loaded.watchlists)} watchlists, "
              f"{len(loaded.channels)} channels")
    if resolve and not _resolve(loaded):
        raise typer.Exit(1)


def _resolve(config: Config) -> bool:
    """Fetch every enabled source's configured URL, as a first poll would, and print what it found, a
    line a source; whether every one was read."""
    from connectors import fetch_feeds_sync
    from newswatch.models import Failed, SourceRequest

    enabled = [s for s in config.sources if s.enabled]
    results = fetch_feeds_sync(config.fetch, [SourceRequest(s.name, s.url, kind=s.type) for s in enabled])
    for source, result in zip(enabled, results, strict=True):
        if isinstance(result, Failed):
            out.print(f"{source.name}: error: {result.message}", soft_wrap=True)
            continue
        count = f"{len(result.entries)} {'articles' if result.read_as == 'sitemap' else 'entries'}"
        found = f"feed discovered at {result.feed_url}" if result.feed_url else f"{result.read_as} as is"
        out.print(f"{source.name}: {found} ({count})", soft_wrap=True)
        for note in result.notes:
            out.print(f"{source.name}:   {note}", soft_wrap=True)
    return not any(isinstance(r, Failed) for r in results)


def run(once: bool = typer.Option(False, "--once", help="Run one cycle and exit."),
        config: Path | None = ConfigOption) -> None:
    """Run one monitoring cycle (ephemeral Prefect, or the server at PREFECT_API_URL)."""
    use(config)
    if not once:
        err.print("run needs --once; use `newswatch serve` to run on the schedule")
        raise typer.Exit(2)
    if _expects_pages(load()):
        from flows.processes import warm

        warm()  # the workers' imports then run beside Prefect's start-up
    summary = _run_cycle(State.config_path)
    Teardown.code = 1 if summary is None else 0
    raise typer.Exit(Teardown.code)


def _expects_pages(config: Config) -> bool:
    """Whether a cycle is sure to read enough pages to start worker processes before it knows
    a feed changed: it has sources and it is the first cycle.

    Any later cycle may find every feed unchanged (all 304), and then the fork server's imports
    (~1.2 s of CPU) are paid for nothing, beside its own start-up and at its exit: a cycle after a
    busy one, unchanged, took 0.9-1.8 s longer at 200 feeds (issue 18, point 7). Later cycles
    start it at their first changed feed (flows/cycle.py, `CycleWork.for_feed`)."""
    if not config.sources:
        return False
    from sqlalchemy.exc import SQLAlchemyError

    from newswatch.store import cycles, read_only

    try:
        with read_only(config.database) as current:
            last = cycles.recent(current, 1)
    except (SQLAlchemyError, OSError):  # a new store (the first cycle), or one the cycle will report on
        return True
    return not last


class Teardown:
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
    from flows.runtime import foreground_run, prefect_defaults, quiet_shutdown

    # on a terminal: live progress bars instead of Prefect's per-task log lines; in a service or
    # CI: no bars, only the summary line
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    prefect_defaults()
    from flows.monitor import monitor

    with _live_progress(), foreground_run():
        state = monitor(str(config_path.resolve()), return_state=True)
    quiet_shutdown()
    if not state.is_completed():
        err.print(f"[red]cycle failed[/red]: {state.message}")
        return None
    summary = state.result()
    out.print(" ".join(f"{k}={v}" for k, v in summary.items()))
    return summary


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


def serve(config: Path | None = ConfigOption) -> None:
    """Run the monitor flow on the configured schedule until stopped (SIGTERM or Ctrl-C)."""
    use(config)
    loaded = load()
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


def demo(port: int = typer.Option(DEMO_PORT, help="Port of the local server replaying seeds/."),
         seeds: Path = typer.Option(Path("seeds"), help="The seeds folder to replay."),
         reset: bool = typer.Option(False, help="Forget earlier demo runs first.")) -> None:
    """Run one cycle on seeds/, replayed from a local HTTP server: offline and real."""
    import shutil

    from cli.replay import ReplayServer

    if reset:
        shutil.rmtree("data/demo", ignore_errors=True)
    with ReplayServer(seeds, port=port) as server:
        os.environ["NEWSWATCH_REPLAY_URL"] = server.base_url
        config_path = seeds / "demo.yaml"
        load(config_path)
        err.print(f"replaying {seeds}/ at {server.base_url}")
        summary = _run_cycle(config_path)
    if summary is None:
        raise typer.Exit(1)
    if summary["sent"] == 0:
        out.print("no new alerts (run `newswatch demo --reset` to start over)")
