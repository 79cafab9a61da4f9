"""Decide "same article" and "same story": canonical URLs, fingerprints, story keys."""

from newswatch.stories.canonical import canonical_url
from newswatch.stories.fingerprint import text_hash
from newswatch.stories.keys import story_keys

__all__ = ["canonical_url", "story_keys", "text_hash"]
