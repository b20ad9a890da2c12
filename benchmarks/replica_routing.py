"""Read replicas: share of reads a streaming standby serves, and read-your-writes latency.

    python benchmarks/replica_routing.py [--users 20] [--ops 600] [--concurrency 4] [--ryw 100]

Starts a primary and a ``pg_basebackup -R`` standby from the embedded server's binaries
(tests/support/replica_pair.py, the tier replicas' fixture), migrates, seeds ``--users``
users with 20 memories each, then:

1. **Mixed load**: ``--ops`` operations from ``--concurrency`` concurrent callers, drawn
   65 % search, 10 % list, 5 % context, 5 % stats, 10 % add, 5 % add with ``wait=True``
   on random users. Prints the share of the read-only methods' connections the standby
   served, and where the others went
   (``primary``: no standby usable; ``behind``: the standby had not yet replayed the
   user's read-your-writes mark).
2. **Read-your-writes**: ``--ryw`` times, ``add(wait=True)`` then at once ``list`` and
   ``search`` for what was added (each checked to find it): their latency, where they
   were served, and how long the standby took to replay such a write (the window in
   which that user's reads go to the primary).

Queries are embedded by the default model; adds carry precomputed vectors, so the load
is routing and SQL, not embedding. Prints the load average; both servers share the
machine's cores with the benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthetic

from mnemo import AsyncMemory, MnemoConfig
from mnemo.store.postgres.migrate import migrate
from tests.support.replica_pair import ReplicaPair, start_pair, wait_replayed

MIX = (("search", 65), ("list", 10), ("context", 5), ("stats", 5), ("add", 10), ("add_wait", 5))


def percentiles(values: list[float]) -> str:
    q = statistics.quantiles(values, n=100, method="inclusive")
    return f"p50 {q[49]:6.2f}   p95 {q[94]:6.2f}   (n={len(values)})"


async def seed(memory: AsyncMemory, users: int, vectors: Any, pool: list[str]) -> None:
    for user in range(users):
        items = [
            {"content": s.text, "embedding": vectors[s.base]}
            for s in synthetic.memories(pool, 20, seed=user)
        ]
        await memory.add_many(items, user_id=f"user-{user}", contextual=False)


async def mixed_load(
    memory: AsyncMemory, args: argparse.Namespace, vectors: Any, pool: list[str]
) -> Counter[str]:
    rng = random.Random(7)
    kinds = [k for k, weight in MIX for _ in range(weight)]
    questions = synthetic.questions(200, seed=5)
    plan = [(rng.choice(kinds), f"user-{rng.randrange(args.users)}") for _ in range(args.ops)]
    done: Counter[str] = Counter()

    async def one(kind: str, user: str) -> None:
        if kind == "search":
            await memory.search(rng.choice(questions), user_id=user)
        elif kind == "list":
            await memory.list(user_id=user, limit=20)
        elif kind == "context":
            await memory.context(rng.choice(questions), user_id=user, max_tokens=500)
        elif kind == "stats":
            await memory.stats(user)
        else:
            s = next(iter(synthetic.memories(pool, 1, seed=rng.randrange(10**6))))
            await memory.add(s.text, user_id=user, embedding=vectors[s.base],
                             wait=kind == "add_wait")  # fmt: skip
        done[kind] += 1

    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for item in plan:
        queue.put_nowait(item)

    async def caller() -> None:
        while not queue.empty():
            await one(*queue.get_nowait())

    await asyncio.gather(*(caller() for _ in range(args.concurrency)))
    return done


async def read_your_writes(
    memory: AsyncMemory, pair: ReplicaPair, rounds: int, vectors: Any, pool: list[str]
) -> dict[str, Any]:
    """Per round: a plain add (for scale); add(wait=True) then at once a list and a search
    that must find it; add(wait=True) then the time until the standby has replayed it."""
    replicas = memory.db.replicas
    assert replicas is not None
    times: dict[str, list[float]] = {
        "plain": [], "add": [], "list": [], "search": [], "catch_up": []
    }  # fmt: skip
    served: Counter[str] = Counter()
    standby = psycopg.connect(pair.standby.url(), autocommit=True)
    for i in range(rounds):
        user, text = f"ryw-{i % 10}", f"note {i}: {pool[i % len(pool)]}"
        vector = vectors[i % len(pool)]
        start = time.perf_counter()
        await memory.add(f"plain {text}", user_id=user, embedding=vector)
        times["plain"].append(elapsed_ms(start))

        start = time.perf_counter()
        added = await memory.add(text, user_id=user, embedding=vector, wait=True)
        times["add"].append(elapsed_ms(start))
        for kind in ("list", "search"):
            before = replicas.counts["standby"]
            start = time.perf_counter()
            if kind == "list":
                found = [m.id for m in await memory.list(user_id=user, limit=3)]
            else:
                found = [h.id for h in await memory.search(text, user_id=user, limit=3)]
            times[kind].append(elapsed_ms(start))
            assert added.ids[0] in found, "read-your-writes broken"
            served[f"{kind} {'standby' if replicas.counts['standby'] > before else 'primary'}"] += 1

        await memory.add(f"again {text}", user_id=user, embedding=vector, wait=True)
        start = time.perf_counter()
        mark = replicas.mark_of(memory.config.tenant_id, user)
        await asyncio.to_thread(wait_for_replay, standby, mark)
        times["catch_up"].append(elapsed_ms(start))
    standby.close()
    return {**times, "served": served}


def elapsed_ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def wait_for_replay(conn: psycopg.Connection[Any], mark: int) -> None:
    query = "SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint"
    while conn.execute(query).fetchone()[0] < mark:  # type: ignore[index]
        time.sleep(0.0002)


async def run(args: argparse.Namespace) -> None:
    pair = start_pair()
    try:
        url = pair.primary.url()
        migrate(url)
        wait_replayed(pair.primary, pair.standby)
        config = MnemoConfig(
            database_url=url,
            read_database_urls=(pair.standby.url(),),
            read_max_lag_ms=args.max_lag_ms,
        )
        async with AsyncMemory(config) as memory:
            pool = synthetic.base_sentences(120)
            vectors = await memory.embedder.embed_many(pool, "passage")
            await seed(memory, args.users, vectors, pool)
            await memory.flush()
            await mixed_load(memory, args, vectors, pool)  # warm-up: caches, plans
            replicas = memory.db.replicas
            assert replicas is not None
            replicas.counts.clear()
            load_before = os.getloadavg()[0]
            start = time.perf_counter()
            done = await mixed_load(memory, args, vectors, pool)
            elapsed = time.perf_counter() - start
            counts = Counter(replicas.counts)
            ryw = await read_your_writes(memory, pair, args.ryw, vectors, pool)
            load_after = os.getloadavg()[0]
    finally:
        pair.stop()
    report(args, done, counts, elapsed, ryw, load_before, load_after)


def report(
    args: argparse.Namespace, done: Counter[str], counts: Counter[str], elapsed: float,
    ryw: dict[str, Any], load_before: float, load_after: float,
) -> None:  # fmt: skip
    reads = counts["standby"] + counts["primary"] + counts["behind"]
    print(f"load average {load_before:.2f} before, {load_after:.2f} after ({os.cpu_count()} cores)")
    print(f"\nmixed load: {sum(done.values())} operations in {elapsed:.1f} s "
          f"({sum(done.values()) / elapsed:.0f}/s, {args.concurrency} concurrent): "
          + ", ".join(f"{k} {v}" for k, v in sorted(done.items())))  # fmt: skip
    print(f"  read-only connections: {reads}; standby {counts['standby'] / reads:.1%}, "
          f"primary (no standby usable) {counts['primary'] / reads:.1%}, "
          f"primary (standby behind the user's mark) {counts['behind'] / reads:.1%}; "
          f"methods re-run on the primary: {counts['retried']}")  # fmt: skip
    print(f"\nread-your-writes, {args.ryw} rounds, ms:")
    print(f"  add (no wait), for scale      {percentiles(ryw['plain'])}")
    print(f"  add(wait=True)                {percentiles(ryw['add'])}")
    print(f"  list at once after it         {percentiles(ryw['list'])}")
    print(f"  then search for it            {percentiles(ryw['search'])}")
    print(f"  standby replayed an add(wait) {percentiles(ryw['catch_up'])}  (after it returned)")
    served = ryw["served"]
    for kind in ("list", "search"):
        standby, primary = served[f"{kind} standby"], served[f"{kind} primary"]
        print(f"  {kind} calls served by the standby {standby}, by the primary {primary}"
              " (each found the memory just added)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--ops", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--ryw", type=int, default=100)
    parser.add_argument("--max-lag-ms", type=float, default=1000.0)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
