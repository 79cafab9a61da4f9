"""Flow tests run real Prefect flows against one test server for the whole session.

Heartbeats are off (they add ~1 s to every sync flow run) and analytics are off (their telemetry
prints "database is locked" tracebacks on SQLite).
"""

from __future__ import annotations

import pytest

from flows.runtime import prefect_defaults


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    prefect_defaults(tmp_path_factory.mktemp("prefect-data"))
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        with prefect_test_harness(server_startup_timeout=120):
            yield
