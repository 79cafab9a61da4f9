"""The commands that keep and show the store: `db upgrade`, `sources` (each source's health),
`stats` (per-cycle figures), `errors` (articles whose work failed unexpectedly) and
`errors requeue`. Each applies the migrations first, so it works on a new or an older store."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.options import ConfigOption, load, use
from cli.output import out, table, when

__all__ = ["db_upgrade", "errors_list", "errors_requeue", "sources_command", "stats"]


def db_upgrade(config: Path | None = ConfigOption) -> None:
    """Apply the database migrations."""
    use(config)
    from newswatch.store import upgrade

    loaded = load()
    upgrade(loaded.database)
    out.print("database is up to date")


def sources_command(config: Path | None = ConfigOption) -> None:
    """Show each source's health: last success, failures, last error, next poll, the feed its page advertises."""
    use(config)
    from newswatch.store import session, sources, upgrade

    loaded = load()
    upgrade(loaded.database)
    shown = table("source", "last success (UTC)", "failures", "unexpected", "last error", "next poll (UTC)",
                  "feed discovered")
    with session(loaded.database) as current:
        for row in sources.states(current):
            state = "gone (410)" if row.gone else (when(row.next_check_at) or "next cycle")
            shown.add_row(row.name, when(row.last_success_at) or "never", str(row.consecutive_failures),
                          str(row.unexpected_errors), row.last_error or "", state, row.feed_url or "")
    out.print(shown)


def stats(limit: int = typer.Option(20, help="How many recent cycles."),
          config: Path | None = ConfigOption) -> None:
    """Per-cycle figures from the store, newest first."""
    use(config)
    from newswatch.store import cycles, session, upgrade

    loaded = load()
    upgrade(loaded.database)
    shown = table("started", "seconds", "polled", "not modified", "failed", "new", "matches", "sent",
                  "delivery failures", "unexpected", "quarantined")
    with session(loaded.database) as current:
        for row in cycles.recent(current, limit):
            seconds = (row.finished_at - row.started_at).total_seconds() if row.finished_at else 0
            shown.add_row(when(row.started_at), f"{seconds:.1f}", *(str(v) for v in (
                row.sources_polled, row.not_modified, row.failed, row.new_articles, row.matches,
                row.sent, row.delivery_failures, row.unexpected, row.quarantined)))
    out.print(shown)


def errors_list(context: typer.Context, config: Path | None = ConfigOption) -> None:
    """Articles whose work failed unexpectedly: quarantined ones first, then those failing now."""
    if context.invoked_subcommand is not None:
        return
    use(config)
    from newswatch.store import articles, session, upgrade

    loaded = load()
    upgrade(loaded.database)
    shown = table("article", "source", "stage", "failures", "last failure", "failed at (UTC)", "url")
    with session(loaded.database) as current:
        rows = articles.failing(current)
        for article, source in rows:
            shown.add_row(str(article.id), source, article.stage, str(article.failures), article.last_failure or "",
                          when(article.failed_at), article.url)
    out.print(shown)
    quarantined = sum(article.stage == "quarantined" for article, _ in rows)
    out.print(f"{quarantined} quarantined, {len(rows) - quarantined} failing; "
              "`newswatch errors requeue` tries the quarantined ones again")


def errors_requeue(ids: list[int] = typer.Argument(None, help="Article ids (default: every quarantined article)."),
                   config: Path | None = ConfigOption) -> None:
    """Give quarantined articles another chance on the next cycle."""
    use(config)
    from newswatch.store import articles, session, upgrade

    loaded = load()
    upgrade(loaded.database)
    with session(loaded.database) as current:
        count = articles.requeue(current, ids or None)
    out.print(f"{count} articles requeued")
