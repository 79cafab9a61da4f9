"""The story state a batch of articles is settled against, read in a few queries, written in bulk.

A batch's story decisions depend on each other (the third copy of a story joins the story the
first copy of the batch started), so the ledger holds what the store knows about the batch's
keys, read up front, plus what the batch has decided so far; `write` then stores every decision
at once. Statements per batch, not per article: on SQLite and PostgreSQL alike the statement's
round trip through SQLAlchemy costs more than the story decision itself.

Rules (the same as deciding article by article against the store):
- an exact key (URL, text hash) belongs to the story that owns it; among several owners, the
  oldest story wins. A key of an EXPIRING kind (a text hash: a recurring text such as a weekly
  notice is a new story each time) holds only within the window of the article that claimed it,
  which a later article then claims again; a CHECKED key (a page's declared canonical URL, which a
  faulty CMS gives every page) is the caller's to confirm against the claimer's text (`claimer`);
- candidates are the recent articles sharing a fuzzy key within the window of the article's
  time, most shared keys first, then oldest article, at most `limit`;
- a new story claims its keys, and the `story_keys` primary key is the arbiter: when another
  worker claimed one of them first (the insert returns fewer keys than asked), the new story is
  dropped and its articles and keys go to the other's. On PostgreSQL the second insert waits for
  the first transaction, so two workers never make two stories of one key;
- a window reaching past the calendar's ends stops there: a stored date of year 1 or 9999 is
  no batch's OverflowError; keys of any number are read in chunks (store._sql.in_lists).
Call under `stories.lock`: the ledger's reads are only current while the lock is held.

Stories started in the batch have provisional ids (negative) until `write` gives them real ones.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import NamedTuple

import sqlalchemy as sa
from sqlmodel import Session

from newswatch.store._sql import in_lists, insert_all, insert_ignore
from newswatch.store.tables import Article, ArticleKey, Story, StoryKey

__all__ = ["EXPIRING", "Ledger", "Pending"]

EXPIRING = ("text:",)

_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Pending:
    """An article to settle: its exact keys (`checked`: those of them the caller confirms with
    `claimer`), fuzzy lookup keys and time."""

    article: Article
    keys: list[str]
    lookup_keys: list[str]
    at: datetime
    checked: tuple[str, ...] = ()


class Claim(NamedTuple):
    """Who holds a story key: the story, and the article that claimed it and its time (None for
    keys claimed before the store recorded them)."""

    story: int
    article_id: int | None
    at: datetime | None


@dataclass
class _New:
    """A story started in this batch."""

    title: str
    first_article_id: int
    articles: list[Article] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


class Ledger:
    """One batch's story decisions: read on creation, made with `owner`, `candidates` and `settle`
    in the batch's order, stored by `write`."""

    def __init__(self, session: Session, batch: list[Pending], window: timedelta, limit: int = 30) -> None:
        self._session, self._window, self._limit = session, window, limit
        self._owners: dict[str, Claim] = _owners(session, {k for p in batch for k in p.keys})
        self._postings: dict[str, list[tuple[int, datetime]]] = defaultdict(list)
        self._story_of: dict[int, int] = {}  # article id → story (of the store or provisional)
        self._prints: dict[int, bytes] = {}
        self._new: dict[int, _New] = {}
        self._joined: Counter[int] = Counter()  # stored story → articles of this batch joining it
        self._settled: list[tuple[Article, int]] = []
        self._key_rows: list[dict] = []
        self._claims: dict[str, Claim] = {}  # keys no story owned before
        self._reclaims: dict[str, Claim] = {}  # expired keys, claimed again
        self._read_candidates(batch)
        self._read_claimers(batch)

    def owned(self, keys: Iterable[str], at: datetime | None = None) -> dict[str, int]:
        """key → owning story, for those of `keys` a story holds (at `at`: not expired)."""
        return {k: claim.story for k in keys if (claim := self._owners.get(k)) and not self._expired(k, claim, at)}

    def owner(self, keys: Iterable[str], at: datetime | None = None) -> int | None:
        """The story owning any of `keys`: a stored one (the oldest) before one of the batch."""
        owners = set(self.owned(keys, at).values())
        return min(owners, key=lambda story: (story < 0, abs(story))) if owners else None

    def claimer(self, key: str) -> tuple[int, int, bytes, datetime] | None:
        """(story, article, fingerprint, time) of the article that claimed `key`, when known."""
        claim = self._owners.get(key)
        if claim is None or claim.article_id is None or claim.at is None or claim.article_id not in self._prints:
            return None
        return claim.story, claim.article_id, self._prints[claim.article_id], claim.at

    def candidates(self, lookup_keys: Iterable[str], at: datetime) -> list[tuple[int, int, bytes, datetime]]:
        """(article, story, fingerprint, time) of the best articles sharing a fuzzy key within
        `at`'s window."""
        return [(a, self._story_of[a], self._prints[a], moment)
                for a, moment in self._ranked(lookup_keys, at, self._limit)]

    def _expired(self, key: str, claim: Claim, at: datetime | None) -> bool:
        return (at is not None and claim.at is not None and key.startswith(EXPIRING)
                and abs(at - claim.at) > self._window)

    def _ranked(self, lookup_keys: Iterable[str], at: datetime, limit: int) -> list[tuple[int, datetime]]:
        """(article id, time) of the best `limit` articles sharing a key: most keys, then oldest."""
        shared: Counter[int] = Counter()
        moments: dict[int, datetime] = {}
        for key in set(lookup_keys):
            for article_id, moment in self._postings.get(key, ()):
                if abs(moment - at) <= self._window:
                    shared[article_id] += 1
                    moments[article_id] = moment
        ranked = sorted(shared, key=lambda article_id: (-shared[article_id], article_id))
        return [(article_id, moments[article_id]) for article_id in islice(ranked, limit)]

    def settle(self, pending: Pending, story: int | None, fingerprint: bytes | None,
               joined: tuple[str, str] | None = None) -> int:
        """Put the article in `story`, or a new story when None; the story (provisional if new).

        `joined`: how it came in (kind, reason), recorded with the article. Without a fingerprint
        the article is never a later one's candidate."""
        article = pending.article
        if joined is not None:
            article.joined_by, article.join_reason = joined
        if story is None:
            story = -(len(self._new) + 1)
            self._new[story] = _New(article.title, article.id)
        if story < 0:
            self._new[story].articles.append(article)
        else:
            self._joined[story] += 1
        for key in pending.keys:
            claim, mine = self._owners.get(key), Claim(story, article.id, pending.at)
            if claim is None:
                self._owners[key] = self._claims[key] = mine
            elif self._expired(key, claim, pending.at):
                self._owners[key] = mine
                if key in self._claims:  # claimed earlier in this batch: still an insert
                    self._claims[key] = mine
                else:
                    self._reclaims[key] = mine
        self._settled.append((article, story))
        if fingerprint is None:
            return story
        article.fingerprint = fingerprint
        self._story_of[article.id], self._prints[article.id] = story, fingerprint
        for key in dict.fromkeys(pending.lookup_keys):
            self._postings[key].append((article.id, pending.at))
            self._key_rows.append({"key": key, "article_id": article.id, "at": pending.at})
        return story

    def write(self, now: datetime) -> dict[int, tuple[int, bool]]:
        """Store the batch's decisions: article id → (its story's id, whether the story is new)."""
        final = {story: story for story in self._joined} | self._insert_stories(now)
        lost = self._claim_keys(final)
        for story in lost:  # another worker's story owns one of its keys: join that one instead
            final[story] = self._hand_over(final[story], self._new[story])
        self._grow(now)
        outcome = {}
        for article, story in self._settled:
            article.story_id = final[story]
            self._session.add(article)
            outcome[article.id] = (final[story], story < 0 and story not in lost
                                   and self._new[story].first_article_id == article.id)
        # Core, not the ORM's bulk path: that costs more than the insert itself here
        insert_all(self._session, ArticleKey.__table__, self._key_rows)
        self._session.flush()
        return outcome

    def _read_candidates(self, batch: list[Pending]) -> None:
        """The stored articles sharing a fuzzy key with the batch, and the fingerprints of those
        that can be a candidate: an article's best `limit` among stored articles alone, since the
        batch's own articles can push a stored one out of the best but never bring one in."""
        if not batch:
            return
        keys = {k for p in batch for k in p.lookup_keys}
        since = _shifted(min(p.at for p in batch), -self._window)
        until = _shifted(max(p.at for p in batch), self._window)
        table = ArticleKey.__table__
        for chunk in in_lists(self._session, sorted(keys)):
            query = (sa.select(table.c.key, table.c.article_id, table.c.at, Article.__table__.c.story_id)
                     .join(Article.__table__, Article.__table__.c.id == table.c.article_id)
                     .where(table.c.key.in_(chunk), table.c.at >= since, table.c.at <= until,
                            Article.__table__.c.story_id.is_not(None), Article.__table__.c.fingerprint.is_not(None)))
            for key, article_id, moment, story in self._session.execute(query):
                self._postings[key].append((article_id, moment))
                self._story_of[article_id] = story
        wanted = {article_id for p in batch for article_id, _ in self._ranked(p.lookup_keys, p.at, self._limit)}
        self._prints.update(_fingerprints(self._session, wanted))

    def _read_claimers(self, batch: list[Pending]) -> None:
        """The fingerprints of the stored articles that claimed the batch's checked keys."""
        claimers = {claim.article_id for p in batch for key in p.checked
                    if (claim := self._owners.get(key)) and claim.article_id is not None}
        self._prints.update(_fingerprints(self._session, claimers - self._prints.keys()))

    def _insert_stories(self, now: datetime) -> dict[int, int]:
        if not self._new:
            return {}
        rows = [{"title": new.title, "first_article_id": new.first_article_id, "article_count": len(new.articles),
                 "created_at": now, "updated_at": now} for new in self._new.values()]
        inserted = self._session.execute(
            sa.insert(Story.__table__).returning(Story.__table__.c.id, sort_by_parameter_order=True), rows)
        return dict(zip(self._new, inserted.scalars(), strict=True))

    def _claim_keys(self, final: dict[int, int]) -> set[int]:
        """Claim the expired keys again and insert the keys no story owned before; the batch's new
        stories that lost a key to another worker."""
        table = StoryKey.__table__
        if self._reclaims:
            again = (table.update().where(table.c.key == sa.bindparam("k"))
                     .values(story_id=sa.bindparam("story"), article_id=sa.bindparam("article"), at=sa.bindparam("moment")))
            self._session.connection().execute(again, [
                {"k": key, "story": final[c.story], "article": c.article_id, "moment": c.at}
                for key, c in self._reclaims.items()])
        for key, claim in self._claims.items():
            if claim.story < 0:
                self._new[claim.story].keys.append(key)
        rows = [{"key": key, "story_id": final[c.story], "article_id": c.article_id, "at": c.at}
                for key, c in self._claims.items()]
        claimed = set(insert_ignore(self._session, table, rows, returning=table.c.key))
        return {c.story for key, c in self._claims.items() if key not in claimed and c.story < 0}

    def _hand_over(self, story_id: int, new: _New) -> int:
        """Drop `story_id` for the other worker's story owning one of its keys; that story's id."""
        owners = [self._session.execute(sa.select(sa.func.min(StoryKey.story_id)).where(
            StoryKey.key.in_(chunk), StoryKey.story_id != story_id)).scalar_one()
            for chunk in in_lists(self._session, new.keys)]
        found = min(owner for owner in owners if owner is not None)
        self._session.execute(sa.update(StoryKey).where(StoryKey.story_id == story_id).values(story_id=found))
        self._session.execute(sa.delete(Story).where(Story.id == story_id))
        self._joined[found] += len(new.articles)
        return found

    def _grow(self, now: datetime) -> None:
        """Count the articles that joined stored stories."""
        if not self._joined:
            return
        table = Story.__table__
        grow = (table.update().where(table.c.id == sa.bindparam("story"))
                .values(article_count=table.c.article_count + sa.bindparam("joined"), updated_at=now))
        self._session.connection().execute(grow, [{"story": s, "joined": n} for s, n in self._joined.items()])


def _owners(session: Session, keys: set[str]) -> dict[str, Claim]:
    found: dict[str, Claim] = {}
    table = StoryKey.__table__
    for chunk in in_lists(session, sorted(keys)):
        query = sa.select(table.c.key, table.c.story_id, table.c.article_id, table.c.at).where(table.c.key.in_(chunk))
        found.update((key, Claim(story, article, at)) for key, story, article, at in session.execute(query))
    return found


def _fingerprints(session: Session, article_ids: set[int]) -> dict[int, bytes]:
    found: dict[int, bytes] = {}
    table = Article.__table__
    for chunk in in_lists(session, sorted(article_ids)):
        found.update(session.execute(sa.select(table.c.id, table.c.fingerprint).where(table.c.id.in_(chunk))).all())
    return found


def _shifted(moment: datetime, by: timedelta) -> datetime:
    """`moment` moved `by`, held at the calendar's ends: a stored date of year 1 or 9999 (from
    before dates were checked where they enter, newswatch.bounds) fails no batch."""
    try:
        return moment + by
    except OverflowError:
        return _EARLIEST if by < timedelta(0) else _LATEST
