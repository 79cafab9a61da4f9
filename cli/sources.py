"""`newswatch sources`: the sources' health (cli/store.py), and their subscription list in and out.

`sources import FILE.opml [--into FILE] [--dry-run]` adds a feed reader's OPML list to the sources
YAML: one line per feed added or skipped (a duplicate by URL, a malformed outline), then a
summary. `--into` defaults to `sources.yaml` in the config folder, or to the config file itself
when `--config` names a file. The file's existing text is kept byte for byte, the new entries
appended to its `sources:` list (newswatch/config/importing.py), and written whole or not at all;
when it is part of the configuration, the configuration must still load, or the file goes back
as it was (exit 1). An OPML that cannot be read, a configuration that does not load, a file that
cannot take entries: exit 2, nothing written.

`sources export [--output FILE]` prints the configured sources as OPML 2.0 (connectors/opml.py),
their categories as folders, disabled ones commented out (`isComment`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.markup import escape

from cli import store
from cli.options import ConfigOption, State, load, use
from cli.output import err
from newswatch import config as configuration
from newswatch.config import ConfigError

__all__ = ["export_opml", "health", "import_opml"]

DEFAULT_FILE = "sources.yaml"


def health(context: typer.Context, config: Path | None = ConfigOption) -> None:
    """Show each source's health: last success, failures, last error, next poll."""
    if context.invoked_subcommand is not None:
        use(config)
        return
    store.sources_command(config)


def import_opml(
    file: Path = typer.Argument(..., help="An OPML subscription list (a feed reader's export)."),
    into: Path | None = typer.Option(None, "--into", help="The YAML file to add the sources to "
                                     "(default: sources.yaml in the config folder, or the config file)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would be added; write nothing."),
    config: Path | None = ConfigOption,
) -> None:
    """Add the feeds of an OPML list to the sources YAML; duplicates by URL are skipped."""
    use(config)
    from connectors.opml import OpmlError, parse_opml
    from newswatch.config.importing import MergeError, merged_text, plan_import

    location = State.config_path
    target = into or (location if location.is_file() else location / DEFAULT_FILE)
    try:
        listed = parse_opml(file.read_bytes())
    except (OSError, OpmlError) as error:
        _fail(f"{file}: {error.strerror if isinstance(error, OSError) else error}")
    existing = list(load().sources) if location.exists() else []
    within = _part_of(target, location)
    if target.exists() and not within:
        existing += load(target).sources
    plan = plan_import(listed.feeds, existing)
    verb = "would add" if dry_run else "added"
    for added in plan.added:
        feed = added.subscription
        extra = f"  [{'/'.join(feed.category)}]" if feed.category else ""
        typer.echo(f"{verb}  {added.name}  {feed.url}{extra}{'' if feed.enabled else '  (disabled)'}")
    for skipped in plan.skipped:
        feed = skipped.subscription
        typer.echo(f"skipped  line {feed.line}: {feed.title or feed.url} <{feed.url}>: {skipped.reason}")
    for problem in listed.problems:
        typer.echo(f"skipped  {problem}")
    if plan.added and not dry_run:
        before = _read(target)
        try:
            text = merged_text(before, [added.entry() for added in plan.added])
        except MergeError as error:
            _fail(f"{target}: {error}; nothing written")
        _write(target, text, before, location if within else None)
    counts = f"{len(plan.added)} {'would be added' if dry_run else 'added'}, " \
             f"{len(plan.skipped)} skipped as duplicates, {len(listed.problems)} skipped as malformed"
    where = "nothing written (dry run)" if dry_run else f"written to {target}" if plan.added else f"{target} unchanged"
    typer.echo(f"{counts}; {where}")


def export_opml(
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the OPML to this file, not stdout."),
    config: Path | None = ConfigOption,
) -> None:
    """Print the configured sources as OPML 2.0, for a feed reader to import."""
    use(config)
    from connectors.opml import write_opml
    from newswatch.config.importing import subscriptions, write_atomic

    sources = load().sources
    data = write_opml(subscriptions(sources), "newswatch sources", datetime.now(UTC))
    if output is None:
        typer.echo(data, nl=False)
        return
    try:
        write_atomic(output, data)
    except OSError as error:
        _fail(f"{output}: {error.strerror or error}")
    err.print(f"{len(sources)} sources written to {output}", markup=False)


def _part_of(target: Path, location: Path) -> bool:
    """Whether the configuration at `location` reads `target` (a file of its folder, or itself)."""
    if location.is_file() or location.suffix in (".yaml", ".yml"):
        return target.resolve() == location.resolve()
    return target.suffix in (".yaml", ".yml") and target.resolve().parent == location.resolve()


def _read(path: Path) -> str | None:
    try:
        with open(path, encoding="utf-8", newline="") as file:  # newline="": CRLF files stay CRLF
            return file.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        _fail(f"{path}: cannot read it ({error}); nothing written")


def _write(target: Path, text: str, before: str | None, location: Path | None) -> None:
    """Write `target` atomically; when the configuration reads it, it must still load after."""
    from newswatch.config.importing import write_atomic

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, text)
    except OSError as error:
        _fail(f"{target}: {error.strerror or error}; nothing written")
    if location is None:
        return
    try:
        configuration.load(location)
    except ConfigError as error:
        if before is None:
            target.unlink()
        else:
            write_atomic(target, before)
        for problem in error.problems:
            err.print(f"[red]error[/red] {problem}", markup=True, soft_wrap=True)
        err.print(f"{target} is back as it was: the configuration did not load with the new sources",
                  markup=False)
        raise typer.Exit(1)


def _fail(message: str):
    err.print(f"[red]error[/red] {escape(message)}", markup=True, soft_wrap=True)
    raise typer.Exit(2)
