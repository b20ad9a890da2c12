"""The key-value store against a real PostgreSQL: values, versions, compression, expiry,
scoping, statistics, cleanup."""

from __future__ import annotations

import asyncio
import json
import random
import string

import psycopg
import pytest

from mnemo import AsyncMemory, Conflict, InvalidInput, MnemoConfig

pytestmark = pytest.mark.asyncio


async def test_json_values_round_trip_with_versions(memory: AsyncMemory) -> None:
    value = {"theme": "dark", "sizes": [1, 2.5, None], "nested": {"ok": True, "name": "Zoë"}}
    first = await memory.kv.set("prefs", "ui", value, user_id="alice")
    assert (first.version, first.value, first.compressed) == (1, value, False)
    assert await memory.kv.get("prefs", "ui", user_id="alice") == value
    second = await memory.kv.set("prefs", "ui", "plain string", user_id="alice", actor="app")
    assert second.version == 2
    assert second.created_at == first.created_at
    assert second.updated_by == "app"
    for scalar in (0, 1.5, False, None, [], "x"):
        await memory.kv.set("prefs", "scalar", scalar, user_id="alice")
        assert (await memory.kv.entry("prefs", "scalar", user_id="alice")).value == scalar  # type: ignore[union-attr]
    assert await memory.kv.get("prefs", "missing", user_id="alice", default=7) == 7


async def test_list_values_and_delete(memory: AsyncMemory) -> None:
    for key in ("b", "a", "c"):
        await memory.kv.set("ns", key, key.upper(), user_id="alice")
    assert [e.key for e in await memory.kv.list("ns", user_id="alice")] == ["a", "b", "c"]
    assert await memory.kv.values("ns", user_id="alice") == {"a": "A", "b": "B", "c": "C"}
    assert await memory.kv.delete("ns", "b", user_id="alice") is True
    assert await memory.kv.delete("ns", "b", user_id="alice") is False
    assert await memory.kv.values("ns", user_id="alice") == {"a": "A", "c": "C"}
    assert [e.key for e in await memory.kv.list("ns", user_id="alice", limit=1)] == ["a"]


async def test_expected_version_guards_concurrent_writers(memory: AsyncMemory) -> None:
    created = await memory.kv.set("ns", "k", 1, user_id="alice", expected_version=0)
    with pytest.raises(Conflict, match="version 1; expected version 0"):
        await memory.kv.set("ns", "k", 2, user_id="alice", expected_version=0)
    await memory.kv.set("ns", "k", 2, user_id="alice", expected_version=created.version)
    with pytest.raises(Conflict, match="expected version 1"):
        await memory.kv.set("ns", "k", 3, user_id="alice", expected_version=1)
    with pytest.raises(Conflict, match="expected version 1"):
        await memory.kv.delete("ns", "k", user_id="alice", expected_version=1)
    assert await memory.kv.get("ns", "k", user_id="alice") == 2
    with pytest.raises(Conflict, match="does not exist"):
        await memory.kv.set("ns", "other", 1, user_id="alice", expected_version=4)

    # Ten writers read version 2 and race: exactly one wins, the others see Conflict.
    async def write(n: int) -> str:
        try:
            await memory.kv.set("ns", "k", n, user_id="alice", expected_version=2)
        except Conflict:
            return "conflict"
        return "won"

    outcomes = await asyncio.gather(*(write(n) for n in range(10)))
    assert sorted(outcomes) == ["conflict"] * 9 + ["won"]
    assert (await memory.kv.entry("ns", "k", user_id="alice")).version == 3  # type: ignore[union-attr]


async def test_large_values_are_compressed_transparently(memory: AsyncMemory) -> None:
    rng = random.Random(7)
    words = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 9))) for _ in range(500)]
    big = {"doc": " ".join(rng.choices(words, k=170_000)), "n": list(range(1000))}
    size = len(json.dumps(big, separators=(",", ":")).encode())
    assert size > 1_000_000
    entry = await memory.kv.set("docs", "manual", big, user_id="alice", versioned=True)
    assert entry.compressed and entry.size_bytes == size
    assert await memory.kv.get("docs", "manual", user_id="alice") == big
    await memory.kv.set("docs", "manual", {"small": 1}, user_id="alice")
    change = (await memory.kv.history("docs", "manual", user_id="alice"))[-1]
    assert change.old == big and change.new == {"small": 1}
    stats = (await memory.kv.namespace_stats(user_id="alice", namespace="docs"))[0]
    assert stats.value_bytes == len(b'{"small":1}')
    entry = await memory.kv.set("docs", "manual", big, user_id="alice")
    with psycopg.connect(memory.database_url) as conn:
        stored = conn.execute(
            "SELECT value IS NULL, octet_length(value_z) FROM kv_entries WHERE key = 'manual'"
        ).fetchone()
    assert stored is not None and stored[0] is True and stored[1] < size / 2


