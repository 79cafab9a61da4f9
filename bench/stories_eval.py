"""Evaluate newswatch.stories.similarity: same-event clustering (ECB+) and near-duplicates.

    .venv/bin/python bench/stories_eval.py                  # both tables (~30 s)
    .venv/bin/python bench/stories_eval.py --sweep          # ECB+ at 0 h for a range of EVENT_SCORE
    .venv/bin/python bench/stories_eval.py --write-fixtures # tests/data/stories/*.jsonl

1. ECB+ (../shared/data/ecbplus-event-clusters): the store is simulated. Documents arrive in a
   seeded shuffled order; each one looks up the earlier documents sharing a lookup key, `relate`s
   against each, and joins the cluster of the best related one (a duplicate first, then the highest
   same-event score), else starts a cluster. ECB+ has no dates; we pass hours_apart=0: the store
   only compares articles inside its 48 h window, and 0 is the hardest case (no help from time),
   since the two events of a topic are then as close as two events can be. B-cubed P/R/F1 over all
   documents, and over the odd (fitted) and even (held-out) topics; "hard-neg precision" = of the
   merged pairs within a topic, the share from the same event; "hard-neg kept apart" = the share of
   different-event pairs of a topic that stay in different clusters. For seed 0, the wrongly merged
   pairs by topic, and the joins whose best candidate reports the other event (scoring errors;
   every other wrong pair follows from them by chaining).
2. Near-duplicates (../shared/data/scrapinghub-article-extraction-benchmark, MIT): for 150 seeded
   articles, a positive pair is two syndicated copies (each with 1-3 edits: headline changed,
   paragraph cut, paragraph added, byline, boilerplate, quotes/whitespace), and the negatives are
   the article against its nearest neighbour by word overlap and against a random other article.
   The nearest-neighbour pairs are also judged with the pages' publication times (htmldate).
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import random
import re
import sys
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout, without installing

import numpy as np  # noqa: E402
from htmldate import find_date  # noqa: E402

from newswatch.stories.similarity import fingerprint, relate  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
ECB = SHARED / "ecbplus-event-clusters" / "documents.jsonl"
SCRAPING = SHARED / "scrapinghub-article-extraction-benchmark"
FIXTURES = ROOT / "tests" / "data" / "stories"
SEEDS = (0, 1, 2)


# ---------------------------------------------------------------- ECB+ same-event clustering

def clean_ecb(text: str) -> str:
    """Undo the corpus' token-joining artifacts ("6. 1", "4: 49", "U. S.", "court - mandated")."""
    text = re.sub(r"(\d)([.:,]) (\d)", r"\1\2\3", text)
    text = re.sub(r"\b([A-Z])\. ([A-Z])\.", r"\1.\2.", text)
    text = re.sub(r"(\w) - (\w)", r"\1-\2", text)
    return re.sub(r" ([’']) ?(s|t|re|ve|ll|d|m)\b", r"\1\2", text)


def load_ecb(path: Path = ECB) -> list[dict]:
    """ECB+ documents with title (first line) and text (the rest)."""
    docs = []
    for line in path.open(encoding="utf-8"):
        d = json.loads(line)
        title, _, text = clean_ecb(d["text"]).partition("\n")
        docs.append({**d, "title": title, "body": text})
    return docs


