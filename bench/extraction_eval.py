"""Score newswatch.extract.extract, as the pipeline runs it, on two public extraction benchmarks.

1. scrapinghub article-extraction-benchmark (../shared/data/scrapinghub-article-extraction-benchmark,
   181 pages, human `articleBody`), with that benchmark's metric, re-implemented from its README:
   tokens are `\\w+` matches, a document is the multiset of its word 4-gram shingles (a text of
   fewer than 4 words is one shorter shingle); per document TP, FP and FN are the overlap, the
   extra predicted and the missed shingles, divided by TP+FP+FN; precision (FP = FN = 0 → 1, TP =
   FP = 0 → 0) is averaged over documents with TP+FP > 0 and recall over those with TP+FN > 0;
   F1 is the harmonic mean of the two averages. Published: trafilatura 2.0 F1 0.958 (P 0.938,
   R 0.978). The benchmark's stored trafilatura 2.0 output is scored too, to check the metric.
2. trafilatura-eval-subset (../shared/data/trafilatura-eval-subset, 368 pages), its README's
   snippet metric: in the whitespace-normalised output each `with` snippet found is a TP (else
   FN), each `without` snippet found an FP (else TN); counts summed over the corpus.

Each variant replaces the trafilatura switches in newswatch.extract._SETTINGS (what the pipeline
passes to bare_extraction; "pipeline" is the value in newswatch/extract.py) and runs the real
`extract` (decoding, metadata, the 100-character floor under which it returns None, scored as an
empty text). Time is CPU per page in this process: the best of 3 passes over the scrapinghub
pages, interleaved across variants (the machine is shared), and one pass over the other set.

    .venv/bin/python bench/extraction_eval.py                 # every variant (~2–3 min)
    .venv/bin/python bench/extraction_eval.py --only pipeline  # the settings in newswatch/extract.py
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from newswatch import extract as extraction  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SCRAPINGHUB = DATA / "scrapinghub-article-extraction-benchmark"
TRAFILATURA = DATA / "trafilatura-eval-subset"
PIPELINE = dict(extraction._SETTINGS)
BASE = {"include_comments": False, "include_tables": True}  # trafilatura's defaults, comments off
VARIANTS = {
    "pipeline": PIPELINE,
    "fallbacks (default)": BASE,
    "favor_precision": {**BASE, "favor_precision": True},
    "favor_recall": {**BASE, "favor_recall": True},
    "no tables": {**BASE, "include_tables": False},
    "fast": {**BASE, "fast": True},
    "fast, favor_recall": {**BASE, "fast": True, "favor_recall": True},
    "fast, favor_precision": {**BASE, "fast": True, "favor_precision": True},
    "deduplicate": {**BASE, "deduplicate": True},
    "comments kept": {**BASE, "include_comments": True},
}
_TOKEN = re.compile(r"\w+")


def shingles(text: str, n: int = 4) -> Counter:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i:i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i:i + n])


def tp_fp_fn(truth: str, predicted: str) -> tuple[float, float, float]:
    expected, got = shingles(truth), shingles(predicted)
    tp = sum((expected & got).values())
    fp, fn = sum((got - expected).values()), sum((expected - got).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def benchmark_scores(counts: list[tuple[float, float, float]]) -> dict[str, float]:
    """Macro-averaged precision and recall, and the F1 of the two averages."""
    def precision(tp, fp, fn):
        return 1.0 if fp == fn == 0 else 0.0 if tp == fp == 0 else tp / (tp + fp)

    def recall(tp, fp, fn):
        return 1.0 if fp == fn == 0 else 0.0 if tp == fn == 0 else tp / (tp + fn)

    p = statistics.mean(precision(*c) for c in counts if c[0] + c[1] > 0)
    r = statistics.mean(recall(*c) for c in counts if c[0] + c[2] > 0)
    return {"f1": 2 * p * r / (p + r), "precision": p, "recall": r}


def load_scrapinghub() -> list[tuple[str, bytes, str, str]]:
    truth = json.loads((SCRAPINGHUB / "ground-truth.json").read_text(encoding="utf-8"))
    return [(key, gzip.decompress((SCRAPINGHUB / "html" / f"{key}.html.gz").read_bytes()), page["url"],
             page["articleBody"]) for key, page in sorted(truth.items())]


def load_trafilatura() -> list[tuple[bytes, str, list[str], list[str]]]:
    documents = json.loads((TRAFILATURA / "evaldata-subset.json").read_text(encoding="utf-8"))
    return [(gzip.decompress((TRAFILATURA / "html" / f"{doc['file']}.gz").read_bytes()), url,
             doc.get("with", []), doc.get("without", [])) for url, doc in sorted(documents.items())]


def run(variant: dict, pages: list[tuple[bytes, str]]) -> tuple[list[str], float]:
    """Texts `extract` returns for `pages` ('' for None or a crash), and CPU ms per page."""
    extraction._SETTINGS.clear()
    extraction._SETTINGS.update(variant)
    texts, started = [], time.process_time()
    for html, url in pages:
        try:
            found = extraction.extract(html, url)
        except Exception:  # a crash counts as an empty output (the benchmarks' rule)
            found = None
        texts.append(found.text if found else "")
    extraction._SETTINGS.clear()
    extraction._SETTINGS.update(PIPELINE)
    return texts, (time.process_time() - started) / len(pages) * 1000


def snippet_scores(texts: list[str], documents) -> dict[str, float]:
    tp = fn = fp = tn = 0
    for text, (_, _, wanted, unwanted) in zip(texts, documents, strict=True):
        flat = " ".join(text.split())
        for snippet in wanted:
            found = " ".join(snippet.split()) in flat
            tp, fn = tp + found, fn + (not found)
        for snippet in unwanted:
            found = " ".join(snippet.split()) in flat
            fp, tn = fp + found, tn + (not found)
    p, r = tp / (tp + fp), tp / (tp + fn)
    return {"f1": 2 * p * r / (p + r), "precision": p, "recall": r, "accuracy": (tp + tn) / (tp + fn + fp + tn)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", choices=sorted(VARIANTS), help="variants to run")
    args = parser.parse_args()
    scrapinghub, trafilatura_set = load_scrapinghub(), load_trafilatura()
    reference = json.loads((SCRAPINGHUB / "reference-outputs" / "trafilatura.json").read_text(encoding="utf-8"))
    reference = reference.get("output", reference)
    stored = benchmark_scores([tp_fp_fn(body, reference[key]["articleBody"]) for key, _, _, body in scrapinghub])
    print(f"pipeline settings: {PIPELINE}")
    print(f"metric check: the benchmark's stored trafilatura 2.0 output scores F1 {stored['f1']:.3f} "
          f"P {stored['precision']:.3f} R {stored['recall']:.3f} (published 0.958 / 0.938 / 0.978)\n")
    print(f"{'variant':<22} {'scrapinghub F1':>12} {'P':>6} {'R':>6} {'ms/page':>8}   "
          f"{'snippets F1':>11} {'P':>6} {'R':>6} {'acc':>6} {'ms/page':>8}")
    names = args.only or list(VARIANTS)
    pages = [(html, url) for _, html, url, _ in scrapinghub]
    texts, times = {}, {name: [] for name in names}
    for _ in range(3):  # passes interleaved across variants, so a load spike hits them alike
        for name in names:
            found, ms = run(VARIANTS[name], pages)
            texts.setdefault(name, found)
            times[name].append(ms)
    for name in names:
        scores = benchmark_scores([tp_fp_fn(body, text) for (_, _, _, body), text in zip(scrapinghub, texts[name])])
        snippet_texts, snippet_ms = run(VARIANTS[name], [(html, url) for html, url, _, _ in trafilatura_set])
        snippets = snippet_scores(snippet_texts, trafilatura_set)
        print(f"{name:<22} {scores['f1']:12.3f} {scores['precision']:6.3f} {scores['recall']:6.3f} "
              f"{min(times[name]):8.1f}   {snippets['f1']:11.3f} {snippets['precision']:6.3f} "
              f"{snippets['recall']:6.3f} {snippets['accuracy']:6.3f} {snippet_ms:8.1f}", flush=True)

if __name__ == "__main__":
    main()
