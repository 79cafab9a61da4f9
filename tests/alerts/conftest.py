"""Fixtures for the alert channels: a trusted self-signed certificate and golden files (the local
Slack endpoint and SMTP server are in tests/conftest.py).

Golden files live in tests/data/alerts/. To (re)write them after an intended change, run
`NEWSWATCH_UPDATE_GOLDEN=1 .venv/bin/pytest tests/alerts` and review the diff like code.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from alerts import render
from tests.support.smtp_server import make_certificate

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "alerts"
UPDATE_GOLDEN = os.environ.get("NEWSWATCH_UPDATE_GOLDEN") == "1"


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    """`golden("slack/x.json", text)`: compare with the stored file (or write it when updating)."""

    def check(relative: str, actual: str) -> None:
        path = GOLDEN / relative
        if UPDATE_GOLDEN:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            return
        if not path.exists():
            pytest.fail(f"no golden file {path}: run with NEWSWATCH_UPDATE_GOLDEN=1 to create it")
        assert actual == path.read_text(encoding="utf-8"), (
            f"{relative} differs from the golden file; if the change is intended, rerun with "
            "NEWSWATCH_UPDATE_GOLDEN=1 and review the diff")

    return check


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(cert, key) PEM files of a self-signed certificate for 127.0.0.1."""
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def trust_certificate(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make ssl.create_default_context() trust the test certificate (and nothing else)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return certificate[0]


@pytest.fixture(autouse=True)
def _builtin_templates() -> Iterator[None]:
    """Every test starts and ends with the built-in templates and no installation id (which
    the outbox's drain sets from its store, through alerts.prepare)."""
    render.set_template_dir(None)
    render.set_installation(None)
    yield
    render.set_template_dir(None)
    render.set_installation(None)
