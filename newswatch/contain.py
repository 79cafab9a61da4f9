"""Containment: whatever one item's work raises becomes that item's failure, never its batch's.

The one mechanism every stage uses for its items (a source's fetch, a page's fetch and reading, an
article's triage, a delivery's send). Expected failures are values already (`Failed`, `Page.error`,
`ChannelError`); this catches the rest, the bugs and the surprises, and turns each into an
`ItemFailure` with the stage, the exception's type and message, logging the traceback. They stay
loud: the caller counts them in the cycle's summary (`unexpected=`), the store keeps them with
their item (`newswatch errors`, `newswatch sources`), and an item that fails the same way cycle
after cycle is quarantined (newswatch.store.articles), never retried forever.

Only `Exception` is caught: KeyboardInterrupt, SystemExit and a cancelled task still stop the work.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

__all__ = ["ItemFailure", "contain", "contain_async", "failure_of", "one_line"]

P = ParamSpec("P")
T = TypeVar("T")

log = logging.getLogger("newswatch.contained")

_MESSAGE_CHARS = 500  # of an exception's text: some quote a whole document


@dataclass(frozen=True)
class ItemFailure:
    """One item's unexpected failure: where, what raised, and what it said."""

    stage: str  # fetch, page, extract, triage, deliver, ...
    item: str  # the item in words a user can find it by: a source name, a URL, "article 12"
    error_type: str
    message: str

    @property
    def signature(self) -> str:
        """What makes two failures "the same way": the stage and the exception's type."""
        return f"{self.stage}:{self.error_type}"

    def describe(self) -> str:
        """The line a user reads: `triage: unexpected OverflowError (date value out of range)`."""
        return f"{self.stage}: unexpected {self.error_type} ({self.message})"


def one_line(error: BaseException, chars: int = _MESSAGE_CHARS) -> str:
    """An exception's message on one line, at most `chars` long; its type's name if it says nothing."""
    return " ".join(str(error).split())[:chars] or type(error).__name__


def failure_of(stage: str, item: str, error: BaseException) -> ItemFailure:
    """`error`, raised by `item`'s work at `stage`, as its failure; the traceback goes to the log."""
    message = one_line(error)
    log.error("%s: %s failed: %s: %s", stage, item, type(error).__name__, message, exc_info=error)
    return ItemFailure(stage, item, type(error).__name__, message)


def contain(stage: str, item: str, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | ItemFailure:
    """`work(*args, **kwargs)`, or the item's failure if it raises."""
    try:
        return work(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - containment is the point: the item fails, not the batch
        return failure_of(stage, item, error)


async def contain_async(stage: str, item: str, work: Awaitable[T]) -> T | ItemFailure:
    """`await work`, or the item's failure if it raises."""
    try:
        return await work
    except Exception as error:  # noqa: BLE001 - as in contain
        return failure_of(stage, item, error)
