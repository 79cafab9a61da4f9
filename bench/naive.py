"""The naive baseline: what a first script does. Sequential, no state, keywords as substrings.

    python bench/naive.py FEEDS.json     # FEEDS.json: {"feeds": [url, ...], "topics": {name: [keyword, ...]}}

For each feed in turn: `feedparser.parse(url)` (feedparser fetches it itself); for each entry in
turn: fetch the page, `trafilatura.extract` it with its defaults (comments kept), and look for each
topic's keywords as lowercase substrings of the text. No conditional GET and no memory of what was
seen, so every run is a first run.

One honest deviation: the script is meant to call `trafilatura.fetch_url(link)`, but trafilatura
2.3 refuses non-public addresses (its SSRF guard) and the benchmark web is on loopback, so pages are
fetched with `urllib.request.urlopen` instead, also sequentially and without a shared connection,
which is what fetch_url does (urllib3, one request at a time). Prints one JSON line of figures.
"""

import json
import resource
import sys
import time
import urllib.request

started = time.perf_counter()
import feedparser  # noqa: E402
import trafilatura  # noqa: E402

imported = time.perf_counter()


def main(path: str) -> None:
    plan = json.loads(open(path, encoding="utf-8").read())
    begin = time.perf_counter()
    entries = extracted = 0
    matches: dict[str, int] = {name: 0 for name in plan["topics"]}
    for url in plan["feeds"]:
        parsed = feedparser.parse(url)
        for entry in parsed.entries:
            entries += 1
            with urllib.request.urlopen(entry.link, timeout=20) as response:  # fetch_url refuses loopback
                html = response.read()
            text = trafilatura.extract(html, url=entry.link)
            if not text:
                continue
            extracted += 1
            lowered = (entry.get("title", "") + "\n" + text).lower()
            for name, keywords in plan["topics"].items():
                if any(keyword in lowered for keyword in keywords):
                    matches[name] += 1
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "seconds": round(time.perf_counter() - begin, 3), "import_seconds": round(imported - started, 3),
        "feeds": len(plan["feeds"]), "entries": entries, "extracted": extracted, "matches": matches,
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
    }))


if __name__ == "__main__":
    main(sys.argv[1])
