"""Where the cycle's worker processes come from: a fork server that imports their modules once.

A worker forked from it costs ~0.06 s of CPU before its first page, a spawned one ~0.9 s (a cycle
starts three). The fork server starts fresh, not forked from the flow's process, so it holds none
of Prefect's threads; it lasts as long as the process that started it. Spawned workers where there
is no fork server (Windows).

Kept free of Prefect imports, so that `warm` can run before them. The fork server preloads
flows/workers.py (what the workers run, with the readers and triage it imports), which is free of
Prefect too, and the readers' heavy libraries.

A pool's processes start aside (`StartedAside`): a process pool starts them on its first
submission, in the thread that submits, and the first waits for the fork server's imports (1-2 s,
more on a busy machine). Submitted from the event loop that downloads the feeds and pages, that
stalled every download in flight, and a good feed behind a few redirects missed its deadline.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, Executor, Future
from multiprocessing import forkserver
from typing import Any

__all__ = ["POOL_THRESHOLD", "WORKERS", "StartedAside", "warm"]

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


class StartedAside(Executor):
    """`pool`, its processes started by a thread of their own: until they run, a submission waits
    here as a future of its own, and the submitting thread goes on."""

    def __init__(self, pool: Executor) -> None:
        self._pool = pool
        self._lock = threading.Lock()
        self._waiting: list[tuple[Future, Callable, tuple, dict[str, Any]]] | None = []
        threading.Thread(target=self._start, name="pool-start", daemon=True).start()

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

    def _start(self) -> None:
        try:
            self._pool.submit(_started).result()
        except Exception:  # noqa: BLE001, S110 - a pool that cannot start fails the submissions themselves
            pass
        with self._lock:
            waiting, self._waiting = self._waiting or [], None
        for future, fn, args, kwargs in waiting:
            if future.set_running_or_notify_cancel():
                try:
                    self._pool.submit(fn, *args, **kwargs).add_done_callback(lambda done, to=future: _copy(done, to))
                except Exception as error:  # noqa: BLE001 - BrokenExecutor above all: the submission's failure
                    future.set_exception(error)


def _started() -> None:
    """Run by the first process of a pool: it has started, and its initializer has run."""


def _copy(done: Future, to: Future) -> None:
    """The outcome of `done` as that of `to` (running)."""
    if done.cancelled():
        to.set_exception(CancelledError())
    elif (error := done.exception()) is not None:
        to.set_exception(error)
    else:
        to.set_result(done.result())
