"""Every drain test starts and ends with the built-in templates and no installation id: the drain
sets both in the `alerts` package it sends through (`alerts.prepare`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import alerts


@pytest.fixture(autouse=True)
def _builtin_templates() -> Iterator[None]:
    alerts.prepare(None, None)
    yield
    alerts.prepare(None, None)
