"""Benchmark: WatchIndex.match against evaluating every watch query in turn, on real articles.

What it does (bench/README.md, "## Matching", has the figures):
- reads a few hundred ECB+ news articles from ../shared/data/ecbplus-event-clusters/documents.jsonl
  at run time (first line = title, the rest = text);
- generates 10, 1,000 and 10,000 watchlists from a seeded vocabulary: names and phrases mined from
  the corpus (so some watchlists match) mixed with places, people and organisations that are not
  in it (most of a desk's watchlists miss most articles), with OR, AND NOT, phrases, NEAR, prefixes,
  title:, case:, aliases, excludes and language/source filters;
- times both ways over the same articles, checks they return identical results, prints a table.

    .venv/bin/python bench/matching_bench.py            # 10 / 1,000 / 10,000 watchlists, 300 articles
    .venv/bin/python bench/matching_bench.py --quick    # 10 / 1,000 watchlists, 100 articles
    .venv/bin/python bench/matching_bench.py --huge     # NEAR against AND on one very long page
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from newswatch.matching import WatchIndex, WatchSpec, compile_query  # noqa: E402
from newswatch.matching.document import analyse  # noqa: E402
from newswatch.models import Document  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "ecbplus-event-clusters" / "documents.jsonl"
SOURCES = ["wire", "paper", "blog", "tv"]
MINED_SHARE = 0.35  # of names taken from the articles themselves; the rest are names they lack
ELSEWHERE = {  # names a desk watches that these (2006–2013 English) articles rarely mention
    "places": ["Idlib", "İdlib", "Aleppo", "Raqqa", "Mosul", "Donetsk", "Kherson", "Mariupol", "Bakhmut",
               "Tigray", "Khartoum", "Darfur", "Sahel", "Gao", "Timbuktu", "Mogadishu", "Sanaa", "Hodeidah",
               "Rakhine", "Kachin", "Nagorno-Karabakh", "Sochi", "Antalya", "Diyarbakır", "Erbil", "Kirkuk",
               "Tripoli", "Benghazi", "Bamako", "Niamey", "Ouagadougou", "Goma", "Kinshasa", "Juba", "إدلب",
               "حلب", "Gaziantep", "Şanlıurfa", "Kobanî", "Zaporizhzhia"],
    "people": ["Erdoğan", "Putin", "Zelensky", "Assad", "Lavrov", "Çavuşoğlu", "Fidan", "Shoigu", "Blinken",
               "Guterres", "Abiy", "Burhan", "Hemedti", "Haftar", "Dbeibah", "Goïta", "Tshisekedi", "Kagame",
               "Ruto", "Sisi", "Raisi", "Khamenei", "Netanyahu", "Sinwar", "Nasrallah", "Aliyev", "Pashinyan"],
    "orgs": ["NATO", "UNHCR", "UNICEF", "OCHA", "ICRC", "HTS", "PKK", "YPG", "SDF", "Wagner", "ECOWAS",
             "IGAD", "AMISOM", "MONUSCO", "MINUSMA", "OPCW", "IAEA", "OSCE", "ASEAN", "Hezbollah", "Hamas"],
    "phrases": ["Sochi agreement", "Astana talks", "humanitarian corridor", "grain deal", "Black Sea",
                "no-fly zone", "de-escalation zone", "ceasefire violation", "prisoner exchange",
                "Security Council", "safe zone", "Rapid Support Forces", "Wagner Group"],
    "stems": ["negotiat", "ceasefir", "evacuat", "displac", "shell", "airstrik", "sanction", "refuge",
              "humanitar", "escalat", "mobiliz", "annex"],
}


_NOT_TOPICS = set("""Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May
June July August September October November December The This That There They When What President Police
Department Minister Street County City State National News Center University""".split())


def load_articles(count: int) -> list[Document]:
    """The first `count` articles of the corpus, as documents."""
    articles = []
    with CORPUS.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if len(articles) == count:
                break
            title, _, text = json.loads(line)["text"].partition("\n")
            articles.append(Document(title=title, text=text, language=random.Random(number).choice(
                ["en", "en-GB", "en-US", None]), source=SOURCES[number % len(SOURCES)]))
    return articles


def mine_vocabulary(articles: list[Document]) -> dict[str, list[str]]:
    """Names, two-name phrases and word stems that occur in the articles."""
    names: collections.Counter[str] = collections.Counter()
    phrases: collections.Counter[str] = collections.Counter()
    words: collections.Counter[str] = collections.Counter()
    for doc in articles:
        names.update(re.findall(r"(?<=[a-z,] )[A-Z][a-z]{3,}", doc.text))
        phrases.update(" ".join(m) for m in re.findall(r"(?<=[a-z,] )([A-Z][a-z]{2,}) ([A-Z][a-z]{2,})", doc.text))
        words.update(re.findall(r"\b[a-z]{8,}\b", doc.text))
    # A watchlist names a topic, so leave out what nearly every article has (weekdays, "President")
    common = max(3, len(articles) // 20)
    return {"names": [w for w, n in names.most_common() if n <= common and w not in _NOT_TOPICS][:1500],
            "phrases": [p for p, _ in phrases.most_common(400)],
            "stems": sorted({w[:6] for w, _ in words.most_common(300)}),
            "acronyms": ["US", "UN", "FBI", "CIA", "NFL", "EU", "IT", "AP"]}


class Generator:
    """Seeded random watchlists in the shapes analysts write."""

    def __init__(self, mined: dict[str, list[str]], seed: int):
        self.rng = random.Random(seed)
        self.mined = mined
        self.aliases = {f"a{i}": self.rng.sample(ELSEWHERE["places"] + ELSEWHERE["people"] + mined["names"], 4)
                        for i in range(60)}

    def name(self) -> str:
        rng = self.rng
        if rng.random() < MINED_SHARE:
            return rng.choice(self.mined["names"])
        return rng.choice(ELSEWHERE[rng.choice(["places", "people", "orgs"])])

    def phrase(self) -> str:
        pool = self.mined["phrases"] if self.rng.random() < MINED_SHARE else ELSEWHERE["phrases"]
        return '"' + self.rng.choice(pool) + '"'

    def stem(self) -> str:
        pool = self.mined["stems"] if self.rng.random() < MINED_SHARE else ELSEWHERE["stems"]
        return self.rng.choice(pool) + "*"

    def query(self) -> str:
        rng, name, phrase, stem = self.rng, self.name, self.phrase, self.stem
        shapes = [
            lambda: name(),
            lambda: f"{name()} OR {name()} OR {name()}",
            lambda: f"({name()} OR {name()}) AND {stem()}",
            lambda: f"{name()} {name()} NOT {name()}",
            lambda: phrase(),
            lambda: f"{phrase()} NEAR/5 {name()}",
            lambda: f"{name()} NEAR/{rng.randint(2, 15)} {name()}",
            lambda: f"title:{name()} OR title:{phrase()}",
            lambda: f"@{rng.choice(list(self.aliases))} AND ({stem()} OR {name()})",
            lambda: f"case:{rng.choice(self.mined['acronyms'])} AND {name()}",
            lambda: f"({name()} OR {phrase()}) AND NOT ({name()} OR {name()})",
        ]
        return rng.choice(shapes)()

    def specs(self, count: int) -> list[WatchSpec]:
        rng = self.rng
        return [WatchSpec(name=f"w{i}", query=self.query(),
                          exclude=self.name() if rng.random() < 0.2 else None,
                          languages=["en"] if rng.random() < 0.3 else [],
                          sources=rng.sample(SOURCES, 2) if rng.random() < 0.2 else [])
                for i in range(count)]


def run(size: int, articles: list[Document], generator: Generator) -> dict[str, float]:
    """Time both ways for `size` watchlists; check they agree."""
    specs = generator.specs(size)
    started = time.perf_counter()
    index = WatchIndex(specs, generator.aliases)
    build = time.perf_counter() - started
    compiled = [(spec, compile_query(spec.query, generator.aliases),
                 compile_query(spec.exclude, generator.aliases) if spec.exclude else None) for spec in specs]

    analyse.cache_clear()  # each way tokenizes every article itself
    started = time.perf_counter()
    expected = [[(spec.name, hit) for spec, query, exclude in compiled
                 if spec.admits(doc) and (hit := query.evaluate(doc)) is not None
                 and (exclude is None or exclude.evaluate(doc) is None)] for doc in articles]
    baseline = time.perf_counter() - started

    analyse.cache_clear()
    started = time.perf_counter()
    got = [index.match(doc) for doc in articles]
    indexed = time.perf_counter() - started
    assert got == expected, "WatchIndex and evaluating every query disagree"
    candidates = sum(len(index.candidates(doc)) for doc in articles) / len(articles)
    return {"size": size, "build": build, "baseline": len(articles) / baseline, "index": len(articles) / indexed,
            "candidates": candidates, "matches": sum(map(len, got)) / len(articles)}


HUGE_SENTENCE = "Talks in Moscow on Idlib: Erdoğan and Putin met again, aides said. "


def huge_page(repeats: tuple[int, ...]) -> None:
    """NEAR on one very long page, against AND of the same words (the baseline) on the same page."""
    print(f"{'occurrences':>11} {'characters':>10} {'AND s':>7} {'NEAR/10 s':>9} {'ratio':>6}")
    for count in repeats:
        doc = Document("Idlib", HUGE_SENTENCE * count, "en")
        times = []
        for query in ("Erdoğan AND Putin", "Erdoğan NEAR/10 Putin"):
            compiled = compile_query(query)
            start = time.perf_counter()
            assert compiled.evaluate(doc) is not None
            times.append(time.perf_counter() - start)
        print(f"{count:>11,} {len(doc.text):>10,} {times[0]:>7.2f} {times[1]:>9.2f} {times[1] / times[0]:>5.1f}x",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 and 1,000 watchlists, 100 articles")
    parser.add_argument("--articles", type=int, help="how many articles (default 300, --quick 100)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--huge", action="store_true", help="NEAR on one very long page instead")
    args = parser.parse_args()
    if args.huge:
        return huge_page((1_000, 5_000, 20_000))
    sizes = [10, 1_000] if args.quick else [10, 1_000, 10_000]
    articles = load_articles(args.articles or (100 if args.quick else 300))
    generator = Generator(mine_vocabulary(articles), args.seed)
    print(f"{len(articles)} articles, {sum(len(d.text) for d in articles) // len(articles)} characters on average")
    print(f"{'watchlists':>10} {'build s':>8} {'candidates/art':>14} {'matches/art':>11} "
          f"{'every query art/s':>17} {'WatchIndex art/s':>16} {'speed-up':>8}")
    for size in sizes:
        r = run(size, articles, generator)
        print(f"{r['size']:>10,} {r['build']:>8.2f} {r['candidates']:>14.1f} {r['matches']:>11.2f} "
              f"{r['baseline']:>17,.0f} {r['index']:>16,.0f} {r['index'] / r['baseline']:>7.1f}x", flush=True)
    print("identical results: yes")


if __name__ == "__main__":
    main()
