"""Slack Block Kit payloads for incoming webhooks (api.slack.com "Formatting text", "Blocks").

Rules: `&`, `<`, `>` become `&amp;` `&lt;` `&gt;` and nothing else is entity-encoded. mrkdwn has
no escape for `*`, `_`, `~` and backtick, so in outside text those are swapped for look-alikes
(∗ ˍ ∼ ˋ) *before* our own bold markers and links are added, and `|` in a link label becomes ∣;
so a headline can never break its link or bold the wrong words. "Also reported by" links each
outlet's report while it fits its budget, and names the others. A story several watchlists
alerted names each in its own context element (the last one listing what does not fit); a
digest that names several watchlists shows each story's. Texts are cut with "…" to Slack's
limits: 3,000 characters per section, 150 per header, ≤ 50 blocks, ≤ 10 context elements. A
digest also stops near 12,000 characters, where Slack has been seen to reject messages
(slackapi/bolt-js#2509), and then ends with "and N more".
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from alerts._pieces import check_count, clip, cut, oneline, several, story_view, watchlists, when
from newswatch.models import Alert

__all__ = ["SLACK_BLOCKS_MAX", "SLACK_CONTEXT_MAX", "SLACK_DIGEST_CHARS", "SLACK_HEADER_MAX",
           "SLACK_TEXT_MAX", "slack", "slack_escape"]

SLACK_TEXT_MAX = 3000
SLACK_HEADER_MAX = 150
SLACK_BLOCKS_MAX = 50
SLACK_CONTEXT_MAX = 10
SLACK_DIGEST_CHARS = 12_000
_SLACK_TITLE = 250
_SLACK_DIGEST_SNIPPET = 300
_SLACK_SMALL = 300  # one context element
_SLACK_ALSO = 2000  # "also reported by", its outlets linked (a text object holds 3,000)
_SLACK_DIGEST_ALSO = 600  # the same in a digest's story


_SLACK_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_SLACK_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;",
                             "*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"})


def slack_escape(text: str) -> str:
    """Escape Slack's three control characters, and only those."""
    return text.translate(_SLACK_ESCAPES)


def _mrkdwn(text: str) -> str:
    """Outside text made inert in mrkdwn: escaped, formatting markers swapped for look-alikes."""
    return text.translate(_SLACK_TEXT)


def _mrkdwn_len(text: str) -> int:
    return len(_mrkdwn(text))


def _slack_bold(text: str) -> str:
    return f"*{_mrkdwn(text)}*"  # segments() keeps spaces out of hits: Slack ignores `* x*`


def _slack_link(url: str, label: str) -> str:
    """`<url|label>`: the URL's `|`, `<`, `>`, quotes and spaces percent-encoded, `label` already mrkdwn."""
    url = re.sub(r"[|<>\"\s]", lambda m: f"%{ord(m.group()):02X}", url)
    return f"<{slack_escape(url)}|{label.replace('|', chr(0x2223))}>"


def _slack_headline(view: dict[str, Any], limit: int) -> str:
    label = _mrkdwn(cut(view["title"], _SLACK_TITLE)).replace("|", "\u2223")
    if view["url"]:
        link = f"*{_slack_link(view['url'], label)}*"
        if len(link) <= limit:
            return link
    return f"*{label}*"


def _slack_also(view: dict[str, Any], budget: int) -> str:
    """"also reported by N outlets: <url|name>, …", each outlet linked while the text stays within
    `budget` characters (the others named only)."""
    if not view["also"]:
        return ""
    head, more = _small(view["also_head"]) + ": ", view["also_more"] and " " + _small(view["also_more"])
    names = [_small(o["name"]) for o in view["also_links"]]
    used = len(head) + len(more) + sum(len(n) + 2 for n in names)
    if used > budget:
        return _small(view["also"])
    shown = []
    for name, outlet in zip(names, view["also_links"], strict=True):
        link = _slack_link(outlet["url"], name) if outlet["url"] else name
        if used - len(name) + len(link) <= budget:
            used += len(link) - len(name)
            name = link
        shown.append(name)
    return head + ", ".join(shown) + more


def _slack_date(published: datetime | None) -> str:
    """A date token Slack shows in the reader's time zone, with a UTC fallback text."""
    if published is None:
        return ""
    stamp = int((published if published.tzinfo else published.replace(tzinfo=timezone.utc))
                .timestamp())
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{when(published)}>"


