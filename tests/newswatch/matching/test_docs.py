"""docs/queries.md stays true: its examples compile and match as the table says; the package is pure."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

import newswatch.matching
from newswatch.matching import compile_query
from newswatch.models import Document

DOCS = Path(__file__).parents[3] / "docs" / "queries.md"


def _examples() -> list[tuple[str, str, str]]:
    section = DOCS.read_text(encoding="utf-8").split("## Examples")[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [tuple(cell.strip() for cell in row.strip().strip("|").split(" | ")) for row in rows]  # type: ignore[misc]


def _aliases() -> dict[str, list[str]]:
    block = re.search(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert block is not None
    return yaml.safe_load(block[1])["aliases"]


def _doc(cell: str) -> Document:
    return Document(cell.removeprefix("(title) "), "") if cell.startswith("(title) ") else Document("", cell)


EXAMPLES = _examples()


def test_docs_have_examples() -> None:
    assert len(EXAMPLES) >= 20


@pytest.mark.parametrize(("query", "matches", "misses"), EXAMPLES, ids=[e[0].strip("`") for e in EXAMPLES])
def test_documented_example(query: str, matches: str, misses: str) -> None:
    compiled = compile_query(query.strip("`"), _aliases())
    assert compiled.evaluate(_doc(matches)) is not None
    assert compiled.evaluate(_doc(misses)) is None


def test_language_table_queries_compile() -> None:
    section = DOCS.read_text(encoding="utf-8").split("## The language")[1].split("\n## ")[0]
    table = [line for line in section.splitlines() if line.startswith("| `")]
    queries = [q for line in table for q in re.findall(r"`([^`]+)`", line.split(" | ")[0])]
    assert len(queries) >= 15
    for query in queries:
        compile_query(query, _aliases())


def test_matching_imports_only_the_standard_library_pyahocorasick_and_models() -> None:
    allowed = {"newswatch.models", "ahocorasick"}
    package = Path(newswatch.matching.__file__).parent
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                top = name.split(".")[0]
                assert (name in allowed or name.startswith("newswatch.matching") or top == "__future__"
                        or top in __import__("sys").stdlib_module_names), (module.name, name)