def stream_clusters(fps: list, order: list[int], hours: float | None,
                    via: dict[int, tuple[int, float]] | None = None,
                    times: list[float] | None = None) -> tuple[dict[int, int], float]:
    """The store's algorithm: candidates by shared key, best related candidate's cluster or new.

    `via`, if given, receives for each document that joined a cluster (its best candidate, score).
    `times`, if given, are the documents' hours (hours_apart is their difference, not `hours`).
    """
    index: dict[str, list[int]] = defaultdict(list)
    cluster: dict[int, int] = {}
    n_candidates = 0
    for i in order:
        keys = fps[i].lookup_keys
        candidates = {j for k in keys for j in index.get(k, ())}
        n_candidates += len(candidates)
        best, best_rank = None, (0, 0.0)
        for j in candidates:
            r = relate(fps[i], fps[j], hours if times is None else times[i] - times[j])
            rank = {"duplicate": 2, "same_event": 1}.get(r.kind, 0), r.score
            if rank[0] and rank > best_rank:
                best, best_rank = j, rank
        cluster[i] = cluster[best] if best is not None else i
        if via is not None and best is not None:
            via[i] = best, best_rank[1]
        for k in keys:
            index[k].append(i)
    return cluster, n_candidates / max(1, len(order))


def cluster_metrics(docs: list[dict], cluster: dict[int, int], subset: list[int]) -> dict[str, float]:
    """B-cubed P/R/F1 and hard-negative figures over `subset`."""
    pred, gold = defaultdict(set), defaultdict(set)
    for i in subset:
        pred[cluster[i]].add(i)
        gold[docs[i]["event_cluster"]].add(i)
    p = r = 0.0
    for i in subset:
        both = len(pred[cluster[i]] & gold[docs[i]["event_cluster"]])
        p += both / len(pred[cluster[i]])
        r += both / len(gold[docs[i]["event_cluster"]])
    p, r = p / len(subset), r / len(subset)
    same = hard_merged = hard_total = 0
    for a in subset:
        for b in subset:
            if a < b and docs[a]["topic"] == docs[b]["topic"]:
                merged = cluster[a] == cluster[b]
                if docs[a]["event_cluster"] == docs[b]["event_cluster"]:
                    same += merged
                else:
                    hard_total += 1
                    hard_merged += merged
    return {"P": p, "R": r, "F1": 2 * p * r / (p + r), "hardP": same / max(1, same + hard_merged),
            "apart": 1 - hard_merged / max(1, hard_total)}


def eval_ecb(hours_options: tuple) -> None:
    docs = load_ecb()
    fingerprint("warm-up", "loads the word-frequency table once", "en")
    t0 = time.perf_counter()
    fps = [fingerprint(d["title"], d["body"], "en") for d in docs]
    t_fp = (time.perf_counter() - t0) / len(docs)
    splits = {"all": list(range(len(docs))),
              "odd topics (fit)": [i for i, d in enumerate(docs) if d["topic"] % 2],
              "even topics (held out)": [i for i, d in enumerate(docs) if d["topic"] % 2 == 0]}
    print(f"ECB+ same-event clustering: {len(docs)} docs, seeds {SEEDS}, mean over seeds")
    print("| hours_apart | split | B3 P | B3 R | B3 F1 | hard-neg precision | hard-neg kept apart "
          "| candidates/doc |")
    print("|---|---|---|---|---|---|---|---|")
    for hours in hours_options:
        rows = defaultdict(list)
        for seed in SEEDS:
            for name, sub in splits.items():
                order = sub[:]
                random.Random(seed).shuffle(order)
                cluster, cands = stream_clusters(fps, order, hours)
                rows[name].append({**cluster_metrics(docs, cluster, sub), "cands": cands})
        for name, runs in rows.items():
            m = {k: float(np.mean([run[k] for run in runs])) for k in runs[0]}
            print(f"| {hours} | {name} | {m['P']:.3f} | {m['R']:.3f} | {m['F1']:.3f} | {m['hardP']:.3f} "
                  f"| {m['apart']:.3f} | {m['cands']:.1f} |")
    order = list(range(len(docs)))
    random.Random(SEEDS[0]).shuffle(order)
    via: dict[int, tuple[int, float]] = {}
    cluster = stream_clusters(fps, order, 0, via)[0]
    merged = defaultdict(int)
    for a in order:
        for b in order:
            if a < b and cluster[a] == cluster[b] and docs[a]["event_cluster"] != docs[b]["event_cluster"]:
                merged[(docs[a]["topic"], docs[b]["topic"])] += 1
    print("\nhours_apart=0, seed 0: wrongly merged document pairs by topic pair:",
          ", ".join(f"{a}/{b}: {n}" if a != b else f"{a}: {n}" for (a, b), n in sorted(merged.items())))
    # A wrong pair comes either from a join whose best candidate reports the other event (a scoring
    # error), or from a right join into a story that such an error had already mixed (chaining).
    wrong = sorted(s for i, (j, s) in via.items() if docs[i]["event_cluster"] != docs[j]["event_cluster"])
    print(f"hours_apart=0, seed 0: {len(via)} joins, {len(wrong)} of them to a candidate of another event "
          f"(scores {', '.join(f'{s:.2f}' for s in wrong)}); every other wrong pair is chaining")
    t0 = time.perf_counter()
    pairs = [(fps[i], fps[(i * 7 + 3) % len(fps)]) for i in range(len(fps))]
    for a, b in pairs:
        relate(a, b, 0)
    t_rel = (time.perf_counter() - t0) / len(pairs)
    size = np.mean([len(fp.to_bytes()) for fp in fps])
    print(f"fingerprint {t_fp * 1e3:.2f} ms/doc, relate {t_rel * 1e6:.0f} µs/pair, "
          f"{size:.0f} bytes/fingerprint, {np.mean([len(fp.lookup_keys) for fp in fps]):.1f} keys/doc")


