"""Latency on a local Citus cluster beside a single PostgreSQL, and shard fan-out.

    python benchmarks/citus_latency.py [--users 20] [--memories 500] [--queries 60]

Starts, from the embedded server's binaries, a coordinator with two workers (Citus from
``../shared/citus``, as the ``citus`` test tier does: tests/support/citus_cluster.py)
and one plain PostgreSQL with the same settings, all on this machine. Each gets the same
data (``--users`` users of ``--memories`` memories, texts and vectors as in
``synthetic.py``; the cluster distributed with ``--shards`` shards). Then, through the
library (``AsyncMemory``), one call at a time, it times on each:

- search: a user's top 10 for a question (query embeddings cached by a first pass, so
  the figure is the store's work plus ranking);
- add: one memory with its vector given (no embedding in the timing);
- context: a context block for a question (cached embedding).

calls alternating between the two (so the machine's other load weighs on both alike),
and prints p50 / p95 in ms and the cluster / single ratio, then each public operation's
shard fan-out on the cluster: Citus's single- and multi-shard query counts
(``citus_stat_counters``). All nodes share this machine's cores, so the ratio is the
coordinator's extra hop and planning, not what a cluster of machines gives in throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import synthetic

from mnemo import AsyncMemory, MnemoConfig, distribute
from mnemo.store.postgres.migrate import migrate
from tests.support.citus_cluster import (
    Node,
    citus_archive,
    install_citus,
    shard_query_counts,
    start_cluster,
)

Operation = Callable[[], Awaitable[Any]]
Calls = dict[str, list[Operation]]


def single_node(root: Path) -> Node:
    """A plain PostgreSQL with the cluster nodes' settings, without Citus."""
    from tests.support.citus_cluster import _free_port, _run_as

    node = Node(root / "single", _free_port(), _run_as())
    node.init()
    with (node.pgdata / "postgresql.auto.conf").open("a") as conf:
        conf.write("shared_preload_libraries = ''\ncitus.enable_stat_counters = off\n")
    return node


