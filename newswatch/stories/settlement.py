"""Put a batch's articles in stories, against what the store holds: the story stage's decisions
(newswatch.stories.keys, cluster, similarity) applied through the batch's `Ledger`.

Exact keys first (same URL, same text within the window, a declared canonical URL claimed by a
like text); else the closest related recent article's story; else a new story. In the batch's
order, each article seeing the earlier ones; each records how it joined (`joined_by`, and a
readable reason). Called under `stories.lock`, in the triage transaction (newswatch.triage).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from newswatch.store import stories
from newswatch.store.ledger import Ledger, Pending
from newswatch.store.tables import Article
from newswatch.stories import cluster, similarity, story_keys
from newswatch.stories.keys import checked_keys

__all__ = ["decoded", "forget_old_keys", "settle_stories"]

# an article settled now is a candidate again and again within the cycle: one decoding serves all
decoded = lru_cache(maxsize=4096)(similarity.Fingerprint.from_bytes)


def settle_stories(current, window: timedelta, claimed: list[Article], found: dict[int, similarity.Fingerprint],
                   now: datetime) -> dict[int, tuple[int, bool]]:
    """Put each article in a story (the module's rules): article id → (story id, is the story new)."""
    batch = [Pending(a, story_keys(a.url, a.canonical_url, a.content_hash), found[a.id].lookup_keys,
                     a.published_at or a.fetched_at, checked_keys(a.url, a.canonical_url)) for a in claimed]
    ledger = Ledger(current, batch, window)
    hours = window.total_seconds() / 3600
    for pending in batch:
        article_print = found[pending.article.id]
        story, joined = _by_key(ledger, pending, article_print, hours)
        if story is None:
            candidates = [cluster.Candidate(story_id, decoded(data), _hours(pending.at, moment), article_id)
                          for article_id, story_id, data, moment in ledger.candidates(pending.lookup_keys, pending.at)]
            chosen = cluster.choose(article_print, candidates, hours, dated=pending.article.published_at is not None)
            if chosen:
                candidate, relation = chosen
                story, joined = candidate.story_id, (relation.kind, _joined(relation, candidate.article_id))
        ledger.settle(pending, story, pending.article.fingerprint or article_print.to_bytes(), joined)
    return ledger.write(now)


def forget_old_keys(current, window: timedelta, now: datetime) -> int:
    """Drop the fuzzy keys of articles older than twice the story window (they outlive it for
    late-arriving copies); how many went."""
    return stories.prune_keys(current, now - 2 * window)


def _by_key(ledger: Ledger, pending: Pending, article_print: similarity.Fingerprint,
            window: float) -> tuple[int | None, tuple[str, str]]:
    """The story an exact key puts the article in (a checked key only for a like text), and why."""
    owned = ledger.owned([k for k in pending.keys if k not in pending.checked], pending.at)
    if owned:
        story = ledger.owner(owned)
        return story, ("key", f"shares {next(k for k, s in owned.items() if s == story)}")
    for key in pending.checked:
        claim = ledger.claimer(key)
        if claim is None:
            continue
        story, article_id, data, moment = claim
        relation = similarity.relate(article_print, decoded(data), _hours(pending.at, moment), window,
                                     dated=pending.article.published_at is not None)
        if relation.kind != "unrelated":
            return story, ("key", f"shares {key} with a like text ({_joined(relation, article_id)})")
    return None, ("new", "no earlier report shares a key or relates to it")


def _joined(relation: similarity.Relation, article_id: int | None) -> str:
    what = "a copy of" if relation.kind == "duplicate" else "the same event as"
    return f"{what} article {article_id}: {relation.reason}"


def _hours(at: datetime, moment: datetime) -> float:
    return abs((at - moment).total_seconds()) / 3600
