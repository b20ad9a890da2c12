"""``Memory.inspect``: the read views the inspector shows, through the sync face."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mnemo import InvalidInput, Memory, MnemoConfig, NotFound


@pytest.fixture
def memory(config: MnemoConfig) -> Iterator[Memory]:
    with Memory(config) as opened:
        yield opened


def test_users_page_by_id_with_counts(memory: Memory) -> None:
    memory.add("a fact", user_id="u2", kind="fact")
    memory.add_many([{"content": "pref", "kind": "preference"}, {"content": "n"}], user_id="u1")
    memory.add_messages([{"role": "user", "content": "hi"}], user_id="u3")
    first = memory.inspect.users(limit=2)
    assert [u.user_id for u in first] == ["u1", "u2"]
    assert first[0].kinds == {"note": 1, "preference": 1} and first[0].memories == 2
    [third] = memory.inspect.users(after="u2")
    assert (third.user_id, third.memories, third.messages) == ("u3", 0, 1)
    assert memory.inspect.users(after="u3") == []
    with pytest.raises(InvalidInput):
        memory.inspect.users(limit=0)


def test_deleted_memories_are_listed_from_their_history(memory: Memory) -> None:
    kept = memory.add("kept", user_id="u")
    gone = memory.add("gone, 100% for_sure", user_id="u", importance=0.9)
    memory.update(gone.id, pinned=True)
    memory.delete(gone.id)
    [removed] = memory.inspect.memories(user_id="u", status="deleted")
    assert (removed.id, removed.content, removed.status) == (gone.id, gone.memories[0].content,
                                                             "deleted")  # fmt: skip
    assert removed.pinned and removed.importance == pytest.approx(0.9)
    assert removed.valid_to is not None
    assert [m.id for m in memory.inspect.memories(user_id="u")] == [kept.id]
    assert memory.inspect.memories(user_id="u", status="deleted", contains="100%") == [removed]
    assert memory.inspect.memories(user_id="u", status="deleted", contains="1000%") == []
    assert memory.inspect.provenance(gone.id).memory == removed
    with pytest.raises(NotFound):
        memory.inspect.provenance("01a23701-9b8d-7000-9c82-ddae44c96465")
