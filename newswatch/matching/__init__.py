"""Watch queries: parse, evaluate, explain. (Interface placeholder; the query language lands next.)"""

from __future__ import annotations

__all__ = ["QuerySyntaxError", "compile_query", "lint_query"]


class QuerySyntaxError(ValueError):
    def __init__(self, message: str, query: str, position: int):
        super().__init__(message)
        self.message, self.query, self.position = message, query, position

    def explain(self) -> str:
        return f"{self.message}\n    {self.query}\n    {' ' * self.position}^"


def compile_query(text: str, aliases: dict[str, list[str]] | None = None):
    if text.count('"') % 2:
        raise QuerySyntaxError("unclosed quote", text, text.rindex('"'))
    return text


def lint_query(text: str, aliases: dict[str, list[str]] | None = None) -> list[str]:
    return []
