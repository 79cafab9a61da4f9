"""Prefect's environment for newswatch commands, and the local server `serve` starts when needed.

Rules: settings are defaults only (a user's own environment wins). Analytics off, because the
telemetry service prints "database is locked" tracebacks on SQLite and the box may be offline.
Without PREFECT_API_URL, Prefect's state lives under the data folder, not in ~/.prefect.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Iterator

import httpx

__all__ = ["local_server", "prefect_defaults"]

DATA_DIR = Path("data")


def prefect_defaults(data_dir: Path = DATA_DIR) -> None:
    """Set Prefect's environment defaults; call before importing prefect."""
    defaults = {
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",  # a first migration can be slow
        "PREFECT_TASKS_DEFAULT_NO_CACHE": "true",
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",  # time to alert: the runner polls for due runs
    }
    if not os.environ.get("PREFECT_API_URL") and not os.environ.get("PREFECT_HOME"):
        home = data_dir / "prefect"
        home.mkdir(parents=True, exist_ok=True)  # Prefect creates the folder, not its parents
        defaults["PREFECT_HOME"] = str(home.resolve())
    for key, value in defaults.items():
        os.environ.setdefault(key, value)


@contextmanager
def local_server(data_dir: Path = DATA_DIR, timeout: float = 120.0) -> Iterator[str]:
    """Run `prefect server start` on a free loopback port until the block exits; yields the API URL."""
    port = _free_port()
    home = data_dir / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PREFECT_HOME": str(home.resolve()), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    log = open(home / "server.log", "ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        _wait_healthy(api, process, timeout, home / "server.log")
        yield api
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait_healthy(api: str, process: subprocess.Popen, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prefect server exited with {process.returncode}; see {log}")
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"prefect server did not answer within {timeout:.0f}s; see {log}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
