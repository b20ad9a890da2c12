"""Conversation turns, buffers and summaries: how fast they are stored and read.

    python benchmarks/conversation.py [--turns 300] [--redis redis://127.0.0.1:6379/7]

Stores the first ``--turns`` turns of a LoCoMo conversation (or synthetic turns
when the data is absent) as one session, with ``add_messages`` in batches of 20,
into a throw-away embedded PostgreSQL. Then it measures, one call at a time:
``search_messages`` (new questions, so each query is embedded; then a repeated
one), the buffer's ``get_context`` from the cache and right after a write, and
the summary's first fold of the session and its cached ``get_context``. With
``--redis`` the cache is Redis, else the in-process cache.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from locomo_data import load_conversations

from mnemo import AsyncMemory, MnemoConfig
from mnemo.providers.embedders.e5 import E5Embedder

BATCH = 20
SESSION = "chat"


def turns_and_questions(count: int) -> tuple[list[dict[str, Any]], list[str]]:
    """Messages of one long conversation, and questions about them."""
    conversations = load_conversations()
    if not conversations:
        start = datetime(2024, 1, 1, tzinfo=UTC)
        messages = [
            {"role": "user" if i % 2 == 0 else "assistant",
             "content": f"Synthetic turn {i} about topic {i % 17}",
             "created_at": start + timedelta(minutes=i)}
            for i in range(count)
        ]  # fmt: skip
        return messages, [f"what about topic {i}?" for i in range(17)]
    conv = conversations[0]
    messages = [
        {"role": "user", "name": t.speaker, "content": t.text,
         "created_at": t.created_at + timedelta(seconds=t.position)}
        for t in conv.turns[:count]
    ]  # fmt: skip
    return messages, [q.question for q in conv.questions][:50]


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):7.2f} ms   p95 {p95:7.2f} ms   (n={len(ordered)})"


async def timed(call: Callable[[], Awaitable[Any]], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


async def ingest(memory: AsyncMemory, messages: list[dict[str, Any]]) -> float:
    start = time.perf_counter()
    for i in range(0, len(messages), BATCH):
        await memory.add_messages(messages[i : i + BATCH], user_id="bench", session_id=SESSION)
    return time.perf_counter() - start


async def measure(memory: AsyncMemory, count: int) -> None:
    messages, questions = turns_and_questions(count)
    seconds = await ingest(memory, messages)
    print(f"add_messages: {len(messages)} turns in {seconds:.1f} s = {len(messages) / seconds:.1f} "
          f"turns/s (embedding each turn with the one before dominates)")  # fmt: skip
    search = [
        await timed(lambda q=q: memory.search_messages(q, user_id="bench"), 1) for q in questions
    ]
    print(f"search_messages (new query)     {percentiles([s[0] for s in search])}")
    again = await timed(lambda: memory.search_messages(questions[0], user_id="bench"), 50)
    print(f"search_messages (cached query)  {percentiles(again)}")
    scope = memory.scope("bench", session_id=SESSION)
    buffer = await memory.conversation_buffer(window_size=10)
    await buffer.get_context(scope)
    cached_buffer = await timed(lambda: buffer.get_context(scope), 200)
    print(f"buffer get_context (cached)     {percentiles(cached_buffer)}")
    after_write = []
    for i in range(20):
        await memory.add_messages([{"role": "user", "content": f"ping {i}"}],
                                  user_id="bench", session_id=SESSION)  # fmt: skip
        after_write += await timed(lambda: buffer.get_context(scope), 1)
    print(f"buffer get_context (after write) {percentiles(after_write)}")
    summary = await memory.conversation_summary(buffer_window_size=10)
    fold = await timed(lambda: summary.get_context(scope), 1)
    folded = await summary.summary(scope)
    turns = folded.turns_folded if folded else 0
    print(f"summary first fold: {turns} turns in {fold[0]:.0f} ms (offline summariser)")
    cached = await timed(lambda: summary.get_context(scope), 200)
    print(f"summary get_context (cached)    {percentiles(cached)}")


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="mnemo-conversation-") as tmp:
        config = MnemoConfig(
            data_dir=Path(tmp),
            embedder=E5Embedder(),
            redis_url=args.redis,
            cache_options={"key_prefix": f"bench{int(time.time())}"} if args.redis else {},
        )
        async with AsyncMemory(config) as memory:
            print(f"cache: {'Redis ' + args.redis if args.redis else 'in-process'}")
            await measure(memory, args.turns)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--redis", default=None, help="a Redis URL for the cache")
    asyncio.run(run(parser.parse_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
