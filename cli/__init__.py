"""The `newswatch` command: parse arguments, load the config, call a flow or the store.

The CLI is the top of the house, the one layer that may import every other (`flows`, `alerts`,
`connectors`, `newswatch`), and none imports it. This module is its table of contents: every
command, in the order `--help` lists them, and the module that holds it.

Exit codes (a contract): 0 success, 2 bad config or usage, 1 failure. The config is loaded and
checked before anything runs. Prefect is imported only inside the commands that run flows.
"""

from __future__ import annotations

import sys

import typer

from cli import matching, outbox, run, sources, store, stories
from cli.options import choose_config

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Monitor news sources, match watch topics, alert once per story.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
alerts_app = typer.Typer(no_args_is_help=True, help="The alert outbox.")
errors_app = typer.Typer(help="Items whose work failed unexpectedly, and quarantined ones.", invoke_without_command=True)
sources_app = typer.Typer(help="Each source's health (no command); the sources in and out as OPML.",
                          invoke_without_command=True)
app.add_typer(db_app, name="db")
app.add_typer(alerts_app, name="alerts")
app.add_typer(errors_app, name="errors")
app.callback()(choose_config)

app.command()(run.check)
app.command()(run.run)
app.command()(run.serve)
app.command()(run.worker)
app.command()(matching.match)
app.command()(stories.relate)
app.command()(run.demo)
db_app.command("upgrade")(store.db_upgrade)
app.command()(matching.backtest)
app.add_typer(sources_app, name="sources")
sources_app.callback()(sources.health)
sources_app.command("import")(sources.import_opml)
sources_app.command("export")(sources.export_opml)
app.command()(store.stats)
app.command("stories")(stories.stories_command)
errors_app.callback()(store.errors_list)
errors_app.command("requeue")(store.errors_requeue)
alerts_app.command("list")(outbox.alerts_list)
alerts_app.command("retry")(outbox.alerts_retry)
alerts_app.command("test")(outbox.alerts_test)


def main() -> None:
    import atexit

    atexit.register(run.Teardown.skip)  # first registered, last run
    try:
        app(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)
