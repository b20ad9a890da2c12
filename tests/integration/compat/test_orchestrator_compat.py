"""``MemoryOrchestrator`` with the seed's names: enabled memories, parallel queries,
default priorities, ``get_comprehensive_context(ContextRequest(...))``, health."""

from __future__ import annotations

from typing import Any

import pytest

from mnemo import AsyncMemory, ConfigurationError, InvalidInput
from mnemo.compat import (
    ContextRequest,
    ConversationSummaryMemory,
    MemoryOrchestrator,
    MemoryType,
    VectorDatabaseMemory,
)
from mnemo.providers.embedders.base import Embedder

SEED_PRIORITIES = {
    "recent_conversation": 0.4,
    "summary": 0.2,
    "entities": 0.15,
    "vector_search": 0.15,
    "working_memory": 0.1,
}


async def fill(memory: AsyncMemory) -> None:
    await memory.add_messages(
        [
            {"role": "user", "content": "I am learning async programming in Python."},
            {"role": "assistant", "content": "Start with asyncio.run and async def."},
        ],
        user_id="user_456",
        session_id="session_123",
    )
    await memory.add("The user prefers short code examples", user_id="user_456",
                     kind="preference")  # fmt: skip
    await memory.entities.observe("Guido van Rossum created Python.", user_id="user_456")
    await memory.working.put("task", "goal", "explain gather", user_id="user_456",
                             session_id="session_123")  # fmt: skip


async def test_the_seed_example_composes_only_the_enabled_kinds(
    memory: AsyncMemory,
) -> None:
    await fill(memory)
    config: dict[str, Any] = {
        "memory": memory,
        "enabled_memories": [
            MemoryType.CONVERSATION_SUMMARY,
            MemoryType.VECTOR_DATABASE,
            MemoryType.ENTITY_MEMORY,
            MemoryType.WORKING_MEMORY,
        ],
        "parallel_queries": True,
        "cross_memory_links": True,
        "default_context_priority": SEED_PRIORITIES,
    }
    orchestrator = MemoryOrchestrator(config)
    request = ContextRequest(
        query="How do I implement async programming in Python?",
        session_id="session_123",
        user_id="user_456",
        max_total_tokens=4000,
    )
    context = await orchestrator.get_comprehensive_context(request)
    sections = [s["name"] for s in context["sections"]]
    assert sections == ["summary", "recent_conversation", "vector_search", "entities",
                        "working_memory"]  # fmt: skip
    assert "user: I am learning async programming in Python." in context["context"]
    assert "The user prefers short code examples" in context["context"]
    assert "Guido van Rossum" in context["context"] and "goal: explain gather" in context["context"]
    assert context["tokens"] <= 4000 and context["max_tokens"] == 4000 and not context["errors"]
    assert isinstance(orchestrator.memory(MemoryType.CONVERSATION_SUMMARY),
                      ConversationSummaryMemory)  # fmt: skip
    assert isinstance(orchestrator.memory("vector_database"), VectorDatabaseMemory)
    with pytest.raises(InvalidInput, match="not enabled"):
        orchestrator.memory(MemoryType.KEY_VALUE_STORE)
    with pytest.raises(InvalidInput, match="not enabled"):
        await orchestrator.get_comprehensive_context(
            {"query": "q", "user_id": "user_456", "sections": ["documents"]}
        )


async def test_priorities_sequential_queries_and_dict_requests(memory: AsyncMemory) -> None:
    await fill(memory)
    orchestrator = MemoryOrchestrator(
        {"memory": memory, "parallel_queries": False,
         "default_context_priority": {"vector_search": 5.0}}
    )  # fmt: skip
    assert orchestrator.default_context_priority["vector_search"] == 5.0
    assert orchestrator.default_context_priority["summary"] == 0.2  # unnamed keep defaults
    context = await orchestrator.get_comprehensive_context(
        {"query": "async code style?", "user_id": "user_456", "session_id": "session_123",
         "max_total_tokens": 120}
    )  # fmt: skip
    shares = {s["name"]: s["share"] for s in context["sections"] if s["share"]}
    assert max(shares, key=lambda name: shares[name]) == "vector_search"
    assert context["tokens"] <= 120
    request = ContextRequest("async code style?", "user_456", "session_123", 120,
                             {"vector_search": 0.0})  # fmt: skip
    overridden = await orchestrator.get_comprehensive_context(request)
    memories = next(s for s in overridden["sections"] if s["name"] == "vector_search")
    assert memories["share"] == 0.0


async def test_health_reports_each_dependency_and_each_enabled_kind(memory: AsyncMemory) -> None:
    orchestrator = MemoryOrchestrator(
        {"memory": memory, "enabled_memories": ["vector_database", "working_memory"]}
    )
    health = await orchestrator.health_check()
    assert health["status"] == "healthy" and health["memory_type"] == "orchestrator"
    assert set(health["dependencies"]) == {"postgresql", "cache", "embedder", "llm"}
    assert health["dependencies"]["postgresql"]["latency_ms"] > 0
    assert set(health["memories"]) == {"vector_database", "working_memory"}
    for state in health["memories"].values():
        assert state["status"] == "ok" and state["latency_ms"] > 0


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"enabled_memories": ["telepathy"]}, "unknown memory type"),
        ({"enabled_memories": []}, "at least one"),
        ({"enabled_memories": "vector_database"}, "list of MemoryType"),
        ({"default_context_priority": {"vibes": 1.0}}, "unknown section"),
        ({"default_context_priority": {"summary": "high"}}, "must be a number"),
        ({"section_timeout_seconds": 0}, "section_timeout_seconds"),
        ({"supabase_url": "https://x.supabase.co", "supabase_key": "k"}, "database_url"),
    ],
)
def test_bad_configs_are_refused(
    config: dict[str, Any], message: str, database_url: str, embedder: Embedder
) -> None:
    base: dict[str, Any] = {"embedder": embedder}
    if "supabase_url" not in config:
        base["database_url"] = database_url
    with pytest.raises(ConfigurationError, match=message):
        MemoryOrchestrator({**base, **config})


async def test_bad_requests_raise_invalid_input(memory: AsyncMemory) -> None:
    orchestrator = MemoryOrchestrator({"memory": memory})
    for request, message in [
        ({"query": "q", "user_id": "u", "max_total_tokens": -1}, "max_tokens"),
        ({"query": "q", "user_id": "u", "limit": 3}, "unknown request fields"),
        ("what now?", "ContextRequest or a dict"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            await orchestrator.get_comprehensive_context(request)  # type: ignore[arg-type]
