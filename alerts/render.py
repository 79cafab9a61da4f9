"""Turn alerts into channel messages. Pure: no network, no clock (the caller passes `sent_at`).

    record(alert, sent_at)         the JSON object that jsonl writes and webhook posts
    slack(alerts, digest)          an incoming-webhook payload: Block Kit + `text` fallback
                                   (alerts._slack_blocks: escaping and limits)
    email(alerts, digest)          EmailContent: subject, text and HTML parts, thread ids, List-Id
    markdown(alerts, digest)       (title, body) for Apprise
    console(alerts, digest)        a rich renderable
    atom_entry(alert)              the fields of an Atom entry, with an HTML summary and related links

Rules: a digest is several alerts in one message, each story once (for one watchlist or several:
the texts name them all, and ids use the first). An alert naming several watchlists (one story
several watchlists alerted at once, issue 19) shows each with its terms; ids and List-Id use its
first watchlist, and `record` keeps `watchlist` and `terms` (the first's) beside `watchlists`. Every renderer works from the same story view
(alerts._pieces): titles folded onto one line, so a headline can never inject a mail header;
highlights repaired; snippets cut; only http(s) URLs linked. "Also reported by" links each outlet's
report wherever the channel can link (Slack, e-mail, Apprise's Markdown, the console's terminal
links, Atom's related links and HTML summary); the plain-text e-mail lists each with its address.

Templates: email.txt, email.html and the per-story alert.txt / alert.html (also the Atom
summary) live in alerts/templates/ (Jinja2; autoescaped when the name ends in .html).
`set_template_dir(path)` or the `templates=` argument puts a directory in front of them: a file
of the same name there wins, the others still come from the package.

Message-IDs: every one carries the installation id (`set_installation`, or the `installation=`
argument; the outbox's drain sets the store's through `alerts.prepare`), as `@ID.newswatch`, so
story 12's first alert differs from story 12's after a store reset or in another installation,
while a follow-up still names its story's first alert in In-Reply-To. Without one (pure rendering, golden files) the ids read
`@newswatch`. A message that is no story (story 0: a notice, a test) is its own thread: its id
names its delivery, or is random when it has none.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.style import Style
from rich.text import Text

from alerts._pieces import (SNIPPET_CHARS, check_count, cut, oneline, segments, several, story_view,
                            watchlists)
from alerts._slack_blocks import (SLACK_BLOCKS_MAX, SLACK_DIGEST_CHARS, SLACK_HEADER_MAX,
                                  SLACK_TEXT_MAX, slack, slack_escape)
from newswatch.models import Alert

if TYPE_CHECKING:
    from jinja2 import Environment

__all__ = [
    "EmailContent", "SLACK_BLOCKS_MAX", "SLACK_DIGEST_CHARS", "SLACK_HEADER_MAX", "SLACK_TEXT_MAX",
    "SNIPPET_CHARS", "atom_entry", "atom_id", "console", "digest_message_id", "email", "markdown",
    "message_ids", "record", "segments", "set_installation", "set_template_dir", "slack", "slack_escape",
]

_SUBJECT_CHARS = 200

_TEMPLATES = Path(__file__).with_name("templates")
_template_dir: Path | None = None
_installation: str | None = None


def set_template_dir(path: str | Path | None) -> None:
    """Look for templates in `path` first (None: only the built-in ones)."""
    global _template_dir
    _template_dir = Path(path) if path else None


def set_installation(installation: str | None) -> None:
    """Put `installation` (the store's id) in every Message-ID rendered from now on."""
    global _installation
    _installation = installation


@lru_cache(maxsize=8)
def _env(directory: Path | None) -> Environment:
    # imported here: every cycle imports the channels, and jinja2 costs ~0.1 s of the start-up of
    # a cycle that may have nothing to send
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    paths = [directory, _TEMPLATES] if directory else [_TEMPLATES]
    env = Environment(loader=FileSystemLoader(paths), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters["sentence"] = lambda text: text[:1].upper() + text[1:]
    return env


def _render(name: str, templates: str | Path | None, **context: Any) -> str:
    directory = Path(templates) if templates else _template_dir
    return _env(directory).get_template(name).render(**context)


# -- jsonl / webhook ---------------------------------------------------------------------------

def record(alert: Alert, sent_at: datetime) -> dict[str, Any]:
    """The JSON object for one alert (jsonl line, webhook body)."""
    return {
        "watchlist": alert.watchlist, "story_id": alert.story_id, "title": alert.title,
        "url": alert.url, "source": alert.source,
        "published": alert.published.isoformat() if alert.published else None,
        "terms": list(alert.terms), "snippet": alert.snippet,
        "highlights": [[start, end] for start, end in alert.highlights],
        "also_reported_by": list(alert.also_reported_by), "delivery_id": alert.delivery_id,
        "revision": alert.revision, "sent_at": sent_at.isoformat(),
        "watchlists": [{"name": name, "terms": terms} for name, terms in alert.named()],
        "also_reported": [{"source": name, "url": url} for name, url in alert.also_reports],
    }


# -- email -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str
    message_id: str
    in_reply_to: str | None  # the story's first message, for follow-ups (also References)
    list_id: str


def _dot_atom(name: str) -> str:
    """`name` made safe inside a Message-ID or List-Id (RFC 5322 dot-atom-text)."""
    safe = re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9_.-]+", "-", name)).strip(".")
    return safe or "watchlist"


def _domain(installation: str | None) -> str:
    """The right-hand side of our ids: the installation's own when there is one."""
    return f"{_dot_atom(installation)}.newswatch" if installation else "newswatch"


def message_ids(story_id: int, watchlist: str, revision: int = 0,
                installation: str | None = None) -> tuple[str, str | None]:
    """(Message-ID, In-Reply-To): revision 0 is the story's root, later ones reply to it."""
    domain = _domain(installation)
    root = f"<story-{story_id}.{_dot_atom(watchlist)}@{domain}>"
    if revision <= 0:
        return root, None
    return f"<story-{story_id}.{_dot_atom(watchlist)}.r{revision}@{domain}>", root


def digest_message_id(alerts: list[Alert], installation: str | None = None) -> str:
    """A digest's own id: the same stories for the same watchlist give the same id."""
    watchlist = alerts[0].watchlist
    key = f"{watchlist}|" + ",".join(str(i) for i in sorted({a.story_id for a in alerts}))
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return f"<digest-{digest}.{_dot_atom(watchlist)}@{_domain(installation)}>"


def _thread_ids(alerts: list[Alert], digest: bool, revision: int,
                installation: str | None) -> tuple[str, str | None]:
    """(Message-ID, In-Reply-To) of a story, a digest, or a message that is no story (story 0)."""
    if digest:
        return digest_message_id(alerts, installation), None
    alert = alerts[0]
    if alert.story_id == 0:
        own = alert.delivery_id if alert.delivery_id is not None else uuid.uuid4().hex
        return f"<notice-{own}.{_dot_atom(alert.watchlist)}@{_domain(installation)}>", None
    return message_ids(alert.story_id, alert.watchlist, revision, installation)


def email(alerts: list[Alert], digest: bool = False, *, revision: int = 0,
          templates: str | Path | None = None, installation: str | None = None) -> EmailContent:
    """Subject, text and HTML parts and thread ids for one alert or a digest (`installation`:
    the store's id, else the one `set_installation` gave)."""
    check_count(alerts, digest)
    label, views = watchlists(alerts), [story_view(a) for a in alerts]
    headline = f"{len(alerts)} stories" if digest else views[0]["title"]
    subject = cut(oneline(f"[newswatch] {label}: {headline}"), _SUBJECT_CHARS)
    message_id, in_reply_to = _thread_ids(alerts, digest, revision, installation or _installation)
    context = {"alerts": views, "digest": digest, "watchlist": label, "count": len(alerts),
               "subject": subject, "several": several(alerts)}
    return EmailContent(subject=subject, text=_render("email.txt", templates, **context),
                        html=_render("email.html", templates, **context), message_id=message_id,
                        in_reply_to=in_reply_to,
                        list_id=f"<{_dot_atom(alerts[0].watchlist)}.newswatch>")


# -- apprise -----------------------------------------------------------------------------------

def _md(text: str) -> str:
    return re.sub(r"([\\`*_{}\[\]()<>#+!|~])", r"\\\1", text)


def _md_story(view: dict[str, Any]) -> str:
    title = _md(view["title"])
    url = view["url"] and _md_url(view["url"])
    lines = [f"**[{title}]({url})**" if url else f"**{title}**"]
    if view["grouped"]:
        lines.append(_md(" · ".join(t for t in (view["source"], view["when"]) if t)))
        lines += [_md(" · ".join(t for t in (f"watchlist: {w['name']}", w["matched"]) if t))
                  for w in view["watchlists"]]
    else:
        lines.append(_md(" · ".join(t for t in (view["source"], view["when"],
                                                f"watchlist: {view['watchlist']}") if t)))
        if view["terms"]:
            lines.append(_md("matched: " + ", ".join(view["terms"])))
    snippet = "".join(f"**{_md(t)}**" if hit else _md(t) for t, hit in view["segments"])
    lines += ["", snippet] if snippet.strip() else []
    if view["also"]:
        outlets = [f"[{_md(o['name'])}]({_md_url(o['url'])})" if o["url"] else _md(o["name"])
                   for o in view["also_links"]]
        lines += ["", _md(view["also_head"] + ": ") + ", ".join(outlets)
                  + (_md(" " + view["also_more"]) if view["also_more"] else "")]
    return "\n".join(lines)


def _md_url(url: str) -> str:
    return re.sub(r"[()<>\s]", lambda m: f"%{ord(m.group()):02X}", url)


def markdown(alerts: list[Alert], digest: bool = False) -> tuple[str, str]:
    """(title, Markdown body) for Apprise."""
    check_count(alerts, digest)
    views = [story_view(a) for a in alerts]
    if not digest:
        return views[0]["title"], _md_story(views[0])
    return (f"{len(alerts)} stories for {watchlists(alerts)}",
            "\n\n---\n\n".join(_md_story(v) for v in views))


# -- console -----------------------------------------------------------------------------------

def _console_story(view: dict[str, Any]) -> Text:
    text = Text()
    text.append(view["title"], style=Style(bold=True, link=view["url"]))
    meta = " · ".join(t for t in (view["source"], view["when"]) if t)
    text.append(f"\n{meta}", style="dim")
    for watchlist in view["watchlists"]:
        text.append(f"\nwatchlist {watchlist['name']}", style="dim")
        if watchlist["matched"]:
            text.append(f" · {watchlist['matched']}", style="dim")
    text.append("\n")
    for piece, hit in view["segments"]:
        text.append(piece, style="bold yellow" if hit else None)
    text.append(f"\n{view['raw_url']}", style=Style(color="blue", link=view["url"]))
    if view["also"]:
        text.append(f"\n{view['also_head']}: ", style="dim")
        for position, outlet in enumerate(view["also_links"]):
            text.append(", " if position else "", style="dim")
            text.append(outlet["name"], style=Style(dim=True, link=outlet["url"]) if outlet["url"] else "dim")
        if view["also_more"]:
            text.append(f" {view['also_more']}", style="dim")
    return text


def console(alerts: list[Alert], digest: bool = False) -> RenderableType:
    """A rich panel: one story, or a digest listing the stories."""
    check_count(alerts, digest)
    views = [story_view(a, 300 if digest else SNIPPET_CHARS) for a in alerts]
    if not digest:
        return Panel(_console_story(views[0]), title=Text(f"newswatch · {watchlists(alerts)}"),
                     title_align="left")
    stories = [part for v in views for part in (_console_story(v), Text(""))][:-1]
    return Panel(Group(*stories), title=Text(f"{len(alerts)} stories for {watchlists(alerts)}"),
                 title_align="left")


# -- atom --------------------------------------------------------------------------------------

def atom_id(alert: Alert) -> str:
    return f"tag:newswatch,2026:story-{alert.story_id}-{_dot_atom(alert.watchlist)}"


def atom_entry(alert: Alert, *, templates: str | Path | None = None) -> dict[str, Any]:
    """id, title, url, published, author, categories and an HTML summary for one Atom entry."""
    view = story_view(alert)
    return {"id": atom_id(alert), "title": view["title"], "url": view["url"],
            "published": alert.published, "author": view["source"], "categories": view["terms"],
            "related": [(o["name"], o["url"]) for o in view["also_links"] if o["url"]],
            "summary_html": _render("alert.html", templates, a=view).strip()}
