"""Benchmark: the memory and time of reading one page at the size cap, against an ordinary page.

`newswatch.reading.read` (extraction, the story fingerprint, the text hash and, with `--index`,
four watchlists' matching) runs in the cycle's extraction processes, one page at a time a
process: its peak memory on the largest page a source may send (`fetch.max_bytes`, 5 MB by
default) is what each of those processes must have. Each size runs in a fresh interpreter; the
figure is the peak RSS above the interpreter's own after its imports, and its ratio to an
ordinary page's (10 kB) in the same run.

    .venv/bin/python bench/huge_page.py                 # 10 kB, 1 MB, 4.9 MB pages
    .venv/bin/python bench/huge_page.py --index         # and matched against four watchlists
    .venv/bin/python bench/huge_page.py --in-turn 12    # 12 pages of 2 MB read in turn by one process
    .venv/bin/python bench/huge_page.py --marked ...    # every word with a combining accent

`--in-turn N` reads N different 2 MB pages, matched, one after the other in one interpreter, as an
extraction process reads a cycle's pages, and prints its resident memory after each: what the
process keeps of the pages it has read.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout, without installing

from newswatch.matching.index import WatchIndex, WatchSpec  # noqa: E402
from newswatch.reading import read  # noqa: E402

QUERIES = ('"Erdogan" NEAR/10 Putin', "Idlib AND (Erdogan OR Putin) NOT Moscow", "erdo* NEAR/3 (putin OR idlib)",
           '"idlib erdogan putin"')


def page(size: int, seed: int = 1, marked: bool = False) -> bytes:
    """An article page of about `size` bytes: paragraphs of made-up words naming Idlib, Erdogan,
    Putin; `marked`: each word with a combining accent (as some sites write é: e and ◌́)."""
    rng = random.Random(seed)
    mark = "\u0301" if marked else ""
    vocabulary = [rng.choice("aeiou") + mark + "".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(1, 8)))
                  for _ in range(20000)]
    paragraphs, total = [], 0
    while total < size:
        paragraphs.append(f"<p>{' '.join(rng.choice(vocabulary) for _ in range(80))}. Idlib Erdogan Putin.</p>")
        total += len(paragraphs[-1])
    return (f"<html><head><title>A page</title></head><body><article><h1>A page</h1>{''.join(paragraphs)}"
            "</article></body></html>").encode()


@dataclass(frozen=True)
class Measured:
    """One page read: its size, its text's, the seconds and the peak RSS it added (MiB)."""

    bytes: int
    text: int
    seconds: float
    mib: float


def watchlists() -> WatchIndex:
    return WatchIndex([WatchSpec(f"w{n}", q) for n, q in enumerate(QUERIES)])


def measure(size: int, index: bool, marked: bool) -> Measured:
    """Read one page of `size` bytes in this process (matched against `watchlists` if `index`)."""
    watch = watchlists() if index else None
    read(page(20_000, seed=2, marked=marked), "https://example.org/warm-up", "Warm-up", "en", index=watch)  # imports
    body = page(size, marked=marked)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    found = read(body, "https://example.org/a/page", "A page", "en", index=watch)
    seconds = time.perf_counter() - start
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    return Measured(len(body), len(found.extracted.text) if found else 0, seconds, grown)


def in_turn(pages: int, marked: bool, size: int = 2_000_000) -> None:
    """Read `pages` different pages of `size` bytes in turn, printing the resident memory after each."""
    watch = watchlists()
    print("| pages read | resident MiB | peak MiB |")
    print("| --- | --- | --- |")
    for n in range(pages):
        read(page(size, seed=10 + n, marked=marked), f"https://example.org/a/{n}", "A page", "en", index=watch)
        gc.collect()
        print(f"| {n + 1} | {_resident() / 2**20:.0f} | {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} |")


def _resident() -> int:
    """This process's resident memory in bytes (Linux)."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,1000000,4900000", help="page sizes in bytes, the first the baseline")
    parser.add_argument("--index", action="store_true", help="match against four watchlists too")
    parser.add_argument("--marked", action="store_true", help="every word with a combining accent")
    parser.add_argument("--in-turn", type=int, metavar="N", help="read N different 2 MB pages in one process")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child run: one size
    args = parser.parse_args()
    if args.in_turn:
        in_turn(args.in_turn, args.marked)
        return
    if args.one:
        print(json.dumps(asdict(measure(args.one, args.index, args.marked))))
        return
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        command = [sys.executable, __file__, "--one", str(size)] + [f"--{flag}" for flag in ("index", "marked")
                                                                     if getattr(args, flag)]
        rows.append(Measured(**json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)))
    base = rows[0]
    print("| page bytes | text chars | seconds | peak RSS growth MiB | × the first page's growth |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        ratio = r.mib / base.mib if base.mib > 0 else float("nan")
        print(f"| {r.bytes:,} | {r.text:,} | {r.seconds:.2f} | {r.mib:.0f} | {ratio:.0f}× |")


if __name__ == "__main__":
    main()
