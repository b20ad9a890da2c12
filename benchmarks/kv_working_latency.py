"""Latency of settings, the key-value store and working memory, through the library.

    python benchmarks/kv_working_latency.py [--rounds 300] [--redis-url redis://127.0.0.1:6379/11]

Runs on a fresh embedded PostgreSQL in a temporary directory; with ``--redis-url``
the engine caches in Redis (under a random key prefix, removed afterwards),
otherwise in process. Prints p50 / p95 in milliseconds per operation: cached reads
(a hit), reads right after a write (a miss, from PostgreSQL), versioned writes,
working-memory puts that evict (capacity reached), chain appends, a 1 MB value
(compressed) and the prompt context of a namespace.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from mnemo import AsyncMemory, MnemoConfig

USER = "bench"


Call = Callable[[int], Awaitable[Any]]


async def timed(rounds: int, call: Call, setup: Call | None = None) -> list[float]:
    """Milliseconds of each ``call(n)``; ``setup(n)`` runs before it, untimed."""
    samples = []
    for n in range(rounds):
        if setup is not None:
            await setup(n)
        start = time.perf_counter()
        await call(n)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def report(name: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    print(f"  {name:<40} p50 {statistics.median(ordered):7.2f} ms   p95 {p95:7.2f} ms")


async def settings_and_kv(memory: AsyncMemory, rounds: int) -> None:
    for n in range(20):
        await memory.settings.set(f"setting_{n}", {"value": n, "note": "x" * 50}, user_id=USER)
    report("settings.set (versioned)", await timed(rounds, _set_setting(memory)))
    await memory.settings.active(user_id=USER)
    report("settings.active, cached (20 keys)", await timed(rounds, _active(memory)))
    write = _write_counter(memory)
    report("settings.active after a write (miss)", await timed(rounds, _active(memory), write))
    await memory.kv.set("prefs", "theme", "dark", user_id=USER)
    report("kv.get, cached", await timed(rounds, _kv_get(memory)))
    big = {"doc": " ".join(f"word{n % 977}" for n in range(170_000))}
    report("kv.set of a 1 MB value (compressed)", await timed(20, _kv_big(memory, big)))
    get_big = _kv_big_get(memory)
    report("kv.get of a 1 MB value after a write", await timed(20, get_big, _kv_big(memory, big)))


async def working(memory: AsyncMemory, rounds: int) -> None:
    report("working.put at capacity 100 (evicts)", await timed(rounds, _put(memory)))
    report("working.get, cached", await timed(rounds, _get(memory)))
    report("working.append_step", await timed(rounds, _step(memory)))
    report("working.context (100 items, chain)", await timed(50, _context(memory)))


def _set_setting(m: AsyncMemory) -> Call:
    return lambda n: m.settings.set("voice_speed", 1 + n / 1000, user_id=USER, actor="bench")


def _active(m: AsyncMemory) -> Call:
    return lambda n: m.settings.active(user_id=USER)


def _write_counter(m: AsyncMemory) -> Call:
    return lambda n: m.settings.set("counter", n, user_id=USER)


def _kv_get(m: AsyncMemory) -> Call:
    return lambda n: m.kv.get("prefs", "theme", user_id=USER)


def _kv_big(m: AsyncMemory, big: dict[str, str]) -> Call:
    return lambda n: m.kv.set("docs", "manual", big, user_id=USER)


def _kv_big_get(m: AsyncMemory) -> Call:
    return lambda n: m.kv.get("docs", "manual", user_id=USER)


def _put(m: AsyncMemory) -> Call:
    return lambda n: m.working.put(
        "task", f"k{n}", {"n": n}, user_id=USER, importance=(n % 10) / 10
    )


def _get(m: AsyncMemory) -> Call:
    return lambda n: m.working.get("task", "k1", user_id=USER)


def _step(m: AsyncMemory) -> Call:
    return lambda n: m.working.append_step("task", f"step {n}", {"ok": n}, user_id=USER)


def _context(m: AsyncMemory) -> Call:
    return lambda n: m.working.context("task", user_id=USER, max_tokens=1000)


async def run(args: argparse.Namespace) -> None:
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    options = {"key_prefix": prefix} if args.redis_url else {}
    with tempfile.TemporaryDirectory(prefix="mnemo-kv-bench-") as tmp:
        config = MnemoConfig(data_dir=Path(tmp), redis_url=args.redis_url, cache_options=options)
        async with AsyncMemory(config) as memory:
            print(f"cache: {'Redis ' + args.redis_url if args.redis_url else 'in-process'}")
            await settings_and_kv(memory, args.rounds)
            await working(memory, args.rounds)
            if args.redis_url:
                from mnemo.store.cache import cache_namespace

                await memory.cache.delete_prefix(cache_namespace(config.tenant_id, "bench"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--redis-url", default=None)
    asyncio.run(run(parser.parse_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
