"""What runs in the cycle's worker processes (flows/cycle.py starts them): their initializers and
the calls they serve.

A worker is given what it works with once, by its pool's initializer, and keeps it for the
cycle: a reader the watch index, the triage process the config and the index. Not with every
submission: an index of many watchlists is large. Top-level functions, so that they pickle by
name; free of Prefect, so that the fork server (flows/processes.py) imports this module, and
through it the readers and triage, before any cycle asks for a worker.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from newswatch.config import Config
from newswatch.matching import WatchIndex
from newswatch.models import PageText
from newswatch.reading import ReadFailure, Reading, read_all
from newswatch.triage import TriageCounts, settle

__all__ = ["read_pages", "settle_pages", "start_reader", "start_triage"]

# This process's part in the cycle, as its initializer gave it.
_GIVEN: dict[str, object] = {}


def start_reader(index: WatchIndex | None) -> None:
    """Reader initializer: match every page this process reads against `index` (None: not here)."""
    _GIVEN["index"] = index


def read_pages(pages: list[tuple]) -> list[Reading | ReadFailure | None]:
    """`read_all` of a few pages' arguments, matched against the index `start_reader` gave."""
    return read_all(pages, _GIVEN.get("index"))


def start_triage(config: Config, index: WatchIndex) -> None:
    """Triage initializer: what `settle_pages` settles with."""
    _GIVEN.update(config=config, index=index)


def settle_pages(article_ids: list[int], now: datetime, texts: Sequence[PageText] = ()) -> TriageCounts:
    """`settle` of a page batch with the config and index `start_triage` gave."""
    return settle(_GIVEN["config"], _GIVEN["index"], article_ids, now, texts)
