"""Sharding sources between deployments, and prefect.yaml's deployments that use it."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest
import yaml

from flows.shards import in_shard, shard_of
from newswatch.config.schema import SourceConfig
from newswatch.config.units import parse_duration
from newswatch.store import db, session, sources
from newswatch.store.tables import Source
from tests.conftest import ROOT
from tests.deploy.conftest import fresh_pg_database

PREFECT_YAML = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
NAMES = [f"source-{i}" for i in range(200)]


@pytest.mark.parametrize("shards", [1, 2, 3, 4, 7])
def test_every_source_is_in_exactly_one_shard(shards):
    items = [SimpleNamespace(name=n) for n in NAMES]
    parts = [in_shard(items, k, shards) for k in range(shards)]
    assert sorted(i.name for part in parts for i in part) == sorted(NAMES)
    assert all(parts), "a shard got no sources out of 200"


def test_a_shard_is_stable_across_processes_and_versions():
    assert [shard_of(n, 4) for n in ("idlib-desk", "moscow-bureau", "syria-monitor", "damascus-daily")] == \
        [0, 1, 2, 3]  # CRC-32, not hash(): the same in every worker


@pytest.mark.parametrize("shard, shards", [(0, 0), (1, 1), (-1, 2), (4, 4)], ids=["none", "k=n", "negative", "k>n-1"])
def test_a_bad_shard_is_refused(shard, shards):
    with pytest.raises(ValueError):
        in_shard([], shard, shards)


def test_prefect_yaml_has_one_deployment_per_shard():
    deployments = PREFECT_YAML["deployments"]
    shards = len(deployments)
    assert [d["name"] for d in deployments] == [f"shard-{k}" for k in range(shards)]
    assert [d["parameters"] for d in deployments] == [
        {"config_path": "config", "shard": k, "shards": shards} for k in range(shards)]
    for deployment in deployments:
        assert deployment["entrypoint"] == "flows/monitor.py:monitor"
        assert deployment["work_pool"]["name"] == "newswatch"  # `newswatch worker`'s default pool
        assert deployment["concurrency_limit"] == 1  # a shard never overlaps itself


def test_prefect_yaml_runs_on_the_example_configs_schedule():
    every = parse_duration(yaml.safe_load((ROOT / "config" / "newswatch.yaml").read_text())["schedule"]["every"])
    assert {d["schedules"][0]["interval"] for d in PREFECT_YAML["deployments"]} == {every.total_seconds()}


@pytest.mark.postgres
def test_shards_adding_the_same_new_source_at_once_both_succeed():
    """Each shard's plan syncs every configured source; the second insert must not fail."""
    configured = [SourceConfig(name=n, url=f"https://example.org/{n}.xml") for n in ("a", "b", "c")]
    with fresh_pg_database("newswatch_shards") as url:
        store = url.render_as_string(hide_password=False)
        db.upgrade(store)
        failures = []

        def second_shard():
            try:
                with session(store) as current:
                    sources.sync(current, configured)
            except Exception as error:  # noqa: BLE001 - reported below
                failures.append(error)

        with session(store) as first:
            sources.sync(first, configured)  # inserted, not yet committed
            other = threading.Thread(target=second_shard)
            other.start()
            time.sleep(0.5)  # it now waits for our rows
        other.join(timeout=30)
        assert failures == []
        with session(store) as current:
            assert sorted(s.name for s in current.exec(Source.__table__.select())) == ["a", "b", "c"]
        db.engine(store).dispose()
