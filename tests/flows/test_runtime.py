"""Prefect settings for the flow runs newswatch's commands make."""

from __future__ import annotations

from prefect.settings import get_current_settings

from flows.runtime import foreground_run


def test_a_command_s_flow_run_sends_no_heartbeats(monkeypatch):
    monkeypatch.delenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", raising=False)
    with foreground_run():
        assert get_current_settings().flows.heartbeat_frequency is None


def test_heartbeats_the_user_asked_for_are_kept(monkeypatch):
    monkeypatch.setenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "60")
    before = get_current_settings().flows.heartbeat_frequency
    with foreground_run():
        assert get_current_settings().flows.heartbeat_frequency == before
