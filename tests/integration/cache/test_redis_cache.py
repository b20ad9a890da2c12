"""The cache against a real Redis: behaviour shared with the in-process cache, then
Redis failing — stopped, stalled, cut off, flushed — without the caller noticing
and without a stale read once it is back.

Redis is ``MNEMO_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/13``; other
engineers' tests share the server, so every test uses its own key prefix and never
flushes more than this database). Partitions are simulated by a TCP proxy between
the cache and Redis, which affects only the cache under test; the tests that stop
the real server (marked ``slow``) always restart it and wait for PING.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Literal
from urllib.parse import urlsplit

import numpy as np
import pytest
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from redis.exceptions import RedisError

from mnemo.store.cache import (
    Cache,
    MemoryCache,
    RedisCache,
    RedisCacheOptions,
    cache_key,
    cache_namespace,
    decode_json,
    decode_vector,
    encode_json,
    encode_vector,
    open_cache,
)
from mnemo.store.cache.redis import CircuitBreaker

REDIS_URL = os.environ.get("MNEMO_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
#: The exact command that brings the shared local Redis back after a test stops it.
REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
    "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
    "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip
COOLDOWN = 0.3
LOGGER = "mnemo.store.cache.redis"


def redis_answers(url: str = REDIS_URL) -> bool:
    try:
        with SyncRedis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5) as client:
            return bool(client.ping())
    except (OSError, RedisError):
        return False


def wait_until(predicate: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.02)
    return await check()


@pytest.fixture(scope="session")
def redis_url() -> str:
    if not redis_answers():
        pytest.skip(f"no Redis at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture
def prefix() -> str:
    return f"test{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[Redis]:
    """A plain client to look at (and break) what the cache stored."""
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


def fast_options(prefix: str, **overrides: Any) -> RedisCacheOptions:
    values: dict[str, Any] = {
        "key_prefix": prefix,
        "socket_timeout": 0.05,
        "connect_timeout": 0.05,
        "failure_threshold": 2,
        "cooldown": COOLDOWN,
    }
    return RedisCacheOptions(**(values | overrides))


@pytest.fixture
async def open_redis_cache(
    redis_url: str, prefix: str, raw: Redis
) -> AsyncIterator[Callable[..., RedisCache]]:
    """Build Redis caches (closed and their keys removed afterwards)."""
    opened: list[RedisCache] = []

    def build(url: str = redis_url, **overrides: Any) -> RedisCache:
        cache = RedisCache(url, fast_options(prefix, **overrides))
        opened.append(cache)
        return cache

    yield build
    for cache in opened:
        await cache.aclose()
    if redis_answers():
        names = [name async for name in raw.scan_iter(match=f"{prefix}:*")]
        if names:
            await raw.unlink(*names)


@pytest.fixture(params=["memory", "redis"])
async def cache(
    request: pytest.FixtureRequest, open_redis_cache: Callable[..., RedisCache]
) -> AsyncIterator[Cache]:
    """Each backend in turn, for the behaviour they share."""
    if request.param == "memory":
        memory = MemoryCache()
        yield memory
        await memory.aclose()
    else:
        yield open_redis_cache()


class FlakyProxy:
    """A TCP proxy in front of Redis that can ``stall`` (hold every byte: timeouts) or
    ``cut`` (drop and refuse connections: errors) — a partition of one client."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self._db = parts.path or "/0"
        self.mode: Literal["pass", "stall", "cut"] = "pass"
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"redis://127.0.0.1:{port}{self._db}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    def stall(self) -> None:
        self.mode = "stall"
        self._flowing.clear()

    def heal(self) -> None:
        self.mode = "pass"
        self._flowing.set()

    def cut(self) -> None:
        self.mode = "cut"
        self._flowing.set()
        for writer in self._writers:
            writer.close()

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "cut":
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        self._writers |= {writer, up_writer}
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(src, dst))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await src.read(65536):
                await self._flowing.wait()
                if self.mode == "cut":
                    break
                dst.write(data)
                await dst.drain()
        dst.close()


@pytest.fixture
async def proxy(redis_url: str) -> AsyncIterator[FlakyProxy]:
    flaky = FlakyProxy(redis_url)
    await flaky.start()
    yield flaky
    await flaky.close()


