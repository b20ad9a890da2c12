"""``WorkingMemory`` and ``KeyValueStoreMemory`` with the seed's names and config keys."""

from __future__ import annotations

import pytest

from mnemo import AsyncMemory, ConfigurationError, InvalidInput
from mnemo.compat.kv import KeyValueStoreMemory
from mnemo.compat.working import WorkingMemory
from mnemo.providers.embedders.base import Embedder

pytestmark = pytest.mark.asyncio


async def test_working_memory_with_the_seed_config(database_url: str, embedder: Embedder) -> None:
    config = {
        "database_url": database_url,
        "embedder": embedder,
        "ttl_seconds": 1800,
        "capacity_limit": 2,
        "eviction_policy": "importance",
        "enable_reasoning_chain": True,
        "user_id": "u1",
    }
    async with WorkingMemory(config) as memory:
        await memory.initialize()
        ns = {"namespace": "reasoning_session"}
        first = await memory.store({**ns, "key": "hypothesis", "value": "cache miss"})
        assert first["stored"] and first["expires_at"] is not None
        await memory.store({**ns, "key": "noise", "value": "?", "importance": 0.1})
        kept = await memory.store(
            {**ns, "key": "fact", "content": "p95 is 80 ms", "importance": 0.9}
        )
        assert kept["evicted"] == ["noise"]
        await memory.store({**ns, "step": "read the logs", "result": {"errors": 0}})
        await memory.store({**ns, "type": "reasoning_step", "content": "profiled the query"})
        chain = await memory.get_reasoning_chain("reasoning_session")
        assert [(s["position"], s["step"]) for s in chain] == [
            (1, "read the logs"),
            (2, "profiled the query"),
        ]
        context = await memory.get_context({**ns, "max_tokens": 200})
        assert [i["key"] for i in context["items"]] == ["fact", "hypothesis"]
        assert [s["position"] for s in context["reasoning_chain"]] == [1, 2]
        assert "fact: p95 is 80 ms" in context["formatted"] and context["tokens"] <= 200
        stats = await memory.get_namespace_stats("reasoning_session")
        assert (stats["items"], stats["reasoning_steps"], stats["utilization"]) == (2, 2, 1.0)
        assert (await memory.retrieve("fact", "reasoning_session"))["value"] == "p95 is 80 ms"  # type: ignore[index]
        health = await memory.health_check()
        assert health["memory_type"] == "working_memory"
        assert health["dependencies"]["postgresql"]["status"] == "ok"
        assert health["dependencies"]["postgresql"]["latency_ms"] is not None
        assert await memory.clear_namespace("reasoning_session") == {"items": 2, "steps": 2}


async def test_working_memory_without_reasoning_chain(memory: AsyncMemory) -> None:
    working = WorkingMemory({"enable_reasoning_chain": False}, memory=memory)
    await working.store({"user_id": "u1", "key": "k", "value": 1})
    with pytest.raises(InvalidInput, match="reasoning chain is disabled"):
        await working.store({"user_id": "u1", "step": "think"})
    context = await working.get_context({"user_id": "u1"})
    assert context["reasoning_chain"] == [] and context["items"][0]["key"] == "k"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"eviction_policy": "random"}, "eviction_policy"),
        ({"capacity_limit": 0}, "capacity_limit"),
        ({"ttl_seconds": -1}, "ttl_seconds"),
        ({"enable_reasoning_chain": "yes"}, "enable_reasoning_chain"),
    ],
)
async def test_working_memory_refuses_a_bad_config(
    memory: AsyncMemory, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        WorkingMemory(options, memory=memory)


async def test_working_memory_needs_a_user(memory: AsyncMemory) -> None:
    working = WorkingMemory({}, memory=memory)
    with pytest.raises(InvalidInput, match="user_id"):
        await working.store({"key": "k", "value": 1})
    assert await memory.working.namespace_stats(user_id="u1") == []


async def test_key_value_store_memory_with_the_seed_config(memory: AsyncMemory) -> None:
    kv = KeyValueStoreMemory({"namespace": "user_context", "serialize_json": True}, memory=memory)
    await kv.initialize()
    stored = await kv.store({"user_id": "u1", "key": "preferences", "value": {"tone": "warm"}})
    assert (stored["stored"], stored["version"]) == (True, 1)
    await kv.store({"user_id": "u1", "key": "timezone", "value": "Europe/Lisbon"})
    assert await kv.retrieve("preferences", user_id="u1") == {"tone": "warm"}
    assert await kv.get("missing", "fallback", user_id="u1") == "fallback"
    assert await kv.list_keys(user_id="u1") == ["preferences", "timezone"]
    context = await kv.get_context({"user_id": "u1"})
    assert context["values"] == {"preferences": {"tone": "warm"}, "timezone": "Europe/Lisbon"}
    assert "timezone: Europe/Lisbon" in context["formatted"]
    small = await kv.get_context({"user_id": "u1", "max_tokens": 12})
    assert small["tokens"] <= 12 and small["dropped"] >= 1
    stats = await kv.get_namespace_stats(user_id="u1")
    assert stats["keys"] == 2 and stats["value_bytes"] > 0
    assert await kv.delete("timezone", user_id="u1") is True
    assert await kv.list_keys(user_id="u1") == ["preferences"]
    assert await kv.get_history("preferences", user_id="u1") == []  # not versioned


async def test_settings_through_the_key_value_store_memory(memory: AsyncMemory) -> None:
    settings = KeyValueStoreMemory({"namespace": "settings", "user_id": "u1"}, memory=memory)
    await settings.store({"key": "voice_speed", "value": 1.0})
    await settings.store({"key": "voice_speed", "value": 1.3, "actor": "llm", "reason": "asked"})
    context = await settings.get_context({})
    assert context["settings"] == {"voice_speed": 1.3}
    history = await settings.get_history("voice_speed")
    assert [(h["old"], h["new"], h["actor"]) for h in history] == [
        (None, 1.0, None),
        (1.0, 1.3, "llm"),
    ]
    restored = await settings.rollback("voice_speed", 1)
    assert restored is not None and restored["value"] == 1.0
    assert await memory.settings.active(user_id="u1") == {"voice_speed": 1.0}


async def test_key_value_store_memory_refuses_bad_input(memory: AsyncMemory) -> None:
    raw = KeyValueStoreMemory({"serialize_json": False, "user_id": "u1"}, memory=memory)
    await raw.store({"key": "k", "value": "text"})
    with pytest.raises(InvalidInput, match="serialize_json=False"):
        await raw.store({"key": "k", "value": {"not": "text"}})
    with pytest.raises(InvalidInput, match="'key' and 'value'"):
        await raw.store({"value": "no key"})
    with pytest.raises(ConfigurationError, match="namespace"):
        KeyValueStoreMemory({"namespace": "bad namespace"}, memory=memory)
    with pytest.raises(ConfigurationError, match="ttl_seconds"):
        KeyValueStoreMemory({"ttl_seconds": 0}, memory=memory)
    assert await raw.retrieve("k") == "text"
