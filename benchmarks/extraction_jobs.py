"""Extraction throughput through the job queue, with the offline extractor.

    python benchmarks/extraction_jobs.py [--data-dir DIR] [--turns N] [--concurrency 2]
                                          [--threads T]

LoCoMo's development conversations (one user each) are stored session by session
with ``add(turns, infer=True)`` while no worker runs, so every session leaves one
``mnemo.extract`` job and its turns pending. Then a worker (``mnemo worker
--burst``'s code path: procrastinate, heartbeats, the per-user lock) drains the
queue and the script reports jobs, turns, candidates and memories per second.

A user's first job drains all of that user's pending turns (a batch of
``extraction_batch`` turns per transaction), so the later jobs of the same user
find nothing left and end at once: turns/s is the figure that carries meaning.
The embedder's own time for the candidates is measured too, since embedding each
candidate (for reconciliation and storage) is most of the work.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from locomo_data import load_conversations

from mnemo import AsyncMemory, MnemoConfig
from mnemo.config import LifecycleConfig
from mnemo.evaluation import Conversation
from mnemo.lifecycle.jobs import WorkerOptions


def sessions(conv: Conversation, budget: int) -> list[list[dict[str, Any]]]:
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for t in conv.turns[:budget]:
        grouped[t.session].append(
            {"role": "user", "name": t.speaker, "content": t.text, "created_at": t.created_at}
        )
    return [grouped[n] for n in sorted(grouped)]


async def enqueue(memory: AsyncMemory, conversations: list[Conversation], turns: int) -> int:
    per_conversation = max(1, turns // len(conversations))
    jobs = 0
    for conv in conversations:
        for number, batch in enumerate(sessions(conv, per_conversation)):
            await memory.add(batch, user_id=conv.conv_id, session_id=f"s{number}", infer=True)
            jobs += 1
    return jobs


async def count(memory: AsyncMemory, statement: str) -> int:
    rows = await memory.db.fetch(statement)
    return int(next(iter(rows[0].values())))


async def run(data: Path | None, turns: int, concurrency: int, threads: int = 0) -> int:
    conversations = load_conversations(data)
    if not conversations:
        print("LoCoMo data not found (set MNEMO_LOCOMO_DIR); skipping.")
        return 0
    with tempfile.TemporaryDirectory(prefix="mnemo-jobs-") as tmp:
        lifecycle = LifecycleConfig(in_process_worker=False, maintenance_cron=None)
        options = {"num_threads": threads} if threads else {}
        config = MnemoConfig(data_dir=Path(tmp), lifecycle=lifecycle, embedder_options=options)
        async with AsyncMemory(config) as memory:
            await measure(memory, conversations, turns, concurrency)
    return 0


async def measure(
    memory: AsyncMemory, conversations: list[Conversation], turns: int, concurrency: int
) -> None:
    start = time.perf_counter()
    jobs = await enqueue(memory, conversations, turns)
    stored = await count(memory, "SELECT count(*) FROM message_extractions")
    print(f"stored {stored} turns ({jobs} extraction jobs queued) in "
          f"{time.perf_counter() - start:.1f} s", flush=True)  # fmt: skip
    options = WorkerOptions(concurrency=concurrency, burst=True, name="benchmark")
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    await memory.worker(options).run()
    elapsed = time.perf_counter() - start
    load_after = os.getloadavg()[0]
    done = await count(memory, "SELECT count(*) FROM message_extractions WHERE status = 'done'")
    succeeded = await count(
        memory, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'"
    )
    candidates = await count(
        memory, "SELECT count(*) FROM memory_events WHERE actor LIKE 'reconciler:%'"
    )
    memories = await count(memory, "SELECT count(*) FROM memories WHERE status = 'active'")
    texts = [r["content"] for r in await memory.db.fetch("SELECT content FROM memories")]
    embed_start = time.perf_counter()
    await memory.embedder.embed_many(texts, "passage")
    embed = time.perf_counter() - embed_start
    print(
        f"worker (concurrency {concurrency}): {succeeded} jobs, {done} turns, "
        f"{candidates} candidates -> {memories} current memories in {elapsed:.1f} s"
    )
    print(
        f"  {succeeded / elapsed:.1f} jobs/s, {done / elapsed:.1f} turns/s, "
        f"{candidates / elapsed:.1f} candidates/s"
    )
    print(f"  embedding the {len(texts)} stored memories alone takes {embed:.1f} s "
          f"({len(texts) / embed:.1f}/s)")  # fmt: skip
    engine = f"{type(memory.embedder).__name__} {getattr(memory.embedder, 'runtime', '')}"
    print(f"figure: extraction jobs, {engine.strip()}, concurrency {concurrency}: "
          f"{done / elapsed:.1f} turns/s (load average {load_before:.2f} before, "
          f"{load_after:.2f} after)")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--turns", type=int, default=10_000, help="at most this many turns")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument(
        "--threads", type=int, default=0, help="the embedder's num_threads (default: its own)"
    )
    args = parser.parse_args()
    return asyncio.run(run(args.data_dir, args.turns, args.concurrency, args.threads))


if __name__ == "__main__":
    raise SystemExit(main())
