"""Serve the monitor flow on the configured schedule: what `flow.serve` does, with a gentler stop.

Rules:
- One cycle at a time: the runner starts at most one run (`limit=1`); a run that comes due while
  a cycle is still going waits and starts when that cycle ends. No deployment concurrency limit:
  Prefect holds its slot for 300 s after a killed run (a 5-minute stall after `kill -9`).
- The deployment is not paused on shutdown (`pause_on_shutdown=False`): a restarted container
  keeps its schedule (PrefectHQ/prefect#16363). Prefect's scheduler goes on creating runs while
  `serve` is down (in compose the server stays up); on start, all but the latest of those missed
  runs are cancelled, so a restart makes one catch-up cycle, not a burst of polls.
- On SIGTERM (`docker stop`) the runner takes no new runs and lets the cycle in flight finish, for
  up to `DRAIN_SECONDS`; a second SIGTERM, or the end of the grace, cancels it. Prefect's own
  handler cancels at once. A cancelled cycle loses nothing: every stage restarts from the store,
  and a delivery cut off mid-send is retried when its lease ends (`newswatch.store.deliveries`).
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.logging import get_logger
from prefect.client.schemas.filters import (DeploymentFilter, DeploymentFilterId, FlowRunFilter,
                                            FlowRunFilterExpectedStartTime, FlowRunFilterState,
                                            FlowRunFilterStateType)
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.runner import Runner
from prefect.schedules import Cron, Interval
from prefect.states import Cancelled

from flows.monitor import monitor
from newswatch.config.schema import Schedule

__all__ = ["DEPLOYMENT", "DRAIN_SECONDS", "serve_monitor", "skip_missed_runs"]

DEPLOYMENT = "newswatch"
DRAIN_SECONDS = 120.0  # compose gives the container 150 s (stop_grace_period)


class _DrainingRunner(Runner):
    """A Runner whose first SIGTERM lets the run in flight finish instead of cancelling it."""

    def __init__(self, *args: Any, drain_seconds: float = DRAIN_SECONDS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._drain_seconds = drain_seconds
        self._draining = False

    def handle_sigterm(self, *args: Any, **kwargs: Any) -> None:
        poller = getattr(self, "_scheduled_run_poller", None)
        processes = getattr(self, "_process_manager", None)
        if self._draining or not self.started or self._loop is None or poller is None or processes is None:
            return super().handle_sigterm(*args, **kwargs)  # not started, a second signal, or internals moved
        self._draining = True
        self._logger.info("SIGTERM received: taking no new runs; the run in flight may finish "
                          "(up to %.0fs, or until a second SIGTERM)", self._drain_seconds)
        poller.stopping = True
        self.execute_in_background(self._drain_then_stop, processes)

    async def _drain_then_stop(self, processes: Any) -> None:
        deadline = time.monotonic() + self._drain_seconds
        while processes.flow_run_count() and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        if not self.stopping:
            self.stopping = True
            await self.astop()


def serve_monitor(config_path: Path, schedule: Schedule, drain_seconds: float = DRAIN_SECONDS) -> None:
    """Run the monitor flow on `schedule` until SIGTERM or Ctrl-C."""
    timing = Interval(schedule.every) if schedule.every else Cron(schedule.cron, timezone=schedule.timezone)
    runner = _DrainingRunner(name=DEPLOYMENT, pause_on_shutdown=False, limit=1,
                             drain_seconds=drain_seconds)
    deployment_id = runner.add_deployment(monitor.to_deployment(
        name=DEPLOYMENT, parameters={"config_path": str(config_path)}, schedules=[timing]))
    if skipped := skip_missed_runs(deployment_id):
        get_logger("runner").info("cancelled %d runs missed while serve was stopped; one catch-up cycle "
                                  "runs now", skipped)
    try:
        asyncio.run(runner.start())
    except KeyboardInterrupt:
        sys.exit(130)


def skip_missed_runs(deployment_id: UUID, now: datetime | None = None) -> int:
    """Cancel the deployment's runs that are already due, except the latest; returns how many."""
    due_filter = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
        expected_start_time=FlowRunFilterExpectedStartTime(before_=now or datetime.now(UTC)))
    cancelled = 0
    with get_client(sync_client=True) as client:
        while True:  # the API returns at most 200 runs at a time; the latest stays first
            due = client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
                flow_run_filter=due_filter, sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=200)
            for run in due[1:]:
                client.set_flow_run_state(run.id, Cancelled(message="missed while newswatch serve was stopped"),
                                          force=True)
            cancelled += len(due[1:])
            if len(due) < 200:
                return cancelled
