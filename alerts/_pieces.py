"""What every renderer works from: one story as a plain dict, and the small text helpers.

Rules: titles are folded onto one line (CR, LF and any run of whitespace become one space) and
cut to `TITLE_CHARS`; highlights are clipped, sorted and merged, and a hit never starts or ends
with a space; snippets are cut to `SNIPPET_CHARS` with "…"; only http(s) URLs become links;
times are shown in UTC. A story several watchlists alerted at once (one message, issue 19) names
each of them with its terms (`watchlists`, `grouped`); a digest's label names every watchlist once.
"Also reported by" names the first `ALSO_NAMES` outlets, each with its report's address where it is
an http(s) URL (`also_links`), and counts the rest (`also_more`).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from newswatch.models import Alert

__all__ = ["SNIPPET_CHARS", "check_count", "clip", "cut", "link_url", "oneline", "segments", "several",
           "story_view", "watchlists", "when"]

SNIPPET_CHARS = 1000
TITLE_CHARS = 300
ALSO_NAMES = 10


def oneline(text: str) -> str:
    """Fold CR, LF and every run of whitespace into one space."""
    return " ".join(text.split())


def segments(snippet: str, highlights: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """Split `snippet` into (text, is_hit) pieces; bad, overlapping or unsorted spans are fixed."""
    spans = sorted((max(0, s), min(len(snippet), e)) for s, e in highlights)
    merged: list[list[int]] = []
    for start, end in spans:
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces, position = [], 0
    for start, end in merged:
        if start > position:
            pieces.append((snippet[position:start], False))
        pieces.append((snippet[start:end], True))
        position = end
    if position < len(snippet):
        pieces.append((snippet[position:], False))
    return _tidy(pieces)


def _tidy(pieces: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """Fold whitespace runs; move a hit's outer spaces out of it (`*x*` must hug the word)."""
    out: list[tuple[str, bool]] = []
    for text, hit in pieces:
        text = re.sub(r"\s+", " ", text)
        core = text.strip() if hit else text
        parts = [(text[: len(text) - len(text.lstrip())], False), (core, hit),
                 (text[len(text.rstrip()):], False)] if hit else [(text, False)]
        for part, is_hit in parts:
            if not part:
                continue
            if out and not is_hit and not out[-1][1]:
                out[-1] = (out[-1][0] + part, False)
            else:
                out.append((part, is_hit))
    return out


def clip(pieces: list[tuple[str, bool]], limit: int, cost=len) -> list[tuple[str, bool]]:
    """Cut pieces so their total `cost` is at most `limit`, ending with "…" when cut."""
    if sum(cost(text) for text, _ in pieces) <= limit:
        return pieces
    out, room = [], limit - 1
    for text, hit in pieces:
        if cost(text) <= room:
            out.append((text, hit))
            room -= cost(text)
            continue
        kept = []
        for char in text:
            room -= cost(char)
            if room < 0:
                break
            kept.append(char)
        if "".join(kept).strip():
            out.append(("".join(kept).rstrip(), hit))
        break
    return [*out, ("…", False)]


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def link_url(url: str) -> str | None:
    """The URL if it may be linked (http or https), else None."""
    url = url.strip()
    return url if re.match(r"(?i)https?://[^\s]", url) else None


def when(published: datetime | None) -> str:
    if published is None:
        return ""
    if published.tzinfo is None:
        published = published.replace(tzinfo=timezone.utc)
    return published.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def also_line(names: list[str]) -> str:
    if not names:
        return ""
    shown = ", ".join(oneline(n) for n in names[:ALSO_NAMES])
    return f"{_also_head(names)}: {shown}{_also_more(names)}"


def _also_head(names: list[str]) -> str:
    return f"also reported by {len(names)} {'outlet' if len(names) == 1 else 'outlets'}" if names else ""


def _also_more(names: list[str]) -> str:
    return f" and {len(names) - ALSO_NAMES} more" if len(names) > ALSO_NAMES else ""


def _also_links(alert: Alert) -> list[dict[str, Any]]:
    """The first ALSO_NAMES outlets, each with its report's linkable URL (or None)."""
    urls = dict(alert.also_reports)
    links = []
    for name in alert.also_reported_by[:ALSO_NAMES]:
        url = urls.get(name, "")
        shown = re.sub(r'[\s<>"]', lambda m: f"%{ord(m.group()):02X}", url.strip())  # one word in plain text
        links.append({"name": oneline(name), "url": link_url(url), "raw_url": shown})
    return links


def watchlists(alerts: list[Alert]) -> str:
    """Every watchlist the alerts name, once each, in order."""
    return ", ".join(dict.fromkeys(oneline(name) for a in alerts for name, _ in a.named()))


def several(alerts: list[Alert]) -> bool:
    """Whether the alerts name more than one watchlist."""
    return len({name for a in alerts for name, _ in a.named()}) > 1


def _watchlist_views(alert: Alert) -> list[dict[str, Any]]:
    return [{"name": oneline(name), "terms": terms,
             "matched": "matched: " + ", ".join(terms) if terms else ""} for name, terms in alert.named()]


def story_view(alert: Alert, snippet_chars: int = SNIPPET_CHARS) -> dict[str, Any]:
    """What every template sees for one story."""
    return {
        "story_id": alert.story_id, "watchlist": alert.watchlist,
        "watchlists": _watchlist_views(alert), "grouped": len(alert.named()) > 1,
        "title": _updated(alert.revision) + (cut(oneline(alert.title), TITLE_CHARS) or "(untitled)"),
        "url": link_url(alert.url), "revision": alert.revision,
        "raw_url": oneline(alert.url), "source": oneline(alert.source),
        "when": when(alert.published), "published": alert.published,
        "terms": list(alert.terms), "also_reported_by": list(alert.also_reported_by),
        "also": also_line(alert.also_reported_by), "also_head": _also_head(alert.also_reported_by),
        "also_links": _also_links(alert), "also_more": _also_more(alert.also_reported_by).strip(),
        "segments": clip(segments(alert.snippet, alert.highlights), snippet_chars),
    }


def _updated(revision: int) -> str:
    """The title's prefix for a follow-up alert of a story (revision n > 0)."""
    return f"Update {revision}: " if revision > 0 else ""


def check_count(alerts: list[Alert], digest: bool) -> None:
    if not alerts:
        raise ValueError("render: no alerts")
    if not digest and len(alerts) != 1:
        raise ValueError(f"render: {len(alerts)} alerts without digest=True")