@pytest.fixture
def stop_redis(redis_url: str) -> Iterator[Callable[[], None]]:
    """``stop()`` shuts the local Redis down; it is always restarted and answering after."""
    parts = urlsplit(redis_url)
    if (parts.hostname, parts.port) != ("127.0.0.1", 6379) or not shutil.which("redis-server"):
        pytest.skip("stopping Redis is only done to the local test server")

    def stop() -> None:
        subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], check=False)
        assert wait_until(lambda: not redis_answers()), "Redis did not stop"

    try:
        yield stop
    finally:
        if not redis_answers():
            subprocess.run(REDIS_START, check=True)
        assert wait_until(redis_answers, 20.0), "Redis did not come back"


def user(prefix: str) -> tuple[str, str]:
    """A (tenant, user) pair unique to the test, so the memory backend is isolated too."""
    return prefix, "u1"


# Shared behaviour: both backends.


async def test_round_trip_of_bytes_json_and_vectors(cache: Cache, prefix: str) -> None:
    tenant, uid = user(prefix)
    raw_key, json_key, vec_key = (cache_key(tenant, uid, "k", n) for n in ("raw", "json", "vec"))
    value = {"voice": "calm", "turns": [1, 2, 3]}
    vector = np.linspace(-1, 1, 384, dtype=np.float32)
    await cache.set(raw_key, b"\x00\xff")
    await cache.set_many({json_key: encode_json(value), vec_key: encode_vector(vector)})
    found = await cache.get_many([raw_key, json_key, vec_key, cache_key(tenant, uid, "k", "x")])
    assert found[raw_key] == b"\x00\xff"
    assert decode_json(found[json_key]) == value
    np.testing.assert_array_equal(decode_vector(found[vec_key], dim=384), vector)
    assert len(found) == 3
    await cache.delete(raw_key, json_key)
    assert await cache.get_many([raw_key, json_key, vec_key]) == {vec_key: found[vec_key]}


async def test_entries_expire(cache: Cache, prefix: str) -> None:
    short = cache_key(*user(prefix), "k", "short")
    await cache.set(short, b"v", ttl=0.6)
    assert await cache.get(short) == b"v"
    await asyncio.sleep(0.8)
    assert await cache.get(short) is None


async def test_ttls_default_and_are_capped_in_redis(
    open_redis_cache: Callable[..., RedisCache], raw: Redis, prefix: str
) -> None:
    capped = open_redis_cache(default_ttl=10, max_ttl=20)
    namespace = cache_namespace(*user(prefix), "k")
    await capped.set_many({namespace.key("long"): b"v"}, ttl=3600)
    await capped.set(namespace.key("default"), b"v")
    base = f"{prefix}:{{{prefix}:u1}}:k"
    assert 19_000 < await raw.pttl(f"{base}:long") <= 20_000
    assert 9_000 < await raw.pttl(f"{base}:default") <= 10_000
    assert 19_000 < await raw.pttl(f"{base}#gen") <= 20_000


async def test_invalidate_drops_one_namespace(cache: Cache, prefix: str) -> None:
    tenant, uid = user(prefix)
    buffer = cache_namespace(tenant, uid, "buffer")
    keys = [buffer.key("a"), buffer.key("b")]
    kept = [buffer.child("s").key("a"), cache_namespace(tenant, "u2", "buffer").key("a")]
    await cache.set_many(dict.fromkeys([*keys, *kept], b"v"))
    await cache.invalidate(buffer)
    assert await cache.get_many([*keys, *kept]) == dict.fromkeys(kept, b"v")
    await cache.set(keys[0], b"new")
    assert await cache.get(keys[0]) == b"new"


async def test_erasing_a_user_leaves_other_users(cache: Cache, prefix: str) -> None:
    tenant, uid = user(prefix)
    mine = [cache_key(tenant, uid, "buffer", "s"), cache_key(tenant, uid, "a", "b", "c")]
    # Ids that would collide or glob-match without encoding.
    others = [cache_key(tenant, f"{uid}*", "buffer", "s"), cache_key(tenant, f"{uid}:x", "a", "b")]
    await cache.set_many(dict.fromkeys([*mine, *others], b"v"))
    assert await cache.delete_prefix(cache_namespace(tenant, uid)) == 2
    assert await cache.get_many([*mine, *others]) == dict.fromkeys(others, b"v")


