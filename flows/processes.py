"""Where the cycle's worker processes come from: a fork server that imports their modules once.

A worker forked from it costs ~0.06 s of CPU before its first page, a spawned one ~0.9 s (a cycle
starts three). The fork server starts fresh, not forked from the flow's process, so it holds none
of Prefect's threads; it lasts as long as the process that started it. Spawned workers where there
is no fork server (Windows).

Kept free of Prefect imports, so that `warm` can run before them. The fork server preloads
flows/workers.py (what the workers run, with the readers and triage it imports), which is free of
Prefect too, and the readers' heavy libraries.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing import forkserver

__all__ = ["POOL_THRESHOLD", "WORKERS", "warm"]

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
