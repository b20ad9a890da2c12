"""The library API against a real PostgreSQL: add, search, get, list, update, delete, history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mnemo import AsyncMemory, InvalidInput, NotFound

pytestmark = pytest.mark.asyncio


async def test_add_returns_the_stored_memory(memory: AsyncMemory) -> None:
    result = await memory.add(
        "I prefer dark roast", user_id="alice", metadata={"k": "v"}, kind="preference"
    )
    stored = await memory.get(result.id)
    assert stored.content == "I prefer dark roast"
    assert stored.user_id == "alice"
    assert stored.kind == "preference"
    assert stored.metadata == {"k": "v"}
    assert stored.embedding_model == memory.embedder.model_id
    assert result.memories[0] == stored


async def test_search_finds_the_relevant_memory_with_a_score_breakdown(memory: AsyncMemory) -> None:
    await memory.add_many(
        [
            {"content": "I prefer dark roast coffee, black, no sugar"},
            {"content": "My sister lives in Lisbon"},
            {"content": "I am training for a marathon in October"},
        ],
        user_id="alice",
    )
    hits = await memory.search("what coffee does she drink?", user_id="alice")
    assert hits[0].content.startswith("I prefer dark roast")
    top = hits[0]
    assert {"relevance", "recency", "access", "confidence", "importance", "vector"} <= set(
        top.scores
    )
    assert top.score == max(h.score for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


async def test_lexical_leg_finds_rare_words_the_vector_leg_may_miss(memory: AsyncMemory) -> None:
    contents = [f"Filler memory number {i} about everyday things" for i in range(30)]
    contents.append("The wifi password at the cabin is zq7-kumquat")
    await memory.add_many([{"content": c} for c in contents], user_id="alice")
    hits = await memory.search("kumquat", user_id="alice", limit=3)
    assert hits[0].content.endswith("zq7-kumquat")
    assert hits[0].scores["lexical_rank"] == 1.0


async def test_search_is_scoped_to_the_user_agent_and_session(memory: AsyncMemory) -> None:
    await memory.add("Alice likes green tea", user_id="alice", agent_id="a1", session_id="s1")
    await memory.add("Alice likes oolong tea", user_id="alice", agent_id="a2", session_id="s2")
    await memory.add("Bob likes green tea", user_id="bob")
    assert {h.user_id for h in await memory.search("tea", user_id="alice")} == {"alice"}
    only_a1 = await memory.search("tea", user_id="alice", agent_id="a1")
    assert [h.content for h in only_a1] == ["Alice likes green tea"]
    only_s2 = await memory.search("tea", user_id="alice", session_id="s2")
    assert [h.content for h in only_s2] == ["Alice likes oolong tea"]
    assert await memory.search("tea", user_id="carol") == []


async def test_filters_and_kinds_narrow_search_and_list(memory: AsyncMemory) -> None:
    await memory.add_many(
        [
            {"content": "Coffee note one", "metadata": {"topic": "coffee", "year": 2021}},
            {"content": "Coffee note two", "metadata": {"topic": "coffee", "year": 2024}},
            {"content": "Coffee preference", "kind": "preference", "metadata": {"topic": "x"}},
        ],
        user_id="alice",
    )
    hits = await memory.search("coffee", user_id="alice", filters={"topic": "coffee"})
    assert {h.content for h in hits} == {"Coffee note one", "Coffee note two"}
    recent = await memory.search("coffee", user_id="alice", filters={"year": {"$gte": 2022}})
    assert [h.content for h in recent] == ["Coffee note two"]
    prefs = await memory.search("coffee", user_id="alice", kinds=["preference"])
    assert [h.content for h in prefs] == ["Coffee preference"]
    listed = await memory.list(user_id="alice", filters={"topic": {"$in": ["x"]}})
    assert [m.content for m in listed] == ["Coffee preference"]


async def test_created_at_is_kept_and_list_pages_newest_first(memory: AsyncMemory) -> None:
    start = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
    await memory.add_many(
        [{"content": f"turn {i}", "created_at": start + timedelta(minutes=i)} for i in range(7)],
        user_id="alice",
    )
    first = await memory.list(user_id="alice", limit=3)
    second = await memory.list(user_id="alice", limit=3, offset=3)
    assert [m.content for m in first + second] == [f"turn {i}" for i in range(6, 0, -1)]
    assert first[0].created_at == start + timedelta(minutes=6)


async def test_update_reembeds_and_keeps_history(memory: AsyncMemory) -> None:
    result = await memory.add("I prefer dark roast", user_id="alice")
    updated = await memory.update(result.id, "I now prefer light roast", metadata={"v": 2})
    assert updated.content == "I now prefer light roast"
    assert updated.metadata == {"v": 2}
    hits = await memory.search("light roast", user_id="alice")
    assert hits[0].id == result.id
    history = await memory.history(result.id)
    assert [e.event for e in history] == ["add", "update"]
    assert history[1].before is not None and history[1].before["content"] == "I prefer dark roast"
    assert (
        history[1].after is not None and history[1].after["content"] == "I now prefer light roast"
    )


async def test_delete_keeps_the_history_and_forgets_the_memory(memory: AsyncMemory) -> None:
    result = await memory.add("Temporary thought", user_id="alice")
    await memory.delete(result.id)
    with pytest.raises(NotFound):
        await memory.get(result.id)
    assert await memory.search("temporary thought", user_id="alice") == []
    assert [e.event for e in await memory.history(result.id)] == ["add", "delete"]
    with pytest.raises(NotFound):
        await memory.delete(result.id)


async def test_lookups_by_id_that_name_the_user_reach_only_that_users_memory(
    memory: AsyncMemory,
) -> None:
    mine = await memory.add("Bob's bike is blue", user_id="bob")
    for other in ("carol", "bob "):
        with pytest.raises((NotFound, InvalidInput)):
            await memory.get(mine.id, user_id=other)
        with pytest.raises((NotFound, InvalidInput)):
            await memory.update(mine.id, "stolen", user_id=other)
        with pytest.raises((NotFound, InvalidInput)):
            await memory.delete(mine.id, user_id=other)
    with pytest.raises(NotFound):
        await memory.history(mine.id, user_id="carol")
    assert (await memory.get(mine.id, user_id="bob")).content == "Bob's bike is blue"
    updated = await memory.update(mine.id, "Bob's bike is red", user_id="bob")
    assert updated.content == "Bob's bike is red"
    assert [e.event for e in await memory.history(mine.id, user_id="bob")] == ["add", "update"]
    await memory.delete(mine.id, user_id="bob")
    with pytest.raises(NotFound):
        await memory.get(mine.id)


async def test_delete_user_erases_every_table_and_counts(memory: AsyncMemory) -> None:
    await memory.add_many([{"content": "one"}, {"content": "two"}], user_id="alice")
    kept = await memory.add("Bob's memory", user_id="bob")
    await memory.search("one", user_id="alice")
    await memory.flush()
    counts = await memory.delete_user("alice")
    assert counts["memories"] == 2
    assert counts["memory_events"] == 2
    assert counts["embedding_cache"] == 1
    assert await memory.list(user_id="alice") == []
    assert (await memory.get(kept.id)).content == "Bob's memory"
    again = await memory.delete_user("alice")
    assert set(again.values()) == {0}


async def test_search_records_access_off_the_hot_path(memory: AsyncMemory) -> None:
    result = await memory.add("I keep my passport in the blue drawer", user_id="alice")
    for _ in range(3):
        await memory.search("where is my passport?", user_id="alice")
    await memory.flush()
    stored = await memory.get(result.id)
    assert stored.access_count == 3
    assert stored.last_accessed_at is not None


async def test_query_embeddings_are_cached_in_postgres(memory: AsyncMemory, config) -> None:
    await memory.add("I like tea", user_id="alice")
    first = await memory.search("which drink?", user_id="alice")
    await memory.flush()
    async with AsyncMemory(config) as other:  # a new process-level cache, same database
        again = await other.search("which drink?", user_id="alice")
    assert [h.id for h in again] == [h.id for h in first]


async def test_pgvector_tutorial_functions(memory: AsyncMemory) -> None:
    await memory.add_to_memory(123, "The user mentioned they prefer Python over JavaScript")
    await memory.add_to_memory(123, "The user is vegetarian")
    await memory.add_to_memory(456, "Another conversation likes Rust")
    found = await memory.get_relevant_memories(
        123, "What programming languages were discussed?", limit=1
    )
    assert found == ["The user mentioned they prefer Python over JavaScript"]
    assert len(await memory.get_relevant_memories(123, "anything", limit=5)) == 2
