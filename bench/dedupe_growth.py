"""Story dedupe time per article as the store grows (1k, 10k, 100k stored articles).

What is timed: `newswatch.stories.settlement.settle_stories` for 200 new articles, each in its own transaction
(fingerprints are computed beforehand; every other article is timed, the rest measured for
memory), or with `--batch N` `newswatch.triage.settle` as the pipeline now runs it, N articles a
transaction with their fingerprints stored with their text (the time per article is a batch's
time over N; the median over the batches). Either way: the story lock, the exact-key lookup, the fuzzy candidate lookup within the
story window, `relate` against the candidates, storing the article's keys, joining or creating
the story. Half of the new articles are edited copies of articles inside the window (they must
join), half are new events. Fingerprinting (about 4–5 ms an article, once per article whatever the
store size) is reported apart.

History: N articles spread over 60 days; those in the last 48 h carry real fingerprints and keys
(2,000 of them), older ones random keys, as old articles' keys do not match new ones. Keys older
than twice the window are pruned by triage, so `--no-prune` shows the unpruned worst case.

    python bench/dedupe_growth.py                 # SQLite, 1k / 10k / 100k
    python bench/dedupe_growth.py --sizes 1000 --postgres postgresql://postgres@127.0.0.1/test
    python bench/dedupe_growth.py --batch 10 [--postgres URL]   # as triage runs it
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from newswatch.config import Config
from newswatch.matching import watch_index
from newswatch.store import db, session, stories
from newswatch.store.tables import Article, ArticleKey, Source, Story, StoryKey
from newswatch.stories import similarity, text_hash
from newswatch.stories.settlement import settle_stories
from newswatch.triage import settle

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
RECENT = 2_000
NEW = 200


def words(rng: random.Random, vocabulary: list[str], n: int) -> str:
    return " ".join(rng.choice(vocabulary) for _ in range(n))


def corpus(seed: int = 7):
    rng = random.Random(seed)
    vocabulary = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))
                  for _ in range(30_000)]
    recent = [(f"Report {i} " + words(rng, vocabulary, 6), words(rng, vocabulary, 350)) for i in range(RECENT)]
    copies = [(f"Update: {recent[i][0]}", recent[i][1] + " Reporting by staff; editing by the desk.")
              for i in rng.sample(range(RECENT), NEW // 2)]
    fresh = [(f"Fresh {i} " + words(rng, vocabulary, 6), words(rng, vocabulary, 350)) for i in range(NEW // 2)]
    return rng, recent, copies + fresh


def build(url: str, size: int, recent, rng: random.Random) -> None:
    db.upgrade(url)
    engine = db.engine(url)
    started = time.perf_counter()
    fingerprints = [similarity.fingerprint(t, x) for t, x in recent[:min(size, RECENT)]]
    with engine.begin() as connection:
        connection.execute(sa.insert(Source), [{"id": 1, "name": "wire", "url": "https://wire.example/rss",
                                                "consecutive_failures": 0, "gone": False}])
        for start in range(0, size, 5_000):
            chunk = range(start, min(size, start + 5_000))
            stories, arts, keys, story_keys = [], [], [], []
            for i in chunk:
                at = NOW - timedelta(hours=rng.uniform(0, 47)) if i < RECENT else \
                    NOW - timedelta(days=rng.uniform(3, 60))
                fp = fingerprints[i] if i < RECENT else None
                stories.append({"id": i + 1, "title": f"s{i}", "article_count": 1, "created_at": at,
                                "updated_at": at})
                arts.append({"id": i + 1, "source_id": 1, "url": f"https://wire.example/{i}", "title": f"s{i}",
                             "summary": "", "text": "", "from_summary": False, "fetched_at": at,
                             "published_at": at, "stage": "done", "story_id": i + 1,
                             "fingerprint": fp.to_bytes() if fp else rng.randbytes(1400)})
                lookup = fp.lookup_keys if fp else [f"mh:{rng.getrandbits(64):x}" for _ in range(20)]
                keys += [{"key": k, "article_id": i + 1, "at": at} for k in lookup]
                story_keys.append({"key": f"url:https://wire.example/{i}", "story_id": i + 1})
            connection.execute(sa.insert(Story), stories)
            connection.execute(sa.insert(Article), arts)
            connection.execute(sa.insert(ArticleKey), keys)
            connection.execute(sa.insert(StoryKey), story_keys)
        if engine.dialect.name == "postgresql":
            for table in ("stories", "articles"):
                connection.execute(sa.text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))
            connection.execute(sa.text("ANALYZE"))
    print(f"  built {size:,} stored articles in {time.perf_counter() - started:.1f}s")


def measure(url: str, new_articles, prune: bool, batch: int) -> dict:
    config = Config(database=url)
    texts, fingerprints = [], [similarity.fingerprint(title, text) for title, text in new_articles]
    with session(url) as current:
        for i, (title, text) in enumerate(new_articles):
            article = Article(source_id=1, url=f"https://other.example/{i}", title=title, text=text,
                              content_hash=text_hash(text), fetched_at=NOW, published_at=NOW, stage="extracted",
                              fingerprint=fingerprints[i].to_bytes() if batch > 1 else None)
            current.add(article)
            current.flush()
            texts.append(article.id)
    if prune:
        with session(url) as current:
            stories.prune_keys(current, NOW - 2 * config.stories.window)
    # every other article is timed (half copies, half new events), the rest measured for memory
    timed, traced = list(zip(texts[0::2], fingerprints[0::2])), list(zip(texts[1::2], fingerprints[1::2]))
    if batch > 1:  # triage.settle as the pipeline runs it, the fingerprints stored with the text
        index = watch_index(config.watchlists, config.aliases)

        def joined_of(chunk):
            return len(chunk) - settle(config, index, [article_id for article_id, _ in chunk], NOW).new_stories
    else:
        def joined_of(chunk):
            return sum(not _settle(url, config, article_id, found) for article_id, found in chunk)
    def chunks(pairs):
        return [pairs[i:i + batch] for i in range(0, len(pairs), batch)]

    times, joined = [], 0
    for chunk in chunks(timed):  # the time per article is its transaction's time over its articles
        started = time.perf_counter()
        joined += joined_of(chunk)
        times.append((time.perf_counter() - started) / len(chunk))
    # memory apart: tracemalloc slows every allocation, so it must not run while timing
    tracemalloc.start()
    for chunk in chunks(traced):
        joined += joined_of(chunk)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    times.sort()
    return {"median_ms": statistics.median(times) * 1000, "p95_ms": times[int(len(times) * 0.95)] * 1000,
            "joined": joined, "peak_kb": peak / 1024}


def _settle(url: str, config: Config, article_id: int, found) -> bool:
    with session(url) as current:
        db.redo_on_crash(current)  # as triage does
        article = current.get(Article, article_id)
        stories.lock(current)
        return settle_stories(current, config.stories.window, [article], {article_id: found}, NOW)[article_id][1]


def empty_postgres(url: str) -> None:
    """Drop every table of the PostgreSQL database at `url` (bench/fetch_bench.py uses it too)."""
    with db.engine(url).begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.engine(url).dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--postgres", help="a PostgreSQL URL to run on instead of SQLite (tables are created)")
    parser.add_argument("--no-prune", action="store_true")
    parser.add_argument("--batch", type=int, default=1,
                        help="articles a transaction: 1 times settle_stories alone, N > 1 triage.settle as "
                             "the pipeline runs it (fingerprints stored with the text beforehand)")
    args = parser.parse_args()
    rng, recent, new_articles = corpus()
    started = time.perf_counter()
    fingerprint_cost = [similarity.fingerprint(t, x) for t, x in new_articles[:50]]
    per_fp = (time.perf_counter() - started) / len(fingerprint_cost) * 1000
    print(f"fingerprint: {per_fp:.1f} ms an article (once per article, not part of the lookup)")
    print(f"{'stored':>8} {'median ms':>10} {'p95 ms':>8} {'joined':>7} {'peak KiB':>9}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            url = args.postgres or f"sqlite:///{Path(folder) / 'store.db'}"
            if args.postgres:
                empty_postgres(url)
            build(url, size, recent, random.Random(size))
            result = measure(url, new_articles, prune=not args.no_prune, batch=args.batch)
            print(f"{size:>8,} {result['median_ms']:>10.2f} {result['p95_ms']:>8.2f} "
                  f"{result['joined']:>4}/{NEW} {result['peak_kb']:>9.0f}", flush=True)
            db.engine(url).dispose()
            db.engine.cache_clear()


if __name__ == "__main__":
    main()
