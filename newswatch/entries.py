"""Feed entries as articles: the address and key each is stored under, and which items' own feed
text stands for their page. Pure; the store writes what `new_articles` gives.

Rules:
- an entry's address is its canonical link (newswatch.urls.canonical_url); an entry without a
  link is no article;
- a link that several different items of one feed share (a live blog's updates, a feed whose
  items all link to its home page) is not their page: each such item gets its identity (its GUID,
  else a digest of its title and summary) as the link's fragment, which makes it an article of its
  own and its own story key (`stories.keys`), and starts from its feed text, no page fetched;
- an entry's GUID keys it within its source (`<source id>:<guid>`); a GUID too long for the
  store's key is kept as its digest;
- a link longer than the store keeps, with room for a shared link's fragment, does not `fit`:
  the caller leaves the entry out and says so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from hashlib import sha1
from urllib.parse import quote

from newswatch.models import FeedEntry, NewArticle
from newswatch.stories import text_hash
from newswatch.urls import canonical_url

__all__ = ["fits", "new_articles"]

_FRAGMENT_LENGTH = 64
_SHARED_LINK = "feed: other items share this link; the item's own text is used"
_SOURCE_ROOM = 20  # "<source id>:" ahead of a GUID in its key


def fits(entry: FeedEntry, url_length: int) -> bool:
    """Whether a store keeping links of `url_length` characters can keep the entry's."""
    return len(canonical_url(entry.url)) <= url_length - _FRAGMENT_LENGTH - 1


def new_articles(source_id: int, entries: Iterable[FeedEntry], key_length: int) -> list[NewArticle]:
    """The entries with a link as articles of the source, whose GUID keys hold `key_length` characters."""
    linked = [(canonical_url(entry.url), entry) for entry in entries if entry.url]
    shared = _shared_links(linked)
    return [_shared(url, entry, _guid_key(source_id, entry.guid, key_length)) if url in shared
            else NewArticle(entry, url, _guid_key(source_id, entry.guid, key_length)) for url, entry in linked]


def _shared(url: str, entry: FeedEntry, guid_key: str | None) -> NewArticle:
    """The article of an item whose link other items share: its own address and its feed text."""
    text = entry.summary or entry.title
    return NewArticle(entry, f"{url}#{_fragment(entry)}", guid_key, True, text, text_hash(text), _SHARED_LINK)


def _shared_links(linked: list[tuple[str, FeedEntry]]) -> set[str]:
    """The canonical links that entries with different identities share."""
    identities: dict[str, set[str]] = defaultdict(set)
    for url, entry in linked:
        identities[url].add(_identity(entry))
    return {url for url, found in identities.items() if len(found) > 1}


def _identity(entry: FeedEntry) -> str:
    return entry.guid or sha1(f"{entry.title}\n{entry.summary}".encode()).hexdigest()[:16]


def _fragment(entry: FeedEntry) -> str:
    quoted = quote(_identity(entry), safe="")
    return quoted if len(quoted) <= _FRAGMENT_LENGTH else sha1(quoted.encode()).hexdigest()[:16]


def _guid_key(source_id: int, guid: str | None, key_length: int) -> str | None:
    if not guid:
        return None
    if len(guid) <= key_length - _SOURCE_ROOM:
        return f"{source_id}:{guid}"
    return f"{source_id}:sha1:{sha1(guid.encode()).hexdigest()}"
