"""Prefect's environment for newswatch commands, and the local server `serve` starts when needed.

Rules: settings are defaults only (a user's own environment wins), and must be set before prefect
is imported: it reads its settings once. Analytics off, because the telemetry service prints
"database is locked" tracebacks on SQLite and the box may be offline. Without PREFECT_API_URL,
Prefect's state lives under the data folder, not in ~/.prefect. Prefect's database is kept bounded:
flow runs (with their task runs and logs) and events older than `RETENTION` are deleted.
The local server runs in its own process group, is stopped with `serve` (on SIGTERM too), and
on Linux gets SIGTERM if `serve` is killed outright.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

__all__ = ["RETENTION", "free_port", "foreground_run", "local_server", "prefect_defaults", "quiet_shutdown",
           "unwind_on_sigterm", "wait_healthy"]

DATA_DIR = Path("data")
RETENTION = "P14D"  # ISO 8601; ~15-20 KB of Prefect database per task run, kept forever by default


def prefect_defaults(data_dir: Path = DATA_DIR) -> None:
    """Set Prefect's environment defaults; call before importing prefect."""
    defaults = {
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",  # a first migration can be slow
        "PREFECT_TASKS_DEFAULT_NO_CACHE": "true",
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",  # time to alert: the runner polls for due runs
        # one summary line per cycle, not one per task run (failures are still logged)
        "PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL": "WARNING",
        # read by the local server `serve` starts (compose sets the same on its server)
        "PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED": "events,flow_runs",
        "PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD": RETENTION,
        "PREFECT_SERVER_EVENTS_RETENTION_PERIOD": RETENTION,
    }
    if not os.environ.get("PREFECT_API_URL") and not os.environ.get("PREFECT_HOME"):
        home = data_dir / "prefect"
        home.mkdir(parents=True, exist_ok=True)  # Prefect creates the folder, not its parents
        defaults["PREFECT_HOME"] = str(home.resolve())
    for key, value in defaults.items():
        os.environ.setdefault(key, value)


@contextmanager
def foreground_run() -> Iterator[None]:
    """Settings for a flow run called from a command (`run --once`, `demo`), not a deployment's.

    No heartbeats: Prefect sends them so that an automation can mark a deployment's run whose
    process died as crashed; a command reports its own end, and at the end of every sync flow run
    Prefect joins the heartbeat thread, which sleeps in 1-s steps (0-1 s, 0.5 s on average, of
    pure waiting). Deployments (`serve`, workers) keep them. A PREFECT_FLOWS_HEARTBEAT_FREQUENCY
    the user set wins.
    """
    if os.environ.get("PREFECT_FLOWS_HEARTBEAT_FREQUENCY"):
        yield
        return
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def quiet_shutdown() -> None:
    """End the temporary Prefect server quietly, once a command's cycle has ended.

    With no server of the user's (no PREFECT_API_URL), Prefect runs one in a subprocess that
    shares the command's output, and stops it at exit with SIGTERM while its services may still
    be flushing the run's events: about one run in four then printed ~150 lines of CancelledError
    tracebacks (task_run_recorder "Error flushing 1 events", SQLAlchemy's pool reset) after the
    cycle had succeeded and been recorded. So: what this process still has to send (logs,
    events) is sent first, then the server is killed, which ends it without a shutdown to log;
    it only held the temporary records that ephemeral mode drops anyway. A real server is never
    touched."""
    if os.environ.get("PREFECT_API_URL"):
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.server.api.server import SubprocessASGIServer

    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=5)
    server = SubprocessASGIServer()  # the one this process started, if any
    if server.server_process is not None:
        server.server_process.kill()
        server.server_process.wait()
        server.server_process = None
    # nothing is left to tell it: a late attempt to would only print a connection error
    logging.getLogger("prefect").setLevel(logging.CRITICAL + 1)


@contextmanager
def local_server(data_dir: Path = DATA_DIR, timeout: float = 120.0) -> Iterator[str]:
    """Run `prefect server start` on a free loopback port until the block exits; yields the API URL."""
    port = free_port()
    home = data_dir / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PREFECT_HOME": str(home.resolve()), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    log = open(home / "server.log", "ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,  # a terminal's Ctrl-C reaches us, and we stop it in order
        preexec_fn=_die_with_parent,
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        if failure := wait_healthy(api, process, timeout):
            raise RuntimeError(f"prefect server {failure}; see {home / 'server.log'}")
        yield api
    finally:
        _stop_group(process)
        log.close()


def unwind_on_sigterm() -> None:
    """Make SIGTERM raise SystemExit(0), so `with` blocks (the local server) clean up."""

    def _exit(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM while unwinding kills
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _exit)


def _stop_group(process: subprocess.Popen, grace: float = 20.0) -> None:
    """SIGTERM the server's process group; after `grace` seconds SIGKILL whatever is left of it."""
    _signal_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    _signal_group(process, signal.SIGKILL)  # the server if stuck, and any children it left
    process.wait()


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def _die_with_parent() -> None:
    """In the server's process: SIGTERM when `serve` dies, even by SIGKILL (Linux; else a no-op)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def wait_healthy(api: str, process: subprocess.Popen, timeout: float) -> str | None:
    """Wait for the server `process` to answer on `api`: None once it does, else why it did not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"exited with {process.returncode}"
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                return None
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return f"did not answer within {timeout:.0f}s"


def free_port() -> int:
    """A loopback TCP port free at the time of asking."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