async def test_compression_can_be_turned_off(config: MnemoConfig) -> None:
    from mnemo.config import KeyValueConfig

    plain = MnemoConfig(**{**_fields(config), "kv": KeyValueConfig(compress_min_bytes=None)})
    async with AsyncMemory(plain) as memory:
        entry = await memory.kv.set("docs", "long", "x" * 100_000, user_id="alice")
        assert not entry.compressed
        assert await memory.kv.get("docs", "long", user_id="alice") == "x" * 100_000


async def test_expired_keys_are_invisible_then_cleaned_up(memory: AsyncMemory) -> None:
    await memory.kv.set("session", "token", "abc", user_id="alice", ttl_seconds=0.3)
    await memory.kv.set("session", "keep", "yes", user_id="alice", ttl_seconds=3600)
    assert await memory.kv.get("session", "token", user_id="alice") == "abc"  # now cached
    await asyncio.sleep(0.45)
    assert await memory.kv.get("session", "token", user_id="alice") is None
    assert await memory.kv.values("session", user_id="alice") == {"keep": "yes"}
    stats = await memory.kv.namespace_stats(user_id="alice", namespace="session")
    assert (stats[0].keys, stats[0].expiring) == (1, 1)
    # An expired key counts as absent for expected_version, and is created anew.
    recreated = await memory.kv.set("session", "token", "def", user_id="alice", expected_version=0)
    assert recreated.version == 2 and recreated.expires_at is None
    await memory.kv.set("session", "gone", 1, user_id="alice", ttl_seconds=0.2)
    await asyncio.sleep(0.3)
    assert await memory.kv.cleanup_expired() == {"kv_entries": 1}
    assert await memory.kv.cleanup_expired() == {"kv_entries": 0}
    assert await memory.kv.get("session", "token", user_id="alice") == "def"


async def test_scopes_never_see_each_other(memory: AsyncMemory) -> None:
    kv = memory.kv
    await kv.set("ns", "k", "alice", user_id="alice")
    await kv.set("ns", "k", "alice/a1", user_id="alice", agent_id="a1")
    await kv.set("ns", "k", "alice/a1/s1", user_id="alice", agent_id="a1", session_id="s1")
    await kv.set("ns", "k", "alice/s1", user_id="alice", session_id="s1")
    assert await kv.get("ns", "k", user_id="alice") == "alice"
    assert await kv.get("ns", "k", user_id="alice", agent_id="a1") == "alice/a1"
    assert await kv.get("ns", "k", user_id="alice", agent_id="a1", session_id="s1") == (
        "alice/a1/s1"
    )
    assert await kv.get("ns", "k", user_id="alice", session_id="s1") == "alice/s1"
    assert await kv.get("ns", "k", user_id="bob") is None
    assert await kv.get("ns", "k", user_id="alice", agent_id="a2") is None
    assert await kv.get("ns", "k", user_id="alice", agent_id="a1", session_id="s2") is None
    assert await kv.values("ns", user_id="bob") == {}
    other_tenant = memory.for_tenant("other")
    assert await other_tenant.kv.get("ns", "k", user_id="alice") is None
    await other_tenant.kv.set("ns", "k", "tenant two", user_id="alice")
    assert await kv.get("ns", "k", user_id="alice") == "alice"
    await kv.delete("ns", "k", user_id="alice", agent_id="a1")
    assert await kv.get("ns", "k", user_id="alice", agent_id="a1", session_id="s1") == (
        "alice/a1/s1"
    )


async def test_namespace_stats_count_sizes_and_times(memory: AsyncMemory) -> None:
    await memory.kv.set("a", "k1", "xx", user_id="alice")
    await memory.kv.set("a", "k2", [1, 2], user_id="alice", agent_id="bot", ttl_seconds=60)
    await memory.kv.set("b", "k1", 1, user_id="alice", versioned=True)
    await memory.kv.set("b", "k1", 2, user_id="alice")
    await memory.kv.set("a", "k1", "other user", user_id="bob")
    stats = {s.namespace: s for s in await memory.kv.namespace_stats(user_id="alice")}
    assert set(stats) == {"a", "b"}
    a, b = stats["a"], stats["b"]
    assert (a.keys, a.value_bytes, a.expiring, a.changes, a.compressed) == (2, 4 + 5, 1, 0, 0)
    assert a.oldest is not None and a.newest is not None and a.oldest <= a.newest
    assert (b.keys, b.changes) == (1, 2)
    only_bot = await memory.kv.namespace_stats(user_id="alice", agent_id="bot")
    assert [(s.namespace, s.keys) for s in only_bot] == [("a", 1)]
    assert await memory.kv.namespace_stats(user_id="carol") == []


async def test_deleting_a_user_erases_kv_rows(memory: AsyncMemory) -> None:
    await memory.kv.set("ns", "k", 1, user_id="alice", versioned=True)
    await memory.kv.set("ns", "k", 1, user_id="bob")
    counts = await memory.delete_user("alice")
    assert counts["kv_entries"] == 1 and counts["kv_history"] == 1
    assert await memory.kv.get("ns", "k", user_id="alice") is None
    assert await memory.kv.get("ns", "k", user_id="bob") == 1


