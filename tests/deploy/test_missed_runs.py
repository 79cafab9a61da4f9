"""After `serve` was down while Prefect's server stayed up (compose), the runs Prefect scheduled
meanwhile are due at once: all but the latest are cancelled, so a restart makes one catch-up cycle."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from tests.deploy.conftest import PrefectServer

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.prefect]

SKIP = "import sys, uuid; from flows.serve import skip_missed_runs; print(skip_missed_runs(uuid.UUID(sys.argv[1])))"


def scheduled(server: PrefectServer, deployment: str, minutes: int) -> str:
    when = (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()
    run = server.post(f"/deployments/{deployment}/create_flow_run",
                      {"state": {"type": "SCHEDULED", "name": "Scheduled", "state_details": {"scheduled_time": when}}})
    return run["id"]


def test_serve_cancels_all_but_the_latest_missed_run(prefect_pg_server):
    server = prefect_pg_server
    flow = server.post("/flows/", {"name": "monitor"})
    deployment = server.post("/deployments/", {"name": "missed-runs", "flow_id": flow["id"]})["id"]
    missed = [scheduled(server, deployment, minutes) for minutes in (-30, -20, -10)]
    future = scheduled(server, deployment, 10)

    done = subprocess.run([sys.executable, "-c", SKIP, deployment], env=server.env(), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == "2"
    states = {r["id"]: r["state_type"] for r in server.post("/flow_runs/filter", {})
              if r["deployment_id"] == deployment}
    assert [states[i] for i in missed] == ["CANCELLED", "CANCELLED", "SCHEDULED"]
    assert states[future] == "SCHEDULED"
