"""The commands that try watchlists without running a cycle: `match` on local files, one JSON
line a file (a contract: other checks read it), and `backtest` over the stored articles."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from cli.options import ConfigOption, load, use
from cli.output import err, out

__all__ = ["backtest", "match"]


def match(files: list[Path] = typer.Argument(..., help="HTML or text files."),
          config: Path | None = ConfigOption) -> None:
    """Print, per file, the watchlists it matches, as one JSON line."""
    use(config)
    from newswatch.documents import read_document
    from newswatch.matching import watch_index

    loaded = load()
    index = watch_index(loaded.watchlists, loaded.aliases)
    failed = False
    for file in files:
        try:
            document = read_document(file)
        except OSError as error:
            err.print(f"match: cannot read {file}: {error.strerror}")
            failed = True
            continue
        matches = [{"watchlist": name, "terms": hit.terms, "snippet": hit.snippet,
                    "highlights": hit.highlights, "hits": [h.__dict__ for h in hit.hits]}
                   for name, hit in index.match(document)]
        print(json.dumps({"file": str(file), "matches": matches}, ensure_ascii=False), flush=True)
    raise typer.Exit(1 if failed else 0)


def backtest(watchlist: str = typer.Argument(None, help="A watchlist name (or use --query)."),
             query: str = typer.Option(None, "--query", "-q", help="A query to try instead."),
             since: str = typer.Option("7d", help="How far back: 30m, 12h, 7d ..."),
             config: Path | None = ConfigOption) -> None:
    """Run a watchlist or a query over stored articles and show what it would have matched."""
    use(config)
    from newswatch.config.units import parse_duration
    from newswatch.matching import QuerySyntaxError, WatchIndex, WatchSpec
    from newswatch.models import Document
    from newswatch.store import articles, session, upgrade
    from newswatch.store.tables import utcnow

    loaded = load()
    if (watchlist is None) == (query is None):
        err.print("backtest takes a watchlist name or --query, not both")
        raise typer.Exit(2)
    if watchlist is not None:
        if watchlist not in {w.name for w in loaded.watchlists}:
            err.print(f"backtest: no watchlist named {watchlist!r}")
            raise typer.Exit(2)
        chosen = loaded.watchlist(watchlist)
        spec = WatchSpec(chosen.name, chosen.query, chosen.exclude, chosen.languages, chosen.sources)
    else:
        spec = WatchSpec("query", query)
    try:
        index = WatchIndex([spec], loaded.aliases)
        window = parse_duration(since)
    except (QuerySyntaxError, ValueError) as error:
        err.print(f"backtest: {error.explain() if isinstance(error, QuerySyntaxError) else error}")
        raise typer.Exit(2) from None
    upgrade(loaded.database)
    with session(loaded.database) as current:
        stored = articles.since(current, utcnow() - window)
    found = 0
    for article, source in stored:
        document = Document(article.title, article.text or "", article.language, source)
        for _, hit in index.match(document):
            found += 1
            out.print(f"[bold]{article.title}[/bold]  ({source}, {article.published_at or 'no date'})")
            out.print(f"  {article.url}\n  matched: {', '.join(hit.terms)}\n  {hit.snippet}\n")
    out.print(f"{found} of {len(stored)} stored articles since {since} match")
