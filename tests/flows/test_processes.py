"""The cycle's worker processes: a fork server that has imported what they run (flows/workers.py)."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import forkserver

from flows.processes import WORKERS, warm


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
