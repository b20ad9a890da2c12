"""Settings, the key-value store and working memory read through the cache: with the real
Redis (shared invalidation, Redis flushed mid-test, Redis stopped mid-test) and with the
in-process cache. PostgreSQL stays the truth: nothing is lost, nothing stale is served.

Redis is ``MNEMO_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/11``); each test uses
its own key prefix, only ever flushes that database, and restarts the shared server in a
``finally`` when it stopped it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from urllib.parse import urlsplit

import psycopg
import pytest
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from redis.exceptions import RedisError

from mnemo import AsyncMemory, MnemoConfig

pytestmark = pytest.mark.asyncio

REDIS_URL = os.environ.get("MNEMO_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
#: The exact command that brings the shared local Redis back after a test stops it.
REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
    "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
    "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip
U = {"user_id": "alice"}


def redis_answers() -> bool:
    try:
        with SyncRedis.from_url(REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5) as r:
            return bool(r.ping())
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
def prefix() -> str:
    if not redis_answers():
        pytest.skip(f"no Redis at {REDIS_URL}")
    return f"kinds{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def raw(prefix: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client
    if redis_answers():
        names = [name async for name in client.scan_iter(match=f"{prefix}:*")]
        if names:
            await client.unlink(*names)
    await client.aclose()


def redis_config(config: MnemoConfig, prefix: str) -> MnemoConfig:
    options = {
        "key_prefix": prefix,
        "socket_timeout": 0.05,
        "connect_timeout": 0.05,
        "failure_threshold": 2,
        "cooldown": 0.3,
    }
    fields = {name: getattr(config, name) for name in config.__dataclass_fields__}
    return MnemoConfig(**{**fields, "redis_url": REDIS_URL, "cache_options": options})


@pytest.fixture
async def cached(config: MnemoConfig, prefix: str, raw: Redis) -> AsyncIterator[AsyncMemory]:
    async with AsyncMemory(redis_config(config, prefix)) as memory:
        yield memory


@pytest.fixture
def stop_redis() -> Iterator[Callable[[], None]]:
    """``stop()`` shuts the shared local Redis down; it is always restarted after."""
    parts = urlsplit(REDIS_URL)
    if (parts.hostname, parts.port) != ("127.0.0.1", 6379):
        pytest.skip("stopping Redis is only done to the local test server")

    def stop() -> None:
        subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], check=False)
        assert wait_until(lambda: not redis_answers(), 10.0), "Redis did not stop"

    try:
        yield stop
    finally:
        if not redis_answers():
            subprocess.run(REDIS_START, check=True)
        assert wait_until(redis_answers), "Redis did not come back"


async def keys(raw: Redis, prefix: str) -> list[bytes]:
    return sorted([name async for name in raw.scan_iter(match=f"{prefix}:*")])


def sql(memory: AsyncMemory, statement: str) -> None:
    """Change a row behind mnemo's back (to see whether a read came from the cache)."""
    with psycopg.connect(memory.database_url, autocommit=True) as conn:
        conn.execute(statement)


async def test_reads_are_served_from_redis_and_writes_invalidate(
    cached: AsyncMemory, raw: Redis, prefix: str
) -> None:
    await cached.settings.set("prompt", "v1", **U)
    await cached.working.put("task", "plan", "draft", **U)
    assert await cached.settings.active(**U) == {"prompt": "v1"}
    assert (await cached.working.get("task", "plan", **U)).value == "draft"  # type: ignore[union-attr]
    names = await keys(raw, prefix)
    assert any(b":kv:a:s:settings:list." in n for n in names)
    assert any(b":working:a:s:task:i.plan" in n for n in names)
    sql(cached, "UPDATE kv_entries SET value = '\"edited in SQL\"'")
    sql(cached, "UPDATE working_items SET value = '\"edited in SQL\"'")
    assert await cached.settings.active(**U) == {"prompt": "v1"}  # served by Redis
    assert (await cached.working.get("task", "plan", **U)).value == "draft"  # type: ignore[union-attr]
    await cached.settings.set("other", 1, **U)  # a write invalidates the namespace
    await cached.working.put("task", "x", 1, **U)
    assert await cached.settings.active(**U) == {"other": 1, "prompt": "edited in SQL"}
    assert (await cached.working.get("task", "plan", **U)).value == "edited in SQL"  # type: ignore[union-attr]


