"""The in-process cache, the key scheme and the value codecs — no I/O, a fake clock."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mnemo.errors import ConfigurationError, DimensionMismatch, InvalidInput
from mnemo.store.cache import (
    MemoryCache,
    MemoryCacheOptions,
    cache_key,
    cache_namespace,
    decode_json,
    decode_vector,
    encode_json,
    encode_vector,
    open_cache,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_cache(clock: FakeClock, **options: float) -> MemoryCache:
    return MemoryCache(MemoryCacheOptions(**options), clock=clock)  # type: ignore[arg-type]


@pytest.fixture
def cache(clock: FakeClock) -> MemoryCache:
    return make_cache(clock, default_ttl=60, max_ttl=600)


KEY = cache_key("acme", "u1", "settings", "active")


# Keys


def test_a_key_lives_in_its_parent_namespace() -> None:
    key = cache_key("acme", "u1", "buffer", "s1", "recent")
    assert key.namespace == cache_namespace("acme", "u1", "buffer", "s1")
    assert key.namespace.tenant_id == "acme"
    assert key.namespace.user_id == "u1"
    assert key == cache_namespace("acme", "u1", "buffer").child("s1").key("recent")


def test_components_are_encoded_so_ids_cannot_collide_or_glob() -> None:
    tricky = cache_key("a:b", "c", "d")
    plain = cache_key("a", "b:c", "d")
    assert tricky.path != plain.path
    assert cache_namespace("t", "u*").path == "t:u%2A"
    assert ":" not in cache_namespace("t", "x:y").path.split(":", 1)[1]


@given(
    st.lists(st.text(min_size=1, max_size=8), min_size=3, max_size=5),
    st.lists(st.text(min_size=1, max_size=8), min_size=3, max_size=5),
)
def test_distinct_keys_have_distinct_paths(a: list[str], b: list[str]) -> None:
    key_a, key_b = cache_key(*a), cache_key(*b)
    assert (key_a.path == key_b.path) == (a == b)


def test_namespace_contains_itself_and_descendants_only() -> None:
    user = cache_namespace("t", "u")
    assert user.contains(user)
    assert user.contains(cache_namespace("t", "u", "buffer", "s"))
    assert not user.contains(cache_namespace("t", "u2"))
    assert not cache_namespace("t", "u", "buffer").contains(user)


@pytest.mark.parametrize(
    "build",
    [
        lambda: cache_key("t", "u"),
        lambda: cache_key("", "u", "k"),
        lambda: cache_key("t", "u", ""),
        lambda: cache_namespace("t", "u").key(""),
    ],
)
def test_malformed_keys_are_invalid_input(build: object) -> None:
    with pytest.raises(InvalidInput):
        build()  # type: ignore[operator]


# Round trips


async def test_set_get_delete_round_trip(cache: MemoryCache) -> None:
    assert await cache.get(KEY) is None
    await cache.set(KEY, b"\x00binary\xff")
    assert await cache.get(KEY) == b"\x00binary\xff"
    await cache.set(KEY, b"")
    assert await cache.get(KEY) == b""
    await cache.delete(KEY)
    assert await cache.get(KEY) is None


async def test_get_many_returns_hits_only(cache: MemoryCache) -> None:
    other = cache_key("acme", "u1", "settings", "voice")
    await cache.set_many({KEY: b"a", other: b"b"})
    missing = cache_key("acme", "u1", "settings", "none")
    assert await cache.get_many([KEY, missing, other, KEY]) == {KEY: b"a", other: b"b"}
    stats = cache.stats()
    assert (stats.hits, stats.misses) == (2, 1)


# TTL


async def test_entries_expire_after_their_ttl(cache: MemoryCache, clock: FakeClock) -> None:
    await cache.set(KEY, b"v", ttl=5)
    clock.advance(4.9)
    assert await cache.get(KEY) == b"v"
    clock.advance(0.2)
    assert await cache.get(KEY) is None
    assert len(cache) == 0


async def test_default_ttl_applies_and_ttl_is_capped(cache: MemoryCache, clock: FakeClock) -> None:
    other = cache_key("acme", "u1", "settings", "voice")
    await cache.set(KEY, b"default")
    await cache.set(other, b"long", ttl=10_000)
    clock.advance(61)
    assert await cache.get(KEY) is None
    assert await cache.get(other) == b"long"
    clock.advance(540)
    assert await cache.get(other) is None


async def test_non_positive_ttl_is_invalid(cache: MemoryCache) -> None:
    with pytest.raises(InvalidInput):
        await cache.set(KEY, b"v", ttl=0)


# Bounds


async def test_lru_evicts_the_least_recently_used(clock: FakeClock) -> None:
    cache = make_cache(clock, max_entries=3)
    keys = [cache_key("t", "u", "k", str(i)) for i in range(4)]
    for key in keys[:3]:
        await cache.set(key, b"v")
    await cache.get(keys[0])  # now the most recently used
    await cache.set(keys[3], b"v")
    assert await cache.get(keys[1]) is None
    assert await cache.get_many(keys) == {keys[0]: b"v", keys[2]: b"v", keys[3]: b"v"}
    assert cache.stats().evictions == 1
    assert len(cache) == 3


async def test_byte_bound_evicts_and_oversized_values_are_skipped(clock: FakeClock) -> None:
    cache = make_cache(clock, max_bytes=10)
    first, second = cache_key("t", "u", "k", "1"), cache_key("t", "u", "k", "2")
    await cache.set(first, b"123456")
    await cache.set(second, b"123456")
    assert await cache.get(first) is None
    assert await cache.get(second) == b"123456"
    await cache.set(first, b"x" * 11)
    assert await cache.get(first) is None
    assert await cache.get(second) == b"123456"


def test_options_are_validated() -> None:
    with pytest.raises(ConfigurationError):
        MemoryCacheOptions(max_entries=0)
    with pytest.raises(ConfigurationError):
        MemoryCacheOptions(default_ttl=10, max_ttl=5)


# Invalidation and erasure


async def test_invalidate_drops_exactly_one_namespace(cache: MemoryCache) -> None:
    buffer = cache_namespace("t", "u", "buffer")
    in_buffer = [buffer.key("a"), buffer.key("b")]
    child = buffer.child("s1").key("recent")
    other_user = cache_namespace("t", "u2", "buffer").key("a")
    await cache.set_many({k: b"v" for k in [*in_buffer, child, other_user]})
    await cache.invalidate(buffer)
    assert await cache.get_many([*in_buffer, child, other_user]) == {
        child: b"v",
        other_user: b"v",
    }


async def test_delete_prefix_erases_a_user_and_nothing_else(cache: MemoryCache) -> None:
    mine = [cache_key("t", "u", "buffer", "s"), cache_key("t", "u", "settings", "x", "y")]
    others = [cache_key("t", "u2", "buffer", "s"), cache_key("t2", "u", "buffer", "s")]
    await cache.set_many({k: b"v" for k in [*mine, *others]})
    assert await cache.delete_prefix(cache_namespace("t", "u")) == 2
    assert await cache.get_many([*mine, *others]) == dict.fromkeys(others, b"v")
    assert await cache.delete_prefix(cache_namespace("t", "u")) == 0


async def test_get_or_load_caches_and_skips_none(cache: MemoryCache) -> None:
    calls: list[int] = []

    async def load() -> bytes:
        calls.append(1)
        return b"loaded"

    async def nothing() -> None:
        return None

    assert await cache.get_or_load(KEY, load) == b"loaded"
    assert await cache.get_or_load(KEY, load) == b"loaded"
    assert len(calls) == 1
    other = cache_key("t", "u", "k", "none")
    assert await cache.get_or_load(other, nothing) is None
    assert await cache.get(other) is None


@pytest.mark.parametrize("erase", ["invalidate", "delete_prefix"])
async def test_a_fill_racing_an_invalidation_is_not_stored(cache: MemoryCache, erase: str) -> None:
    loading, written = asyncio.Event(), asyncio.Event()

    async def load_old_row() -> bytes:
        loading.set()
        await written.wait()  # the writer commits and invalidates meanwhile
        return b"old"

    fill = asyncio.create_task(cache.get_or_load(KEY, load_old_row))
    await loading.wait()
    if erase == "invalidate":
        await cache.invalidate(KEY.namespace)
    else:
        await cache.delete_prefix(cache_namespace("acme", "u1"))
    written.set()
    assert await fill == b"old"  # the caller still gets its value...
    assert await cache.get(KEY) is None  # ...but it is not cached


async def test_a_failing_loader_propagates_and_leaves_no_state(cache: MemoryCache) -> None:
    async def broken() -> bytes:
        raise RuntimeError("postgres said no")

    with pytest.raises(RuntimeError):
        await cache.get_or_load(KEY, broken)

    async def load() -> bytes:
        return b"ok"

    assert await cache.get_or_load(KEY, load) == b"ok"
    assert await cache.get(KEY) == b"ok"


# Health, stats, factory


async def test_health_stats_and_close(cache: MemoryCache) -> None:
    await cache.set(KEY, b"v")
    health = await cache.health()
    assert health.status == "ok"
    assert "1 entries" in health.detail
    assert cache.stats().circuit == "closed"
    await cache.aclose()
    await cache.aclose()
    assert await cache.get(KEY) is None


def test_open_cache_without_url_is_in_process() -> None:
    assert isinstance(open_cache(None, max_entries=5), MemoryCache)
    assert isinstance(open_cache(""), MemoryCache)
    with pytest.raises(ConfigurationError):
        open_cache(None, key_prefix="redis-only")
    with pytest.raises(ConfigurationError):
        open_cache("redis://127.0.0.1:6379/0", key_prefix="bad prefix{")


# Codecs


@pytest.mark.parametrize("value", [None, 1, "héllo", [1, 2.5], {"a": {"b": [True]}}])
def test_json_round_trip(value: object) -> None:
    assert decode_json(encode_json(value)) == value


def test_json_is_compact_and_compresses_large_values() -> None:
    assert encode_json({"a": [1, 2]}) == b'J{"a":[1,2]}'
    big = {"text": "the same words again " * 200}
    encoded = encode_json(big)
    assert encoded[:1] == b"Z"
    assert len(encoded) < len(encode_json(big, compress_min_bytes=10**9)) / 5
    assert decode_json(encoded) == big


@pytest.mark.parametrize("data", [b"", b"X{}", b"J{not json", b"Zgarbage"])
def test_corrupt_json_is_invalid_input(data: bytes) -> None:
    with pytest.raises(InvalidInput):
        decode_json(data)


def test_vector_round_trip_is_float32_and_writable() -> None:
    vector = np.array([0.1, -2.5, 3.0], dtype=np.float64)
    data = encode_vector(vector)
    assert len(data) == 12
    decoded = decode_vector(data, dim=3)
    assert decoded.dtype == np.float32
    np.testing.assert_array_equal(decoded, vector.astype(np.float32))
    decoded[0] = 1.0  # writable: callers may normalise in place
    assert decode_vector(encode_vector([1, 2]))[1] == 2.0


def test_vector_shape_and_dimension_are_checked() -> None:
    with pytest.raises(InvalidInput):
        encode_vector([[1.0, 2.0]])
    with pytest.raises(InvalidInput):
        decode_vector(b"\x00\x00\x00")
    with pytest.raises(DimensionMismatch):
        decode_vector(encode_vector([1.0, 2.0]), dim=3)
