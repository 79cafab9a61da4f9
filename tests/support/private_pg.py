"""A PostgreSQL cluster of a test's own: initdb in a temporary folder, started on a free port.

The chaos test restarts PostgreSQL in the middle of a cycle; restarting the machine's shared server
would break every other test's connections (the suite runs in two processes). The server refuses
to run as root, so where the tests run as root the cluster belongs to the `postgres` user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flows.runtime import free_port
from tests.conftest import postgres_unavailable

__all__ = ["PrivateCluster", "private_cluster"]


@dataclass(frozen=True)
class PrivateCluster:
    data: Path
    port: int
    run_as: tuple[str, ...]  # the command prefix running a server tool as the cluster's owner

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def restart(self) -> subprocess.CompletedProcess:
        """Restart now (every connection breaks); returns once the server answers again."""
        return self._ctl("-m", "fast", "-l", str(self.data.parent / "log"), "-w", "restart")

    def _ctl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*self.run_as, _tool("pg_ctl"), "-D", str(self.data), *args], capture_output=True,
                              text=True, timeout=120)


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """The cluster, running (trust auth, fsync off), stopped and removed on exit; skips without
    PostgreSQL's server tools, or fails where NEWSWATCH_REQUIRE_PG=1."""
    if not Path(_tool("initdb")).exists():
        postgres_unavailable(f"PostgreSQL's server tools are not installed ({_tool('initdb')})")
    folder = Path(tempfile.mkdtemp(prefix="newswatch-pg-"))
    run_as: tuple[str, ...] = ()
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        run_as = ("runuser", "-u", "postgres", "--")
    cluster = PrivateCluster(folder / "data", free_port(), run_as)
    try:
        subprocess.run([*run_as, _tool("initdb"), "-D", str(cluster.data), "-U", "postgres", "-A", "trust",
                        "-E", "UTF8", "--no-sync"], check=True, capture_output=True, timeout=120)
        options = f"-p {cluster.port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        started = cluster._ctl("-o", options, "-l", str(folder / "log"), "-w", "start")  # a log, not our pipes
        assert started.returncode == 0, f"the private PostgreSQL did not start: {started.stderr}"
        yield cluster
    finally:
        cluster._ctl("-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def _tool(name: str) -> str:
    """A server tool of the newest PostgreSQL installed (Debian's layout)."""
    versions = sorted(os.listdir("/usr/lib/postgresql"), key=int) if os.path.isdir("/usr/lib/postgresql") else []
    return f"/usr/lib/postgresql/{versions[-1]}/bin/{name}" if versions else name
