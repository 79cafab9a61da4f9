"""Benchmark: a monitoring cycle at scale, newswatch against two plain scripts on the same web.

For each size N feeds × M items (bench/README.md, "## Fetching at scale", has the figures):
1. bench/server.py serves a generated corpus (bench/corpus.py) on loopback with 50 ms latency,
   ETag and Last-Modified; it stops by itself when this script ends.
2. The naive script (bench/naive.py): one pass, sequential. Skipped above --naive-max pages.
3. The tuned plain script (bench/tuned.py): a first pass, two unchanged passes, and after
   newswatch's runs a second first pass (fresh state), because the load drifts; the faster
   first pass and the faster unchanged pass are the reference (the script's own timer: after
   its imports, so its process start-up is not counted).
4. `newswatch run --once` against a Prefect server started here (temp PREFECT_HOME): the fixed
   start-up (a config without sources, run 3 times: the first on a fresh database, i.e. with the
   migrations; the median of the other two is "start-up"), the first cycle and the unchanged
   second cycle, in --rounds rounds (5) of a start-up run, a bare `import prefect`, an unchanged
   cycle on the same store and a tuned unchanged pass: a round's net is its unchanged cycle minus
   its start-up, and its ratio the net over the tuned pass of the same round, so that the two
   compared meet the same load (the Prefect server digesting the first cycle, the bench's web
   server); the median ratio counts, and the median of the rounds' start-up / import. After a
   cycle, the end of each stage within the flow run is read back from the Prefect API. The bare
   `import prefect` (3 runs before the first cycle, one a round after) is the start-up's floor;
   "start-up" is the median of every run after the first.
Every process is timed by wall clock; peak memory is sampled every 0.1 s as the sum of the RSS of
the process and all its descendants (pool workers included), and /usr/bin/time -v gives the
largest single process. The 1-minute load average at the start and end of each run is printed
next to it: the machine has 2 cores shared with other work, so compare the ratios within one run.
The bench server counts the connections each run opened (keep-alive reuse).

    .venv/bin/python bench/fetch_bench.py --quick                       # 20×5, everything, < 2 min
    .venv/bin/python bench/fetch_bench.py                               # 200×20 and 1,000×2
    .venv/bin/python bench/fetch_bench.py --sizes 1000x20 --naive-max 0 # the long one
    .venv/bin/python bench/fetch_bench.py --sizes 200x20 --naive-max 0 \
        --postgres postgresql://postgres@127.0.0.1:5432/nw_bench          # store on PostgreSQL
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from corpus import ALIASES, TOPICS, Corpus  # noqa: E402
from server import CorpusServer  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python")
NEWSWATCH = str(ROOT / ".venv" / "bin" / "newswatch")
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Run:
    """One timed process: wall seconds, peak memory, what it printed, the load when it started."""

    label: str
    seconds: float
    tree_rss_mb: float
    max_rss_mb: float
    load: float
    load_after: float
    stdout: str
    requests: dict = field(default_factory=dict)
    stages: dict = field(default_factory=dict)

    def figures(self) -> dict:
        """The JSON line the baselines print, or newswatch's `key=value` summary line."""
        for line in reversed(self.stdout.splitlines()):
            if line.startswith("{"):
                return json.loads(line)
            if line.startswith("sources="):
                return {k: _number(v) for k, v in (p.split("=", 1) for p in line.split())}
        return {}


