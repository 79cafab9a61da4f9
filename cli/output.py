"""Where the commands write, and how they lay out what they show: stdout for results, stderr for
problems and progress; tables that fold long cells; times to the second, in UTC."""

from __future__ import annotations

from rich.console import Console

__all__ = ["err", "out", "table", "when"]

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)


def table(*headers: str):
    """A table that folds long cells rather than cutting them: its output is for reading."""
    from rich.table import Table

    shown = Table()
    for header in headers:
        shown.add_column(header, overflow="fold")
    return shown


def when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""