def event_times(docs: list[dict], gap: tuple[float, float], spread: float, seed: int) -> list[float]:
    """Hours for each document: a topic's two events `gap` hours apart (either first), each
    event's reports spread uniformly over `spread` hours after it."""
    rng, start = random.Random(seed), {}
    for d in docs:
        if d["topic"] not in start:
            later = rng.uniform(*gap)
            start[d["topic"]] = {"ecb": 0.0, "ecbplus": later} if rng.random() < 0.5 else {"ecb": later, "ecbplus": 0.0}
    return [start[d["topic"]][d["subtopic"]] + rng.uniform(0, spread) for d in docs]


TIMED = [((24.0, 48.0), 12.0), ((24.0, 48.0), 24.0), ((0.0, 48.0), 24.0)]


def eval_ecb_timed() -> None:
    """ECB+ as a stream in time order: the second event of each topic 1-2 days after the first
    (the issue's "second Idlib story two days later"), reports spread over 12 or 24 hours."""
    docs = load_ecb()
    fps = [fingerprint(d["title"], d["body"], "en") for d in docs]
    splits = {"all": list(range(len(docs))), "odd": [i for i, d in enumerate(docs) if d["topic"] % 2],
              "even": [i for i, d in enumerate(docs) if d["topic"] % 2 == 0]}
    print(f"\nECB+ in time order (second event of a topic `gap` h after the first, reports over `spread` h), "
          f"seeds {SEEDS}, mean over seeds")
    print("| gap h | spread h | split | B3 P | B3 R | B3 F1 | hard-neg precision | hard-neg kept apart |")
    print("|---|---|---|---|---|---|---|---|")
    for gap, spread in TIMED:
        for name, sub in splits.items():
            runs = []
            for seed in SEEDS:
                times = event_times(docs, gap, spread, seed)
                order = sorted(sub, key=lambda i: times[i])
                runs.append(cluster_metrics(docs, stream_clusters(fps, order, None, times=times)[0], sub))
            m = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
            print(f"| {gap[0]:.0f}–{gap[1]:.0f} | {spread:.0f} | {name} | {m['P']:.3f} | {m['R']:.3f} "
                  f"| {m['F1']:.3f} | {m['hardP']:.3f} | {m['apart']:.3f} |")


