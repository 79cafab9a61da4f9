"""The option every command shares, `--config`, and loading what it points at.

A configuration that does not load is reported problem by problem on stderr and exits 2 (the
CLI's contract), before the command does anything.
"""

from __future__ import annotations

from pathlib import Path

import typer

from cli.output import err
from newswatch import config as configuration
from newswatch.config import Config, ConfigError

__all__ = ["ConfigOption", "State", "choose_config", "load", "use"]


class State:
    config_path: Path = Path("config")


# accepted before the command (`newswatch --config x check`) and after it (`newswatch check --config x`)
ConfigOption = typer.Option(None, "--config", "-c", help="A YAML file or a folder of *.yaml files.")


def choose_config(config: Path = typer.Option(Path("config"), "--config", "-c",
                                              help="A YAML file or a folder of *.yaml files.")) -> None:
    """The app's callback: `--config` given before the command."""
    State.config_path = config


def use(config: Path | None) -> None:
    """`--config` given after the command wins over the one before it."""
    if config is not None:
        State.config_path = config


def load(path: Path | None = None) -> Config:
    """The configuration at `path` (default: the chosen one), or exit 2 saying what is wrong."""
    location = path or State.config_path
    try:
        return configuration.load(location)
    except ConfigError as error:
        for problem in error.problems:
            err.print(f"[red]error[/red] {problem}", markup=True, soft_wrap=True)
        raise typer.Exit(2) from None
