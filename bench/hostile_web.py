"""Benchmark: the watch against a hostile web, longer than the test (tests/flows/test_hostile_web.py).

Each round builds a world on a fresh local server (tests/support/hostile_web.py): `--good` good
feeds of two canary pages each, and `--bad` behaviours drawn without replacement from the
catalogue by a seeded generator (item and page behaviours go into the good feeds, source
behaviours are sources of their own, all on one host), then runs two real monitor cycles
in-process under a temporary Prefect server, on a fresh SQLite store (or a fresh database on
`--postgres URL`), with every source polled again in the second. Per round it prints the
behaviours drawn, the cycles that failed, the canaries lost, doubled or spurious (decoys) and
what the second cycle sent.

`--isolate` runs every behaviour of the catalogue alone (one good feed, two canaries, the
behaviour) and lists those that break the invariant, one line each: the precise list.

    .venv/bin/python bench/hostile_web.py                                  # 3 seeds x 2 rounds, 20 good + 60 bad
    .venv/bin/python bench/hostile_web.py --seeds 1 2 3 4 --rounds 3
    .venv/bin/python bench/hostile_web.py --isolate                        # each behaviour alone
    .venv/bin/python bench/hostile_web.py --exclude feed-cl-short-smuggle  # attribute a symptom
    .venv/bin/python bench/hostile_web.py --postgres postgresql://postgres@127.0.0.1:5432/postgres

Exit status: 0 when every round kept the invariant, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--rounds", type=int, default=2, help="rounds per seed")
    parser.add_argument("--good", type=int, default=20, help="good feeds a round (two canaries each)")
    parser.add_argument("--bad", type=int, default=60, help="behaviours drawn a round")
    parser.add_argument("--isolate", action="store_true", help="each behaviour alone instead of rounds")
    parser.add_argument("--only", nargs="*", help="these behaviour ids only (rounds draw from them)")
    parser.add_argument("--exclude", nargs="*", default=[], help="behaviour ids never drawn (to attribute a symptom)")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server: one fresh database a round")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="hostile-web-"))
    from flows.runtime import prefect_defaults

    prefect_defaults(scratch)
    # the cycles' warnings (failed sources, failed page batches) go to stderr: 2>file keeps them
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    from tests.support.hostile_web import CATALOGUE

    print(f"catalogue: {len(CATALOGUE)} behaviours; store: {'PostgreSQL' if args.postgres else 'SQLite'}",
          flush=True)
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}), \
            prefect_test_harness(server_startup_timeout=120):
        ids = [i for i in (args.only or sorted(CATALOGUE)) if i not in set(args.exclude)]
        return _isolate(args, scratch, ids) if args.isolate else _rounds(args, scratch, ids)


def _rounds(args, scratch: Path, ids: list[str]) -> int:
    from tests.support.hostile_web import HostileServer, build_world, run_world

    broken = 0
    totals = {"behaviours": 0, "cycles failed": 0, "lost": 0, "doubled": 0, "spurious": 0, "second": 0}
    for seed in args.seeds:
        for number in range(1, args.rounds + 1):
            drawn = random.Random(seed * 1000 + number).sample(ids, min(args.bad, len(ids)))
            with _database(args.postgres) as database, HostileServer() as server:
                world = build_world(server, args.good, 2, drawn, seed=seed * 100 + number)
                outcome = run_world(world, tempfile.mkdtemp(dir=scratch), database)
            broken += not outcome.ok
            figures = {"behaviours": len(drawn), "cycles failed": len(outcome.errors), "lost": len(outcome.lost),
                       "doubled": len(outcome.doubled), "spurious": len(outcome.spurious),
                       "second": len(outcome.second)}
            for key, value in figures.items():
                totals[key] += value
            print(f"seed {seed} round {number}: {len(drawn)} behaviours, {len(world.canaries)} canaries, "
                  f"cycles failed {len(outcome.errors)}/2, canaries lost {len(outcome.lost)}, "
                  f"doubled {len(outcome.doubled)}, spurious {len(outcome.spurious)}, "
                  f"second cycle sent {len(outcome.second)}, {outcome.seconds} s", flush=True)
            print("  drawn: " + " ".join(drawn), flush=True)
            for line in outcome.describe().splitlines()[1:]:
                print("  " + line[:400], flush=True)
            if outcome.dns:
                print(f"  DNS refused (never sent) for: {', '.join(sorted(set(outcome.dns)))[:300]}", flush=True)
    print("total: " + ", ".join(f"{k} {v}" for k, v in totals.items())
          + f"; rounds broken {broken}/{len(args.seeds) * args.rounds}", flush=True)
    return 1 if broken else 0


def _isolate(args, scratch: Path, ids: list[str]) -> int:
    from tests.support.hostile_web import HostileServer, build_world, run_world

    failing = []
    started = time.monotonic()
    for number, behaviour in enumerate(ids):
        with _database(args.postgres) as database, HostileServer() as server:
            world = build_world(server, 1, 2, [behaviour], seed=9000 + number)
            outcome = run_world(world, tempfile.mkdtemp(dir=scratch), database)
        if not outcome.ok:
            symptoms = outcome.describe().splitlines()[1:]
            failing.append(behaviour)
            print(f"FAIL {behaviour}: " + " | ".join(s[:220] for s in symptoms), flush=True)
        else:
            print(f"ok   {behaviour} ({outcome.seconds} s)", flush=True)
    print(f"{len(failing)} of {len(ids)} behaviours break the invariant alone "
          f"({time.monotonic() - started:.0f} s): {' '.join(failing)}", flush=True)
    return 1 if failing else 0


@contextmanager
def _database(server_url: str | None) -> Iterator[str | None]:
    """None (each round's own SQLite file), or a fresh database on the PostgreSQL server, dropped after."""
    if server_url is None:
        yield None
        return
    import sqlalchemy as sa

    from newswatch.store import db

    admin = sa.create_engine(db.normalise_url(server_url), isolation_level="AUTOCOMMIT")
    name = f"hostile_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(db.normalise_url(server_url)).set(database=name).render_as_string(hide_password=False)
    finally:
        db.engine.cache_clear()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