def sweep_thresholds() -> None:
    """B3 F1 and hard-negative figures for a range of EVENT_SCORE, hours_apart=0, seed 0."""
    from newswatch.stories import similarity

    docs = load_ecb()
    fps = [fingerprint(d["title"], d["body"], "en") for d in docs]
    subsets = {"odd": [i for i, d in enumerate(docs) if d["topic"] % 2],
               "even": [i for i, d in enumerate(docs) if d["topic"] % 2 == 0]}
    print("| EVENT_SCORE | split | B3 P | B3 R | B3 F1 | hard-neg precision | hard-neg kept apart |")
    print("|---|---|---|---|---|---|---|")
    for threshold in (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9):
        similarity.EVENT_SCORE = threshold
        for name, sub in subsets.items():
            runs = []
            for seed in SEEDS:
                order = sub[:]
                random.Random(seed).shuffle(order)
                runs.append(cluster_metrics(docs, stream_clusters(fps, order, 0)[0], sub))
            m = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
            print(f"| {threshold} | {name} | {m['P']:.3f} | {m['R']:.3f} | {m['F1']:.3f} | {m['hardP']:.3f} "
                  f"| {m['apart']:.3f} |")


# ---------------------------------------------------------------- near-duplicates

BOILERPLATE = ["Subscribe to our newsletter for the latest updates.",
               "Reporting by Anna Novak; Editing by Mark Heinrich",
               "Copyright 2024 The Associated Press. All rights reserved.",
               "Follow us on Twitter and Facebook.",
               "Sign up for our morning briefing.",
               "Additional reporting by Tom Wills in London; writing by Sara Ledwith"]
BYLINES = ["By Jane Doe, Staff Writer", "By Reuters Staff", "By AP", "From our correspondent"]


# Nearest-neighbour "negatives" that are in fact two outlets' reports of one event (the benchmark
# pages were collected in the same weeks of November 2019). Judged by reading titles and leads;
# ids are the first 8 characters of the benchmark's page ids.
SAME_EVENT_JUDGED = {frozenset(pair.split()) for pair in [
    "9cb8224b ac1bfdd4", "35b15891 9cb8224b",  # Doobie Brothers 2020 tour with Michael McDonald
    "6ebac05f 7a457a4f",  # New York man pleads guilty to threatening Ilhan Omar
    "14cc2a0c 686bb170", "14cc2a0c f344ca5f",  # water vapour plumes on Europa (Keck)
    "06e5123e 1ace8c85",  # NY attorney general investigates WeWork
    "c50845a7 d1c57d78", "42aad16b d1c57d78",  # NASA adds five companies to lunar lander program
    "156770d6 776a1c04", "3f65af7b 776a1c04",  # South Dakota "Meth. We're on it" campaign
    "c7e39ac4 dc7ccccc",  # Sweden drops Assange investigation
    "7bb1ca90 bd673bd7", "9eef8162 a078b365",  # "feather duvet lung" case report
    "680c2848 8267acac", "aade2ec8 e100c961",  # Google Stadia launch and its first reviews
    "8b194530 ba4dfe2d", "432362af ba4dfe2d", "8b194530 ea25dd7e",  # plague cases in China
    "70cb2d5b eb62ac84",  # Taylor Swift / Big Machine dispute over the AMAs
    "2c46804d 51d066b0",  # rescue of kidnapped girl (Michael Webb)
    "1f765c48 87bf6057",  # Prince Andrew's Newsnight interview
    "7a664e40 c90731f0",  # Volker and Morrison impeachment hearing (19 Nov) and the reply to it
    "51374560 f8ff621a",  # Home Depot sales miss, shares fall
    "b37be353 e1c7023e",  # ESA study on hibernating astronauts
]}


def load_articles() -> list[dict]:
    truth = json.loads((SCRAPING / "ground-truth.json").read_text(encoding="utf-8"))
    out = []
    for key in sorted(truth):
        body = truth[key]["articleBody"].strip()
        page = gzip.open(SCRAPING / "html" / f"{key}.html.gz").read().decode("utf-8", "replace")
        found = re.search(r"<title[^>]*>(.*?)</title>", page, re.S | re.I)
        title = html.unescape(re.sub(r"\s+", " ", found[1])).strip() if found else ""
        title = re.split(r" [-|–] [^-|–]+$", title)[0]
        if len(body.split()) >= 120:
            out.append({"id": key, "title": title, "text": body, "published": _published(page)})
    return out


