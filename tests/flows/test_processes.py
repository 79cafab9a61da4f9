"""The cycle's worker processes: a fork server that has imported what they run (flows/workers.py),
and pools whose processes start aside from the thread that submits to them."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import forkserver

import pytest

from flows.processes import WORKERS, NotHandedOver, StartedAside, warm


def _imported_before_this_call() -> tuple[int, bool, bool]:
    return os.getppid(), "trafilatura" in sys.modules, "flows.workers" in sys.modules


def test_warm_starts_the_fork_server_that_workers_come_from():
    assert WORKERS.get_start_method() == "forkserver"  # Linux, where newswatch is deployed
    warm()
    server = forkserver._forkserver._forkserver_pid
    assert server is not None and os.waitpid(server, os.WNOHANG) == (0, 0)  # started and running
    with ProcessPoolExecutor(max_workers=1, mp_context=WORKERS) as pool:
        parent, extraction, workers = pool.submit(_imported_before_this_call).result()
    assert parent == server
    assert extraction and workers  # forked with the modules already imported


def test_warm_twice_keeps_one_fork_server():
    warm()
    first = forkserver._forkserver._forkserver_pid
    warm()
    assert forkserver._forkserver._forkserver_pid == first


class SlowToStart(ThreadPoolExecutor):
    """A pool whose first submission blocks until `started` is set, as a process pool's first
    waits for the fork server's imports; `broken`: every submission after that raises."""

    def __init__(self, broken: bool = False) -> None:
        super().__init__(max_workers=2)
        self.started, self.broken, self._first = threading.Event(), broken, True

    def submit(self, fn, /, *args, **kwargs) -> Future:
        if self._first:
            self._first = False
            self.started.wait(5)
        elif self.broken:
            raise BrokenExecutor("a worker died")
        return super().submit(fn, *args, **kwargs)


@pytest.fixture
def slow() -> Iterator[tuple[SlowToStart, StartedAside]]:
    pool = SlowToStart()
    aside = StartedAside(pool)
    try:
        yield pool, aside
    finally:
        pool.started.set()
        aside.shutdown()


def test_an_event_loop_goes_on_while_the_pool_it_submits_to_starts(slow) -> None:
    pool, aside = slow

    async def run() -> int:
        parsed = asyncio.get_running_loop().run_in_executor(aside, sum, [1, 2, 3])
        await asyncio.sleep(0.2)  # the loop runs on (a submission that blocked it would hold it 5 s)
        assert not parsed.done()
        pool.started.set()
        return await parsed

    assert asyncio.run(asyncio.wait_for(run(), 3)) == 6


def test_submissions_made_while_the_pool_starts_run_once_it_has_started(slow) -> None:
    pool, aside = slow
    waiting = [aside.submit(pow, 2, n) for n in range(4)]
    assert not any(f.done() for f in waiting)
    pool.started.set()
    assert [f.result(5) for f in waiting] == [1, 2, 4, 8]
    assert aside.submit(pow, 3, 2).result(5) == 9  # started: straight to the pool


def test_a_pool_that_breaks_while_starting_hands_back_what_waited_and_later_submissions_raise() -> None:
    pool = SlowToStart(broken=True)
    aside = StartedAside(pool)
    try:
        waiting = aside.submit(pow, 2, 2)
        pool.started.set()
        with pytest.raises(NotHandedOver):  # never ran in a worker: the caller may do it elsewhere
            waiting.result(5)
        with pytest.raises(BrokenExecutor):  # as a process pool's own submit does: the cycle starts another
            aside.submit(pow, 2, 2)
    finally:
        aside.shutdown()


def test_shutting_down_while_the_pool_starts_cancels_what_waited(slow) -> None:
    pool, aside = slow
    waiting = aside.submit(pow, 2, 2)
    aside.shutdown(wait=False, cancel_futures=True)
    assert waiting.cancelled()
    pool.started.set()
