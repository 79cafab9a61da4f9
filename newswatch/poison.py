"""Quarantine notices: the health channels hear once of the articles a cycle quarantined.

Rules: one notice a cycle at most, naming up to `_LISTED` of the articles quarantined since the
cycle began (with their error, source and URL) and how to give them back. Its key is made from the
articles' ids, so shards that see the same quarantines enqueue it once (store.deliveries). With no
health channel the log line is the notice.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from newswatch.config import Config
from newswatch.store import articles, deliveries, session

__all__ = ["report_quarantined"]

log = logging.getLogger("newswatch.health")

_LISTED = 10


def report_quarantined(config: Config, since: datetime, now: datetime) -> int:
    """Enqueue the notice of the articles quarantined since `since`; how many there were."""
    with session(config.database) as current:
        found = [(article, source) for article, source in articles.failing(current)
                 if article.stage == "quarantined" and article.failed_at and article.failed_at >= since]
        if not found:
            return 0
        title = f"newswatch quarantined {len(found)} article{'s' * (len(found) > 1)} that failed 3 cycles in a row"
        lines = [f"- {source}: {article.title or article.url} ({article.last_failure}) {article.url}"
                 for article, source in found[:_LISTED]]
        if len(found) > _LISTED:
            lines.append(f"- and {len(found) - _LISTED} more")
        text = "\n".join([*lines, "`newswatch errors` lists them; `newswatch errors requeue` tries them again."])
        log.warning("%s", title)
        ids = ",".join(str(article.id) for article, _ in found)
        key = f"quarantine:{hashlib.sha256(ids.encode()).hexdigest()[:32]}"
        deliveries.enqueue_notice(current, key, title, text, config.health.channels, now)
    return len(found)
