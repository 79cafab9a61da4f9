"""Live progress of a cycle, for a person at a terminal; nothing at all otherwise.

The CLI installs a reporter when stdout is a terminal; stages call `advance`. Tasks run in
threads of the same process, so a module-level reporter reaches them.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["advance", "set_reporter"]

Reporter = Callable[[str, int, "int | None"], None]  # (stage, how many more done, new total or None)
_reporter: Reporter | None = None


def set_reporter(reporter: Reporter | None) -> None:
    global _reporter
    _reporter = reporter


def advance(stage: str, done: int = 1, total: int | None = None) -> None:
    if _reporter is not None:
        _reporter(stage, done, total)
