"""Watch queries: parse, evaluate, explain, and match many at once.

The language is documented in docs/queries.md. Modules, in the order data flows through them:
text (fold, tokenize) → lexer (query tokens, QuerySyntaxError with a caret) → parser (tree) → nodes
(each operator describes and evaluates itself) → document (a document tokenized once) → query
(compile_query, Query.evaluate → Hit with snippet) → index (WatchIndex: many specs, candidates only).
lint_query gives advice that is not an error. Pure: no I/O; imports only newswatch.models.
"""

from __future__ import annotations

from newswatch.matching.index import WatchIndex, WatchSpec, watch_index
from newswatch.matching.lexer import QuerySyntaxError
from newswatch.matching.lint import lint_query
from newswatch.matching.query import Query, compile_query

__all__ = ["Query", "QuerySyntaxError", "WatchIndex", "WatchSpec", "compile_query", "lint_query", "watch_index"]
