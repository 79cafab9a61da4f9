"""Subscription lists in and out of the sources YAML (issue 19): which feeds become which sources,
and how they are written into a sources file without touching what it already says.

`plan_import(subscriptions, existing)` decides, purely:
- a feed whose URL is already a source's, or an earlier feed's of the same list, is skipped and
  reported; URLs are compared in their canonical form (newswatch.urls.canonical_url: host case,
  default port, fragment, tracking parameters, an empty path as "/");
- a name comes from the feed's title: a title that is already a valid name is kept as written (so
  an exported list comes back with the same names), any other is folded to ASCII and lowercased
  into a slug (`Daring Fireball` → `daring-fireball`); a title that leaves nothing (none at all,
  or only non-Latin letters) names the source after its URL's host and path
  (`https://medium.com/feed/@tessr` → `medium.com-tessr`). Names are unique, case aside: a taken one
  gets `-2`, `-3`, …;
- a feed inside folders keeps their path as the source's `category` (`News/Turkey`); a feed an
  OPML comments out (`isComment`) comes in with `enabled: false`.

`merged_text(text, entries)` writes: the file's text with the new entries appended to its
`sources:` list, everything it held before (entries, order, comments, layout) byte for byte,
in the list's own style (one flow mapping a line, or block mappings) and line ending; a file
without a `sources:` key gets one at its end. `write_atomic` replaces a file by renaming a
finished temporary file over it. `subscriptions(sources)` is the way out: the configured sources
as the codec (connectors.opml) writes them.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from newswatch.config.schema import SourceConfig
from newswatch.urls import canonical_url

__all__ = [
    "Added",
    "ImportPlan",
    "MergeError",
    "Skipped",
    "Subscription",
    "merged_text",
    "plan_import",
    "source_name",
    "subscriptions",
    "write_atomic",
]

CATEGORY_SEPARATOR = "/"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_NAME_LENGTH = 60  # a derived name; a title kept as written may be up to the schema's 200
_GENERIC_SEGMENTS = frozenset({"feed", "feeds", "rss", "rss2", "atom", "xml", "index", "default",
                               "posts", "blog-feed", "all", "main", "www"})
_HEADER = ("# Sources: one feed each (the README's configuration reference lists the keys).\n"
           "# Written by `newswatch sources import`; edit freely.\n")


@dataclass(frozen=True)
class Subscription:
    """One feed of a subscription list (an OPML outline with an xmlUrl), or one source going out."""

    url: str
    title: str = ""
    html_url: str = ""
    language: str | None = None
    category: tuple[str, ...] = ()  # the folders it sits in, outermost first
    enabled: bool = True
    line: int | None = None  # where the list holds it, for reports


@dataclass(frozen=True)
class Added:
    name: str
    subscription: Subscription

    def entry(self) -> dict[str, Any]:
        """The source as a YAML mapping: name and url first, then what the list said besides."""
        entry: dict[str, Any] = {"name": self.name, "url": self.subscription.url}
        if self.subscription.language:
            entry["language"] = self.subscription.language
        if self.subscription.category:
            entry["category"] = CATEGORY_SEPARATOR.join(self.subscription.category)[:500]  # the schema's cap
        if not self.subscription.enabled:
            entry["enabled"] = False
        return entry


@dataclass(frozen=True)
class Skipped:
    subscription: Subscription
    reason: str


@dataclass(frozen=True)
class ImportPlan:
    added: list[Added]
    skipped: list[Skipped]


class MergeError(ValueError):
    """The sources file cannot take new entries as text (its top level or `sources:` is no list)."""


def plan_import(feeds: Iterable[Subscription], existing: Sequence[SourceConfig]) -> ImportPlan:
    """Which feeds become sources, under which names, and which are skipped and why."""
    taken = {source.name.casefold() for source in existing}
    seen = {canonical_url(source.url): f"already a source: {source.name}" for source in existing}
    added: list[Added] = []
    skipped: list[Skipped] = []
    for feed in feeds:
        key = canonical_url(feed.url)
        if key in seen:
            skipped.append(Skipped(feed, seen[key]))
            continue
        name = source_name(feed.title, feed.url, taken)
        taken.add(name.casefold())
        where = f" (line {feed.line})" if feed.line else ""
        seen[key] = f"the same feed as {name}{where}"
        added.append(Added(name, feed))
    return ImportPlan(added, skipped)


def source_name(title: str, url: str, taken: set[str] = frozenset()) -> str:
    """A valid source name for the feed, unique among `taken` (casefolded names)."""
    title = " ".join(title.split())
    base = title if _NAME.match(title) and len(title) <= 200 else _slug(title) or _url_name(url)
    name, n = base, 1
    while name.casefold() in taken:
        n += 1
        name = f"{base}-{n}"
    return name


def _slug(text: str) -> str:
    text = re.sub(r"(\w)['\u2019](\w)", r"\1\2", text)  # "Ellen's Blog" → ellens-blog
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9_.]+", "-", ascii_text.lower())
    slug = re.sub(r"[-_.]*-[-_.]*", "-", slug)  # "a - b" and "a.-b" are one separator
    slug = slug.strip("-_.")
    if len(slug) > _NAME_LENGTH:
        cut = slug[:_NAME_LENGTH]
        slug = (cut.rsplit("-", 1)[0] if "-" in cut[_NAME_LENGTH // 2:] else cut).strip("-_.")
    return slug


def _url_name(url: str) -> str:
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").removeprefix("www.")
    except ValueError:
        host, parts = "", None
    segments = [re.sub(r"\.(xml|rss|atom|php|aspx?|html?|json)$", "", s, flags=re.IGNORECASE)
                for s in (parts.path.split("/") if parts else []) if s]
    kept = [s for s in segments if s.lower() not in _GENERIC_SEGMENTS]
    return _slug(" ".join([host, *kept])) or "feed"


def subscriptions(sources: Iterable[SourceConfig]) -> list[Subscription]:
    """The configured sources as a subscription list (the name is the title)."""
    return [Subscription(url=source.url, title=source.name, language=source.language,
                         category=_category_path(source.category), enabled=source.enabled)
            for source in sources]


def _category_path(category: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (category or "").split(CATEGORY_SEPARATOR) if part.strip())


def merged_text(text: str | None, entries: Sequence[dict[str, Any]]) -> str:
    """`text` (a sources file, or None for a new one) with `entries` appended to its sources list."""
    entries = [_escaped(entry) for entry in entries]
    before = _sources_of(text)
    merged = _appended(text or "", entries)
    if _sources_of(merged) != before + entries:  # a layout this module misread: write nothing
        raise MergeError("cannot append to this file's `sources:` list as text; add them by hand")
    return merged


def _sources_of(text: str | None) -> list:
    try:
        data = yaml.safe_load(text or "") or {}
    except yaml.YAMLError as exc:
        raise MergeError(f"not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise MergeError("the top level is not a mapping")
    sources = data.get("sources")
    if sources is not None and not isinstance(sources, list):
        raise MergeError("`sources` is not a list")
    return sources or []


def _appended(text: str, entries: list[dict[str, Any]]) -> str:
    newline = "\r\n" if "\r\n" in text else "\n"
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    found = [(k, v) for k, v in (root.value if root else [])
             if isinstance(k, yaml.ScalarNode) and k.value == "sources"]
    if not found:
        head = text if text.strip() else text + _HEADER.replace("\n", newline)
        return _insert(head, len(head), "sources:" + newline + _items(entries, 2, False, newline), newline)
    key, value = found[0]
    if isinstance(value, yaml.ScalarNode):  # `sources:` with no value, or `sources: ~`
        if value.value:
            text = text[:value.start_mark.index] + text[value.end_mark.index:]
        column = key.start_mark.column + 2
        return _insert(text, _line_end(text, key.end_mark.index), _items(entries, column, False, newline), newline)
    if value.flow_style:  # [a, b]: the new ones go before the closing bracket
        close = text.rindex("]", 0, value.end_mark.index)
        head = text[:close].rstrip()
        joiner = "" if not value.value else (" " if head.endswith(",") else ", ")
        return head + joiner + ", ".join(_flow(e) for e in entries) + text[len(head):]
    last = value.value[-1]
    block = isinstance(last, yaml.MappingNode) and not last.flow_style
    column = value.start_mark.column  # the dash of a block list's first item
    return _insert(text, _line_end(text, _last_end(last)), _items(entries, column, block, newline), newline)


def _insert(text: str, at: int, chunk: str, newline: str) -> str:
    if at == len(text) and text and not text.endswith("\n"):
        text, at = text + newline, at + len(newline)
    return text[:at] + chunk + text[at:]


def _items(entries: list[dict[str, Any]], column: int, block: bool, newline: str) -> str:
    return "".join((_block_item if block else _flow_item)(e, column, newline) for e in entries)


def _escaped(entry: dict[str, Any]) -> dict[str, Any]:
    # the loader reads ${VAR} in every string (newswatch.config.source); `$${` is a literal `${`
    return {k: v.replace("${", "$${") if isinstance(v, str) else v for k, v in entry.items()}


def _flow(entry: dict[str, Any]) -> str:
    return yaml.safe_dump(entry, default_flow_style=True, sort_keys=False, allow_unicode=True,
                          width=1 << 30).strip()


def _flow_item(entry: dict[str, Any], column: int, newline: str) -> str:
    return " " * column + "- " + _flow(entry) + newline


def _block_item(entry: dict[str, Any], column: int, newline: str) -> str:
    lines = yaml.safe_dump(entry, default_flow_style=False, sort_keys=False, allow_unicode=True,
                           width=1 << 30).splitlines()
    pad = " " * column
    return "".join((pad + "- " if i == 0 else pad + "  ") + line + newline for i, line in enumerate(lines))


def _last_end(node: yaml.Node) -> int:
    """Where the last character of `node`'s own text is: a block node's end mark lies past the
    comments and blank lines that follow it, so descend to its last scalar or flow collection."""
    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and not node.flow_style and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(last, tuple) else last
    return node.end_mark.index


def _line_end(text: str, index: int) -> int:
    """The index just past the end of the line holding `index` (past its newline)."""
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline + 1


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write `path` whole or not at all: a temporary file beside it, renamed over it."""
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    mode = path.stat().st_mode & 0o777 if path.exists() else None
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(raw)
            file.flush()
            os.fsync(file.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
