"""Kill switches for chaos tests: the local servers end a newswatch process, no hook in product code.

    switch = KillSwitch()
    with ChaosSite(root, switch) as site, ChaosSlack(switch) as slack:
        switch.target(proc.pid)                       # the process group of this run
        switch.arm("page", 7)                         # SIGKILL on the run's 7th page request
        switch.arm("feed", 10, then=hold_and_kill)    # or any action, in the request's thread
        ...
        switch.fired                                  # the Shot, once it went off

- `ChaosSite` serves feeds (paths under /f/) and pages (under /p/) like ReplayServer, and counts
  each as a `feed` or `page` request before answering; the armed count's request is never answered
  by a living process (the kill happens in the request's thread, before the reply).
- `ChaosSlack` records each message like SlackServer, then counts it as `slack`: the killing one
  was received, and is the message in flight (it may or may not be marked sent).
- `hold_then_kill(url, table)`: an action taking a PostgreSQL lock on `table` from the test, then,
  in a thread, waiting until the newswatch process blocks on it, killing it there and releasing
  the lock: a kill inside a given statement of a transaction, wherever the timing falls.
- `restart_postgres(switch, restart)`: an action restarting PostgreSQL (a cluster of the test's own,
  tests/support/private_pg.py; the run goes on, its connections broken); it returns once the
  server is up again.
- `group_alive(pgid)`: whether any process of the group still lives (a killed process's pool
  workers are orphans: /proc is the only place to look).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from cli.replay import ReplayServer
from tests.support.slack_server import Request, SlackServer

__all__ = ["ChaosSite", "ChaosSlack", "KillSwitch", "Shot", "group_alive", "hold_then_kill", "restart_postgres"]


@dataclass
class Shot:
    """One kill: where it was armed, when it went off, and what was going on."""

    stage: str
    count: int
    at: float = 0.0  # time.monotonic()
    note: str = ""
    slack_received: int = -1  # messages the Slack endpoint had received at the kill
    done: threading.Event = field(default_factory=threading.Event)


class KillSwitch:
    """Counts requests per stage since `target`; the armed one runs its action (SIGKILL by default)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.pgid: int | None = None
        self.counts: dict[str, int] = {}
        self._armed: tuple[str, int, Callable[[Shot], None] | None] | None = None
        self.fired: Shot | None = None
        self.slack: ChaosSlack | None = None

    def target(self, pgid: int) -> None:
        with self._lock:
            self.pgid, self.counts, self.fired, self._armed = pgid, {}, None, None

    def arm(self, stage: str, count: int, then: Callable[[Shot], None] | None = None) -> None:
        with self._lock:
            self._armed = (stage, count, then)

    def disarm(self) -> None:
        with self._lock:
            self._armed = None

    def hit(self, stage: str) -> None:
        """Called by a server for each request of `stage`, before it answers."""
        with self._lock:
            self.counts[stage] = self.counts.get(stage, 0) + 1
            armed = self._armed
            if armed is None or armed[0] != stage or armed[1] != self.counts[stage]:
                return
            self._armed = None
            shot = self.fired = Shot(stage, armed[1])
        (armed[2] or self.kill)(shot)

    def kill(self, shot: Shot | None = None, note: str = "") -> None:
        """SIGKILL the target's whole process group now."""
        shot = shot or self.fired
        if shot is not None:
            shot.at, shot.note = time.monotonic(), note or shot.note
            shot.slack_received = len(self.slack.requests) if self.slack else -1
        try:
            os.killpg(self.pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if shot is not None:
            shot.done.set()


class ChaosSite(ReplayServer):
    """ReplayServer counting feed (/f/) and page (/p/) requests on a KillSwitch; pages may lag."""

    def __init__(self, root: Path, switch: KillSwitch, page_delay: float = 0.0) -> None:
        super().__init__(root)
        self.switch, self.page_delay = switch, page_delay

    def respond(self, method: str, target: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        stage = "feed" if target.startswith("/f/") else "page" if target.startswith("/p/") else None
        if stage is not None:
            self.switch.hit(stage)
        if stage == "page" and self.page_delay:
            time.sleep(self.page_delay)
        return super().respond(method, target, headers)


class ChaosSlack(SlackServer):
    """SlackServer counting each message received on a KillSwitch, after recording it."""

    def __init__(self, switch: KillSwitch) -> None:
        super().__init__()
        self.switch = switch
        switch.slack = self

    def _take(self, request: Request):
        reply = super()._take(request)
        self.switch.hit("slack")
        return reply


def group_alive(pgid: int) -> bool:
    """Whether a living (not zombie) process has process group `pgid`."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def hold_then_kill(switch: KillSwitch, url: str, table: str, timeout: float = 30.0,
                   then: Callable[[Shot, str], None] | None = None) -> Callable[[Shot], None]:
    """An action: lock `table` (SHARE ROW EXCLUSIVE: reads pass, writes wait), kill the target once
    one of its statements waits for the lock, then release it. Without a waiter within `timeout`,
    kill anyway (the note says so). `then(shot, note)` instead of the kill: e.g. a restart."""
    finish = then or (lambda shot, note: switch.kill(shot, note=note))

    def action(shot: Shot) -> None:
        engine = sa.create_engine(url, poolclass=NullPool)
        holding = engine.connect()
        transaction = holding.begin()
        holding.execute(sa.text(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))
        mine = holding.execute(sa.text("SELECT pg_backend_pid()")).scalar()

        def wait_and_kill() -> None:
            # watched from a connection of its own, a transaction a look: inside one transaction
            # pg_stat_activity stays as it was at the first look (stats_fetch_consistency)
            watching = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                deadline, waiting = time.monotonic() + timeout, None
                while time.monotonic() < deadline and waiting is None:
                    waiting = watching.execute(sa.text(
                        "SELECT left(a.query, 100) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                        "WHERE NOT l.granted AND l.relation = CAST(:table AS regclass) AND l.pid <> :mine"),
                        {"table": table, "mine": mine}).scalar()
                    if waiting is None:
                        time.sleep(0.02)
                if waiting is None:
                    backends = watching.execute(sa.text(
                        "SELECT string_agg(format('%s %s/%s %s', pid, wait_event_type, wait_event, left(query, 80)), "
                        "' | ') FROM pg_stat_activity WHERE datname = current_database() AND pid <> :mine"),
                        {"mine": mine}).scalar()
                    finish(shot, f"nothing blocked on {table} within {timeout:.0f}s; backends: {backends}")
                else:
                    finish(shot, f"blocked on {table}: {' '.join(waiting.split())}")
            finally:
                for close in (transaction.rollback, holding.close, watching.close, engine.dispose):
                    try:
                        close()
                    except sa.exc.DBAPIError:
                        pass  # the server restarted meanwhile

        threading.Thread(target=wait_and_kill, name=f"hold-{table}", daemon=True).start()

    return action


def restart_postgres(switch: KillSwitch, restart: Callable[[], subprocess.CompletedProcess]) -> Callable[..., None]:
    """An action: restart PostgreSQL now with `restart` (every connection to it breaks); also a
    `then` of hold_then_kill, to restart while the target waits inside a transaction."""

    def action(shot: Shot, note: str = "") -> None:
        shot.at = time.monotonic()
        shot.slack_received = len(switch.slack.requests) if switch.slack else -1
        done = restart()
        shot.note = (f"PostgreSQL restarted in {time.monotonic() - shot.at:.1f}s" if done.returncode == 0 else
                     f"PostgreSQL restart failed ({done.returncode}): {done.stderr.strip()}")
        shot.note += f", {note}" if note else ""
        shot.done.set()

    return action
