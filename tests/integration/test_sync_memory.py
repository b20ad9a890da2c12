"""The synchronous face runs the async engine and behaves the same."""

from __future__ import annotations

import threading

import pytest

from mnemo import Memory, MnemoConfig, NotFound


def test_sync_memory_round_trip(config: MnemoConfig) -> None:
    with Memory(config) as m:
        result = m.add("I prefer dark roast", user_id="alice", metadata={"k": "v"})
        ids = m.add_many(
            [{"content": "I live in Porto"}, {"content": "I have a cat named Miso"}],
            user_id="alice",
        )
        hits = m.search("what coffee?", user_id="alice", limit=10, filters={"k": "v"}, kinds=None)
        assert [h.id for h in hits] == [result.id]
        hit = hits[0]
        assert (hit.content, hit.kind, hit.metadata) == ("I prefer dark roast", "note", {"k": "v"})
        assert hit.score > 0 and hit.scores["relevance"] > 0 and hit.created_at is not None
        assert m.get(ids[0]).content == "I live in Porto"
        assert len(m.list(user_id="alice")) == 3
        m.update(ids[1], content="I have two cats")
        assert [e.event for e in m.history(ids[1])] == ["add", "update"]
        m.delete(ids[1])
        with pytest.raises(NotFound):
            m.get(ids[1])
        assert m.delete_user("alice")["memories"] == 2
        assert m.add_to_memory(7, "The user prefers Python") is not None
        assert m.get_relevant_memories(7, "languages?") == ["The user prefers Python"]


def test_sync_memory_is_usable_from_several_threads(config: MnemoConfig) -> None:
    errors: list[BaseException] = []
    with Memory(config) as m:

        def work(n: int) -> None:
            try:
                m.add(f"thread {n} was here", user_id=f"u{n}")
                assert (
                    m.search("who was here?", user_id=f"u{n}")[0].content == f"thread {n} was here"
                )
            except BaseException as exc:  # collected and re-raised in the test thread
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []


def test_closed_memory_refuses_calls(config: MnemoConfig) -> None:
    m = Memory(config)
    m.close()
    with pytest.raises(Exception, match="closed"):
        m.add("late", user_id="alice")
