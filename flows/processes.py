"""Where the cycle's worker processes come from: a fork server that imports their modules once.

A worker forked from it costs ~0.06 s of CPU before its first page, a spawned one ~0.9 s (a cycle
starts three). The fork server starts fresh, not forked from the flow's process, so it holds none
of Prefect's threads; it lasts as long as the process that started it. Spawned workers where there
is no fork server (Windows).

Kept free of Prefect imports, so that `warm` can run before them. The fork server preloads
flows/workers.py (what the workers run, with the readers and triage it imports), which is free of
Prefect too, and the readers' heavy libraries.

A pool's processes start aside (`StartedAside`): a process pool starts them as submissions find
none idle, in the thread that submits, and the first waits for the fork server's imports (1-2 s,
more on a busy machine). Submitted from the event loop that downloads the feeds and pages, that
stalled every download in flight, and a good feed behind a few redirects missed its deadline.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, CancelledError, Executor, Future
from multiprocessing import forkserver
from typing import Any

__all__ = ["POOL_THRESHOLD", "WORKERS", "NotHandedOver", "StartedAside", "warm"]

# Below this many pages a process pool costs more to start than it saves. Changed feeds count
# too: each brings new pages, so the pool they start is the one the pages need.
POOL_THRESHOLD = 8

_PRELOAD = ["flows.workers", "datasketch", "trafilatura", "wordfreq"]

if "forkserver" in multiprocessing.get_all_start_methods():
    WORKERS = multiprocessing.get_context("forkserver")
    WORKERS.set_forkserver_preload(_PRELOAD)
else:
    WORKERS = multiprocessing.get_context("spawn")


def warm() -> None:
    """Start the fork server now, without waiting for it.

    Its imports cost ~1.2 s of CPU. Started before Prefect's own start-up (~2 s on one core), they
    run on another core instead of delaying the cycle's first pages."""
    if WORKERS.get_start_method() == "forkserver":
        forkserver.ensure_running()


class NotHandedOver(BrokenExecutor):
    """A submission `StartedAside` could not hand to its pool (it broke while starting, or was
    shut): the work never ran in a worker, so it may be done elsewhere."""


class StartedAside(Executor):
    """`pool` of `workers` processes, started by a thread of their own: until they run, a
    submission waits here as a future of its own, and the submitting thread goes on."""

    def __init__(self, pool: Executor, workers: int = 1) -> None:
        self._pool = pool
        self._lock = threading.Lock()
        self._waiting: list[tuple[Future, Callable, tuple, dict[str, Any]]] | None = []
        threading.Thread(target=self._start, args=(workers,), name="pool-start", daemon=True).start()

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        with self._lock:
            if self._waiting is not None:
                future: Future = Future()
                self._waiting.append((future, fn, args, kwargs))
                return future
        return self._pool.submit(fn, *args, **kwargs)  # started: BrokenExecutor is the caller's, as before

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            waiting, self._waiting = self._waiting or [], None
        for future, *_ in waiting:
            future.cancel()
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)

    def _start(self, workers: int) -> None:
        # A pool starts a process for a submission that finds none idle: each trial holds its
        # worker a moment, so that all of them start here, not in a later submitter's thread.
        try:
            for trial in [self._pool.submit(_started, _HOLD) for _ in range(workers)]:
                trial.result()
        except Exception:  # noqa: BLE001, S110 - a pool that cannot start fails the hand-over below
            pass
        while True:  # in order, and before any later submission goes straight to the pool
            with self._lock:
                if not self._waiting:
                    self._waiting = None
                    return
                waiting, self._waiting = self._waiting, []
            for future, fn, args, kwargs in waiting:
                self._hand_over(future, fn, args, kwargs)

    def _hand_over(self, future: Future, fn: Callable, args: tuple, kwargs: dict[str, Any]) -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            self._pool.submit(fn, *args, **kwargs).add_done_callback(lambda done: _copy(done, future))
        except Exception as error:  # noqa: BLE001 - BrokenExecutor above all, or shut meanwhile
            failure = NotHandedOver(f"the pool did not take it: {error!r}")
            failure.__cause__ = error
            future.set_exception(failure)


_HOLD = 0.05  # seconds


def _started(hold: float) -> None:
    """Run by each process of a pool once it has started and its initializer has run."""
    time.sleep(hold)


def _copy(done: Future, to: Future) -> None:
    """The outcome of `done` as that of `to` (running)."""
    if done.cancelled():
        to.set_exception(CancelledError())
    elif (error := done.exception()) is not None:
        to.set_exception(error)
    else:
        to.set_result(done.result())
