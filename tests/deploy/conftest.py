"""Fixtures for the deployment tests: the compose topology as real processes, without Docker.

- `Proc`: a command in its own session with its output in a file, stopped by escalating signals;
  `descendants()` and `running()` read /proc, so a test can check that nothing is left behind.
- `fresh_pg_database()` (from tests/conftest.py): an empty PostgreSQL database of our own.
- `prefect_pg_server`: one `prefect server start` on PostgreSQL for the session (it takes ~10-16 s
  to answer on this box), with the retention settings docker-compose.yml gives it. Tests give
  their deployments names of their own.
- `site`: a folder served by ReplayServer (read from disk per request), with helpers to write
  pages and RSS feeds into it.
- `SlowFiles`: a ReplayServer whose files answer after a delay, to hold cycles in flight.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path

import httpx
import pytest

from cli.replay import ReplayServer
from flows.runtime import free_port, wait_healthy
from tests.conftest import fresh_pg_database

BIN = Path(sys.executable).parent
NEWSWATCH = str(BIN / "newswatch")
PREFECT = [sys.executable, "-m", "prefect"]

# What docker-compose.yml gives Prefect's server (tests/deploy/test_compose.py checks they agree).
SERVER_SETTINGS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED": "events,flow_runs",
    "PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD": "P14D",
    "PREFECT_SERVER_EVENTS_RETENTION_PERIOD": "P14D",
}


def prefect_env(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment without any PREFECT_* (other tests set some), plus ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({"PREFECT_HOME": str(home), "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
    env.update(extra)
    return env


# -- processes -------------------------------------------------------------------------------------

def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2:].split()  # fields from 3 (state) on; the name may hold spaces


def running(pid: int) -> bool:
    """Alive and not a zombie (this sandbox's PID 1 does not reap orphans)."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def descendants(pid: int) -> set[int]:
    """Every living process below `pid`, in any session."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) and fields[0] != "Z":
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


class Proc:
    """A command in its own session, output to `log`; `stop()` escalates until the group is gone."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str], cwd: Path | None = None):
        self.args, self.log = args, log
        self._out = open(log, "ab")
        self.popen = subprocess.Popen(args, env=env, cwd=cwd, stdout=self._out, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, start_new_session=True)
        self.pid = self.popen.pid

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, needle: str, timeout: float, start: int = 0) -> int:
        """Wait until `needle` appears in the output after offset `start`; return its end offset."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            found = text.find(needle, start)
            if found >= 0:
                return found + len(needle)
            if self.popen.poll() is not None:
                raise AssertionError(f"{self.args[:3]} exited {self.popen.returncode}:\n{text[-3000:]}")
            time.sleep(0.2)
        raise AssertionError(f"no {needle!r} within {timeout:.0f}s:\n{self.text()[-3000:]}")

    def stop(self, signals=(signal.SIGTERM, signal.SIGINT, signal.SIGKILL), wait: float = 10.0) -> list[str]:
        """Signal the process, then the others in turn; finally SIGKILL its group. Returns what it took."""
        taken = []
        for sig in signals:
            if self.popen.poll() is not None:
                break
            taken.append(sig.name)
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
        try:
            os.killpg(self.pid, signal.SIGKILL)  # flow-run subprocesses left in the group
        except ProcessLookupError:
            pass
        self.popen.wait()
        self._out.close()
        return taken


# -- databases -------------------------------------------------------------------------------------

@dataclass
class PrefectServer:
    api: str
    home: Path
    process: Proc

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a client (CLI, worker) of this server."""
        return prefect_env(self.home, PREFECT_API_URL=self.api, **extra)

    def get(self, path: str) -> dict:
        response = httpx.get(f"{self.api}{path}", timeout=30)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: dict) -> list | dict:
        response = httpx.post(f"{self.api}{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="session")
def prefect_pg_server(tmp_path_factory) -> Iterator[PrefectServer]:
    """`prefect server start` on a fresh PostgreSQL database (with pg_trgm), shared by the session."""
    home = tmp_path_factory.mktemp("prefect-home")
    with fresh_pg_database("newswatch_prefect", extensions=("pg_trgm",)) as url:
        connection = url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
        port = free_port()
        env = prefect_env(home, PREFECT_API_DATABASE_CONNECTION_URL=connection, **SERVER_SETTINGS)
        process = Proc([*PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                       home / "server.log", env)
        try:
            api = f"http://127.0.0.1:{port}/api"
            if failure := wait_healthy(api, process.popen, timeout=120):
                raise AssertionError(f"prefect server {failure}:\n{process.text()[-3000:]}")
            yield PrefectServer(api, home, process)
        finally:
            process.stop(signals=(signal.SIGTERM, signal.SIGKILL), wait=20)


# -- content ---------------------------------------------------------------------------------------

class Site:
    """A folder of feeds and pages, served by ReplayServer at `base`."""

    def __init__(self, root: Path, base: str, requests: list[tuple[str, str, int]] | None = None):
        self.root, self.base = root, base
        self.requests = requests if requests is not None else []  # (method, path, status) served

    def page(self, path: str, title: str, body: str, canonical: str | None = None) -> str:
        """Write an article page; returns its URL."""
        link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
        paragraphs = "".join(f"<p>{escape(p)}</p>" for p in body.split("\n\n"))
        html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
                f"{link}</head><body><article><h1>{escape(title)}</h1>{paragraphs}</article></body></html>")
        return self._write(path, html)

    def feed(self, path: str, items: list[tuple[str, str]]) -> str:
        """Write an RSS feed of (title, url) items, newest first; returns its URL."""
        entries = "".join(f"<item><title>{escape(t)}</title><link>{escape(u)}</link><guid>{escape(u)}</guid>"
                          f"<description>{escape(t)}</description></item>" for t, u in items)
        xml = (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{path}</title>'
               f"<link>{self.base}/</link><description>test feed</description>{entries}</channel></rss>")
        return self._write(path, xml)

    def _write(self, path: str, text: str) -> str:
        """Write `text` at `path` under the root; returns its URL."""
        target = self.root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return f"{self.base}/{path.lstrip('/')}"


@pytest.fixture
def site(tmp_path) -> Iterator[Site]:
    root = tmp_path / "site"
    root.mkdir()
    with ReplayServer(root) as server:
        yield Site(root, server.base_url, server.requests)


class SlowFiles(ReplayServer):
    """ReplayServer answering after `delay` seconds (changeable); `hit` is set on the first request."""

    def __init__(self, root: Path, delay: float):
        super().__init__(root)
        self.delay, self.hit = delay, threading.Event()

    def respond(self, method: str, target: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        self.hit.set()
        time.sleep(self.delay)
        return super().respond(method, target, headers)
