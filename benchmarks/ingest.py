"""Ingest throughput: turns per second through ``add_many``, with and without embedding.

    python benchmarks/ingest.py [--embedded-turns 480] [--plain-turns 50000] [--batch 32]
                                [--parts embedded plain infer]

With embedding: synthetic conversation turns go through ``add_many`` with the
default embedder; the same texts are then embedded alone, so the overhead of
everything but the embedder (validation, SQL, the events, the commit) shows as
a share on top of the embedder's own time. Without embedding: the turns carry
precomputed vectors (``embedding=``), which is what bounds bulk imports and the
rest of the write path. Conversation turns for extraction: ``add(turns,
infer=True)`` stores the turns and queues their extraction job in one
transaction, unembedded (the job embeds them); batches of 100 and one turn at
a time (what a chat app sends per request). No worker runs meanwhile.

The last lines repeat the figures the targets name (``add_many`` with the
local embedder, single-turn ``add(infer=True)`` calls per second), with the
load average before and after the run: on a shared machine the figures move
with it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synthetic

from mnemo import AsyncMemory, MnemoConfig
from mnemo.config import LifecycleConfig
from mnemo.kinds.memories import embedding_texts


def turns(count: int, seed: int) -> list[str]:
    pool = synthetic.base_sentences(max(200, count // 4), seed=seed)
    return [s.text for s in synthetic.memories(pool, count, seed=seed)]


FIGURES: dict[str, float] = {}


async def with_embedding(memory: AsyncMemory, texts: list[str], batch: int) -> None:
    start = time.perf_counter()
    for i in range(0, len(texts), batch):
        chunk = [{"content": t} for t in texts[i : i + batch]]
        await memory.add_many(chunk, user_id="ingest-embedded")
    total = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(0, len(texts), batch):
        await memory.embedder.embed_many(embedding_texts(texts[i : i + batch], contextual=True))
    embedding = time.perf_counter() - start
    FIGURES[f"add_many with the local embedder, batches of {batch} (turns/s)"] = len(texts) / total
    print(f"with embedding ({memory.embedder.model_id}), batches of {batch}:")
    print(f"  add_many        {len(texts) / total:8.1f} turns/s  ({total:.1f} s)")
    print(f"  embedder alone  {len(texts) / embedding:8.1f} turns/s  ({embedding:.1f} s)")
    print(f"  the rest costs  {100 * (total - embedding) / embedding:8.1f} % on top of embedding")


async def without_embedding(memory: AsyncMemory, texts: list[str], batch: int) -> None:
    rng = np.random.default_rng(3)
    vectors = synthetic.noisy(rng.normal(size=(64, memory.embedder.dimension)), rng)
    start = time.perf_counter()
    for i in range(0, len(texts), batch):
        chunk = [
            {"content": t, "embedding": vectors[(i + j) % len(vectors)]}
            for j, t in enumerate(texts[i : i + batch])
        ]
        await memory.add_many(chunk, user_id=f"ingest-plain-{i // 10_000}")
    total = time.perf_counter() - start
    print(f"without embedding (vectors given), batches of {batch}:")
    print(
        f"  add_many        {len(texts) / total:8.0f} turns/s  ({total:.1f} s, {len(texts)} turns)"
    )


async def for_extraction(
    memory: AsyncMemory, texts: list[str], batch: int, *, clients: int = 1
) -> None:
    """``clients`` callers at once, each adding its share for its own user."""

    async def client(number: int, share: list[str]) -> None:
        for i in range(0, len(share), batch):
            chunk = [{"role": "user", "content": t} for t in share[i : i + batch]]
            user = f"ingest-infer-{clients}-{number}-{i // 10_000}"
            await memory.add(chunk, user_id=user, session_id="s", infer=True)

    start = time.perf_counter()
    await asyncio.gather(*(client(n, texts[n::clients]) for n in range(clients)))
    total = time.perf_counter() - start
    if batch == 1:
        FIGURES[f"add(turn, infer=True), one turn per call, {clients} caller(s) (calls/s)"] = (
            len(texts) / total
        )
    print(f"conversation turns with add(..., infer=True), batches of {batch}, {clients} caller(s):")
    print(
        f"  stored + queued {len(texts) / total:8.0f} turns/s  ({total:.1f} s, {len(texts)} turns)"
    )


async def run(args: argparse.Namespace) -> None:
    # No worker: this measures storing; benchmarks/extraction_jobs.py measures extracting.
    lifecycle = LifecycleConfig(in_process_worker=False)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="mnemo-ingest-") as tmp:
        config = MnemoConfig(data_dir=Path(tmp), lifecycle=lifecycle)
        async with AsyncMemory(config) as memory:
            await memory.add("warm up", user_id="warm")
            if "embedded" in args.parts:
                await with_embedding(memory, turns(args.embedded_turns, 1), args.batch)
            if "plain" in args.parts:
                await without_embedding(memory, turns(args.plain_turns, 2), args.plain_batch)
            if "infer" in args.parts:
                infer_turns = turns(args.infer_turns, 3)
                await for_extraction(memory, infer_turns, args.infer_batch)
                for clients in (1, 8):
                    await for_extraction(
                        memory, infer_turns[: args.infer_turns // 10], 1, clients=clients
                    )
    load_after = os.getloadavg()
    engine = f"{type(memory.embedder).__name__} {getattr(memory.embedder, 'runtime', '')}"
    print(f"figures (load average {load_before[0]:.2f} before, {load_after[0]:.2f} after), "
          f"embedder {engine.strip()}:")  # fmt: skip
    for name, value in FIGURES.items():
        print(f"  {name:<66} {value:8.1f}")


PARTS = ("embedded", "plain", "infer")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedded-turns", type=int, default=480)
    parser.add_argument("--plain-turns", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--plain-batch", type=int, default=1_000)
    parser.add_argument("--infer-turns", type=int, default=20_000)
    parser.add_argument("--infer-batch", type=int, default=100)
    parser.add_argument(
        "--parts", nargs="+", choices=PARTS, default=list(PARTS), help="what to measure"
    )
    asyncio.run(run(parser.parse_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
