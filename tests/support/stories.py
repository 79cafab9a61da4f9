"""Putting an article in a story by its exact keys alone, as triage's ledger does."""

from __future__ import annotations

from datetime import datetime, timedelta

from newswatch.store.ledger import Ledger, Pending
from newswatch.store.tables import Article


def assign(current, article: Article, keys: list[str], now: datetime) -> tuple[int, bool]:
    """(story id, is it new): the story owning one of `keys`, else a new one."""
    pending = Pending(article, keys, [], now)
    ledger = Ledger(current, [pending], timedelta(hours=48))
    ledger.settle(pending, ledger.owner(keys), None)
    return ledger.write(now)[article.id]
