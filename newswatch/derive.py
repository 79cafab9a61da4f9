"""What an article's text gives the later stages, derived in one place: its title, language,
story fingerprint, text hash and watchlist matches.

The page reader computes them with the text (in the cycle's extraction processes, on every core);
triage computes them for an article that has no page text (its feed summary) or whose stored
fingerprint an upgrade made outdated; `newswatch relate` for local files. One function, so the
story stage and the matches see the same title and language wherever the work ran.

The rules: the feed's title, else the page's; the page's language, else the feed entry's, else the
source's configured one. `with_page` applies them to a stored article when its page's text comes in. The source's address names the outlet, whose own name is no evidence
(newswatch.stories.similarity.site_words).
"""

from __future__ import annotations

from dataclasses import dataclass

from newswatch.config import Config
from newswatch.matching import WatchIndex
from newswatch.models import Document, Hit, PageText
from newswatch.store.tables import Article
from newswatch.stories import text_hash
from newswatch.stories.similarity import fingerprint
from newswatch.urls import canonical_url

__all__ = ["Derived", "derive", "language_of", "source_language", "title_of", "with_page"]


@dataclass(frozen=True)
class Derived:
    """What an article's text gives: the fingerprint as stored (bytes), the text's hash, and its
    matches (None when not matched). The title and language it was derived with are the caller's."""

    fingerprint: bytes
    content_hash: str | None
    hits: tuple[tuple[str, Hit], ...] | None = None  # (watchlist, hit)


def derive(title: str, text: str, language: str | None, url: str | None = None, source: str | None = None,
           index: WatchIndex | None = None) -> Derived:
    """The article's derived values, its title and language already chosen (`title_of`,
    `language_of`); matched against `index` when given."""
    hits = tuple(index.match(Document(title, text, language, source))) if index is not None else None
    return Derived(fingerprint(title, text, language, url).to_bytes(), text_hash(text), hits)


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


def with_page(article: Article, page: PageText) -> Article:
    """The article as its page's reading leaves it (`extracted`): the page's text, its title and
    language by the module's rules, its declared canonical address (newswatch.urls), and the
    fingerprint and hash read with it; or, when the page gave no text, the feed's summary, marked
    `from_summary` with the page's error."""
    found = page.extracted
    if found and found.text.strip():
        article.text = found.text
        article.title = title_of(article.title, found.title)
        article.author = article.author or found.author
        article.language = language_of(found.language, article.language)
        article.canonical_url = canonical_url(found.canonical_url) if found.canonical_url else None
        article.published_at = article.published_at or found.date
        article.fingerprint = page.fingerprint
    else:
        article.text, article.from_summary = article.summary, True
        article.page_error = page.error or "extract: no article text found on the page"
    ready = page.fingerprint is not None and article.fingerprint is not None
    article.content_hash = page.content_hash if ready else text_hash(article.text)
    article.stage = "extracted"
    return article
