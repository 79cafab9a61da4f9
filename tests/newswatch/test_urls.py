"""absolute_url: the one rule for feed entries' links and a page's canonical link."""

from __future__ import annotations

import pytest

from newswatch.urls import absolute_url

BASE = "https://example.com/feeds/main"


@pytest.mark.parametrize(("link", "expected"), [
    ("/news/1", "https://example.com/news/1"),
    ("  news/2?x=1 ", "https://example.com/feeds/news/2?x=1"),
    ("http://other.example/a", "http://other.example/a"),
    ("javascript:alert(1)", ""),
    ("mailto:desk@example.com", ""),
    ("http://[not-an-address/x", ""),
    ("   ", ""),
    ("", ""),
    (None, ""),
])
def test_absolute_url(link, expected):
    assert absolute_url(link, BASE) == expected
