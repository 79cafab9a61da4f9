"""The identity keys of an article. Two articles sharing any key belong to one story.

Keys: `url:` the canonical feed link, `url:` the page's own canonical URL, `text:` the normalised
text hash. A stored link with a fragment is a feed item whose link other items share
(`store.articles`): its key is `item:` that link, fragment and all, since the shared page is not
its own. The store makes keys unique, so concurrent workers agree on the story.
"""

from __future__ import annotations

from newswatch.stories.canonical import canonical_url

__all__ = ["story_keys"]


def story_keys(url: str, page_canonical: str | None, digest: str | None) -> list[str]:
    """The keys of an article from its link, its page's canonical URL and its `text_hash`."""
    keys = [f"item:{url}" if "#" in url else f"url:{canonical_url(url)}"]
    if page_canonical:
        keys.append(f"url:{canonical_url(page_canonical)}")
    if digest:
        keys.append(f"text:{digest}")
    return list(dict.fromkeys(keys))
