"""Search latency through ``Memory.search`` with 1,000,000 stored memories.

    python benchmarks/search_latency.py [--users 1000] [--per-user 1000] [--queries 1000]

Loads ``users × per-user`` synthetic memories once into an embedded PostgreSQL
in ``--data-dir`` (kept between runs; see ``synthetic.py`` for how texts and
vectors are made), then runs ``--queries`` searches, one at a time, each for a
random user with a question no earlier search asked, so every query is
embedded by the default model. It prints p50/p95/p99 of the end-to-end time,
split into embedding the query and the rest (candidate SQL, fusion, scoring);
the same for repeated questions (query vector from the cache); and a plain
pgvector exact query over one user's rows for scale.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthetic

from mnemo import AsyncMemory, MnemoConfig

DATASET_KEY = "benchmark_dataset"


async def load(memory: AsyncMemory, args: argparse.Namespace, data_dir: Path) -> None:
    wanted = {"users": args.users, "per_user": args.per_user, "pool": args.pool}
    rows = await memory.db.fetch("SELECT value FROM mnemo_meta WHERE key = %s", (DATASET_KEY,))
    if rows and rows[0]["value"] == wanted:
        print(f"dataset already loaded: {wanted}")
        return
    await memory.db.execute("TRUNCATE memories, memory_events, memory_access, embedding_cache")
    pool = synthetic.base_sentences(args.pool)
    vectors = await pool_vectors(memory, pool, data_dir / f"pool-{args.pool}.npy")
    rng = np.random.default_rng(11)
    start, stored = time.perf_counter(), 0
    for user in range(args.users):
        sentences = list(synthetic.memories(pool, args.per_user, seed=user))
        noisy = synthetic.noisy(vectors[[s.base for s in sentences]], rng)
        base_time = datetime(2025, 1, 1, tzinfo=UTC)
        items = [
            {
                "content": s.text,
                "embedding": noisy[i],
                "created_at": base_time + timedelta(minutes=37 * i),
                "metadata": {"n": i % 10},
            }
            for i, s in enumerate(sentences)
        ]
        await memory.add_many(items, user_id=f"user-{user}", contextual=False)
        stored += len(items)
        if user % 50 == 49:
            rate = stored / (time.perf_counter() - start)
            print(f"  {stored:>9,} memories stored ({rate:,.0f}/s)", flush=True)
    elapsed = time.perf_counter() - start
    print(f"stored {stored:,} memories in {elapsed:.0f} s: {stored / elapsed:,.0f} rows/s")
    await memory.db.execute("VACUUM ANALYZE memories")
    await memory.db.execute(
        "INSERT INTO mnemo_meta (key, value) VALUES (%s, %s::jsonb) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (DATASET_KEY, __import__("json").dumps(wanted)),
    )


async def pool_vectors(memory: AsyncMemory, pool: list[str], path: Path) -> np.ndarray:
    if path.exists():
        return np.load(path)
    start = time.perf_counter()
    vectors = await memory.embedder.embed_many(pool, "passage")
    print(f"embedded {len(pool)} base sentences in {time.perf_counter() - start:.0f} s")
    np.save(path, vectors)
    return vectors


async def measure(
    memory: AsyncMemory, users: int, questions: list[str], seed: int
) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = defaultdict(list)

    def observe(name: str, seconds: float) -> None:
        timings[name].append(seconds * 1000)

    rng = random.Random(seed)
    memory.observers.add(observe)
    try:
        for question in questions:
            await memory.search(question, user_id=f"user-{rng.randrange(users)}", limit=10)
    finally:
        memory.observers.remove(observe)
    timings["rest"] = [
        total - embed
        for total, embed in zip(timings["search.total"], timings["search.embed"], strict=True)
    ]
    return timings


async def plain_pgvector(memory: AsyncMemory, users: int, count: int) -> list[float]:
    """A bare exact pgvector query over one user's rows, for scale."""
    rng = random.Random(5)
    probe = await memory.db.fetch(
        "SELECT embedding FROM memories WHERE tenant_id = 'default' AND user_id = 'user-0' LIMIT 1"
    )
    vector = probe[0]["embedding"]
    out = []
    for _ in range(count):
        user = f"user-{rng.randrange(users)}"
        start = time.perf_counter()
        await memory.db.fetch(
            "SELECT id FROM memories WHERE tenant_id = 'default' AND user_id = %s "
            "ORDER BY embedding <=> %s LIMIT 10",
            (user, vector),
        )
        out.append((time.perf_counter() - start) * 1000)
    return out


def percentiles(values: list[float]) -> str:
    q = statistics.quantiles(values, n=100, method="inclusive")
    return f"p50 {q[49]:7.2f}   p95 {q[94]:7.2f}   p99 {q[98]:7.2f}   (n={len(values)})"


async def run(args: argparse.Namespace) -> None:
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    config = MnemoConfig(data_dir=data_dir)
    async with AsyncMemory(config) as memory:
        await load(memory, args, data_dir)
        if args.load_only:
            return
        count = await memory.db.fetch("SELECT count(*) AS n FROM memories")
        print(f"\n{count[0]['n']:,} memories, {args.users:,} users")
        warmup = synthetic.questions(50, seed=99)
        await measure(memory, args.users, warmup, seed=1)
        salt = time.time_ns()  # questions no earlier run asked, so none is in a cache
        fresh = [f"{q} ({salt}-{i})" for i, q in enumerate(synthetic.questions(args.queries, 3))]
        cold = await measure(memory, args.users, fresh, seed=2)
        warm = await measure(memory, args.users, fresh[: min(300, len(fresh))], seed=2)
        plain = await plain_pgvector(memory, args.users, 300)
    print(f"\nload average while measuring: {os.getloadavg()[0]:.2f} (2 cores)")
    print("Memory.search, new questions (query embedded by the model), ms:")
    print(f"  end to end       {percentiles(cold['search.total'])}")
    print(f"  embed the query  {percentiles(cold['search.embed'])}")
    print(f"  the rest         {percentiles(cold['rest'])}")
    print("Memory.search, repeated questions (query vector cached), ms:")
    print(f"  end to end       {percentiles(warm['search.total'])}")
    print(f"  the rest         {percentiles(warm['rest'])}")
    print(f"plain pgvector exact top-10 over one user's rows, ms:\n  {percentiles(plain)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--per-user", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--pool", type=int, default=2000, help="distinct base sentences")
    parser.add_argument("--data-dir", default="/tmp/mnemo-bench-1m")
    parser.add_argument("--load-only", action="store_true", help="load the data, measure nothing")
    asyncio.run(run(parser.parse_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