def _slack_snippet(pieces: list[tuple[str, bool]], budget: int) -> str:
    hits = sum(1 for _, hit in pieces if hit)
    clipped = clip(pieces, budget - 2 * hits, cost=_mrkdwn_len)
    return "".join(_slack_bold(text) if hit else _mrkdwn(text) for text, hit in clipped)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SLACK_TEXT_MAX]}}


def _context(texts: list[str]) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": t}
                                            for t in texts[:SLACK_CONTEXT_MAX]]}


def slack(alerts: list[Alert], digest: bool = False) -> dict[str, Any]:
    """An incoming-webhook payload for one alert or a digest."""
    check_count(alerts, digest)
    blocks = _slack_digest(alerts) if digest else _slack_single(story_view(alerts[0]))
    if digest:
        fallback = f"{len(alerts)} stories for {watchlists(alerts)}"
    else:
        fallback = f"{oneline(alerts[0].title)} ({oneline(alerts[0].source)})"
    return {"text": _mrkdwn(cut(fallback, _SLACK_SMALL)), "blocks": blocks,
            "unfurl_links": False, "unfurl_media": False}


def _small(text: str) -> str:
    """A short outside text (source, watchlist, terms) for a context element or a meta line."""
    return _mrkdwn(cut(text, _SLACK_SMALL)) if text else ""


def _watchlist_elements(view: dict[str, Any], room: int) -> list[str]:
    """Context texts naming the story's watchlists: one with its terms each, at most `room`."""
    if not view["grouped"]:
        terms = "matched: " + ", ".join(view["terms"]) if view["terms"] else ""
        return [_small(f"watchlist: {view['watchlist']}"), _small(terms)]
    named = [_small(" · ".join(t for t in (f"watchlist: {w['name']}", w["matched"]) if t))
             for w in view["watchlists"]]
    if len(named) <= room:
        return named
    rest = [w["name"] for w in view["watchlists"][room - 1:]]
    return [*named[:room - 1], _small(f"and {len(rest)} more watchlists: " + ", ".join(rest))]


def _slack_single(view: dict[str, Any]) -> list[dict[str, Any]]:
    meta = [t for t in (_small(view["source"]), _slack_date(view["published"])) if t]
    meta += _watchlist_elements(view, SLACK_CONTEXT_MAX - len(meta))
    blocks = [_section(_slack_headline(view, SLACK_TEXT_MAX)), _context([t for t in meta if t])]
    snippet = _slack_snippet(view["segments"], SLACK_TEXT_MAX)
    if snippet.strip():
        blocks.append(_section(snippet))
    if view["also"]:
        blocks.append(_context([_slack_also(view, _SLACK_ALSO)]))
    return blocks


def _slack_story(view: dict[str, Any], named: bool) -> str:
    """One digest story as one section text (≤ 3,000 characters); `named`: with its watchlists."""
    headline = _slack_headline(view, SLACK_TEXT_MAX // 2)
    why = "; ".join(" ".join(t for t in (w["name"], f"({w['matched']})" if w["matched"] else "") if t)
                    for w in view["watchlists"]) if named else ""
    meta = " · ".join(t for t in (_small(view["source"]), _slack_date(view["published"]),
                                  _small(why and f"watchlists: {why}"), _slack_also(view, _SLACK_DIGEST_ALSO)) if t)
    budget = min(_SLACK_DIGEST_SNIPPET, SLACK_TEXT_MAX - len(headline) - len(meta) - 2)
    snippet = _slack_snippet(view["segments"], budget)
    return "\n".join(part for part in (headline, meta, snippet) if part.strip())


def _slack_digest(alerts: list[Alert]) -> list[dict[str, Any]]:
    header = cut(f"{len(alerts)} stories for {watchlists(alerts)}", SLACK_HEADER_MAX)
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": header}}]
    used = 0
    for position, alert in enumerate(alerts):
        left = len(alerts) - position
        text = _slack_story(story_view(alert), several(alerts))
        room = SLACK_BLOCKS_MAX - len(blocks) - (1 if left > 1 else 0)
        if room < 1 or used + len(text) > SLACK_DIGEST_CHARS:
            blocks.append(_context([f"and {left} more"]))
            break
        blocks.append(_section(text))
        used += len(text)
    return blocks
