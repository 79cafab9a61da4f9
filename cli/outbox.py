"""The `alerts` commands over the outbox: `list` the deliveries not sent, `retry` them now, and
`test` one channel's set-up with a sample alert. `retry` exits 1 when a delivery still fails."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.options import ConfigOption, load, use
from cli.output import err, out, table, when

__all__ = ["alerts_list", "alerts_retry", "alerts_test"]


def alerts_list(status: list[str] = typer.Option(["pending", "failed", "dead"], help="Statuses to show."),
                config: Path | None = ConfigOption) -> None:
    """List deliveries that are pending, failed or dead (or --status sent)."""
    use(config)
    from newswatch.store import deliveries, session, upgrade

    loaded = load()
    upgrade(loaded.database)
    shown = table("id", "channel", "status", "attempts", "watchlist", "story", "next attempt", "last error")
    with session(loaded.database) as current:
        rows = deliveries.listing(current, status)
        for delivery, item in rows:
            shown.add_row(str(delivery.id), delivery.channel, delivery.status, str(delivery.attempts),
                          *_listed(item), when(delivery.next_attempt_at), delivery.last_error or "")
    out.print(shown)
    out.print(f"{len(rows)} deliveries")


def _story(story_id: int, revision: int) -> str:
    return f"{story_id} (update {revision})" if revision else str(story_id)


def _listed(item) -> tuple[str, str]:
    """(watchlist, story) of a delivery's match; (topic, "notice: title") of a notice's."""
    from newswatch.store.tables import Notice

    if isinstance(item, Notice):
        return item.key.split(":", 1)[0], f"notice: {item.title}"
    return item.watchlist, _story(item.story_id, item.revision)


def alerts_retry(dead: bool = typer.Option(False, "--dead", help="Also retry dead deliveries."),
                 digests: bool = typer.Option(False, "--digests", help="Also send digests not yet due."),
                 config: Path | None = ConfigOption) -> None:
    """Send every pending or failed delivery now, without waiting for its backoff (a digest keeps
    its time unless --digests)."""
    use(config)
    import alerts
    from newswatch import outbox
    from newswatch.store import deliveries, session, upgrade
    from newswatch.store.tables import utcnow

    loaded = load()
    upgrade(loaded.database)
    with session(loaded.database) as current:
        released = deliveries.release_for_retry(current, utcnow(), include_dead=dead, include_digests=digests)
    outcomes = outbox.drain(loaded.database, loaded.channels, utcnow(), alerts, loaded.templates)
    for outcome in outcomes:
        line = f"{outcome.channel}: sent={outcome.sent} failed={outcome.failed} dead={outcome.dead}"
        out.print(line + (f" ({outcome.error})" if outcome.error else ""))
    failed = sum(o.failed + o.dead for o in outcomes)
    out.print(f"retried {released} deliveries")
    raise typer.Exit(1 if failed else 0)


def alerts_test(channel: str = typer.Argument(..., help="A channel name from the config."),
                config: Path | None = ConfigOption) -> None:
    """Send a test message to one channel, to check its set-up."""
    use(config)
    from alerts import ChannelError, send, set_template_dir
    from newswatch.models import Alert
    from newswatch.store.tables import utcnow

    loaded = load()
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
