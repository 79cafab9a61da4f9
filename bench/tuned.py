"""The tuned plain baseline: the best plain Python does without any of newswatch's machinery.

    python bench/tuned.py FEEDS.json STATE.json [--concurrency 32]

One pooled `httpx.AsyncClient` (keep-alive; `--concurrency` requests in flight, by a semaphore so
httpx's pool never holds thousands of waiters); conditional GET from the ETag / Last-Modified kept
in STATE.json; `feedparser.parse` on the response bytes; each new entry's page fetched as soon as
its feed is parsed and extracted by trafilatura in a 2-process pool (`bare_extraction` with
metadata, comments off: the text, title and date newswatch also keeps) while other pages are
still downloading; at most 64 pages fetched-but-not-extracted at a time, so memory stays flat.
Seen entry ids are kept in STATE.json too, so an unchanged second run costs one 304 per feed.
Topic keywords are lowercase substrings, as in the naive script. Prints one JSON line of figures.
"""

import json
import os
import resource
import sys
import time

started = time.perf_counter()
import asyncio  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402

import feedparser  # noqa: E402
import httpx  # noqa: E402
import trafilatura  # noqa: E402

imported = time.perf_counter()


def extract(body: bytes, url: str) -> tuple[str, str, str] | None:
    document = trafilatura.bare_extraction(body, url=url, with_metadata=True, include_comments=False)
    if document is None or not document.text:
        return None
    return document.text, document.title or "", document.date or ""


async def run(plan: dict, state: dict, concurrency: int) -> dict:
    loop = asyncio.get_running_loop()
    slots, pages_in_flight = asyncio.Semaphore(concurrency), asyncio.Semaphore(64)
    seen = set(state.setdefault("seen", []))
    validators = state.setdefault("validators", {})
    counts = {"not_modified": 0, "entries": 0, "extracted": 0}
    matches = {name: 0 for name in plan["topics"]}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=20, follow_redirects=True) as client:
        with ProcessPoolExecutor(max_workers=2) as pool:

            async def page(entry) -> None:
                async with pages_in_flight:
                    async with slots:
                        response = await client.get(entry.link)
                    found = await loop.run_in_executor(pool, extract, response.content, str(response.url))
                seen.add(entry.get("id") or entry.link)
                if found is None:
                    return
                counts["extracted"] += 1
                lowered = (entry.get("title", "") + "\n" + found[0]).lower()
                for name, keywords in plan["topics"].items():
                    if any(keyword in lowered for keyword in keywords):
                        matches[name] += 1

            async def feed(url: str) -> None:
                etag, modified = validators.get(url, (None, None))
                headers = {k: v for k, v in (("If-None-Match", etag), ("If-Modified-Since", modified)) if v}
                async with slots:
                    response = await client.get(url, headers=headers)
                if response.status_code == 304:
                    counts["not_modified"] += 1
                    return
                validators[url] = (response.headers.get("etag"), response.headers.get("last-modified"))
                parsed = feedparser.parse(response.content)
                new = [e for e in parsed.entries if (e.get("id") or e.link) not in seen]
                counts["entries"] += len(new)
                await asyncio.gather(*(page(entry) for entry in new))

            await asyncio.gather(*(feed(url) for url in plan["feeds"]))
    state["seen"] = sorted(seen)
    return {**counts, "matches": matches}


def main() -> None:
    plan_path, state_path = sys.argv[1], sys.argv[2]
    concurrency = int(sys.argv[sys.argv.index("--concurrency") + 1]) if "--concurrency" in sys.argv else 32
    plan = json.loads(open(plan_path, encoding="utf-8").read())
    begin = time.perf_counter()
    state = json.loads(open(state_path, encoding="utf-8").read()) if os.path.exists(state_path) else {}
    figures = asyncio.run(run(plan, state, concurrency))
    with open(state_path, "w", encoding="utf-8") as out:
        json.dump(state, out)
    seconds = time.perf_counter() - begin
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "seconds": round(seconds, 3), "import_seconds": round(imported - started, 3), "feeds": len(plan["feeds"]),
        **figures, "cpu_seconds": round(own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime, 2),
    }))


if __name__ == "__main__":
    main()
