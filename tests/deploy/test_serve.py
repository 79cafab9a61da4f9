"""`newswatch serve` as a user runs it: a subprocess with its own local Prefect server, a feed on a
local HTTP server, alerts on a jsonl channel. Time to alert, and what SIGTERM does."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.deploy.conftest import NEWSWATCH, Proc, Site, SlowFiles, descendants, prefect_env, running

pytestmark = [pytest.mark.slow, pytest.mark.prefect]

EVERY = 15  # seconds: schedule.every
BOUND = EVERY + 15  # the promise: an item reaches its channels within the interval + 15 s
# distinct texts: near-copies would rightly join one story and alert once
CALM = ("The harbour master reported a quiet week with fewer ferries than usual.\n\n"
        "Fishing boats stayed in port because of the wind, and the fish market opened late on Monday.\n\n"
        "The council plans to repaint the lighthouse before the summer season begins.")
TALKS = ("Diplomats from Ankara and Moscow met again on Idlib, officials said on Tuesday.\n\n"
         "The talks covered the ceasefire line and the joint patrols along the M4 highway, which both "
         "delegations described as the hardest point.\n\n"
         "A statement after the meeting said the two sides would meet again within a week.")
CROSSING = ("Aid convoys rolled through the reopened Bab al-Hawa crossing into Idlib at dawn.\n\n"
            "United Nations staff counted forty trucks carrying flour, tents and medicine for families "
            "displaced by the winter offensive.\n\n"
            "Local councils warned that fuel shortages would still slow the distribution in camps.")


def write_config(tmp_path: Path, feed: str) -> Path:
    path = tmp_path / "newswatch.yaml"
    path.write_text(textwrap.dedent(f"""\
        database: sqlite:///{tmp_path}/store.db
        schedule: {{every: {EVERY}s}}
        fetch: {{timeout: 20s, allow_private_networks: true}}
        sources:
          - {{name: world, url: "{feed}", language: en}}
        channels:
          log: {{type: jsonl, path: "{tmp_path}/alerts.jsonl"}}
        watchlists:
          - {{name: idlib, query: 'Idlib', channels: [log]}}
        """), encoding="utf-8")
    return path


def alerts(tmp_path: Path) -> list[dict]:
    path = tmp_path / "alerts.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def wait_for_alert(tmp_path: Path, url: str, timeout: float) -> float:
    """Seconds until an alert for `url` is in the jsonl file."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if any(a["url"] == url for a in alerts(tmp_path)):
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"no alert for {url} within {timeout:.0f}s; alerts: {alerts(tmp_path)}")


def serve(tmp_path: Path, config: Path) -> Proc:
    """`newswatch serve` without PREFECT_API_URL, run from tmp_path (its data/ goes there)."""
    return Proc([NEWSWATCH, "serve", "--config", str(config)], tmp_path / "serve.log",
                prefect_env(tmp_path / "data" / "prefect"), cwd=tmp_path)


def test_an_item_reaches_its_channel_within_the_interval_plus_15s_and_sigterm_lets_the_cycle_finish(
        tmp_path, site: Site):
    items = [("A calm day at the harbour", site.page("pages/calm.html", "A calm day at the harbour", CALM))]
    feed = site.feed("feeds/world.xml", items)
    process = serve(tmp_path, write_config(tmp_path, feed))
    try:
        # the worst case: the item appears just after a cycle has read the feed
        process.wait_for("- cycle sources=1", timeout=120)
        url = site.page("pages/idlib-talks.html", "Talks on Idlib resume in Moscow", TALKS)
        site.feed("feeds/world.xml", [("Talks on Idlib resume in Moscow", url), *items])
        latency = wait_for_alert(tmp_path, url, timeout=BOUND + 30)
        print(f"time to alert: {latency:.1f}s (every {EVERY}s)")
        assert latency <= BOUND, f"time to alert {latency:.1f}s > {BOUND}s"

        # SIGTERM while a cycle is in flight (its page answers after 6 s): the cycle finishes
        slow_site = Site(tmp_path / "slow", "")
        slow_site.page("idlib-crossing.html", "Idlib crossing reopens", CROSSING)
        with SlowFiles(slow_site.root, delay=6.0) as slow:
            slow_url = f"{slow.base_url}/idlib-crossing.html"
            site.feed("feeds/world.xml", [("Idlib crossing reopens", slow_url), ("Talks on Idlib resume in Moscow", url),
                                          *items])
            assert slow.hit.wait(timeout=EVERY + 30), f"no cycle fetched the page:\n{process.text()[-2000:]}"
            left = descendants(process.pid)
            assert left, "serve has no children: where are the Prefect server and the flow run?"
            signalled = time.monotonic()
            process.popen.send_signal(signal.SIGTERM)
            code = process.popen.wait(timeout=90)
            stopped_after = time.monotonic() - signalled
        output = process.text()
        print(f"SIGTERM mid-cycle: exit {code} after {stopped_after:.1f}s")
        assert code == 0, output[-3000:]
        assert "SIGTERM received: taking no new runs" in output
        assert any(a["url"] == slow_url for a in alerts(tmp_path)), "the cycle in flight did not finish"
        after = output[output.index("SIGTERM received: taking no new runs"):]
        assert "- cycle sources=1" in after and "Finished in state Completed()" in after
        assert [pid for pid in left if running(pid)] == [], "processes left behind after SIGTERM"
        assert len({a["story_id"] for a in alerts(tmp_path)}) == len(alerts(tmp_path)) == 2
    finally:
        process.stop()


def test_sigterm_while_the_local_server_starts_stops_it_too(tmp_path, site: Site):
    feed = site.feed("feeds/world.xml", [])
    process = serve(tmp_path, write_config(tmp_path, feed))
    try:
        deadline = time.monotonic() + 60
        while not descendants(process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # the server is starting, the runner is not
        left = descendants(process.pid)
        assert left, f"serve started no Prefect server:\n{process.text()}"
        process.popen.send_signal(signal.SIGTERM)
        assert process.popen.wait(timeout=40) == 0, process.text()[-3000:]
        assert [pid for pid in left if running(pid)] == []
    finally:
        process.stop()


def test_the_runner_polls_every_2s_with_newswatch_defaults(tmp_path):
    """Checked in a fresh process: prefect reads its settings once, at import."""
    script = ("from pathlib import Path; from flows.runtime import prefect_defaults; "
              f"prefect_defaults(Path({str(tmp_path)!r})); from flows.serve import _DrainingRunner; "
              "print(_DrainingRunner().query_seconds)")
    env = prefect_env(tmp_path / "prefect")
    env.pop("PREFECT_HOME")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60,
                         check=True)
    assert float(out.stdout.split()[-1]) == 2  # Prefect's default is 10
