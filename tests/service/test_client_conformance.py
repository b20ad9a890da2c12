"""One suite, two faces: ``AsyncMemory`` (embedded) and ``AsyncMnemoClient`` (the service).

Code moving from the library to the service changes one line; these tests are
that promise: same calls, same return types, same errors.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from mnemo import AddResult, AsyncMemory, MemoryEvent, MemoryRecord, SearchHit
from mnemo.client import AsyncMnemoClient
from mnemo.errors import InvalidInput, NotFound


@pytest.fixture(params=["engine", "client"])
async def face(
    request: pytest.FixtureRequest, memory: AsyncMemory, start_service: Callable[..., Any]
) -> AsyncIterator[Any]:
    if request.param == "engine":
        yield memory
        return
    async with start_service() as service:
        key = await service.key("acme")
        transport = httpx.ASGITransport(app=service.app)
        async with AsyncMnemoClient("http://mnemo", api_key=key, transport=transport) as client:
            yield client


async def test_add_get_and_the_records_they_return(face: Any) -> None:
    when = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    result = await face.add(
        "Alice prefers window seats",
        user_id="alice",
        kind="preference",
        metadata={"source": "chat", "n": None},
        created_at=when,
        confidence=0.8,
    )
    assert isinstance(result, AddResult) and len(result.ids) == 1
    record = await face.get(result.id)
    assert isinstance(record, MemoryRecord)
    assert (record.content, record.kind, record.user_id) == (
        "Alice prefers window seats",
        "preference",
        "alice",
    )
    assert record.metadata == {"source": "chat", "n": None}
    assert record.created_at == when and record.confidence == pytest.approx(0.8)


async def test_add_many_then_search_with_kinds_and_filters(face: Any) -> None:
    ids = await face.add_many(
        [
            {
                "content": "Bob's favourite drink is green tea",
                "kind": "preference",
                "metadata": {"topic": "drinks"},
            },
            {
                "content": "Bob moved to Porto last spring",
                "kind": "fact",
                "metadata": {"topic": "home"},
            },
        ],
        user_id="bob",
        contextual=False,
    )
    assert isinstance(ids, list) and len(ids) == 2
    hits = await face.search("what does Bob drink?", user_id="bob", limit=5)
    assert hits and all(isinstance(h, SearchHit) for h in hits)
    assert hits[0].content == "Bob's favourite drink is green tea"
    assert {"relevance", "recency"} <= set(hits[0].scores)
    facts = await face.search("Bob", user_id="bob", kinds=["fact"], filters={"topic": "home"})
    assert [h.content for h in facts] == ["Bob moved to Porto last spring"]


async def test_update_history_delete(face: Any) -> None:
    memory_id = (await face.add("Carol works at Initech", user_id="carol")).id
    updated = await face.update(memory_id, "Carol works at Globex", importance=0.9)
    assert isinstance(updated, MemoryRecord) and updated.content == "Carol works at Globex"
    events = await face.history(memory_id)
    assert all(isinstance(e, MemoryEvent) for e in events)
    assert [e.event for e in events] == ["add", "update"]
    await face.delete(memory_id)
    with pytest.raises(NotFound):
        await face.get(memory_id)


async def test_bad_input_raises_invalid_input_and_stores_nothing(face: Any) -> None:
    with pytest.raises(InvalidInput):
        await face.add("   ", user_id="dave")
    with pytest.raises(InvalidInput):
        await face.add_many(
            [{"content": "ok"}, {"content": "bad", "confidence": 7}], user_id="dave"
        )
    with pytest.raises(InvalidInput):
        await face.search("anything", user_id="dave", limit=0)
    assert await face.list(user_id="dave") == []


async def test_list_pages_and_user_erasure(face: Any) -> None:
    await face.add_many([{"content": f"note {i}"} for i in range(5)], user_id="erin")
    first = await face.list(user_id="erin", limit=3)
    rest = await face.list(user_id="erin", limit=3, offset=3)
    assert len(first) == 3 and len(rest) == 2
    assert {m.content for m in first + rest} == {f"note {i}" for i in range(5)}
    counts = await face.delete_user("erin")
    assert counts["memories"] == 5 and counts["memory_events"] == 5
    assert await face.list(user_id="erin") == []


async def test_stats_export_and_import(face: Any) -> None:
    await face.add_many(
        [{"content": "Frank likes chess"}, {"content": "Frank owns a cat"}], user_id="frank"
    )
    stats = await face.stats("frank")
    assert stats["memories"]["active"] == 2 and stats["rows"]["memories"] == 2
    lines = [line async for line in face.export_user("frank")]
    assert lines[0]["type"] == "export"
    result = await face.import_user("frank-copy", lines)
    assert result["imported"] == {"memories": 2}
    assert sorted(m.content for m in await face.list(user_id="frank-copy")) == [
        "Frank likes chess",
        "Frank owns a cat",
    ]


async def test_an_import_restores_the_conversation_turns(face: Any, memory: AsyncMemory) -> None:
    await face.add("Hana plays the cello", user_id="hana")
    turns = [
        {"role": "user", "content": "Find me a cello teacher", "metadata": {"via": "app"}},
        {"role": "assistant", "content": "Searching", "tool_calls": [{"id": "c1", "name": "find"}]},
        {
            "role": "tool",
            "content": "2 teachers",
            "tool_results": [{"output": "2", "tool_call_id": "c1"}],
        },
    ]
    await face.add_messages(turns, user_id="hana", session_id="music")
    lines = [line async for line in face.export_user("hana")]
    result = await face.import_user("hana-copy", lines)
    assert result["imported"] == {"memories": 1, "messages": 3}
    reader = memory.for_tenant("acme") if isinstance(face, AsyncMnemoClient) else memory
    copied = await reader.list_messages(user_id="hana-copy", session_id="music")
    assert [(t.role, t.content, t.turn_number) for t in copied] == [
        ("user", "Find me a cello teacher", 1), ("assistant", "Searching", 2),
        ("tool", "2 teachers", 3),
    ]  # fmt: skip
    assert copied[0].metadata == {"via": "app"} and copied[2].tool_results == [
        {"output": "2", "tool_call_id": "c1"}
    ]
    with pytest.raises(InvalidInput, match="already holds turns"):
        await face.import_user("hana-copy", lines)
    assert len(await face.list(user_id="hana-copy")) == 1  # the refused import stored nothing


async def test_the_tutorial_functions(face: Any) -> None:
    memory_id = await face.add_to_memory(42, "The launch is on Tuesday")
    assert isinstance(memory_id, str)
    assert await face.get_relevant_memories(42, "when is the launch?") == [
        "The launch is on Tuesday"
    ]


async def test_messages_and_the_context_within_its_budget(face: Any) -> None:
    turns = [
        {"role": "user", "content": "Book me a table at Casa Nova for Friday"},
        {"role": "assistant", "content": "Done: Casa Nova, Friday at 8pm"},
    ]
    ids = await face.add_messages(turns, user_id="gina", session_id="dinner")
    assert isinstance(ids, list) and len(ids) == 2
    await face.add("Gina is allergic to peanuts", user_id="gina", kind="fact")
    result = await face.context(
        "what should the restaurant know?", user_id="gina", session_id="dinner", max_tokens=200
    )
    assert 0 < result.tokens <= result.max_tokens == 200
    assert "Casa Nova" in result.text and "peanuts" in result.text
    assert isinstance(result.timings_ms, dict) and result.dropped is not None
    with pytest.raises(InvalidInput):
        await face.context("anything", user_id="gina", max_tokens=0)
    with pytest.raises(InvalidInput):
        await face.add_messages([{"role": "robot", "content": "hi"}], user_id="gina")


async def test_add_with_infer_queues_the_turn_and_returns_at_once(face: Any) -> None:
    result = await face.add("I love jasmine tea.", user_id="ivy", infer=True)
    assert isinstance(result, AddResult) and len(result.ids) == 1
    assert result.memories == [] and result.extraction == {result.ids[0]: "pending"}
    with pytest.raises(InvalidInput, match="extraction decides"):
        await face.add("I love jasmine tea.", user_id="ivy", infer=True, kind="fact")
