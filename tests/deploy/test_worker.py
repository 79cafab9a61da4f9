"""`newswatch worker` outside the scale-out test: what it refuses, and what it runs."""

from __future__ import annotations

import subprocess

from tests.deploy.conftest import NEWSWATCH, prefect_env


def test_a_worker_needs_the_prefect_server_of_the_deployments(tmp_path):
    done = subprocess.run([NEWSWATCH, "worker"], env=prefect_env(tmp_path), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert "PREFECT_API_URL" in done.stderr
