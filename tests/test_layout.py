"""Guard rails for the layout: our top-level packages are ours, and imports flow one way."""

from __future__ import annotations

import ast
import importlib.metadata
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ["newswatch", "connectors", "alerts", "flows", "cli"]
# the layers, bottom to top: a package imports itself and the layers below it, never one beside it
LAYERING = "newswatch (core) ← connectors, alerts (edges) ← flows (orchestration) ← cli (the top)"
ALLOWED = {
    "newswatch": {"newswatch"},
    "connectors": {"connectors", "newswatch"},
    "alerts": {"alerts", "newswatch"},
    "flows": {"flows", "alerts", "connectors", "newswatch"},
    "cli": {"cli", "flows", "alerts", "connectors", "newswatch"},
}


@pytest.mark.parametrize("package", PACKAGES)
def test_no_other_distribution_provides_our_packages(package):
    providers = importlib.metadata.packages_distributions().get(package, [])
    assert set(providers) <= {"newswatch"}, f"{package} is also provided by {providers}"


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_flow_one_way(package):
    wrong = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if "/migrations/" in relative:
            continue
        extra = _imports(path) - ALLOWED[package]
        if extra:
            wrong[relative] = sorted(extra)
    assert not wrong, f"imports against the layers ({LAYERING}): {package} may import only " \
                      f"{sorted(ALLOWED[package])}: {wrong}"


EDGES = ["alerts", "connectors"]
# the edges render, send, fetch and parse: the store, and the libraries it talks SQL with, are the core's
NO_DATABASE = ("newswatch.store", "sqlalchemy", "sqlmodel")


def _modules(path: Path) -> set[str]:
    """Every module `path` imports, by its full name (`from a import b` counts as a and a.b)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return found


@pytest.mark.parametrize("package", EDGES)
def test_the_edges_know_no_database(package):
    wrong = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        found = sorted(m for m in _modules(path) if any(m == d or m.startswith(f"{d}.") for d in NO_DATABASE))
        if found:
            wrong[path.relative_to(ROOT).as_posix()] = found
    assert not wrong, f"{package}/ imports the store or SQL (the outbox's drain, in the core, holds it): {wrong}"