def _fields(config: MnemoConfig) -> dict[str, object]:
    return {name: getattr(config, name) for name in config.__dataclass_fields__}


async def test_a_kind_used_before_open_opens_the_engine(config: MnemoConfig) -> None:
    memory = AsyncMemory(config)
    try:
        await memory.kv.set("ns", "k", "v", user_id="alice")
        assert await memory.settings.active(user_id="alice") == {}
        assert await memory.kv.get("ns", "k", user_id="alice") == "v"
    finally:
        await memory.close()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda kv: kv.set("ns", "k", {1: "int key"}, user_id="u"), "non-string key"),
        (lambda kv: kv.set("ns", "k", {"s": {1, 2}}, user_id="u"), "set is not supported"),
        (lambda kv: kv.set("ns", "k", float("nan"), user_id="u"), "finite"),
        (lambda kv: kv.set("ns", "k", "a\x00b", user_id="u"), "NUL"),
        (lambda kv: kv.set("ns", "k", b"bytes", user_id="u"), "bytes is not supported"),
        (lambda kv: kv.set("ns", "k", "x" * (8 * 1024 * 1024), user_id="u"), "limit is"),
        (lambda kv: kv.set("ns", "k", 1, user_id="u", ttl_seconds=0), "ttl_seconds"),
        (lambda kv: kv.set("ns", "k", 1, user_id="u", ttl_seconds=-5), "ttl_seconds"),
        (lambda kv: kv.set("ns", "k", 1, user_id="u", ttl_seconds="1h"), "ttl_seconds"),
        (lambda kv: kv.set("ns", "k", 1, user_id="u", ttl_seconds=float("inf")), "ttl_seconds"),
        (lambda kv: kv.set("ns", "k", 1, user_id="u", expected_version=-1), "expected_version"),
        (lambda kv: kv.set("ns", "k", 1, user_id="u", versioned="yes"), "versioned"),
        (lambda kv: kv.set("", "k", 1, user_id="u"), "namespace"),
        (lambda kv: kv.set("bad ns!", "k", 1, user_id="u"), "namespace"),
        (lambda kv: kv.set("ns", "", 1, user_id="u"), "key"),
        (lambda kv: kv.set("ns", "k" * 513, 1, user_id="u"), "key"),
        (lambda kv: kv.set("ns", "k", 1, user_id=""), "user_id"),
        (lambda kv: kv.set("ns", "k", 1, user_id="u", actor="a" * 300), "actor"),
        (lambda kv: kv.list("ns", user_id="u", limit=0), "limit"),
        (lambda kv: kv.rollback("ns", "k", 0, user_id="u"), "to_version"),
    ],
)
async def test_bad_input_is_refused_and_changes_nothing(
    memory: AsyncMemory, call: object, message: str
) -> None:
    await memory.kv.set("ns", "k", "original", user_id="u")
    with pytest.raises(InvalidInput, match=message):
        await call(memory.kv)  # type: ignore[operator]
    entries = await memory.kv.list("ns", user_id="u")
    assert [(e.key, e.value, e.version) for e in entries] == [("k", "original", 1)]
    assert await memory.kv.namespace_stats(user_id="u") == await memory.kv.namespace_stats(
        user_id="u", namespace="ns"
    )


async def test_every_operation_works_under_the_tenant_wall(config: MnemoConfig) -> None:
    """With the REST service's role, row-level security checks every statement."""
    guarded = MnemoConfig(**{**_fields(config), "database_role": "mnemo_service"})
    async with AsyncMemory(guarded) as memory:
        a, b = memory.for_tenant("tenant-a"), memory.for_tenant("tenant-b")
        await a.settings.set("prompt", "A's prompt", user_id="u1")
        await a.settings.set("prompt", "A's second prompt", user_id="u1")
        assert await a.settings.rollback("prompt", 1, user_id="u1") is not None
        await b.kv.set("ns", "k", "B", user_id="u1", ttl_seconds=0.2)
        await a.working.put("task", "k", "A", user_id="u1", capacity=1)
        await a.working.put("task", "k2", "A2", user_id="u1", capacity=1)
        await a.working.append_step("task", "think", user_id="u1")
        assert await a.settings.active(user_id="u1") == {"prompt": "A's prompt"}
        assert await b.settings.active(user_id="u1") == {}
        assert await b.working.list("task", user_id="u1") == []
        assert len(await a.settings.history("prompt", user_id="u1")) == 3
        await asyncio.sleep(0.3)
        assert await b.kv.cleanup_expired() == {"kv_entries": 1}
        assert await a.kv.namespace_stats(user_id="u1") != []
        assert (await a.working.get("task", "k2", user_id="u1")) is not None
        await a.flush()  # writes the recorded read under the wall
        with psycopg.connect(memory.database_url) as conn:
            hits = conn.execute("SELECT access_count FROM working_items WHERE key = 'k2'")
            assert hits.fetchone() == (1,)
        stats = await a.working.namespace_stats(user_id="u1")
        assert [(s.namespace, s.items, s.steps) for s in stats] == [("task", 1, 1)]
