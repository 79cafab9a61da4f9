"""Fit and check the same-event decision on the development sets (issue 17).

The story stage's same-event score (`newswatch.stories.evidence.score_of`) is a logistic model
of the pair's signals (`evidence.signals`: names, rare words, numbers, title and lead overlap,
salient-word cosine, MinHash, time apart, text lengths, the rarity table's cover). This script
builds labelled pairs from three development sets, read from ../shared at run time (their texts
are for evaluation only and never enter the repository), fits the model and writes its weights
to newswatch/stories/event_model.json, and prints pairwise figures per set and language.

Pairs, as the store meets them:
- **gva**: the dated stream of local US gun-violence reports (../shared/data/gva-stream-dev);
  each report against the earlier reports of the story window (48 h) that share a lookup key
  with it, most shared keys first, at most 30 (store.ledger's rule), at their real hours apart;
  same event = a shared incident id. Hard negatives: other shootings of the same city and week.
- **semeval**: the same-story pairs in Turkish, Spanish, Arabic and French
  (../shared/data/semeval2022-task8-pairs); Overall <= 1.5 same story, >= 3 different, the
  ambiguous middle left out; 0 h apart (no dates).
- **ecb**: ECB+ (../shared/data/ecbplus-event-clusters), every pair of one topic's documents
  sharing a lookup key, 0 h apart; the fit uses the odd topics only (even ones are held out, as in
  bench/stories_eval.py).

    .venv/bin/python bench/event_model.py            # figures with the weights in the repository
    .venv/bin/python bench/event_model.py --fit      # refit (2-fold figures first), write the weights
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout, without installing

import numpy as np  # noqa: E402

from bench.stories_eval import load_ecb  # noqa: E402
from newswatch.stories import cluster, evidence  # noqa: E402
from newswatch.stories.similarity import WINDOW_HOURS, Fingerprint, fingerprint, relate  # noqa: E402
from newswatch.stories.updates import new_names  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
GVA = SHARED / "gva-stream-dev" / "articles.jsonl"
SEMEVAL = SHARED / "semeval2022-task8-pairs" / "pairs.jsonl"
MODEL = ROOT / "newswatch" / "stories" / "event_model.json"
CANDIDATES = 30  # store.ledger's limit


@dataclass(frozen=True)
class Pair:
    dataset: str
    language: str
    a: Fingerprint
    b: Fingerprint
    hours: float | None
    same: bool
    fold: int  # 0 or 1, for the 2-fold figures; ECB+ even topics are 2 (never fitted on)


def gva_pairs(path: Path = GVA) -> list[Pair]:
    docs = [json.loads(line) for line in path.open(encoding="utf-8")]
    prints = [fingerprint(d["title"], d["text"], "en", d["url"]) for d in docs]
    times = [datetime.fromisoformat(d["published"].replace("Z", "+00:00")).timestamp() / 3600 for d in docs]
    postings: dict[str, list[int]] = defaultdict(list)
    pairs = []
    for i, d in enumerate(docs):
        shared: Counter[int] = Counter()
        for key in set(prints[i].lookup_keys):
            for j in postings[key]:
                if times[i] - times[j] <= WINDOW_HOURS:
                    shared[j] += 1
        for j in islice(sorted(shared, key=lambda j: (-shared[j], j)), CANDIDATES):
            same = bool(set(d["incidents"]) & set(docs[j]["incidents"]))
            fold = zlib.crc32(min(d["incidents"]).encode()) % 2
            pairs.append(Pair("gva", "en", prints[i], prints[j], times[i] - times[j], same, fold))
        for key in set(prints[i].lookup_keys):
            postings[key].append(i)
    return pairs


def semeval_pairs(path: Path = SEMEVAL) -> list[Pair]:
    pairs = []
    for line in path.open(encoding="utf-8"):
        p = json.loads(line)
        if 1.5 < p["Overall"] < 3:
            continue
        language = p["lang1"]
        a = fingerprint(p["title1"], p["text1"], language, p["link1"])
        b = fingerprint(p["title2"], p["text2"], language, p["link2"])
        pairs.append(Pair("semeval", language, a, b, 0.0, p["Overall"] <= 1.5, zlib.crc32(p["pair_id"].encode()) % 2))
    return pairs


def ecb_pairs() -> list[Pair]:
    docs = load_ecb()
    prints = [fingerprint(d["title"], d["body"], "en") for d in docs]
    by_topic: dict[int, list[int]] = defaultdict(list)
    for i, d in enumerate(docs):
        by_topic[d["topic"]].append(i)
    pairs = []
    for topic, members in by_topic.items():
        for x, i in enumerate(members):
            keys = set(prints[i].lookup_keys)
            for j in members[:x]:
                if keys & set(prints[j].lookup_keys):
                    same = docs[i]["event_cluster"] == docs[j]["event_cluster"]
                    pairs.append(Pair("ecb", "en", prints[i], prints[j], 0.0, same,
                                      2 if topic % 2 == 0 else topic // 2 % 2))
    return pairs


def features(pair: Pair, names: list[str]) -> list[float]:
    s = evidence.signals(pair.a, pair.b, hours_apart=pair.hours)
    return [s[k] for k in names]


NON_POSITIVE = ("time",)  # reports further apart never make a join easier


def fit(pairs: list[Pair], names: list[str], l2: float = 1.0) -> np.ndarray:
    """`_fit`, with a signal of NON_POSITIVE that came out positive held at 0 and the rest refitted."""
    held: set[str] = set()
    while True:
        beta = _fit(pairs, names, held, l2)
        wrong = {k for k, v in zip(names, beta, strict=False) if k in NON_POSITIVE and v > 0} - held
        if not wrong:
            return beta
        held |= wrong


def _fit(pairs: list[Pair], names: list[str], held: set[str], l2: float) -> np.ndarray:
    """L2-regularised logistic regression (Newton's method): the signals' weights and a bias.

    Each dataset weighs the same in total, and within it each class half (the sets differ in
    size and balance by 10×); each has an intercept of its own while fitting, since their shares
    of same-event pairs say nothing about the signals (only the dated stream has time apart: one
    shared intercept would read its 0 h in the undated sets as a sign of different events). The
    bias returned is the mean of the intercepts; the signals in `held` weigh 0."""
    sets = sorted({p.dataset for p in pairs})
    X = np.array([[0.0 if k in held else v for k, v in zip(names, features(p, names), strict=True)]
                  + [float(p.dataset == d) for d in sets] for p in pairs])
    y = np.array([float(p.same) for p in pairs])
    groups = Counter((p.dataset, p.same) for p in pairs)
    w = np.array([1.0 / groups[(p.dataset, p.same)] for p in pairs])
    w *= len(pairs) / w.sum()
    beta = np.zeros(X.shape[1])
    penalty = np.array([l2] * len(names) + [0.0] * len(sets))
    for _ in range(50):
        p = 1 / (1 + np.exp(-X @ beta))
        gradient = X.T @ (w * (p - y)) + penalty * beta
        hessian = (X * (w * p * (1 - p))[:, None]).T @ X + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return np.append(beta[:len(names)], beta[len(names):].mean())


def decide(pair: Pair) -> bool:
    """The product's decision: duplicate or same_event."""
    return relate(pair.a, pair.b, pair.hours).kind != "unrelated"


def report(pairs: list[Pair], decided: list[bool], title: str) -> None:
    print(f"\n{title}")
    print("| set | language | fold | pairs | same | precision | recall | wrong joins | missed |")
    groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for n, p in enumerate(pairs):
        fold = {0: "a", 1: "b", 2: "held out"}[p.fold]
        for key in ((p.dataset, p.language, fold), (p.dataset, p.language, "all"), (p.dataset, "all", "all")):
            groups[key].append(n)
    for key in sorted(groups):
        members = groups[key]
        tp = sum(pairs[n].same and decided[n] for n in members)
        fp = sum(not pairs[n].same and decided[n] for n in members)
        fn = sum(pairs[n].same and not decided[n] for n in members)
        same = tp + fn
        precision = tp / (tp + fp) if tp + fp else float("nan")
        recall = tp / same if same else float("nan")
        print(f"| {key[0]} | {key[1]} | {key[2]} | {len(members)} | {same} | {precision:.3f} | {recall:.3f} | {fp} | {fn} |")


def gva_stream(path: Path = GVA, tell_new_names: int | None = None) -> None:
    """The dated stream through the store's decision (`cluster.choose` over the candidates
    store.ledger would give), every report matching: hidden incidents (no report of theirs
    started a story, or, with `tell_new_names`, was told as an update) and repeated alerts (an
    incident alerted again within 48 h). bench/gva_replay.py measures the same through the whole
    pipeline; this is the quick loop for the decision alone."""
    docs = [json.loads(line) for line in path.open(encoding="utf-8")]
    prints = [fingerprint(d["title"], d["text"], "en", d["url"]) for d in docs]
    times = [datetime.fromisoformat(d["published"].replace("Z", "+00:00")).timestamp() / 3600 for d in docs]
    order = sorted(range(len(docs)), key=lambda i: times[i])
    postings: dict[str, list[int]] = defaultdict(list)
    story_of: dict[int, int] = {}
    told: dict[int, list[int]] = defaultdict(list)  # story → its alerted reports
    alerts: list[tuple[float, list[str]]] = []
    joins = Counter()
    for i in order:
        shared: Counter[int] = Counter()
        for key in set(prints[i].lookup_keys):
            for j in postings[key]:
                if abs(times[i] - times[j]) <= WINDOW_HOURS:
                    shared[j] += 1
        ranked = islice(sorted(shared, key=lambda j: (-shared[j], j)), CANDIDATES)
        chosen = cluster.choose(prints[i], [cluster.Candidate(story_of[j], prints[j], times[i] - times[j], j)
                                            for j in ranked])
        if chosen is None:
            story_of[i] = i
            told[i].append(i)
            alerts.append((times[i], docs[i]["incidents"]))
        else:
            candidate, relation = chosen
            story_of[i] = candidate.story_id
            joins[relation.kind] += 1
            if (tell_new_names and relation.kind == "same_event"
                    and len(new_names(prints[i], [prints[k] for k in told[candidate.story_id]])) >= tell_new_names):
                told[candidate.story_id].append(i)
                alerts.append((times[i], docs[i]["incidents"]))
        for key in set(prints[i].lookup_keys):
            postings[key].append(i)
    incidents = {n for d in docs for n in d["incidents"]}
    alerted: dict[str, list[float]] = defaultdict(list)
    for moment, named in sorted(alerts):
        for n in named:
            alerted[n].append(moment)
    hidden = incidents - alerted.keys()
    repeated = sum(1 for moments in alerted.values() for a, b in zip(moments, moments[1:]) if b - a < 48)
    again = sum(1 for moments in alerted.values() if any(b - a < 48 for a, b in zip(moments, moments[1:])))
    print(f"gva stream: {len(docs)} reports, {len(incidents)} incidents, {len(alerts)} alerts, joins {dict(joins)}; "
          f"hidden {len(hidden)} ({len(hidden) / len(incidents):.2%}), repeated alerts {repeated} "
          f"({repeated / len(incidents):.1%} of incidents), incidents alerted again within 48 h {again} "
          f"({again / len(incidents):.1%})")
    for n in sorted(hidden):
        for i in (i for i in order if n in docs[i]["incidents"]):
            into = docs[story_of[i]]
            print(f"  hidden {n}: {docs[i]['title'][:70]!r} joined {into['incidents']} {into['title'][:70]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fit", action="store_true", help="refit and write newswatch/stories/event_model.json")
    parser.add_argument("--stream", action="store_true", help="only the dated stream through the store's decision")
    parser.add_argument("--tell", type=int, default=None, help="with --stream: new names that make a join an update")
    args = parser.parse_args()
    if args.stream:
        gva_stream(tell_new_names=args.tell)
        return
    pairs = gva_pairs() + semeval_pairs() + ecb_pairs()
    print(f"{len(pairs)} pairs: " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(p.dataset for p in pairs).items())))
    if args.fit:
        cross_validated(pairs)
        names = list(evidence.SIGNALS)
        beta = fit([p for p in pairs if p.fold != 2], names)
        weights = dict(zip(names, np.round(beta[:-1], 3).tolist(), strict=True))
        MODEL.write_text(json.dumps({"weights": weights, "bias": round(float(beta[-1]), 3),
                                     "fitted_on": "bench/event_model.py --fit"}, indent=2) + "\n")
        evidence.load_model.cache_clear()
        print("written", MODEL.relative_to(ROOT), weights, round(float(beta[-1]), 3))
    report(pairs, [decide(p) for p in pairs], "pairwise decisions (duplicate or same_event), the weights in the "
           "repository (fitted on folds a and b: in-sample there; ECB+ even topics held out)")


def cross_validated(pairs: list[Pair]) -> None:
    """The decisions on each fold with the model fitted on the other (ECB+ even topics: on both):
    the figures to believe, printed before the model of all folds is written."""
    names = list(evidence.SIGNALS)
    fitted_on = {0: [p for p in pairs if p.fold == 1], 1: [p for p in pairs if p.fold == 0],
                 2: [p for p in pairs if p.fold != 2]}
    decided: dict[int, bool] = {}
    for fold, training in fitted_on.items():
        beta = fit(training, names)
        print(f"fitted without fold {fold}:", dict(zip([*names, "bias"], np.round(beta, 2).tolist(), strict=True)))
        model = (dict(zip(names, beta[:-1].tolist(), strict=True)), float(beta[-1]))
        original, evidence.load_model = evidence.load_model, lambda model=model: model
        try:
            decided.update({n: decide(p) for n, p in enumerate(pairs) if p.fold == fold})
        finally:
            evidence.load_model = original
    report(pairs, [decided[n] for n in range(len(pairs))], "pairwise decisions, 2-fold cross-validated")


if __name__ == "__main__":
    main()
