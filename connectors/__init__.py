"""The in-edge: get bytes from the network and turn feeds into FeedEntry values. No database.

`fetch_feeds` and `fetch_pages` (connectors.http) are the stage verbs the flow calls; `parse_feed`
(connectors.feeds) is the pure parser they use, public for tests and the CLI.
"""

from connectors.errors import FeedParseError, FetchError, classify
from connectors.feeds import parse_feed
from connectors.http import fetch_feeds, fetch_feeds_sync, fetch_pages, fetch_pages_sync

__all__ = [
    "FeedParseError",
    "FetchError",
    "classify",
    "fetch_feeds",
    "fetch_feeds_sync",
    "fetch_pages",
    "fetch_pages_sync",
    "parse_feed",
]
