"""The cycle pool hands page batches to triage without waiting, up to a backlog."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import flows.monitor
from flows.monitor import _SETTLE_BACKLOG, _CyclePool
from newswatch.store.articles import PageText
from newswatch.triage import TriageCounts

NOW = datetime(2020, 2, 24, 12, tzinfo=UTC)


def test_batches_go_to_triage_without_waiting_until_the_backlog_is_full(monkeypatch):
    gate = threading.Event()

    def slow_settle(article_ids, now, texts):
        gate.wait(10)
        return TriageCounts(articles=len(texts), matches=1)

    monkeypatch.setattr(flows.monitor, "settle_in_process", slow_settle)
    pool = _CyclePool()
    pool._executor, pool._triage = object(), ThreadPoolExecutor(max_workers=1)  # a pool "started"
    handed = []

    def hand(batches: int) -> None:
        for number in range(batches):
            pool.settle(None, [PageText(number, None)], NOW)
            handed.append(number)

    first = threading.Thread(target=hand, args=(_SETTLE_BACKLOG,))
    first.start()
    first.join(5)
    assert not first.is_alive()  # the backlog handed over (one settling, the rest queued): no wait
    more = threading.Thread(target=hand, args=(1,))
    more.start()
    more.join(0.5)
    assert more.is_alive() and len(handed) == _SETTLE_BACKLOG  # one more waits for triage
    gate.set()
    more.join(5)
    assert pool.settled() == TriageCounts(articles=_SETTLE_BACKLOG + 1, matches=_SETTLE_BACKLOG + 1)
    pool._triage.shutdown()
