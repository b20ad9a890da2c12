"""The seed's ConversationBufferMemory / ConversationSummaryMemory, configured by dicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mnemo import AsyncMemory, ConfigurationError, InvalidInput, MnemoConfig
from mnemo.compat.memory_implementations import (
    ConversationBufferMemory,
    ConversationSummaryMemory,
)
from mnemo.providers.embedders.base import Embedder

pytestmark = pytest.mark.asyncio

REDIS_URL = "redis://127.0.0.1:6379/7"


async def test_the_seed_buffer_example_works_from_a_config_dict(
    database_url: str, embedder: Embedder
) -> None:
    config = {
        "database_url": database_url,
        "redis_url": REDIS_URL,
        "embedder": embedder,
        "window_size": 2,
        "window_type": "turns",
        "ttl_seconds": 3600,
        "openai_api_key": None,
    }
    memory = ConversationBufferMemory(config)
    await memory.initialize()
    try:
        for role, content in [("user", "Hello"), ("assistant", "Hi!"), ("user", "Async help?")]:
            await memory.store(
                {"session_id": "chat_123", "user_id": "user_456", "role": role, "content": content}
            )
        context = await memory.get_context({"session_id": "chat_123"})  # no user_id
        assert [m["content"] for m in context["messages"]] == ["Hi!", "Async help?"]
        assert context["user_id"] == "user_456" and context["window_type"] == "turns"
        assert (await memory.get_context({"session_id": "unknown"}))["messages"] == []
        stats = await memory.get_session_stats("chat_123")
        assert stats["messages"] == 3 and stats["buffer"]["messages"] == 2
        health = await memory.health_check()
        assert health["status"] == "healthy" and health["memory_type"] == "conversation_buffer"
        deps = health["dependencies"]
        assert {name: deps[name]["status"] for name in deps} == {
            "postgresql": "ok",
            "cache": "ok",
            "embedder": "ok",
            "llm": "disabled",
        }
        assert deps["postgresql"]["latency_ms"] > 0 and deps["embedder"]["latency_ms"] > 0
        assert datetime.fromisoformat(health["timestamp"]) <= datetime.now(UTC)
        with pytest.raises(InvalidInput, match="user_id is required"):
            await memory.store({"session_id": "new", "role": "user", "content": "x"})
    finally:
        await memory.close()


async def test_the_seed_summary_example_shares_an_engine(memory: AsyncMemory) -> None:
    summary = ConversationSummaryMemory(
        {"buffer_window_size": 2, "summary_context_weight": 0.3, "max_total_tokens": 300},
        memory=memory,
    )
    await summary.initialize()
    start = datetime(2024, 3, 1, tzinfo=UTC)
    lines = [
        "Hello, I need help with Python async programming",
        "Sure. Are you using asyncio?",
        "Yes, asyncio with aiohttp for a web scraper that fetches 500 pages.",
        "Use a semaphore to bound the concurrency.",
        "How do I handle exceptions in async functions?",
    ]
    for i, content in enumerate(lines):
        await summary.store(
            {
                "session_id": "chat_123",
                "user_id": "user_456",
                "role": "user" if i % 2 == 0 else "assistant",
                "content": content,
                "timestamp": (start + timedelta(minutes=i)).isoformat(),
            }
        )
    context = await summary.get_context({"session_id": "chat_123"})
    assert "aiohttp" in context["summary"] or "async" in context["summary"]
    assert [m["content"] for m in context["messages"]] == lines[-2:]
    assert context["tokens"] <= 300 and context["summarized_through_turn"] == 3
    small = await summary.get_context({"session_id": "chat_123", "max_tokens": 40})
    assert small["tokens"] <= 40
    stats = await summary.get_session_stats("chat_123", user_id="user_456")
    assert stats["summary"]["through_turn"] == 3
    await summary.close()  # a shared engine stays open
    assert await memory.list_messages(user_id="user_456", session_id="chat_123")


async def test_configuration_mistakes_are_explained(config: MnemoConfig) -> None:
    with pytest.raises(ConfigurationError, match="pass database_url"):
        ConversationBufferMemory({"supabase_url": "https://x.supabase.co", "supabase_key": "k"})
    with pytest.raises(InvalidInput, match="window_type"):
        ConversationBufferMemory({"window_type": "pages", "memory": AsyncMemory(config)})
    with pytest.raises(ConfigurationError, match="must be an AsyncMemory"):
        ConversationSummaryMemory({"memory": "postgres://"})


async def test_a_session_shared_by_two_users_needs_a_user_id(memory: AsyncMemory) -> None:
    buffer = ConversationBufferMemory({}, memory=memory)
    await buffer.store({"session_id": "s", "user_id": "a", "role": "user", "content": "hi"})
    await buffer.store({"session_id": "s", "user_id": "b", "role": "user", "content": "yo"})
    with pytest.raises(InvalidInput, match="several users"):
        await buffer.get_context({"session_id": "s"})
    assert [
        m["content"]
        for m in (await buffer.get_context({"session_id": "s", "user_id": "b"}))["messages"]
    ] == ["yo"]
