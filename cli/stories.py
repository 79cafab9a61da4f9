"""The commands about stories: `relate`, what the story stage decides for pairs of local files,
and `stories`, the stories in the store with their reports and why each joined. Both print JSON
lines that other checks read (a contract: README)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from cli.options import ConfigOption, State, load, use
from cli.output import err, out, when
from newswatch import config as configuration
from newswatch.config import ConfigError
from newswatch.config.units import format_duration, parse_duration

if TYPE_CHECKING:  # the store is imported inside the commands that use it
    from newswatch.store.stories import StoryReports

__all__ = ["relate", "stories_command"]


def relate(files: list[Path] = typer.Argument(..., help="HTML or text files, in pairs: A B [C D ...]."),
           hours: float = typer.Option(0.0, "--hours", help="How many hours apart the two reports are."),
           language: str | None = typer.Option(None, "--language", help="The reports' language, where they "
                                                                          "do not say it."),
           config: Path | None = ConfigOption) -> None:
    """Print, per pair, what the story stage decides for two reports that far apart, as one JSON line."""
    use(config)
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


def stories_command(since: timedelta = typer.Option("2d", parser=parse_duration, metavar="DURATION",
                                                    help="Stories with a report published or fetched this recently: "
                                                         "30m, 12h, 2d ..."),
                    watchlist: str | None = typer.Option(None, "--watchlist",
                                                         help="Only the stories this watchlist was alerted of."),
                    as_json: bool = typer.Option(False, "--json", help="One JSON object per story per line."),
                    config: Path | None = ConfigOption) -> None:
    """Stories updated lately, newest first: their reports and why each joined its story."""
    use(config)
    from newswatch.store import read_only, stories, upgrade
    from newswatch.store.tables import utcnow

    loaded = load()
    upgrade(loaded.database)
    with read_only(loaded.database) as current:
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
    out.print(f"[bold]{escape(story.title)}[/bold]  (story {story.id}, updated {when(story.updated)} UTC; "
              f"alerted: {escape(alerted) or 'none'})", soft_wrap=True)
    for report in story.reports:
        why = f"{report.joined_by}: {report.reason}" if report.joined_by else "(joined before reasons were recorded)"
        out.print(f"  {escape(report.source)}  {when(report.published) or 'no date'}  "
                  f"[bold]{escape(report.title)}[/bold]\n    {escape(report.url)}\n    {escape(why)}", soft_wrap=True)
    out.print()