def _published(page: str) -> str | None:
    """The page's publication time (htmldate, which trafilatura uses), ISO 8601, or None."""
    return find_date(page, extensive_search=False, original_date=True, outputformat="%Y-%m-%dT%H:%M:%S")


def _hours_apart(a: dict, b: dict) -> float | None:
    if not (a.get("published") and b.get("published")):
        return None
    delta = datetime.fromisoformat(a["published"]) - datetime.fromisoformat(b["published"])
    return abs(delta.total_seconds()) / 3600


def edit_copy(article: dict, other: dict, rng: random.Random) -> tuple[dict, list[str]]:
    """A syndicated copy of `article` with 1-3 of the edits syndication makes."""
    paras = [p for p in article["text"].split("\n") if p.strip()]
    title = article["title"]
    edits = rng.sample(["headline", "cut", "add", "byline", "boilerplate", "typography"], rng.randint(1, 3))
    if "headline" in edits:
        words = title.split()
        prefix = rng.choice(["UPDATE 2-", "EXCLUSIVE-", "Analysis: "])
        title = prefix + " ".join(words[: max(3, len(words) - 2)])
    if "cut" in edits and len(paras) > 2:
        del paras[rng.randrange(1, len(paras))]
    if "add" in edits:
        extra = [p for p in other["text"].split("\n") if len(p.split()) > 15][:1]
        extra = extra or ["More details emerged later."]
        paras.insert(rng.randrange(1, len(paras) + 1), extra[0])
    if "byline" in edits:
        paras.insert(0, rng.choice(BYLINES))
    if "boilerplate" in edits:
        paras.append(rng.choice(BOILERPLATE))
    text = "\n".join(paras)
    if "typography" in edits:
        text = text.replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'").replace(". ", ".  ")
    return {"title": title, "text": text}, sorted(edits)


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, len(a | b))


def neardup_pairs(n: int = 150, seed: int = 7) -> list[dict]:
    """Labelled pairs: two edited copies of one article; article vs nearest neighbour and random."""
    rng = random.Random(seed)
    articles = load_articles()
    vocab = [set(w for w in re.findall(r"\w{4,}", a["text"].lower())) for a in articles]
    chosen = sorted(rng.sample(range(len(articles)), min(n, len(articles))))
    pairs = []
    for i in chosen:
        a = articles[i]
        near = max((j for j in range(len(articles)) if j != i), key=lambda j: _overlap(vocab[i], vocab[j]))
        other = articles[rng.choice([j for j in range(len(articles)) if j not in (i, near)])]
        copy1, e1 = edit_copy(a, other, rng)
        copy2, e2 = edit_copy(a, articles[near], rng)
        src = {"title": a["title"], "text": a["text"]}
        pairs.append({"label": "duplicate", "a": copy1 if i % 2 else src, "b": copy2,
                      "edits": (e1 if i % 2 else []) + e2, "sources": [a["id"]]})
        for b, kind in ((articles[near], "nearest"), (other, "random")):
            judged = frozenset((a["id"][:8], b["id"][:8])) in SAME_EVENT_JUDGED
            pairs.append({"label": "same_event" if judged else "unrelated",
                          "a": {**src, "published": a["published"]},
                          "b": {"title": b["title"], "text": b["text"], "published": b["published"]},
                          "edits": [kind], "sources": [a["id"], b["id"]]})
    return pairs