async def test_get_or_load_fills_once_and_drops_a_racing_fill(cache: Cache, prefix: str) -> None:
    key = cache_key(*user(prefix), "settings", "active")
    loads: list[bytes] = []
    loading, committed = asyncio.Event(), asyncio.Event()

    async def load_old() -> bytes:
        loads.append(b"old")
        loading.set()
        await committed.wait()
        return b"old"

    fill = asyncio.create_task(cache.get_or_load(key, load_old))
    await loading.wait()
    await cache.invalidate(key.namespace)  # a writer committed "new" meanwhile
    committed.set()
    assert await fill == b"old"
    assert await cache.get(key) is None

    async def load_new() -> bytes:
        loads.append(b"new")
        return b"new"

    assert await cache.get_or_load(key, load_new) == b"new"
    assert await cache.get_or_load(key, load_new) == b"new"
    assert loads == [b"old", b"new"]


async def test_large_batches_round_trip(cache: Cache, prefix: str) -> None:
    tenant, uid = user(prefix)
    items = {cache_key(tenant, uid, "qemb", str(i)): encode_vector([i, i]) for i in range(600)}
    await cache.set_many(items)
    assert await cache.get_many(items) == items


# Redis specifics.


async def test_a_fill_racing_an_erasure_leaves_nothing_behind(
    open_redis_cache: Callable[..., RedisCache], raw: Redis, prefix: str
) -> None:
    cache = open_redis_cache()
    tenant, uid = user(prefix)
    key = cache_key(tenant, uid, "buffer", "s1")
    loading, erased = asyncio.Event(), asyncio.Event()

    async def load_before_erasure() -> bytes:
        loading.set()
        await erased.wait()
        return b"personal data"

    fill = asyncio.create_task(cache.get_or_load(key, load_before_erasure))
    await loading.wait()
    await cache.delete_prefix(cache_namespace(tenant, uid))
    erased.set()
    await fill
    assert [n async for n in raw.scan_iter(match=f"{prefix}:*")] == []


async def test_keys_are_hash_tagged_and_all_expire(
    open_redis_cache: Callable[..., RedisCache], raw: Redis, prefix: str
) -> None:
    cache = open_redis_cache()
    await cache.set(cache_key("acme", "u:1", "settings", "active"), b"v")
    names = sorted([name async for name in raw.scan_iter(match=f"{prefix}:*")])
    assert names == [
        f"{prefix}:{{acme:u%3A1}}:settings#gen".encode(),
        f"{prefix}:{{acme:u%3A1}}:settings:active".encode(),
    ]
    for name in names:
        assert 0 < await raw.pttl(name) <= 86_400_000


async def test_flush_mid_use_is_a_miss_and_drops_fills_in_flight(
    open_redis_cache: Callable[..., RedisCache], raw: Redis, prefix: str
) -> None:
    if urlsplit(REDIS_URL).path in ("", "/", "/0"):
        pytest.skip("will not flush database 0 of a shared Redis")
    cache = open_redis_cache()
    key = cache_key(*user(prefix), "settings", "active")
    await cache.set(key, b"before")
    await raw.flushdb()  # FLUSHALL, as seen from this database; others' data is spared
    assert await cache.get(key) is None

    async def load_then_flush() -> bytes:
        await raw.flushdb()
        return b"loaded before the flush"

    assert await cache.get_or_load(key, load_then_flush) == b"loaded before the flush"
    assert await cache.get(key) is None
    await cache.set(key, b"after")
    assert await cache.get(key) == b"after"
    assert cache.stats().errors == 0


async def test_stalled_redis_costs_one_timeout_then_nothing(
    open_redis_cache: Callable[..., RedisCache], proxy: FlakyProxy, prefix: str
) -> None:
    cache = open_redis_cache(proxy.url)
    key = cache_key(*user(prefix), "settings", "active")
    await cache.set(key, b"v")
    proxy.stall()
    start = time.perf_counter()
    assert await cache.get(key) is None
    await cache.set(key, b"ignored")
    assert time.perf_counter() - start < 0.6  # two calls, each bounded by 50+50 ms
    start = time.perf_counter()
    for _ in range(100):
        assert await cache.get(key) is None
        await cache.set(key, b"ignored")
    assert (time.perf_counter() - start) / 200 < 0.001  # circuit open: no I/O at all
    stats = cache.stats()
    assert stats.circuit == "open"
    assert stats.errors == 2
    assert stats.short_circuits >= 199


