"""Local files as documents to match: HTML goes through extraction, text is read as it is.

A text file's first non-empty line is its title, so `title:` queries work on it too.
"""

from __future__ import annotations

from pathlib import Path

from newswatch.extract import extract
from newswatch.models import Document

__all__ = ["read_document"]

_HTML_SUFFIXES = {".html", ".htm", ".xhtml"}


def read_document(path: Path) -> Document:
    data = path.read_bytes()
    if path.suffix.lower() in _HTML_SUFFIXES or data.lstrip()[:15].lower().startswith((b"<!doctype", b"<html")):
        found = extract(data, path.resolve().as_uri())
        if found is not None:
            return Document(found.title or "", found.text, found.language)
        return Document("", "")
    text = data.decode("utf-8", errors="replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return Document(lines[0] if lines else "", text)