def timed(label: str, command: list[str], env: dict | None = None, cwd: Path | None = None,
          web: CorpusServer | None = None) -> Run:
    """Run `command` to completion under /usr/bin/time -v, sampling the process tree's RSS."""
    if web is not None:
        web.stats(reset=True)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    process = subprocess.Popen(["/usr/bin/time", "-v", *command], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    peak, done = [0], threading.Event()

    def sample() -> None:
        while not done.wait(0.1):
            peak[0] = max(peak[0], _tree_rss(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"{label}: exit {process.returncode}\n{stdout[-2000:]}\n{stderr[-4000:]}")
    single = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    run = Run(label, seconds, peak[0] / 2**20, int(single.group(1)) / 1024 if single else 0.0, load,
              os.getloadavg()[0], stdout)
    if web is not None:
        run.requests = web.stats()
    print(f"  {label:<34} {seconds:7.2f} s  tree RSS {run.tree_rss_mb:4.0f} MB  load {load:4.2f}→{run.load_after:4.2f}  "
          f"{json.dumps(run.requests)}  {_brief(run.figures())}", flush=True)
    return run


def stages(env: dict) -> dict:
    """Seconds from the flow run's start to the end of each task kind, from the Prefect API."""
    script = """
import asyncio, json
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.sorting import FlowRunSort

async def main():
    async with get_client() as client:
        run = (await client.read_flow_runs(sort=FlowRunSort.START_TIME_DESC, limit=1))[0]
        tasks, page = [], True
        while page:  # the API answers at most 200 at a time
            page = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])),
                                               limit=200, offset=len(tasks))
            tasks += page
        spans = {"flow": round(run.total_run_time.total_seconds(), 2)}
        for task in tasks:
            end = (task.start_time - run.start_time).total_seconds() + task.total_run_time.total_seconds()
            name = task.name.rsplit("-", 1)[0]
            spans[name] = round(max(spans.get(name, 0), end), 2)
        print(json.dumps(spans))
asyncio.run(main())
"""
    done = subprocess.run([PYTHON, "-c", script], env=env, capture_output=True, text=True)
    found = json.loads(done.stdout) if done.returncode == 0 else {}
    print(f"  {'':<34} stage ends (s into the flow run): {found}", flush=True)
    return found


def _tree_rss(root: int) -> int:
    """Bytes resident in `root` and all its descendants (RSS summed: shared pages count twice)."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as stat:
                    parents[int(entry.name)] = int(stat.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    family, frontier = {root}, [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier and pid not in family]
        family.update(children)
        frontier = children
    total = 0
    for pid in family:
        try:
            with open(f"/proc/{pid}/statm", "rb") as statm:
                total += int(statm.read().split()[1]) * _PAGE
        except (OSError, ValueError, IndexError):
            continue
    return total


def _number(value: str):
    try:
        return float(value) if "." in value else int(value)
    except ValueError:
        return value


def _brief(figures: dict) -> str:
    keys = ("seconds", "entries", "extracted", "new_articles", "not_modified", "matches", "sent")
    return " ".join(f"{k}={figures[k]}" for k in keys if k in figures)


def newswatch_config(folder: Path, corpus: Corpus | None, port: int, concurrency: int, per_host: int,
                     database: str | None = None) -> Path:
    """A config for the corpus: every feed a source, a jsonl channel, the corpus's watch topics;
    the store a SQLite file in `folder` unless `database` names another."""
    sources = [] if corpus is None else [
        {"name": f"site{i}", "url": corpus.feed_url(i, port), "language": "en"} for i in range(corpus.feeds)]
    config = {
        "database": database or f"sqlite:///{folder}/newswatch.db",
        "fetch": {"timeout": "20s", "allow_private_networks": True, "concurrency": concurrency, "per_host": per_host},
        "sources": sources,
        "channels": {"log": {"type": "jsonl", "path": str(folder / "alerts.jsonl")}},
        "aliases": ALIASES,
        "watchlists": [{"name": name, "query": query, "channels": ["log"]} for name, query, _, _ in TOPICS],
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "newswatch.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def bench_size(corpus: Corpus, args, api: str, work: Path) -> dict:
    print(f"\n{corpus.feeds} feeds × {corpus.items} items, latency {args.latency * 1000:.0f} ms", flush=True)
    results: dict = {"feeds": corpus.feeds, "items": corpus.items}
    with CorpusServer(corpus, latency=args.latency, python=PYTHON) as web:
        print(f"  corpus built and served in {web.built_seconds:.1f} s", flush=True)
        folder = work / f"{corpus.feeds}x{corpus.items}"
        folder.mkdir(parents=True, exist_ok=True)
        plan = folder / "plan.json"
        plan.write_text(json.dumps({"feeds": [corpus.feed_url(i, web.port) for i in range(corpus.feeds)],
                                    "topics": {name: words for name, _, words, _ in TOPICS}}))
        if corpus.feeds * corpus.items <= args.naive_max:
            results["naive"] = timed("naive, first pass", [PYTHON, str(HERE / "naive.py"), str(plan)], web=web)
        state = folder / "tuned-state.json"
        tuned = [PYTHON, str(HERE / "tuned.py"), str(plan), str(state), "--concurrency", str(args.concurrency)]
        results["tuned_first"] = [timed("tuned, first pass", tuned, web=web)]
        results["tuned_unchanged"] = [timed("tuned, unchanged pass", tuned, web=web) for _ in range(2)]

        env = {**os.environ, "PREFECT_API_URL": api, "PREFECT_HOME": str(work / "prefect-client"),
               "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        empty = newswatch_config(folder / "empty", None, web.port, args.concurrency, args.per_host)
        startup = [timed(f"newswatch start-up ({'fresh db' if k == 0 else 'again'})",
                         [NEWSWATCH, "--config", str(empty), "run", "--once"], env, folder, web) for k in range(3)]
        results["startup"] = startup
        # the floor for the start-up: a bare `import prefect`, in the same environment (issue 18, point 7)
        results["import_prefect"] = [timed("bare `import prefect`", [PYTHON, "-c", "import prefect"], env, folder)
                                     for _ in range(3)]
        if args.postgres:
            from dedupe_growth import empty_postgres  # the first cycle meets a new store

            empty_postgres(args.postgres)
        config = newswatch_config(folder / "newswatch", corpus, web.port, args.concurrency, args.per_host,
                                  args.postgres)
        command = [NEWSWATCH, "--config", str(config), "run", "--once"]
        results["nw_first"] = timed("newswatch, first cycle", command, env, folder, web)
        results["nw_first"].stages = stages(env)
        # unchanged cycles, each right after a start-up run and a bare import: the three see the same
        # load (the Prefect server digesting the first cycle, the machine's other work), so each
        # round's net (its unchanged cycle minus its start-up) leaves the drift out
        results["nw_unchanged"], results["tuned_paired"] = [], []
        for _ in range(args.rounds):
            results["startup"].append(timed("newswatch start-up (paired)", [NEWSWATCH, "--config", str(empty), "run",
                                                                            "--once"], env, folder, web))
            results["import_prefect"].append(timed("bare `import prefect`", [PYTHON, "-c", "import prefect"], env,
                                                   folder))
            results["nw_unchanged"].append(timed("newswatch, unchanged cycle", command, env, folder, web))
            results["tuned_paired"].append(timed("tuned, unchanged pass (paired)", tuned, web=web))
        results["nw_unchanged"][-1].stages = stages(env)
        state.unlink()  # the tuned first pass again, next to newswatch's in time: the load drifts
        results["tuned_first"].append(timed("tuned, first pass (again)", tuned, web=web))
        alerts = folder / "newswatch" / "alerts.jsonl"
        results["alerts"] = len(alerts.read_text(encoding="utf-8").splitlines()) if alerts.exists() else 0
        results["expected"] = corpus.expected_topics()
    return results


def report(all_results: list[dict]) -> None:
    print("\nSummary (seconds are wall clock; 'net' = minus newswatch's fixed start-up)")
    header = (f"{'size':>9} {'naive':>7} {'tuned 1st':>9} {'tuned unch':>10} {'nw start':>8} "
              f"{'nw 1st':>7} {'net':>6} {'ratio':>5} {'nw unch':>7} {'net':>5} {'ratio':>5} {'peak MB':>7}")
    print(header)
    for r in all_results:
        startup = statistics.median(run.seconds for run in r["startup"][1:])
        if r.get("import_prefect"):
            imports = sorted(run.seconds for run in r["import_prefect"])
            print(f"{r['feeds']:>5}×{r['items']:<3} start-up {startup:.2f} s against a bare `import prefect` "
                  f"{imports[0]:.2f} s (min; median {statistics.median(imports):.2f} s): "
                  f"{startup / statistics.median(imports):.2f}× the median")
        tuned_first = min(run.figures()["seconds"] for run in r["tuned_first"])
        tuned_unchanged = min(run.figures()["seconds"] for run in r["tuned_unchanged"])
        first = r["nw_first"].seconds
        paired = r["startup"][-len(r["nw_unchanged"]):]
        nets = [run.seconds - start.seconds for run, start in zip(r["nw_unchanged"], paired, strict=True)]
        unchanged = statistics.median(run.seconds for run in r["nw_unchanged"])
        naive = f"{r['naive'].figures()['seconds']:7.1f}" if "naive" in r else f"{'-':>7}"
        peak = max(run.tree_rss_mb for run in [r["nw_first"], *r["nw_unchanged"]])
        net = statistics.median(nets)
        print(f"{r['feeds']:>5}×{r['items']:<3} {naive} {tuned_first:9.2f} {tuned_unchanged:10.2f} {startup:8.2f} "
              f"{first:7.2f} {first - startup:6.2f} {(first - startup) / tuned_first:5.2f} {unchanged:7.2f} "
              f"{net:5.2f} {net / tuned_unchanged:5.2f} {peak:7.0f}")
        print("          unchanged cycles one by one, each minus the start-up run just before it (the first "
              "comes after the first cycle's many new articles): "
              + ", ".join(f"{run.seconds:.2f} - {start.seconds:.2f} = {n:.2f} s" for run, start, n
                          in zip(r["nw_unchanged"], paired, nets, strict=True)) + f"; median net {net:.2f} s")
        if r.get("tuned_paired"):
            print("          " + paired_ratios(r, nets))
        total, copies = (sum(counts) for counts in zip(*r["expected"].values()))
        tuned_matches = sum(r["tuned_first"][0].figures().get("matches", {}).values())
        naive_matches = sum(r["naive"].figures()["matches"].values()) if "naive" in r else "-"
        print(f"          alerts: newswatch {r['alerts']} (one per story), tuned {tuned_matches}, naive {naive_matches}; "
              f"articles on a topic: {total}, of which {copies} near-duplicate copies")


def paired_ratios(r: dict, nets: list[float]) -> str:
    """Point 7 of issue 18 round by round: each round's net against the tuned unchanged pass of the
    same round, and its start-up run against its bare import; the medians are the figures."""
    tuned = [run.figures()["seconds"] for run in r["tuned_paired"]]
    startups = [run.seconds for run in r["startup"][-len(nets):]]
    imports = [run.seconds for run in r["import_prefect"][-len(nets):]]
    cycle = [net / t for net, t in zip(nets, tuned, strict=True)]
    start = [s / i for s, i in zip(startups, imports, strict=True)]
    rounds = "; ".join(f"{n:.2f} / {t:.2f} s = {c:.2f}×, start-up {s:.2f} / {i:.2f} s = {x:.2f}×"
                       for n, t, c, s, i, x in zip(nets, tuned, cycle, startups, imports, start, strict=True))
    return (f"rounds (net / tuned unchanged pass of the round, start-up / bare import): {rounds}; "
            f"median {statistics.median(cycle):.2f}× the tuned pass, start-up {statistics.median(start):.2f}× "
            f"the import")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 feeds × 5 items only")
    parser.add_argument("--sizes", default="200x20,1000x2", help="comma-separated FEEDSxITEMS")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--naive-max", type=int, default=4000, help="run the naive script up to this many pages")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight (both tuned and newswatch)")
    parser.add_argument("--per-host", type=int, default=4, help="newswatch fetch.per_host")
    parser.add_argument("--rounds", type=int, default=5,
                        help="unchanged cycles, each paired with a start-up run, a bare import and a tuned "
                             "unchanged pass")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--postgres", help="newswatch's store: this PostgreSQL database (emptied first!) "
                                           "instead of a SQLite file")
    args = parser.parse_args()
    sizes = ["20x5"] if args.quick else args.sizes.split(",")
    from flows.runtime import local_server

    with tempfile.TemporaryDirectory(prefix="newswatch-bench-") as temp:
        work = Path(temp)
        started = time.perf_counter()
        with local_server(work) as api:
            print(f"Prefect server {api} up in {time.perf_counter() - started:.1f} s "
                  f"(load {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores)", flush=True)
            results = [bench_size(Corpus(*map(int, size.split("x"))), args, api, work) for size in sizes]
    report(results)
    if args.json:
        args.json.write_text(json.dumps([
            {k: ([vars(x) for x in v] if isinstance(v, list) else vars(v) if isinstance(v, Run) else v)
             for k, v in r.items()} for r in results], indent=1, default=str))


if __name__ == "__main__":
    main()
