"""The `newswatch` command: parse arguments, load the config, call a flow or the store.

Exit codes (a contract): 0 success, 2 bad config or usage, 1 failure. The config is loaded and
checked before anything runs. Prefect is imported only inside the commands that run flows.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import typer
from rich.console import Console

from newswatch import config as configuration
from newswatch.config import Config, ConfigError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Monitor news sources, match watch topics, alert once per story.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
alerts_app = typer.Typer(no_args_is_help=True, help="The alert outbox.")
app.add_typer(db_app, name="db")
app.add_typer(alerts_app, name="alerts")
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
    _load()
    summary = _run_cycle(State.config_path)
    raise typer.Exit(1 if summary is None else 0)


def _run_cycle(config_path: Path) -> dict | None:
    from flows.runtime import prefect_defaults

    prefect_defaults()
    from flows.monitor import monitor

    state = monitor(str(config_path.resolve()), return_state=True)
    if not state.is_completed():
        err.print(f"[red]cycle failed[/red]: {state.message}")
        return None
    summary = state.result()
    out.print(" ".join(f"{k}={v}" for k, v in summary.items()))
    return summary


@app.command()
def serve(config: Path | None = ConfigOption) -> None:
    """Run the monitor flow on the configured schedule until stopped."""
    _use(config)
    loaded = _load()
    from flows.runtime import local_server, prefect_defaults

    prefect_defaults()
    from flows.serve import serve_monitor

    if os.environ.get("PREFECT_API_URL"):
        serve_monitor(State.config_path.resolve(), loaded.schedule)
        return
    # serve schedules nothing against an ephemeral server, so start a real one for the user
    with local_server() as api:
        os.environ["PREFECT_API_URL"] = api
        err.print(f"started a local Prefect server at {api.removesuffix('/api')}")
        serve_monitor(State.config_path.resolve(), loaded.schedule)


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


def main() -> None:
    try:
        app(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