async def test_a_write_in_one_process_is_seen_at_once_by_another(
    config: MnemoConfig, cached: AsyncMemory, prefix: str
) -> None:
    async with AsyncMemory(redis_config(config, prefix)) as other:
        await cached.settings.set("voice", "calm", **U)
        assert await cached.settings.get("voice", **U) == "calm"
        assert await other.settings.get("voice", **U) == "calm"
        await other.settings.set("voice", "lively", **U)
        assert await cached.settings.get("voice", **U) == "lively"
        await cached.working.append_step("t", "one", **U)
        assert len(await other.working.get_chain("t", **U)) == 1
        await other.working.append_step("t", "two", **U)
        assert [s.step for s in await cached.working.get_chain("t", **U)] == ["one", "two"]


async def test_redis_flushed_mid_test_loses_nothing(
    cached: AsyncMemory, raw: Redis, prefix: str
) -> None:
    if urlsplit(REDIS_URL).path in ("", "/", "/0"):
        pytest.skip("will not flush database 0 of a shared Redis")
    await cached.settings.set("prompt", "v1", **U)
    await cached.kv.set("prefs", "theme", "dark", **U)
    await cached.working.put("task", "plan", "draft", **U)
    await cached.working.append_step("task", "step one", **U)
    assert await cached.settings.active(**U) == {"prompt": "v1"}
    assert await cached.kv.get("prefs", "theme", **U) == "dark"
    sql(cached, "UPDATE kv_entries SET value = '\"truth\"' WHERE key = 'theme'")
    assert await cached.kv.get("prefs", "theme", **U) == "dark"  # cached
    # FLUSHALL as this database sees it; other engineers' databases are spared.
    await raw.flushdb()
    assert await keys(raw, prefix) == []
    assert await cached.kv.get("prefs", "theme", **U) == "truth"  # reloaded from PostgreSQL
    assert await cached.settings.active(**U) == {"prompt": "v1"}
    assert (await cached.working.get("task", "plan", **U)).value == "draft"  # type: ignore[union-attr]
    assert [s.step for s in await cached.working.get_chain("task", **U)] == ["step one"]
    await cached.settings.set("prompt", "v2", **U)
    assert await cached.settings.active(**U) == {"prompt": "v2"}
    assert cached.cache.stats().errors == 0


@pytest.mark.slow
async def test_redis_stopped_mid_test_every_call_still_works(
    cached: AsyncMemory, raw: Redis, prefix: str, stop_redis: Callable[[], None]
) -> None:
    await cached.settings.set("prompt", "v1", **U)
    await cached.working.put("task", "plan", "draft", **U)
    assert await cached.settings.active(**U) == {"prompt": "v1"}  # cached in Redis
    await asyncio.to_thread(stop_redis)
    start = time.perf_counter()
    await cached.settings.set("prompt", "v2", **U, reason="while Redis was down")
    assert await cached.settings.active(**U) == {"prompt": "v2"}
    assert await cached.settings.get("prompt", **U) == "v2"
    put = await cached.working.put("task", "plan", "final", **U)
    assert put.item.value == "final"
    await cached.working.append_step("task", "decided", {"ok": True}, **U)
    assert (await cached.working.get("task", "plan", **U)).value == "final"  # type: ignore[union-attr]
    assert [s.step for s in await cached.working.get_chain("task", **U)] == ["decided"]
    assert await cached.kv.set("prefs", "k", 1, **U, ttl_seconds=60) is not None
    assert time.perf_counter() - start < 2.0  # bounded timeouts, then the circuit is open
    assert cached.cache.stats().circuit == "open"
    await asyncio.to_thread(subprocess.run, REDIS_START, check=True)
    assert await asyncio.to_thread(wait_until, redis_answers)
    deadline = time.monotonic() + 10
    while cached.cache.stats().circuit != "closed" and time.monotonic() < deadline:
        assert await cached.settings.active(**U) == {"prompt": "v2"}  # never the stale v1
        await asyncio.sleep(0.05)
    assert cached.cache.stats().circuit == "closed"
    assert await cached.settings.active(**U) == {"prompt": "v2"}
    await cached.settings.set("prompt", "v3", **U)
    assert await cached.settings.active(**U) == {"prompt": "v3"}
    assert [c.new for c in await cached.settings.history("prompt", **U)] == ["v1", "v2", "v3"]
    assert await keys(raw, prefix) != []  # caching again


async def test_without_redis_the_in_process_cache_bounds_staleness(config: MnemoConfig) -> None:
    async with AsyncMemory(config) as first, AsyncMemory(config) as second:
        await first.settings.set("prompt", "v1", **U)
        assert await first.settings.get("prompt", **U) == "v1"
        await second.settings.set("prompt", "v2", **U)  # another process, same database
        assert await second.settings.get("prompt", **U) == "v2"
        await asyncio.sleep(config.kv.local_cache_ttl_seconds + 0.1)
        assert await first.settings.get("prompt", **U) == "v2"
        await first.settings.set("prompt", "v3", **U)
        assert await first.settings.get("prompt", **U) == "v3"  # own writes: at once
