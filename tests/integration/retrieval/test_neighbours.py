"""Stored neighbours as the candidate query finds them: per candidate, in the filtered scope."""

from __future__ import annotations

from mnemo import AsyncMemory
from mnemo.core.records import Scope
from mnemo.store.postgres.filters import message_fragment, scope_fragment
from mnemo.store.postgres.memories import MEMORY_TABLE
from mnemo.store.postgres.messages import MESSAGE_TABLE


async def _candidates(memory: AsyncMemory, table, where, text: str):  # type: ignore[no-untyped-def]
    vector = await memory._embeddings.embed_query(Scope("default", "ann"), text)
    found = await memory._searches.candidates(
        table, where, query_vector=vector, query_text=text,
        model=memory._embeddings.model_id, depth=100, k1=1.2, b=0.3,
    )  # fmt: skip
    return {c.id: c for c in found}


async def test_memories_neighbours_follow_storage_order_within_the_filters(
    memory: AsyncMemory,
) -> None:
    first = await memory.add("Ann adopted a grey cat called Miso", user_id="ann", kind="note")
    middle = await memory.add("Ann is allergic to peanuts", user_id="ann", kind="fact")
    last = await memory.add("Miso sleeps on the piano all day", user_id="ann", kind="note")
    scope = Scope("default", "ann")

    everything = await _candidates(memory, MEMORY_TABLE, scope_fragment(scope), "cat Miso")
    assert everything[last.id].prev_id == middle.id
    assert everything[middle.id].prev_id == first.id
    assert everything[first.id].prev_id is None
    assert everything[first.id].next_id == middle.id
    assert everything[last.id].next_id is None

    notes = await _candidates(
        memory, MEMORY_TABLE, scope_fragment(scope, kinds=["note"]), "cat Miso"
    )
    assert set(notes) == {first.id, last.id}
    assert notes[last.id].prev_id == first.id  # the fact between them is filtered out
    assert notes[first.id].next_id == last.id


async def test_turn_neighbours_stay_in_their_session(memory: AsyncMemory) -> None:
    scope = Scope("default", "ann")
    stored = {}
    for session in ("s1", "s2"):
        stored[session] = await memory.messages.add(
            Scope("default", "ann", session_id=session),
            [
                {"role": "user", "content": f"In {session} I talked about my garden"},
                {"role": "assistant", "content": f"Tell me more about the {session} garden"},
            ],
        )
    turns = await _candidates(memory, MESSAGE_TABLE, message_fragment(scope), "garden")
    assert len(turns) == 4
    for first, second in stored.values():
        assert turns[second.id].prev_id == first.id
        assert turns[first.id].prev_id is None
        assert turns[first.id].next_id == second.id
        assert turns[second.id].next_id is None