async def test_circuit_opens_and_closes_by_itself(
    open_redis_cache: Callable[..., RedisCache],
    proxy: FlakyProxy,
    prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache = open_redis_cache(proxy.url)
    key = cache_key(*user(prefix), "settings", "active")
    await cache.set(key, b"v")
    proxy.cut()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        for _ in range(50):
            assert await cache.get(key) is None
        assert cache.stats().circuit == "open"
        assert (await cache.health()).status == "down"
        await asyncio.sleep(COOLDOWN * 2)
        await cache.get(key)  # starts a recovery, which fails: still cut
        assert cache.stats().circuit == "recovering"
        assert await eventually(lambda: _circuit_is(cache, "open"))
        proxy.heal()
        await asyncio.sleep(COOLDOWN * 1.5)
        assert await eventually(lambda: _is_value(cache, key, b"v"))
    assert cache.stats().circuit == "closed"
    assert (await cache.health()).status == "ok"
    messages = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert len([m for m in messages if "unavailable" in m]) == 1, messages
    assert len([m for m in messages if "available again" in m]) == 1, messages


async def _circuit_is(cache: RedisCache, state: str) -> bool:
    return cache.stats().circuit == state


async def _is_value(cache: Cache, key: Any, value: bytes) -> bool:
    return await cache.get(key) == value


async def test_missed_invalidation_is_not_served_stale_after_redis_returns(
    open_redis_cache: Callable[..., RedisCache], proxy: FlakyProxy, raw: Redis, prefix: str
) -> None:
    cache = open_redis_cache(proxy.url)
    key = cache_key(*user(prefix), "settings", "active")
    row = {"value": b"v1"}  # stands for PostgreSQL

    async def load() -> bytes:
        return row["value"]

    assert await cache.get_or_load(key, load) == b"v1"
    proxy.stall()  # Redis keeps its data; this client cannot reach it
    row["value"] = b"v2"  # the write commits to PostgreSQL...
    await cache.invalidate(key.namespace)  # ...and its invalidation is lost
    assert cache.stats().pending_invalidations == 1
    # The stale entry is still in Redis, under the still-current token.
    stale = await raw.get(f"{prefix}:{{{prefix}:u1}}:settings:active")
    token = await raw.get(f"{prefix}:{{{prefix}:u1}}:settings#gen")
    assert isinstance(token, bytes)
    assert stale == token + b"v1"
    proxy.heal()
    seen = set()
    deadline = time.monotonic() + COOLDOWN * 10
    while time.monotonic() < deadline and cache.stats().circuit != "closed":
        seen.add(await cache.get_or_load(key, load))
        await asyncio.sleep(0.01)
    seen.add(await cache.get_or_load(key, load))
    assert seen == {b"v2"}
    assert cache.stats().circuit == "closed"
    assert cache.stats().pending_invalidations == 0
    assert await cache.get(key) == b"v2"


async def test_missed_erasure_and_deletes_are_applied_on_recovery(
    open_redis_cache: Callable[..., RedisCache], proxy: FlakyProxy, raw: Redis, prefix: str
) -> None:
    cache = open_redis_cache(proxy.url)
    tenant, uid = user(prefix)
    kept = cache_key(tenant, "u2", "k", "kept")
    dropped = cache_key(tenant, "u2", "k", "dropped")
    await cache.set_many({cache_key(tenant, uid, "k", "a"): b"v", kept: b"v", dropped: b"v"})
    proxy.cut()
    assert await cache.delete_prefix(cache_namespace(tenant, uid)) == 0
    await cache.delete(dropped)
    assert cache.stats().pending_invalidations == 2
    proxy.heal()
    await asyncio.sleep(COOLDOWN)
    assert await eventually(lambda: _is_value(cache, kept, b"v"))
    assert [n async for n in raw.scan_iter(match=f"{prefix}:{{{tenant}:{uid}}}*")] == []
    assert await cache.get(dropped) is None


async def test_too_many_missed_invalidations_invalidate_everything(
    open_redis_cache: Callable[..., RedisCache], proxy: FlakyProxy, prefix: str
) -> None:
    cache = open_redis_cache(proxy.url, max_pending=2)
    keys = [cache_key(prefix, f"u{i}", "k", "v") for i in range(4)]
    await cache.set_many(dict.fromkeys(keys, b"old"))
    proxy.cut()
    await cache.invalidate(*(key.namespace for key in keys[:3]))
    assert cache.stats().pending_invalidations == 1  # collapsed into "everything"
    proxy.heal()
    await asyncio.sleep(COOLDOWN)
    assert await eventually(lambda: _closed(cache))
    assert await cache.get_many(keys) == {}


async def _closed(cache: RedisCache) -> bool:
    await cache.get(cache_key("t", "u", "k", "probe"))
    return cache.stats().circuit == "closed"


async def test_health_is_degraded_while_reachable_but_bypassed(
    open_redis_cache: Callable[..., RedisCache], proxy: FlakyProxy, prefix: str
) -> None:
    cache = open_redis_cache(proxy.url, cooldown=60)
    assert (await cache.health()).status == "ok"
    proxy.cut()
    await cache.invalidate(cache_namespace(*user(prefix)))
    proxy.heal()
    health = await cache.health()
    assert health.status == "degraded"
    assert "1 invalidations pending" in health.detail
    assert health.latency_ms is not None


async def test_close_applies_what_is_owed_and_is_idempotent(
    open_redis_cache: Callable[..., RedisCache], proxy: FlakyProxy, raw: Redis, prefix: str
) -> None:
    cache = open_redis_cache(proxy.url, cooldown=60)
    key = cache_key(*user(prefix), "k", "v")
    await cache.set(key, b"v")
    proxy.cut()
    await cache.delete(key)
    proxy.heal()
    await cache.aclose()
    await cache.aclose()
    assert await raw.exists(f"{prefix}:{{{prefix}:u1}}:k:v") == 0


@pytest.mark.slow
async def test_redis_stopped_and_restarted_mid_use(
    open_redis_cache: Callable[..., RedisCache],
    stop_redis: Callable[[], None],
    prefix: str,
) -> None:
    cache = open_redis_cache()
    key = cache_key(*user(prefix), "settings", "active")
    await cache.set(key, b"v")
    assert await cache.get(key) == b"v"  # the read script is loaded now
    await asyncio.to_thread(stop_redis)
    start = time.perf_counter()
    for _ in range(20):
        assert await cache.get(key) is None
        await cache.set(key, b"lost")
        await cache.invalidate(key.namespace)
        assert await cache.delete_prefix(cache_namespace(*user(prefix))) == 0
    assert time.perf_counter() - start < 1.0
    assert cache.stats().circuit == "open"
    await asyncio.to_thread(subprocess.run, REDIS_START, check=True)
    assert await asyncio.to_thread(wait_until, redis_answers, 20.0)
    # Data and scripts are gone; the cache reloads its scripts and carries on.
    assert await eventually(lambda: _closed(cache), 10.0)
    assert await cache.get(key) is None
    await cache.set(key, b"again")
    assert await cache.get(key) == b"again"


@pytest.mark.slow
async def test_open_cache_uses_redis_and_survives_a_paused_server(
    redis_url: str, raw: Redis, prefix: str
) -> None:
    cache = open_cache(redis_url, key_prefix=prefix, socket_timeout=0.05, connect_timeout=0.05)
    assert isinstance(cache, RedisCache)
    key = cache_key(*user(prefix), "k", "v")
    try:
        await cache.set(key, b"v")
        await raw.client_pause(300, all=True)  # a slow server
        assert await cache.get(key) is None  # timed out: waiting would have found "v"
        await asyncio.sleep(0.35)
        assert await cache.get(key) == b"v"
    finally:
        await cache.aclose()
        await raw.unlink(f"{prefix}:{{{prefix}:u1}}:k:v", f"{prefix}:{{{prefix}:u1}}:k#gen")


# The breaker on its own (no Redis needed).


def test_breaker_opens_after_threshold_and_closes_only_when_told() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=2, cooldown=5.0, clock=lambda: now[0])
    states = []
    breaker.failure()
    breaker.success()
    breaker.failure()
    states.append(breaker.state)
    breaker.failure()
    states.append(breaker.state)
    breaker.success()  # a late success of a call started earlier does not close it
    states.append(breaker.state)
    assert not breaker.recovery_due()
    now[0] = 5.0
    assert breaker.recovery_due()
    breaker.begin_recovery()
    breaker.trip()  # the running recovery will apply what caused this
    states.append(breaker.state)
    breaker.close()
    states.append(breaker.state)
    breaker.trip()
    states.append(breaker.state)
    assert states == ["closed", "open", "open", "recovering", "closed", "open"]
