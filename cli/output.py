"""Where the commands write, and how they lay out what they show: stdout for results, stderr for
problems and progress; tables that fold long cells; times to the second, in UTC."""

from __future__ import annotations

import os

from rich.console import Console

__all__ = ["err", "out", "table", "when"]

PIPED_WIDTH = 200  # columns of a table written to a pipe or a file


def _console(stderr: bool = False) -> Console:
    """Without a terminal rich lays tables out in 80 columns, folding an error or a URL over
    several lines: a pipe or a file gets wider lines, whole words, unless COLUMNS says otherwise."""
    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console.width = PIPED_WIDTH
    return console


err = _console(stderr=True)
out = _console()


def table(*headers: str):
    """A table that folds long cells rather than cutting them: its output is for reading."""
    from rich.table import Table

    shown = Table()
    for header in headers:
        shown.add_column(header, overflow="fold")
    return shown


def when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""