def neardup_scores(pairs: list[dict]) -> list[tuple[str, str, float, float, int, int]]:
    """Precision and recall of each verdict against the labels (duplicate; duplicate or same event)."""
    verdicts = []
    for p in pairs:
        fa, fb = (fingerprint(p[s]["title"], p[s]["text"]) for s in "ab")
        at_once = relate(fa, fb, 0).kind
        verdicts.append((p["label"], at_once, "all"))
        if p["edits"] == ["nearest"]:
            verdicts.append((p["label"], at_once, "near"))
            verdicts.append((p["label"], relate(fa, fb, _hours_apart(p["a"], p["b"])).kind, "near, dated"))
    rows = []
    for name, related in (("duplicate", {"duplicate"}),
                          ("duplicate or same_event", {"duplicate", "same_event"})):
        for scope, keep in (("all pairs", "all"), ("nearest-neighbour pairs", "near"),
                            ("nearest-neighbour pairs, publication times", "near, dated")):
            v = [(gold in related, kind in related) for gold, kind, which in verdicts if which == keep]
            tp = sum(g and k for g, k in v)
            fp = sum(k and not g for g, k in v)
            fn = sum(g and not k for g, k in v)
            if tp + fn:
                rows.append((name, scope, tp / max(1, tp + fp), tp / (tp + fn), fp, fn))
    return rows


def eval_neardup() -> None:
    pairs = neardup_pairs()
    count = lambda label: sum(p["label"] == label for p in pairs)  # noqa: E731
    print(f"\nNear-duplicates: {len(pairs)} pairs: {count('duplicate')} syndicated copies, "
          f"{count('same_event')} judged same event, {count('unrelated')} unrelated; hours_apart=0 unless "
          "publication times (htmldate, from the pages; unknown: half the window)")
    print("| related means | pairs | precision | recall | false pos | false neg |\n|---|---|---|---|---|---|")
    for name, scope, p, r, fp, fn in neardup_scores(pairs):
        print(f"| {name} | {scope} | {p:.3f} | {r:.3f} | {fp} | {fn} |")


def write_fixtures() -> None:
    """tests/data/stories: 40 near-dup pairs (short articles) and an ECB+ subset of 3 topics."""
    pairs = [p for p in neardup_pairs() if max(len(p[s]["text"]) for s in "ab") < 2500]
    rng = random.Random(11)
    pos = [p for p in pairs if p["label"] == "duplicate"]
    near = [p for p in pairs if p["edits"] == ["nearest"]]
    rand = [p for p in pairs if p["edits"] == ["random"]]
    chosen = rng.sample(pos, 20) + rng.sample(near, 12) + rng.sample(rand, 8)
    with (FIXTURES / "neardup-pairs.jsonl").open("w", encoding="utf-8") as f:
        for p in chosen:
            f.write(json.dumps(p, ensure_ascii=False) + "\n")
    with (FIXTURES / "ecbplus-subset.jsonl").open("w", encoding="utf-8") as f:
        for d in load_ecb():
            if d["topic"] in ECB_TEST_TOPICS:
                f.write(json.dumps({k: d[k] for k in ("doc_id", "topic", "subtopic", "event_cluster",
                                                      "title", "body")}, ensure_ascii=False) + "\n")
    print(f"wrote {len(chosen)} pairs and the ECB+ topics {ECB_TEST_TOPICS} to {FIXTURES}")


ECB_TEST_TOPICS = (6, 14, 37)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sweep", action="store_true", help="F1 for a range of EVENT_SCORE")
    parser.add_argument("--write-fixtures", action="store_true", help="write tests/data/stories/*.jsonl")
    parser.add_argument("--skip-ecb", action="store_true")
    parser.add_argument("--skip-neardup", action="store_true")
    args = parser.parse_args()
    if args.sweep:
        return sweep_thresholds()
    if args.write_fixtures:
        return write_fixtures()
    if not args.skip_ecb:
        eval_ecb((0, None))
        eval_ecb_timed()
    if not args.skip_neardup:
        eval_neardup()


if __name__ == "__main__":
    main()
