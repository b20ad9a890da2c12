"""Latency of ``Memory.context`` for a user with 1,000 turns, 500 memories, 50 entities and
3 documents.

    python benchmarks/context_latency.py [--rounds 200] [--redis-url redis://127.0.0.1:6379/9]

Builds the user once in a fresh embedded PostgreSQL (temporary directory): one
session of 1,000 turns with its progressive summary folded (offline summariser),
500 memories (10 of them instructions), 50 entities, 3 reference documents
(~30 chunks), 10 settings and a working-memory namespace (20 items, 10 chain
steps). Stored vectors take the cheap path of ``synthetic.py``: a pool of base
sentences is embedded once by the real model, and every stored text gets its
base sentence's vector plus small noise (other texts — entity descriptions,
document chunks — a noisy vector of a base chosen by their hash). Queries are
always embedded by the real default model.

Then ``AsyncMemory.context(question, user_id, session_id, max_tokens=2000)`` is
timed one call at a time, end to end, with the in-process cache and (with
``--redis-url``) with Redis: new questions (the query is embedded), repeated
questions (its vector comes from the cache), the sync ``Memory.context``, and
``search`` alone for scale. Prints p50 / p95 and each section's p50 / p95.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthetic

from mnemo import AsyncMemory, Memory, MnemoConfig
from mnemo.orchestrator import SECTION_NAMES
from mnemo.providers.embedders.base import Embedder, InputType, Vectors
from mnemo.store.cache import cache_namespace

USER, SESSION = "bench-user", "main"
BUILT = "context-bench-built"
TURNS, MEMORIES, ENTITIES, DOCUMENTS = 1_000, 500, 50, 3
SURNAMES = [
    "Silva",
    "Costa",
    "Novak",
    "Tanaka",
    "Okafor",
    "Berg",
    "Rossi",
    "Haddad",
    "Kim",
    "Moreau",
]
ORGS = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
]


class PoolEmbedder(Embedder):
    """Bulk-load embedder: a stored text's base sentence's real vector plus noise;
    queries go to the real model (see the module docstring)."""

    def __init__(self, real: Embedder, bases: dict[str, int], vectors: np.ndarray) -> None:
        self.real, self.bases, self.vectors = real, bases, vectors
        self.model_id, self.dimension = real.model_id, real.dimension
        self.rng = np.random.default_rng(5)

    async def embed_batch(self, texts: Sequence[str], input_type: InputType) -> Vectors:
        if input_type == "query":
            return await self.real.embed_batch(texts, input_type)
        rows = [self._base(text) for text in texts]
        return synthetic.noisy(self.vectors[rows], self.rng, sigma=0.02)

    def _base(self, text: str) -> int:
        last = text.splitlines()[-1] if text.strip() else text
        found = self.bases.get(last)
        return found if found is not None else hash(text) % len(self.vectors)


def turn_texts(pool: list[str]) -> list[str]:
    return [s.text for s in synthetic.memories(pool, TURNS, seed=101)]


async def build(data_dir: Path, real: Embedder, pool_size: int) -> None:
    """Store the user (see the module docstring) with the pool embedder."""
    pool = synthetic.base_sentences(pool_size)
    start = time.perf_counter()
    vectors = await real.embed_many(pool, "passage")
    print(
        f"embedded {len(pool)} base sentences with the real model in "
        f"{time.perf_counter() - start:.0f} s"
    )
    turns = turn_texts(pool)
    memories = list(synthetic.memories(pool, MEMORIES, seed=202))
    bases = {text: n for n, text in enumerate(pool)}
    bases.update(
        {t: s.base for t, s in zip(turns, synthetic.memories(pool, TURNS, seed=101), strict=True)}
    )
    loader = PoolEmbedder(real, bases, vectors)
    config = MnemoConfig(data_dir=data_dir, embedder=loader)
    async with AsyncMemory(config) as memory:
        start = time.perf_counter()
        await store_turns(memory, turns)
        await store_memories(
            memory,
            memories,
            synthetic.noisy(vectors[[m.base for m in memories]], np.random.default_rng(3)),
        )
        await store_entities(memory)
        await store_documents(memory, pool)
        await store_settings_and_working(memory)
        await fold_summary(memory)
        stats = await memory.stats(USER)
        print(f"built the user in {time.perf_counter() - start:.0f} s: {stats['rows']}")


async def store_turns(memory: AsyncMemory, turns: list[str]) -> None:
    began = datetime.now(UTC) - timedelta(days=30)
    for start in range(0, len(turns), 100):
        batch = [
            {
                "role": "user" if n % 2 == 0 else "assistant",
                "content": text,
                "created_at": began + timedelta(minutes=40 * n),
            }
            for n, text in enumerate(turns[start : start + 100], start=start)
        ]
        await memory.add_messages(batch, user_id=USER, session_id=SESSION)


async def store_memories(memory: AsyncMemory, memories: list[Any], vectors: np.ndarray) -> None:
    kinds = ["fact", "preference", "event", "commitment", "note"]
    items = [
        {
            "content": m.text,
            "embedding": vectors[n],
            "kind": "instruction" if n % 50 == 0 else kinds[n % len(kinds)],
            "created_at": datetime.now(UTC) - timedelta(hours=n),
        }
        for n, m in enumerate(memories)
    ]
    await memory.add_many(items, user_id=USER, contextual=False)


async def store_entities(memory: AsyncMemory) -> None:
    rng = random.Random(9)
    n = 0
    while len(await memory.entities.list(user_id=USER, limit=1000)) < ENTITIES:
        first = synthetic.NAMES[n % len(synthetic.NAMES)]
        name = f"{first} {SURNAMES[(n // len(synthetic.NAMES)) % len(SURNAMES)]}"
        text = f"{name} lives in {rng.choice(synthetic.PLACES)} and works at {ORGS[n % 10]} Corp."
        await memory.entities.observe(text, user_id=USER, speaker="Me")
        n += 1


async def store_documents(memory: AsyncMemory, pool: list[str]) -> None:
    rng = random.Random(4)
    for d in range(DOCUMENTS):
        parts = [f"# Guide {d + 1}"]
        for section in range(10):
            parts.append(f"## Part {section + 1}: {rng.choice(list(synthetic.TOPICS))}")
            parts.append(" ".join(rng.sample(pool, 12)))
        await memory.documents.load(f"guide-{d + 1}.md", "\n\n".join(parts), user_id=USER)


async def store_settings_and_working(memory: AsyncMemory) -> None:
    for n in range(10):
        await memory.settings.set(f"setting_{n}", {"value": n, "note": "x" * 20}, user_id=USER)
    for n in range(20):
        await memory.working.put(
            "plan",
            f"item-{n}",
            {"n": n, "note": "check the booking"},
            user_id=USER,
            session_id=SESSION,
            importance=(n % 10) / 10,
        )
    for n in range(10):
        await memory.working.append_step(
            "plan", f"step {n}", {"ok": n}, user_id=USER, session_id=SESSION
        )


async def fold_summary(memory: AsyncMemory) -> None:
    """Fold the session's summary up to its last 10 turns (500 turns per refresh)."""
    summary = await memory.conversation_summary(buffer_window_size=10)
    scope = memory.scope(USER, session_id=SESSION)
    for _ in range(TURNS // 500 + 2):
        folded = await summary.refresh(scope)
        if folded is not None and folded.through_turn >= TURNS - 10:
            return


Call = Callable[[int], Awaitable[Any]]


async def timed(rounds: int, call: Call) -> tuple[list[float], list[Any]]:
    samples, results = [], []
    for n in range(rounds):
        start = time.perf_counter()
        results.append(await call(n))
        samples.append((time.perf_counter() - start) * 1000)
    return samples, results


def p50_p95(samples: Sequence[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {statistics.median(ordered):6.1f} ms  p95 {p95:6.1f} ms"


def report_sections(results: Sequence[Any]) -> None:
    by_section: dict[str, list[float]] = defaultdict(list)
    for result in results:
        for name, ms in result.timings_ms.items():
            by_section[name].append(ms)
    for name, samples in by_section.items():
        print(f"      {name:<22} {p50_p95(samples)}")
    tokens = [r.tokens for r in results]
    print(
        f"      context tokens: mean {statistics.mean(tokens):.0f}, max {max(tokens)} "
        f"(budget 2000); degraded calls: {sum(r.degraded for r in results)}"
    )


async def measure(
    data_dir: Path,
    real: Embedder,
    args: argparse.Namespace,
    redis_url: str | None,
    asked: set[str],
) -> None:
    prefix = f"ctxbench{uuid.uuid4().hex[:8]}"
    config = MnemoConfig(
        data_dir=data_dir,
        embedder=real,
        redis_url=redis_url,
        cache_options={"key_prefix": prefix} if redis_url else {},
    )
    print(
        f"\ncache: {'Redis ' + redis_url if redis_url else 'in-process'}; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    repeated = synthetic.questions(20, seed=77)
    asked.update(repeated)
    # New questions: never asked before in this run, nor stored in the embedding cache.
    seed = len(asked) + 31
    pool = [q for q in dict.fromkeys(synthetic.questions(args.rounds * 5, seed=seed))]
    fresh = [q for q in pool if q not in asked][: args.rounds]
    asked.update(fresh)
    async with AsyncMemory(config) as memory:
        # Earlier runs over a kept --data-dir stored query vectors: new means new.
        await memory.db.execute("TRUNCATE embedding_cache")

        def context(question: str) -> Awaitable[Any]:
            return memory.context(question, user_id=USER, session_id=SESSION, max_tokens=2000)

        for question in repeated:  # warm: pool, caches, query vectors
            await context(question)
        samples, results = await timed(len(fresh), lambda n: context(fresh[n]))
        print(f"  Memory.context, new questions ({len(fresh)}):  {p50_p95(samples)}")
        report_sections(results)
        samples, results = await timed(args.rounds, lambda n: context(repeated[n % 20]))
        print(f"  Memory.context, repeated questions ({args.rounds}):  {p50_p95(samples)}")
        report_sections(results)
        if not redis_url:  # each section's own cost, without contention
            samples, results = await timed(
                args.rounds // 2,
                lambda n: memory.context(
                    repeated[n % 20], user_id=USER, session_id=SESSION, parallel=False
                ),
            )
            print(f"  Memory.context one section at a time, repeated:  {p50_p95(samples)}")
            report_sections(results)
        lean = [n for n in SECTION_NAMES if n not in ("entities", "documents")]
        samples, _ = await timed(
            args.rounds,
            lambda n: memory.context(
                repeated[n % 20], user_id=USER, session_id=SESSION, sections=lean
            ),
        )
        print(f"  Memory.context without entities and documents, repeated:  {p50_p95(samples)}")
        search, _ = await timed(
            args.rounds, lambda n: memory.search(repeated[n % 20], user_id=USER, limit=50)
        )
        print(f"  search alone (500 memories), repeated:  {p50_p95(search)}")
        if redis_url:
            print(f"  {memory.cache.stats()}")  # errors / short circuits: Redis was bypassed
            await memory.cache.delete_prefix(cache_namespace(config.tenant_id, USER))
    await measure_sync(config, repeated, args.rounds // 2)
    print(f"  load average after: {os.getloadavg()[0]:.2f}")


async def measure_sync(config: MnemoConfig, questions: list[str], rounds: int) -> None:
    def run() -> list[float]:
        with Memory(config) as memory:
            for question in questions:
                memory.context(question, user_id=USER, session_id=SESSION)
            samples = []
            for n in range(rounds):
                start = time.perf_counter()
                memory.context(questions[n % len(questions)], user_id=USER, session_id=SESSION)
                samples.append((time.perf_counter() - start) * 1000)
            return samples

    samples = await asyncio.to_thread(run)
    print(f"  sync Memory.context, repeated ({rounds}):  {p50_p95(samples)}")


async def run(args: argparse.Namespace) -> None:
    from mnemo.providers.embedders.e5 import E5Embedder

    real = E5Embedder()
    await real.open()
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="mnemo-ctx-bench-", ignore_cleanup_errors=True) as tmp:
        data_dir = Path(args.data_dir or tmp)
        if not (data_dir / BUILT).exists():
            await build(data_dir, real, args.pool)
            (data_dir / BUILT).touch()
        asked: set[str] = set()
        await measure(data_dir, real, args, None, asked)
        if args.redis_url:
            await measure(data_dir, real, args, args.redis_url, asked)
    await real.aclose()


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # in order with logs
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--pool", type=int, default=300, help="base sentences embedded")
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--data-dir", default=None, help="keep the built user here (reused)")
    asyncio.run(run(parser.parse_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
