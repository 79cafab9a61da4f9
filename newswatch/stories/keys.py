"""The identity keys of an article. Two articles sharing any key belong to one story.

Keys: `url:` the canonical feed link, `url:` the page's own canonical URL where it is a
plausible article address (`newswatch.urls.is_article_address`: not the site's home or a section,
which a faulty CMS declares for every page; a checked key, `checked_keys`: it joins only an
article whose text is like its claimer's), `text:` the normalised text hash (expiring with the
story window, store.ledger). A stored link with a fragment is a feed item whose link other items share
(`store.articles`): its key is `item:` that link, fragment and all, since the shared page is not
its own. The store makes keys unique, so concurrent workers agree on the story. A key longer than
KEY_LENGTH (a very long URL) keeps its start and gets its SHA-1 digest in place of the rest.
"""

from __future__ import annotations

from hashlib import sha1

from newswatch.urls import canonical_url, is_article_address

__all__ = ["KEY_LENGTH", "checked_keys", "story_keys"]

KEY_LENGTH = 500  # the store's key column holds 600


def story_keys(url: str, page_canonical: str | None, digest: str | None) -> list[str]:
    """The keys of an article from its link, its page's canonical URL and its `text_hash`."""
    keys = [_own_key(url), *checked_keys(url, page_canonical)]
    if digest:
        keys.append(_bounded(f"text:{digest}"))
    return list(dict.fromkeys(keys))


def checked_keys(url: str, page_canonical: str | None) -> tuple[str, ...]:
    """The key of the page's declared canonical URL, where it is a plausible article address other
    than the article's own link: a claim of the page, true only for the same text."""
    if not page_canonical or not is_article_address(page_canonical):
        return ()
    key = _bounded(f"url:{canonical_url(page_canonical)}")
    return () if key == _own_key(url) else (key,)


def _own_key(url: str) -> str:
    return _bounded(f"item:{url}" if "#" in url else f"url:{canonical_url(url)}")


def _bounded(key: str) -> str:
    if len(key) <= KEY_LENGTH:
        return key
    return f"{key[:KEY_LENGTH - 41]}~{sha1(key.encode()).hexdigest()}"
