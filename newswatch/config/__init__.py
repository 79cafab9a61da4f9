"""Turn YAML and the environment into a validated `Config`, or say exactly what is wrong and where.

Every error names the file, the line and the key, e.g.
`config/newswatch.yaml:14: watchlists[0].channels: unknown channel 'desk-slak'`.
Checks that span sections (duplicate names, channels and sources a watchlist names, queries that
do not parse) run here too, so `newswatch check` catches them before anything runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError

from newswatch.config.schema import DEFAULTS, Channel, Config, Watchlist
from newswatch.config.source import ConfigError, Located, Problem, format_path, read_config

__all__ = ["DEFAULTS", "Channel", "Config", "ConfigError", "Problem", "Watchlist", "load", "warnings"]

DEFAULT_LOCATION = Path("config")


def load(location: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Load and check the configuration at `location` (a file or a folder; default config/)."""
    located = read_config(location or DEFAULT_LOCATION, env)
    try:
        config = Config.model_validate(located.data)
    except ValidationError as exc:
        raise ConfigError([_problem(located, err) for err in exc.errors()]) from None
    problems = _cross_check(config, located)
    if problems:
        raise ConfigError(problems)
    return config


def warnings(config: Config) -> list[str]:
    """Advice that does not stop a run: queries likely to be slow or noisy."""
    from newswatch.matching import lint_query

    found: list[str] = []
    for watchlist in config.watchlists:
        for text in filter(None, [watchlist.query, watchlist.exclude]):
            found += [f"watchlists.{watchlist.name}: {w}" for w in lint_query(text, config.aliases)]
    return found


def _problem(located: Located, error: dict) -> Problem:
    path = tuple(error["loc"])
    file, line = located.where(path)
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif error["type"] == "union_tag_invalid":
        message = f"unknown channel type {error['input'].get('type')!r}" if isinstance(
            error.get("input"), dict) else message
    return Problem(file, line, _readable(path), message.removeprefix("Value error, "))


def _readable(path: tuple) -> str:
    # pydantic puts the union tag into the location (channels.x.slack.webhook_url): drop it
    tags = {"console", "jsonl", "slack", "email", "webhook", "atom", "apprise"}
    kept = [p for i, p in enumerate(path) if not (i == 2 and path[0] == "channels" and p in tags)]
    return format_path(tuple(kept))


def _cross_check(config: Config, located: Located) -> list[Problem]:
    problems: list[Problem] = []

    def report(path: tuple, message: str) -> None:
        file, line = located.where(path)
        problems.append(Problem(file, line, format_path(path), message))

    for section, items in (("sources", config.sources), ("watchlists", config.watchlists)):
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.name in seen:
                report((section, i, "name"), f"duplicate name {item.name!r}")
            seen.add(item.name)
    urls: set[str] = set()
    for i, source in enumerate(config.sources):
        if source.url in urls:
            report(("sources", i, "url"), f"the same url as another source: {source.url}")
        urls.add(source.url)
    for j, channel in enumerate(config.health.channels):
        if channel not in config.channels:
            report(("health", "channels", j), f"unknown channel {channel!r}")
    source_names = {s.name for s in config.sources}
    for i, watchlist in enumerate(config.watchlists):
        for j, channel in enumerate(watchlist.channel_names):
            if channel not in config.channels:
                known = ", ".join(sorted(config.channels)) or "none defined"
                report(("watchlists", i, "channels", j), f"unknown channel {channel!r} (known: {known})")
        for j, source in enumerate(watchlist.sources):
            if source not in source_names:
                report(("watchlists", i, "sources", j), f"unknown source {source!r}")
        problems += _query_problems(config, located, i, watchlist)
    return problems


def _query_problems(config: Config, located: Located, index: int, watchlist: Watchlist) -> list[Problem]:
    from newswatch.matching import QuerySyntaxError, compile_query

    problems = []
    for key in ("query", "exclude"):
        text = getattr(watchlist, key)
        if text is None:
            continue
        try:
            compile_query(text, config.aliases)
        except QuerySyntaxError as exc:
            file, line = located.where(("watchlists", index, key))
            problems.append(Problem(file, line, f"watchlists[{index}].{key}",
                                    f"watchlist {watchlist.name!r}: {exc.explain()}"))
    return problems
