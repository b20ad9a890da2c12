"""add(..., infer=True) end to end: turns stored, extraction queued, memories reconciled."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mnemo import AsyncMemory, ConfigurationError, InvalidInput, Memory, MnemoConfig
from tests.integration.lifecycle.conftest import rows

MARCH = datetime(2024, 3, 10, 9, 0, tzinfo=UTC)
JUNE = datetime(2024, 6, 2, 18, 30, tzinfo=UTC)


def turn(content: str, when: datetime = MARCH, **extra: object) -> dict[str, object]:
    return {"role": "user", "name": "Alice", "content": content, "created_at": when, **extra}


async def test_add_returns_at_once_and_a_flush_gives_the_memories(engine: AsyncMemory) -> None:
    result = await engine.add(
        [turn("I love hiking."), {"role": "assistant", "content": "Nice! Where?"},
         turn("My favourite colour is blue.")],
        user_id="alice", infer=True,
    )  # fmt: skip
    assert len(result.ids) == 3
    assert result.memories == []
    assert set(result.extraction.values()) == {"pending"}
    await engine.flush()
    memories = {m.content: m for m in await engine.list(user_id="alice")}
    assert set(memories) == {"Alice loves hiking.", "Alice's favourite colour is blue."}
    assert memories["Alice loves hiking."].source_message_ids == [result.ids[0]]
    assert memories["Alice loves hiking."].kind == "preference"
    assert memories["Alice loves hiking."].created_at == MARCH
    states = await engine.extraction_status(result.ids, user_id="alice")
    assert {s.status for s in states.values()} == {"done"}
    assert states[result.ids[1]].memory_ids == []  # the assistant's turn holds none


async def test_wait_returns_the_memories_with_their_history(engine: AsyncMemory) -> None:
    result = await engine.add([turn("I work at Google.")], user_id="alice", infer=True, wait=True)
    assert result.extraction == {result.ids[0]: "done"}
    [memory] = result.memories
    assert memory.content == "Alice works at Google."
    [event] = await engine.history(memory.id)
    assert event.event == "add"
    assert event.reason is not None and f"turn {result.ids[0]}" in event.reason
    assert event.actor == "reconciler:rules"


async def test_a_changed_fact_supersedes_the_old_one_which_stays_as_history(
    engine: AsyncMemory,
) -> None:
    first = await engine.add([turn("I live in Paris.")], user_id="alice", infer=True, wait=True)
    [paris] = first.memories
    second = await engine.add(
        [turn("I moved to Berlin last week.", JUNE)], user_id="alice", infer=True, wait=True
    )
    berlin = next(m for m in second.memories if "Berlin" in m.content)
    old = await engine.get(paris.id)
    assert (old.status, old.superseded_by, old.valid_to) == ("superseded", berlin.id, JUNE)
    assert [m.content for m in await engine.list(user_id="alice")] == [berlin.content]
    events = [e.event for e in await engine.history(paris.id)]
    assert events == ["add", "supersede"]
    now = {h.content for h in await engine.search("Where does Alice live?", user_id="alice")}
    assert now == {berlin.content}
    april = await engine.search("Where does Alice live?", user_id="alice", as_of="2024-04-01")
    assert [h.content for h in april] == ["Alice lives in Paris."]


async def test_a_late_old_statement_is_stored_as_already_superseded(
    engine: AsyncMemory,
) -> None:
    await engine.add([turn("I live in Berlin.", JUNE)], user_id="alice", infer=True, wait=True)
    late = await engine.add([turn("I live in Paris.")], user_id="alice", infer=True, wait=True)
    [paris] = late.memories
    assert paris.status == "superseded" and paris.valid_to == JUNE
    assert [m.content for m in await engine.list(user_id="alice")] == ["Alice lives in Berlin."]


async def test_a_repeated_fact_is_ignored_and_its_provenance_grows(engine: AsyncMemory) -> None:
    first = await engine.add([turn("I love hiking.")], user_id="alice", infer=True, wait=True)
    again = await engine.add(
        [turn("I really love hiking!", JUNE)], user_id="alice", infer=True, wait=True
    )
    [memory] = await engine.list(user_id="alice")
    assert memory.source_message_ids == [first.ids[0], again.ids[0]]
    history = await engine.history(memory.id)
    assert [e.event for e in history] == ["add", "ignore"]
    assert history[1].before is not None and history[1].after is not None
    assert len(history[1].after["source_message_ids"]) == 2


async def test_more_detail_updates_the_memory(engine: AsyncMemory) -> None:
    await engine.add([turn("I have a dog.")], user_id="alice", infer=True, wait=True)
    await engine.add(
        [turn("I have a dog named Max.", JUNE)], user_id="alice", infer=True, wait=True
    )
    [memory] = await engine.list(user_id="alice")
    assert memory.content == "Alice has a dog named Max."
    update = (await engine.history(memory.id))[-1]
    assert update.event == "update"
    assert update.before is not None and update.before["content"] == "Alice has a dog."


async def test_a_retried_add_is_extracted_once(engine: AsyncMemory, database_url: str) -> None:
    keyed = turn("I am a nurse.", idempotency_key="k1")
    first = await engine.add([keyed], user_id="alice", infer=True, wait=True)
    second = await engine.add([keyed], user_id="alice", infer=True, wait=True)
    assert first.ids == second.ids
    assert len(await engine.list(user_id="alice")) == 1
    assert rows(database_url, "SELECT count(*) FROM message_extractions") == [(1,)]


@pytest.mark.parametrize(
    ("content", "extra"),
    [
        ("I love hiking.", {"kind": "fact"}),
        ("I love hiking.", {"embedding": [0.1] * 384}),
        ({"role": "user", "content": "a dict, not a list"}, {}),
        ([{"role": "narrator", "content": "bad role"}], {}),
        ([{"role": "user"}], {}),
        ([turn("fine"), "not a turn"], {}),
    ],
)
async def test_bad_input_raises_and_stores_nothing(
    engine: AsyncMemory, database_url: str, content: object, extra: dict[str, object]
) -> None:
    with pytest.raises(InvalidInput):
        await engine.add(content, user_id="alice", infer=True, **extra)  # type: ignore[arg-type]
    assert rows(database_url, "SELECT count(*) FROM messages") == [(0,)]
    assert rows(database_url, "SELECT count(*) FROM message_extractions") == [(0,)]
    assert rows(database_url, "SELECT count(*) FROM procrastinate_jobs") == [(0,)]


async def test_without_infer_turns_are_stored_as_notes(engine: AsyncMemory) -> None:
    result = await engine.add([turn("I love hiking."), turn("And skiing.")], user_id="alice")
    assert [m.kind for m in result.memories] == ["note", "note"]
    assert result.memories[0].metadata == {"role": "user", "name": "Alice"}


async def test_waiting_without_any_worker_says_how_to_start_one(
    lifecycle_config: MnemoConfig, database_url: str
) -> None:
    from dataclasses import replace

    config = replace(lifecycle_config, lifecycle=replace(lifecycle_config.lifecycle,
                                                         in_process_worker=None))  # fmt: skip
    async with AsyncMemory(config) as memory:  # an external DSN: no in-process worker
        result = await memory.add([turn("I love hiking.")], user_id="alice", infer=True)
        with pytest.raises(ConfigurationError, match="mnemo worker"):
            await memory.flush()
        stats = await memory.job_stats()
    assert stats["extraction"] == {"pending": 1}
    assert stats["queues"] == {"mnemo.extraction": {"todo": 1}}
    assert stats["in_process_worker"] is False
    assert rows(database_url, "SELECT count(*) FROM messages") == [(1,)]
    assert result.extraction == {result.ids[0]: "pending"}


def test_the_sync_face_extracts_too(lifecycle_config: MnemoConfig) -> None:
    with Memory(lifecycle_config) as m:
        result = m.add("I'm allergic to peanuts.", user_id="bob", infer=True, wait=True)
        assert [x.content for x in result.memories] == ["The user is allergic to peanuts."]
        assert m.optimize("bob").counts["examined"] == 1


async def test_turns_are_stored_unembedded_then_the_job_embeds_them_in_context(
    lifecycle_config: MnemoConfig, database_url: str
) -> None:
    from dataclasses import replace

    from mnemo.kinds.memories import embedding_texts
    from mnemo.lifecycle.jobs import WorkerOptions

    off = replace(lifecycle_config, lifecycle=replace(lifecycle_config.lifecycle,
                                                      in_process_worker=False))  # fmt: skip
    texts = ["Where did you go on holiday?", "Lisbon, with my sister.", "I love sardines."]
    async with AsyncMemory(off) as memory:
        first = await memory.add([turn(texts[0])], user_id="alice", session_id="s", infer=True)
        rest = await memory.add(
            [turn(t) for t in texts[1:]], user_id="alice", session_id="s", infer=True
        )
        ids = first.ids + rest.ids
        stored = (
            "SELECT id::text, embedding IS NULL, embedding_model FROM messages ORDER BY turn_number"
        )
        assert rows(database_url, stored) == [(i, True, None) for i in ids]
        found = await memory.search_messages("sardines", user_id="alice", session_id="s")
        assert [h.id for h in found] == [ids[2]]  # by words, before any vector exists
        await memory.worker(WorkerOptions(burst=True, poll_seconds=0.5)).run()
        model = memory.embedder.model_id
        assert rows(database_url, stored) == [(i, False, model) for i in ids]
        expected = await memory.embedder.embed_many(embedding_texts(texts, contextual=True))
        vectors = rows(database_url, "SELECT embedding::real[] FROM messages ORDER BY turn_number")
        for (vector,), want in zip(vectors, expected, strict=True):
            assert vector == pytest.approx(want.tolist(), abs=1e-5)
        hits = await memory.search_messages("holiday city", user_id="alice", session_id="s")
        assert hits[0].scores["vector"] > 0


async def test_a_flush_waits_for_every_user_the_engine_queued(engine: AsyncMemory) -> None:
    users = [f"user-{n}" for n in range(4)]
    for user in users:
        await engine.add([turn(f"I work at Bakery {user[-1]}.")], user_id=user, infer=True)
    await engine.flush()
    for user in users:
        assert [m.content for m in await engine.list(user_id=user)] == [
            f"Alice works at Bakery {user[-1]}."
        ]
    assert (await engine.job_stats())["extraction"] == {"done": 4}