def plain_database(node: Node, name: str) -> str:
    with psycopg.connect(node.url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return node.url(name)


async def load(memory: AsyncMemory, users: int, per_user: int, vectors: np.ndarray,
               pool: list[str]) -> None:  # fmt: skip
    rng = np.random.default_rng(5)
    for u in range(users):
        sentences = list(synthetic.memories(pool, per_user, seed=u))
        noisy = synthetic.noisy(vectors[[s.base for s in sentences]], rng)
        items = [{"content": s.text, "embedding": noisy[i]} for i, s in enumerate(sentences)]
        await memory.add_many(items, user_id=f"user-{u:03d}", contextual=False)
    await memory.db.execute("ANALYZE")


async def timed(calls: Sequence[Callable[[], Awaitable[Any]]]) -> list[float]:
    out = []
    for call in calls:
        start = time.perf_counter()
        await call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def calls(memory: AsyncMemory, users: int, queries: int, vectors: np.ndarray) -> Calls:
    """The timed calls of each operation, the same on every backend."""
    rng = random.Random(11)
    asks = [(q, f"user-{rng.randrange(users):03d}") for q in synthetic.questions(queries, 3)]
    notes = [(f"benchmark note {i}", list(vectors[i % len(vectors)])) for i in range(queries)]
    return {
        "search": [partial(memory.search, q, user_id=u) for q, u in asks],
        "add": [partial(memory.add, t, user_id=u, embedding=v)
                for (t, v), (_, u) in zip(notes, asks, strict=True)],
        "context": [partial(memory.context, q, user_id=u) for q, u in asks],
    }  # fmt: skip


async def latencies(backends: dict[str, Calls]) -> dict[str, dict[str, list[float]]]:
    """Each backend's latencies, calls alternating between backends, so the load of the
    shared machine weighs on both alike. A first pass of search and context embeds and
    caches every question and warms plans and connections."""
    for label in backends:
        for op in ("search", "context"):
            await timed(backends[label][op])
    out: dict[str, dict[str, list[float]]] = {label: {} for label in backends}
    for op in ("search", "add", "context"):
        for label in backends:
            out[label][op] = []
        for i in range(len(next(iter(backends.values()))[op])):
            for label, ops in backends.items():
                out[label][op] += await timed([ops[op][i]])
    return out


def fanout_operations(memory: AsyncMemory, memory_id: str, vector: Any) -> dict[str, Operation]:
    user = "user-000"
    return {
        "add": lambda: memory.add("A new note", user_id=user, embedding=list(vector)),
        "search": lambda: memory.search("what do I like?", user_id=user),
        "list": lambda: memory.list(user_id=user),
        "context": lambda: memory.context("what do I like?", user_id=user),
        "add turns": lambda: memory.add_messages(
            [{"role": "user", "content": "hello"}], user_id=user, session_id="s"
        ),
        "list turns": lambda: memory.list_messages(user_id=user, session_id="s"),
        "stats": lambda: memory.stats(user),
        "get / history by id with the user": lambda: gather_by_id(memory, memory_id, user),
        "get by id alone": lambda: memory.get(memory_id),
        "history by id alone": lambda: memory.history(memory_id),
        "update by id alone": lambda: memory.update(memory_id, "changed"),
        "documents: search (user + shared corpus)": lambda: memory.documents.search(
            "opening hours", user_id=user
        ),
        "documents: list (user + shared corpus)": lambda: memory.documents.list(user_id=user),
        "inspect: the tenant's users": lambda: memory.inspect.users(),
        "erase the user": lambda: memory.delete_user(user),
    }


async def gather_by_id(memory: AsyncMemory, memory_id: str, user: str) -> None:
    await memory.get(memory_id, user_id=user)
    await memory.history(memory_id, user_id=user)


async def fanout(memory: AsyncMemory, url: str, vector: Any) -> None:
    await memory.documents.load("hours.md", "# Hours\n\nThe office opens at nine.", shared=True)
    await memory.documents.load("mine.md", "# Mine\n\nMy desk is by the window.",
                                user_id="user-000")  # fmt: skip
    added = await memory.add("Fan-out probe", user_id="user-000", embedding=list(vector))
    print("\nshard fan-out on the cluster: queries Citus ran per call (single / multi-shard)")
    for name, operation in fanout_operations(memory, added.ids[0], vector).items():
        before = shard_query_counts(url)
        await operation()
        after = shard_query_counts(url)
        print(f"  {name:45s} {after[0] - before[0]:3d} / {after[1] - before[1]}")


async def run(args: argparse.Namespace) -> None:
    archive = citus_archive(Path(__file__).resolve().parent.parent)
    if archive is None:
        sys.exit("../shared/citus holds no Citus build for the embedded server")
    install_citus(archive)
    pool = synthetic.base_sentences(args.pool)
    cluster = start_cluster(workers=2)
    single = single_node(cluster.root)
    try:
        single.start()
        name = f"bench_{uuid.uuid4().hex[:8]}"
        citus_url = cluster.create_database(name)
        migrate(citus_url)
        distribute(citus_url, shard_count=args.shards)
        urls = {"single": plain_database(single, name), "citus": citus_url}
        async with contextlib.AsyncExitStack() as stack:
            memories = {
                label: await stack.enter_async_context(
                    AsyncMemory(MnemoConfig(database_url=url, background_flush_seconds=3600))
                )
                for label, url in urls.items()
            }
            vectors = await memories["single"].embedder.embed_many(pool, "passage")
            for label, memory in memories.items():
                start = time.perf_counter()
                await load(memory, args.users, args.memories, vectors, pool)
                print(f"{label}: loaded {args.users * args.memories:,} memories in "
                      f"{time.perf_counter() - start:.0f} s")  # fmt: skip
            results = await latencies(
                {
                    label: calls(m, args.users, args.queries, vectors)
                    for label, m in memories.items()
                }
            )
            await fanout(memories["citus"], citus_url, vectors[0])
        report(results, args)
    finally:
        single.stop()
        cluster.stop()


def report(results: dict[str, dict[str, list[float]]], args: argparse.Namespace) -> None:
    print(f"\n{args.users} users x {args.memories} memories, {args.queries} calls each, "
          f"one at a time; {args.shards} shards on 2 workers; ms")  # fmt: skip
    print("operation | single p50   p95 | citus p50   p95 | ratio p50  p95")
    for op in ("search", "add", "context"):
        s, c = results["single"][op], results["citus"][op]
        print(
            f"{op:9s} | {pct(s, 50):10.2f} {pct(s, 95):5.2f} | {pct(c, 50):9.2f} "
            f"{pct(c, 95):5.2f} | {pct(c, 50) / pct(s, 50):9.2f} {pct(c, 95) / pct(s, 95):4.2f}"
        )
    print(f"\nload average: {os.getloadavg()[0]:.2f} (2 cores)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--memories", type=int, default=500, help="per user")
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--shards", type=int, default=32)
    parser.add_argument("--pool", type=int, default=500, help="distinct base sentences")
    asyncio.run(run(parser.parse_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
