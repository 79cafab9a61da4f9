"""Decide "same article" and "same story": fingerprints, story keys, and canonical URLs (whose rules
live in newswatch.urls, re-exported here)."""

from newswatch.stories.fingerprint import text_hash
from newswatch.stories.keys import story_keys
from newswatch.urls import canonical_url

__all__ = ["canonical_url", "story_keys", "text_hash"]
