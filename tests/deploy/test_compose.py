"""docker-compose.yml stays valid and keeps its promises: CI validates it with Debian's
docker-compose 1.29 (`config -q` needs no engine), and the structure is checked here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import yaml

from flows import runtime
from tests.conftest import ROOT
from tests.deploy.conftest import SERVER_SETTINGS

COMPOSE = ROOT / "docker-compose.yml"
SPEC = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
SERVICES = SPEC["services"]
LONG_RUNNING = ["prefect-server", "newswatch", "worker"]  # ours; postgres runs its image's own entrypoint
ONE_SHOT = ["migrate", "deploy"]


def test_docker_compose_1_29_validates_the_file(tmp_path):
    binary = shutil.which("docker-compose")
    if binary is None:
        message = "docker-compose is not installed (apt-get install -y docker-compose; .ci/run does)"
        if os.environ.get("NEWSWATCH_REQUIRE_COMPOSE") == "1":
            pytest.fail(message)
        pytest.skip(message)
    shutil.copy(COMPOSE, tmp_path / "docker-compose.yml")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    for profile in ([], ["--profile", "serve"], ["--profile", "workers"]):
        done = subprocess.run([binary, *profile, "-f", "docker-compose.yml", "config", "-q"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr


def test_the_topology():
    assert set(SERVICES) == {"postgres", "prefect-server", "migrate", "newswatch", "deploy", "worker"}
    assert "name" not in SPEC, "docker-compose 1.29 rejects a top-level name:"
    assert SERVICES["newswatch"]["profiles"] == ["serve"]
    assert SERVICES["deploy"]["profiles"] == SERVICES["worker"]["profiles"] == ["workers"]
    assert "postgres-data:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]
    assert SERVICES["prefect-server"]["environment"]["PREFECT_API_DATABASE_CONNECTION_URL"].startswith(
        "postgresql+asyncpg://")
    assert "pg_trgm" in (ROOT / "docker" / "postgres-init" / "10-prefect.sql").read_text()


@pytest.mark.parametrize("service", LONG_RUNNING + ONE_SHOT)
def test_commands_are_exec_form_and_signals_reach_the_process(service):
    spec = SERVICES[service]
    assert isinstance(spec["command"], list), f"{service}: a shell-form command swallows SIGTERM"
    assert spec.get("init") is True


@pytest.mark.parametrize("service", ["postgres", *LONG_RUNNING])
def test_long_running_services_have_exec_form_health_checks(service):
    check = SERVICES[service]["healthcheck"]["test"]
    assert isinstance(check, list) and check[0] == "CMD"
    assert SERVICES[service]["restart"] == "unless-stopped"


def test_one_shot_steps_run_before_the_services_that_need_them():
    assert SERVICES["migrate"]["restart"] == SERVICES["deploy"]["restart"] == "no"
    for service in ("newswatch", "worker"):
        assert SERVICES[service]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert SERVICES["worker"]["depends_on"]["deploy"] == {"condition": "service_completed_successfully"}
    assert SERVICES["newswatch"]["depends_on"]["prefect-server"] == {"condition": "service_healthy"}


def test_workers_scale():
    worker = SERVICES["worker"]
    assert "container_name" not in worker and "ports" not in worker  # both would clash at --scale 3
    assert worker["command"][:2] == ["newswatch", "worker"]


def test_the_serve_drain_fits_in_the_stop_grace_period():
    from flows.serve import DRAIN_SECONDS

    grace = SERVICES["newswatch"]["stop_grace_period"]
    assert int(grace.removesuffix("s")) > DRAIN_SECONDS


def test_secrets_come_from_the_env_file():
    text = COMPOSE.read_text(encoding="utf-8")
    assert re.findall(r"POSTGRES_PASSWORD[^}]*}", text) and "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?" in text
    assert all(SERVICES[s]["env_file"] == [".env"] for s in ("migrate", "newswatch", "deploy", "worker"))
    assert "127.0.0.1:4200:4200" in SERVICES["prefect-server"]["ports"]  # the API has no authentication
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for name in ("POSTGRES_PASSWORD", "SLACK_WEBHOOK_URL", "SMTP_HOST", "COMPOSE_PROFILES"):
        assert f"\n{name}=" in example


def test_prefect_keeps_its_database_bounded_in_compose_the_local_server_and_the_tests():
    server = SERVICES["prefect-server"]["environment"]
    retention = {k: v for k, v in server.items() if "VACUUM" in k or "RETENTION" in k}
    assert retention == {k: v for k, v in SERVER_SETTINGS.items() if k != "PREFECT_SERVER_ANALYTICS_ENABLED"}
    assert retention["PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED"] == "events,flow_runs"
    assert retention["PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD"] == runtime.RETENTION


def test_the_image_holds_what_the_deployments_need():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY prefect.yaml" in dockerfile and "COPY docker/deploy.sh" in dockerfile
    assert re.search(r'^CMD \[', dockerfile, re.MULTILINE), "exec-form CMD"


def test_the_deployment_guide_states_what_the_files_do():
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    deployments = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))["deployments"]
    assert f"declares {['one', 'two', 'three', 'four', 'five', 'six'][len(deployments) - 1]} deployments" in guide
    server = SERVICES["prefect-server"]["environment"]
    for key in ("PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED", "PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD",
                "PREFECT_SERVER_EVENTS_RETENTION_PERIOD"):
        assert f"{key}={server[key]}" in guide
    assert "--scale worker=3" in guide and "docs/deploy.md" in (ROOT / "README.md").read_text(encoding="utf-8")
    for service in SERVICES:
        assert f"`{service}`" in guide, f"the guide does not mention the {service} service"
