"""Serve the monitor flow on the configured schedule (Prefect's `flow.serve`).

Rules: one cycle at a time (`limit=1`, and the deployment's concurrency limit); on shutdown the
deployment is not paused (`pause_on_shutdown=False`), so a restarted container keeps its schedule.
"""

from __future__ import annotations

from pathlib import Path

from flows.monitor import monitor
from newswatch.config.schema import Schedule

__all__ = ["serve_monitor"]


def serve_monitor(config_path: Path, schedule: Schedule) -> None:
    timing = {"interval": schedule.every} if schedule.every else {"cron": schedule.cron}
    monitor.serve(
        name="newswatch",
        parameters={"config_path": str(config_path)},
        pause_on_shutdown=False,
        limit=1,
        global_limit=1,
        **timing,
    )
