"""How search latency grows with one user's history: a curve over scope sizes.

    python benchmarks/scope_scaling.py [--sizes 1000,10000,30000,100000] [--queries 300]

Stores one user per size (``scope-<size>``) in an embedded PostgreSQL in
``--data-dir`` (kept between runs; texts and vectors as in ``synthetic.py``),
builds the per-scope vector indexes of the scopes at or above
``SearchConfig.indexed_scope_rows`` (``index_large_scopes``), then for each size
runs ``--queries`` new questions one at a time and prints p50/p95 of the whole
search and of everything but embedding the query, beside a plain pgvector exact
top-10 over the same user's rows. For indexed scopes it also prints how much of
the exact search's top 10 the indexed search returns (the same questions run
with ``indexed_scope_rows=0``). Synthetic texts repeat: a scope of 100,000 rows
holds about 50 near-copies of each of its 2,000 base sentences, so many rows tie
and "the" exact top 10 is partly arbitrary; read the overlap with that in mind.
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
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthetic

from mnemo import AsyncMemory, MnemoConfig
from mnemo.config import SearchConfig

BATCH = 2000


async def load(memory: AsyncMemory, sizes: list[int], data_dir: Path, pool_size: int) -> None:
    pool = synthetic.base_sentences(pool_size)
    vectors = await pool_vectors(memory, pool, data_dir / f"pool-{pool_size}.npy")
    rng = np.random.default_rng(3)
    for size in sizes:
        user = f"scope-{size}"
        rows = await memory.db.fetch(
            "SELECT count(*) AS n FROM memories WHERE tenant_id = 'default' AND user_id = %s",
            (user,),
        )
        have = int(rows[0]["n"])
        if have >= size:
            continue
        start = time.perf_counter()
        sentences = list(synthetic.memories(pool, size - have, seed=size))
        base_time = datetime(2024, 1, 1, tzinfo=UTC)
        for first in range(0, len(sentences), BATCH):
            chunk = sentences[first : first + BATCH]
            noisy = synthetic.noisy(vectors[[s.base for s in chunk]], rng)
            items = [
                {
                    "content": s.text,
                    "embedding": noisy[i],
                    "created_at": base_time + timedelta(minutes=11 * (have + first + i)),
                }
                for i, s in enumerate(chunk)
            ]
            await memory.add_many(items, user_id=user, contextual=False)
        print(f"stored {size - have:,} rows for {user} in {time.perf_counter() - start:.0f} s")
    await memory.db.execute("VACUUM ANALYZE memories")


async def pool_vectors(memory: AsyncMemory, pool: list[str], path: Path) -> np.ndarray:
    if path.exists():
        return np.load(path)
    vectors = await memory.embedder.embed_many(pool, "passage")
    np.save(path, vectors)
    return vectors


async def timed_searches(
    memory: AsyncMemory, user: str, questions: list[str]
) -> tuple[dict[str, list[float]], list[list[str]]]:
    timings: dict[str, list[float]] = defaultdict(list)

    def observe(name: str, seconds: float) -> None:
        timings[name].append(seconds * 1000)

    results = []
    memory.observers.add(observe)
    try:
        for question in questions:
            hits = await memory.search(question, user_id=user, limit=10)
            results.append([h.id for h in hits])
    finally:
        memory.observers.remove(observe)
    pairs = zip(timings["search.total"], timings["search.embed"], strict=True)
    timings["rest"] = [total - embed for total, embed in pairs]
    return timings, results


async def plain_pgvector(memory: AsyncMemory, user: str, count: int) -> list[float]:
    probe = await memory.db.fetch(
        "SELECT embedding FROM memories WHERE tenant_id = 'default' AND user_id = %s LIMIT 1",
        (user,),
    )
    out = []
    for _ in range(count):
        start = time.perf_counter()
        await memory.db.fetch(
            "SELECT id FROM memories WHERE tenant_id = 'default' AND user_id = %s "
            "ORDER BY embedding <=> %s LIMIT 10",
            (user, probe[0]["embedding"]),
        )
        out.append((time.perf_counter() - start) * 1000)
    return out


def pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


async def run(args: argparse.Namespace) -> None:
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    config = MnemoConfig(data_dir=data_dir)
    async with AsyncMemory(config) as memory:
        await load(memory, sizes, data_dir, args.pool)
        built = await memory.index_large_scopes()
        for b in built:
            print(f"built the index of {b['user_id']} ({b['table']}, {b['rows']:,} rows)")
        if args.load_only:
            return
        salt = time.time_ns()
        print(f"\nsearch over one user's memories, {args.queries} new questions each, ms")
        print("   rows | end-to-end p50   p95 | w/o embedding p50   p95 | pgvector p50 | path")
        answers: dict[int, list[list[str]]] = {}
        for size in sizes:
            user = f"scope-{size}"
            rng = random.Random(size)
            questions = [f"{q} ({salt}-{size}-{i})" for i, q in enumerate(
                synthetic.questions(args.queries, rng.randrange(10**6)))]  # fmt: skip
            await timed_searches(memory, user, questions[:20])  # warm the caches
            timings, answers[size] = await timed_searches(memory, user, questions)
            plain = await plain_pgvector(memory, user, 100)
            path = "indexed" if size >= config.search.indexed_scope_rows else "exact"
            print(
                f"{size:>7,} | {pct(timings['search.total'], 50):8.2f} "
                f"{pct(timings['search.total'], 95):6.2f} | {pct(timings['rest'], 50):13.2f} "
                f"{pct(timings['rest'], 95):6.2f} | {pct(plain, 50):12.2f} | {path}"
            )
            sizes_questions = questions
            if path == "indexed":
                exact_config = replace(config, search=SearchConfig(indexed_scope_rows=0))
                async with AsyncMemory(exact_config) as exact:
                    _, expected = await timed_searches(exact, user, sizes_questions[:100])
                overlap = statistics.mean(
                    len(set(a) & set(e)) / max(1, len(e))
                    for a, e in zip(answers[size][:100], expected, strict=True)
                )
                print(f"        | top 10 shared with the exact search: {overlap:.2f}")
    print(f"\nload average: {os.getloadavg()[0]:.2f} (2 cores)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,30000,100000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--pool", type=int, default=2000, help="distinct base sentences")
    parser.add_argument("--data-dir", default="/tmp/mnemo-bench-scopes")
    parser.add_argument("--load-only", action="store_true", help="load the data, measure nothing")
    asyncio.run(run(parser.parse_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
