"""The atom channel: keep one Atom feed (RFC 4287) per watchlist, `<directory>/<watchlist>.atom`.

Rules: newest entry first, at most `max_entries`; an entry's id is
`tag:newswatch,2026:story-<id>-<watchlist>`, and sending a story that is already in the feed
moves it to the top instead of adding it twice (a retried send changes nothing; a follow-up of
the story replaces its entry with the update). A story several watchlists alerted at once goes
into each of their feeds, its entry naming them all. The file is
rewritten through a temporary file and os.replace, so a reader never sees half a feed, under an
flock on the directory, so two workers never lose each other's entries. A file that is not XML
is left alone: the error is permanent and says so.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from alerts import render
from alerts.errors import ChannelError
from newswatch.config.schema import AtomChannel
from newswatch.models import Alert

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows; one writer per directory there
    fcntl = None

__all__ = ["send"]

ATOM = "http://www.w3.org/2005/Atom"
_PERMANENT = {errno.EACCES, errno.EPERM, errno.EEXIST, errno.EISDIR, errno.ENOTDIR, errno.EROFS}
# Characters XML 1.0 cannot carry at all; a feed with one of them would not parse again.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def send(name: str, channel: AtomChannel, alerts: list[Alert], digest: bool = False) -> None:
    """Add the alerts to their watchlists' feeds."""
    now = datetime.now(timezone.utc)
    by_watchlist: dict[str, list[Alert]] = {}
    for alert in alerts:
        for watchlist, _ in alert.named():
            by_watchlist.setdefault(watchlist, []).append(replace(alert, watchlist=watchlist))
    directory = Path(channel.directory)
    for watchlist, group in by_watchlist.items():
        path = directory / f"{_filename(watchlist)}.atom"
        try:
            directory.mkdir(parents=True, exist_ok=True)
            with _locked(directory):
                _update(path, watchlist, group, channel.max_entries, now)
        except ET.ParseError as exc:
            raise ChannelError("permanent", f"atom: {path} is not XML ({exc}); move it away to "
                                            "start a new feed") from None
        except OSError as exc:
            kind = "permanent" if exc.errno in _PERMANENT else "retry"
            raise ChannelError(kind, f"atom: cannot write {path}: {exc.strerror or exc}") from None


def _update(path: Path, watchlist: str, alerts: list[Alert], limit: int, now: datetime) -> None:
    fresh = [_entry(a, now) for a in alerts]
    ids = {e.findtext("id") for e in fresh}
    kept = [e for e in _read_entries(path) if e.findtext("id") not in ids]
    _write(path, _feed(watchlist, (fresh + kept)[:limit], now))


def _read_entries(path: Path) -> list[ET.Element]:
    """The entries of an existing feed, with Atom's namespace taken off the tag names."""
    if not path.exists():
        return []
    root = ET.parse(path).getroot()
    for element in root.iter():
        if element.tag.startswith(f"{{{ATOM}}}"):
            element.tag = element.tag[len(ATOM) + 2:]
    return root.findall("entry")


def _feed(watchlist: str, entries: list[ET.Element], now: datetime) -> ET.Element:
    feed = ET.Element("feed", xmlns=ATOM)  # children unqualified: in Atom's default namespace
    _add(feed, "id", f"tag:newswatch,2026:watchlist-{_filename(watchlist)}")
    _add(feed, "title", f"newswatch: {watchlist}")
    _add(feed, "updated", now.isoformat())
    _add(_add(feed, "author"), "name", "newswatch")
    _add(feed, "generator", "newswatch")
    feed.extend(entries)
    return feed


def _entry(alert: Alert, now: datetime) -> ET.Element:
    fields = render.atom_entry(alert)
    entry = ET.Element("entry")
    _add(entry, "id", fields["id"])
    _add(entry, "title", fields["title"], type="text")
    if fields["url"]:
        _add(entry, "link", rel="alternate", href=fields["url"])
    for outlet, url in fields["related"]:  # "also reported by"
        _add(entry, "link", rel="related", href=url, title=outlet)
    _add(entry, "updated", now.isoformat())
    if fields["published"]:
        _add(entry, "published", _utc(fields["published"]).isoformat())
    _add(_add(entry, "author"), "name", fields["author"] or "unknown")
    for term in fields["categories"]:
        _add(entry, "category", term=term)
    _add(entry, "content", fields["summary_html"], type="html")
    return entry


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    child = ET.SubElement(parent, tag,
                          {k: _NOT_XML.sub("", v) for k, v in attributes.items()})
    if text is not None:
        child.text = _NOT_XML.sub("", text)
    return child


def _write(path: Path, feed: ET.Element) -> None:
    ET.indent(feed)  # whitespace between elements only; text such as <content> is untouched
    data = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data + b"\n")
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it 0600; the feed is meant to be served
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    if fcntl is None:
        yield
        return
    handle = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing releases the lock


def _filename(watchlist: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", watchlist).lstrip(".") or "watchlist"


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
