"""What an article's text gives the later stages, derived in one place: its title, language,
story fingerprint, text hash and watchlist matches.

The page reader computes them with the text (in the cycle's extraction processes, on every core);
triage computes them for an article that has no page text (its feed summary) or whose stored
fingerprint an upgrade made outdated; `newswatch relate` for local files. One function, so the
story stage and the matches see the same title and language wherever the work ran.

The rules: the feed's title, else the page's; the page's language, else the feed entry's, else the
source's configured one. The source's address names the outlet, whose own name is no evidence
(newswatch.stories.similarity.site_words).
"""

from __future__ import annotations

from dataclasses import dataclass

from newswatch.config import Config
from newswatch.matching import WatchIndex
from newswatch.models import Document, Hit
from newswatch.stories import text_hash
from newswatch.stories.similarity import fingerprint

__all__ = ["Derived", "derive", "language_of", "source_language", "title_of"]


@dataclass(frozen=True)
class Derived:
    """An article's derived values: the fingerprint as stored (bytes); hits None when not matched."""

    title: str
    language: str | None
    fingerprint: bytes
    content_hash: str | None
    hits: tuple[tuple[str, Hit], ...] | None = None  # (watchlist, hit)


def derive(title: str, text: str, language: str | None, url: str | None = None, source: str | None = None,
           index: WatchIndex | None = None) -> Derived:
    """The article's derived values, its title and language already chosen (`title_of`,
    `language_of`); matched against `index` when given."""
    hits = tuple(index.match(Document(title, text, language, source))) if index is not None else None
    return Derived(title, language, fingerprint(title, text, language, url).to_bytes(), text_hash(text), hits)


def title_of(feed_title: str | None, page_title: str | None = None) -> str:
    return feed_title or page_title or ""


def language_of(*known: str | None) -> str | None:
    """The first language known, in the order of the module's rule (page, feed entry, source)."""
    return next((language for language in known if language), None)


def source_language(config: Config, source: str) -> str | None:
    """The language the source's configuration gives, if any."""
    try:
        return config.source(source).language
    except KeyError:  # the source left the config after the article was stored
        return None
