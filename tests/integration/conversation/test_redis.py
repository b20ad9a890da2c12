"""Conversation kinds with the real Redis as their cache: windows and summaries are served
from Redis, every write shows at once, and stopping or flushing Redis mid-use loses
nothing and serves nothing stale.

Redis is ``MNEMO_TEST_REDIS_URL`` (default DB 7 of the local server, shared with other
engineers' tests: each test uses its own key prefix and only ever flushes DB 7). A test
that stops the server restarts it in ``finally`` with the CI command.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from urllib.parse import urlsplit

import pytest
from redis import Redis
from redis.exceptions import RedisError

from mnemo import AsyncMemory, MnemoConfig
from mnemo.store.cache import RedisCache, cache_key

pytestmark = pytest.mark.asyncio

REDIS_URL = os.environ.get("MNEMO_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
    "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
    "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip


def redis_answers() -> bool:
    try:
        with Redis.from_url(REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5) as client:
            return bool(client.ping())
    except (OSError, RedisError):
        return False


def wait_until(predicate: Callable[[], bool], seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.fixture
async def engine(config: MnemoConfig) -> AsyncIterator[AsyncMemory]:
    if not redis_answers():
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"conv{uuid.uuid4().hex[:10]}"
    options = {"key_prefix": prefix, "cooldown": 0.2, "socket_timeout": 0.2}
    redis_config = replace(config, redis_url=REDIS_URL, cache_options=options)
    async with AsyncMemory(redis_config) as opened:
        yield opened


def keys_under(prefix: str) -> list[bytes]:
    with Redis.from_url(REDIS_URL) as client:
        return list(client.scan_iter(match=f"{prefix}:*"))


async def circuit_closed(cache: object) -> bool:
    """Whether the cache uses Redis again (calls made meanwhile start its recovery)."""
    assert isinstance(cache, RedisCache)
    probe = cache_key("probe", "probe", "k", "v")
    for _ in range(200):
        await cache.get(probe)
        if cache.stats().circuit == "closed":
            return True
        await asyncio.sleep(0.05)
    return False


def turn(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


async def test_windows_and_summaries_are_cached_in_redis_and_fresh_after_writes(
    engine: AsyncMemory,
) -> None:
    assert isinstance(engine.cache, RedisCache)
    prefix = engine.config.cache_options["key_prefix"]
    buffer = await engine.conversation_buffer(window_size=3)
    summary = await engine.conversation_summary(buffer_window_size=2)
    scope = engine.scope("alice", session_id="s1")
    await summary.add(scope, [turn(f"fact number {i}") for i in range(4)])
    before = await buffer.get_context(scope)
    await summary.get_context(scope)
    assert any(b"window" in key for key in keys_under(prefix))
    assert any(b"summary" in key for key in keys_under(prefix))
    hits = engine.cache.stats().hits
    assert await buffer.get_context(scope) == before
    assert engine.cache.stats().hits > hits  # served from Redis
    await summary.add(scope, [turn("fact number 4")])
    after = await buffer.get_context(scope)
    assert [m["content"] for m in after["messages"]][-1] == "fact number 4"
    context = await summary.get_context(scope)
    assert context["summarized_through_turn"] == 3


@pytest.mark.slow
async def test_redis_stopped_mid_use_loses_nothing_and_serves_nothing_stale(
    engine: AsyncMemory,
) -> None:
    parts = urlsplit(REDIS_URL)
    if (parts.hostname, parts.port) != ("127.0.0.1", 6379) or not shutil.which("redis-server"):
        pytest.skip("only the local test Redis is stopped")
    buffer = await engine.conversation_buffer(window_size=10)
    summary = await engine.conversation_summary(buffer_window_size=2)
    scope = engine.scope("alice", session_id="s1")
    await engine.add_messages([turn("before the outage")], user_id="alice", session_id="s1")
    assert len((await buffer.get_context(scope))["messages"]) == 1  # cached in Redis
    try:
        stop = ["redis-cli", "-p", "6379", "shutdown", "nosave"]
        await asyncio.to_thread(subprocess.run, stop, check=False)
        assert await asyncio.to_thread(wait_until, lambda: not redis_answers())
        await summary.add(scope, [turn(f"during the outage {i}") for i in range(3)])
        during = await buffer.get_context(scope)
        assert [m["turn_number"] for m in during["messages"]] == [1, 2, 3, 4]
        assert (await summary.get_context(scope))["summarized_through_turn"] == 2
        hits = await engine.search_messages("outage", user_id="alice")
        assert len(hits) == 4
        assert (await engine.health()).dependencies["cache"].status == "down"
    finally:
        if not redis_answers():
            await asyncio.to_thread(subprocess.run, REDIS_START, check=True)
        assert await asyncio.to_thread(wait_until, redis_answers)
    assert await circuit_closed(engine.cache)
    await engine.add_messages([turn("after the outage")], user_id="alice", session_id="s1")
    after = await buffer.get_context(scope)
    assert [m["content"] for m in after["messages"]][-1] == "after the outage"
    assert len(after["messages"]) == 5
    assert len(await engine.list_messages(user_id="alice", session_id="s1")) == 5
    assert (await engine.health()).dependencies["cache"].status == "ok"


async def test_a_flush_mid_use_is_only_a_miss(engine: AsyncMemory) -> None:
    buffer = await engine.conversation_buffer(window_size=10)
    summary = await engine.conversation_summary(buffer_window_size=1)
    scope = engine.scope("alice", session_id="s1")
    await summary.add(scope, [turn("one"), turn("two"), turn("three")])
    await buffer.get_context(scope)
    folded = await summary.get_context(scope)
    with Redis.from_url(REDIS_URL) as client:
        client.flushdb()  # FLUSHALL as this database sees it; other databases are spared
    assert (await summary.get_context(scope))["summary"] == folded["summary"]
    await summary.add(scope, [turn("four")])
    with Redis.from_url(REDIS_URL) as client:
        client.flushdb()
    context = await buffer.get_context(scope)
    assert [m["content"] for m in context["messages"]] == ["one", "two", "three", "four"]
    assert (await summary.get_context(scope))["summarized_through_turn"] == 3
